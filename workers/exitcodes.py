"""Exit codes of the `vodfleet` command (stable; documented in the README) and the error → code mapping."""

from __future__ import annotations

from pipelines.errors import Cancelled, ConfigError, FFmpegFailed, InputRejected, QCFailed, ScratchError, ToolMissing
from workers.errors import KeyInvalid, OptionInvalid, WorkerError

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INPUT_REJECTED = 3
EXIT_ENCODE_FAILED = 4
EXIT_QC_FAILED = 5
EXIT_CONFIG = 6
EXIT_INTERRUPTED = 130


# First match wins: the more specific classes come first.
_TABLE: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], int], ...] = (
    (OptionInvalid, EXIT_USAGE),
    ((InputRejected, KeyInvalid), EXIT_INPUT_REJECTED),
    (QCFailed, EXIT_QC_FAILED),
    ((Cancelled, KeyboardInterrupt), EXIT_INTERRUPTED),
    (FFmpegFailed, EXIT_ENCODE_FAILED),
    # storage, broker or job-store trouble is a host/configuration problem for the CLI
    ((ConfigError, ToolMissing, ScratchError, WorkerError), EXIT_CONFIG),
)


def exit_code(error: BaseException) -> int:
    """Map an error to the documented exit code (pure)."""
    return next((code for kinds, code in _TABLE if isinstance(error, kinds)), EXIT_ENCODE_FAILED)
