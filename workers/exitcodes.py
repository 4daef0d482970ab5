"""Exit codes of the `vodfleet` command (stable; documented in the README) and the error → code mapping."""

from __future__ import annotations

from pipelines.errors import Cancelled, ConfigError, FFmpegFailed, InputRejected, QCFailed, ScratchError, ToolMissing

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INPUT_REJECTED = 3
EXIT_ENCODE_FAILED = 4
EXIT_QC_FAILED = 5
EXIT_CONFIG = 6
EXIT_INTERRUPTED = 130


def exit_code(error: BaseException) -> int:
    """Map an error to the documented exit code (pure)."""
    if isinstance(error, InputRejected):
        return EXIT_INPUT_REJECTED
    if isinstance(error, QCFailed):
        return EXIT_QC_FAILED
    if isinstance(error, Cancelled | KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(error, FFmpegFailed):
        return EXIT_ENCODE_FAILED
    if isinstance(error, ConfigError | ToolMissing | ScratchError):
        return EXIT_CONFIG
    return EXIT_ENCODE_FAILED
