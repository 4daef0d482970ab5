"""The one error tree of `pipelines`, split by what the caller must do.

    CodedError                         ``code``, ``message``, ``hint``, ``retryable`` (shared with `workers`)
    PipelineError(CodedError)          base of this package's errors
    ├── InputRejected                  permanent: the input is bad; retrying cannot help
    │   ├── FileRejected               a named file: ``path``, ``what`` is wrong
    │   │   ├── SourceRejected         the master (missing, empty, not media, no video, over a limit, ...)
    │   │   └── SubtitleRejected       a subtitle sidecar or embedded track (charset, syntax, caps)
    │   └── OutputTooLarge             the encode wrote more than its budget (a file or in total); killed
    ├── ConfigError                    permanent: a ladder, profile or option is invalid
    ├── ToolMissing                    permanent on this host: ffmpeg/ffprobe not found or unusable
    ├── FFmpegFailed                   ffmpeg exited non-zero; carries argv, return code, stderr tail
    │   ├── FFmpegTimeout              killed because it ran past its time budget
    │   └── EncoderStartFailed         an encoder could not initialise (e.g. no memory for its threads)
    ├── Cancelled                      the caller cancelled the run (not an error of the input)
    ├── QCFailed                       permanent: output was made but a check failed; nothing is published
    └── ScratchError                   retryable: the scratch disk is full or unwritable

``retryable`` tells a queue worker whether another attempt may succeed. Third-party exceptions are
translated at the boundary with ``raise X(...) from exc``. Every code is listed, with what to do,
in docs/errors.md (a unit test keeps the two in step).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class CodedError(Exception):
    """What every vodfleet error carries (this tree's and `workers`'): a stable code, a hint, retryability."""

    code: str = "unclassified"
    retryable: bool = False

    def __init__(self, message: str, *, hint: str = "", code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "retryable": self.retryable, "message": self.message, "hint": self.hint}


class PipelineError(CodedError):
    """Base of every error raised by `pipelines`."""

    code = "pipeline_error"


class InputRejected(PipelineError):
    """The input cannot be processed; never retried."""

    code = "input_rejected"


class FileRejected(InputRejected):
    """A named input file is bad: the message starts with the path, then what is wrong."""

    def __init__(self, path: str, what: str, *, hint: str, code: str | None = None) -> None:
        super().__init__(f"{path}: {what}", hint=hint, code=code)
        self.path = path
        self.what = what


class SourceRejected(FileRejected):
    code = "source_rejected"


class SubtitleRejected(FileRejected):
    code = "subtitle_rejected"


class OutputTooLarge(InputRejected):
    """An ffmpeg wrote more than its output budget (RLIMIT_FSIZE per file, or the watched folders in
    total) and was killed: the input makes output far beyond what its ladder should; never retried."""

    code = "output_too_large"


class ConfigError(PipelineError):
    code = "config_invalid"


class ToolMissing(PipelineError):
    code = "tool_missing"


class FFmpegFailed(PipelineError):
    code = "ffmpeg_failed"
    retryable = True

    def __init__(self, argv: Sequence[str], returncode: int | None, stderr_tail: str, *, what: str = "",
                 hint: str = "") -> None:
        tail = stderr_tail.strip().splitlines()[-1:] or ["(no stderr)"]
        message = what or f"{argv[0]} exited with {returncode}: {tail[0]}"
        super().__init__(message, hint=hint or "see stderr_tail; if the input decodes elsewhere, report the argv")
        self.argv = list(argv)
        self.returncode = returncode
        self.stderr_tail = stderr_tail

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), "argv": self.argv, "returncode": self.returncode,
                "stderr_tail": self.stderr_tail}


class FFmpegTimeout(FFmpegFailed):
    code = "ffmpeg_timeout"


class EncoderStartFailed(FFmpegFailed):
    """An encoder failed to initialise (pipelines.encoder_start); ffmpeg was stopped at once, not left to hang."""


class Cancelled(PipelineError):
    code = "cancelled"


@dataclass(frozen=True)
class CheckResult:
    """One QC check: its name, whether it passed, and the numbers behind the verdict."""

    name: str
    passed: bool
    detail: str

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "passed": self.passed, "detail": self.detail}


class QCFailed(PipelineError):
    code = "qc_failed"

    def __init__(self, failures: Sequence[CheckResult]) -> None:
        names = ", ".join(f.name for f in failures)
        super().__init__(
            f"{len(failures)} QC check(s) failed: {names}; first: {failures[0].detail}" if failures
            else "QC failed",
            hint="nothing was published; report.json lists every check with its measured numbers",
        )
        self.failures = list(failures)


class ScratchError(PipelineError):
    code = "scratch_unavailable"
    retryable = True
