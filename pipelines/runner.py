"""The one subprocess seam: every ffmpeg/ffprobe call goes through `run`.

It takes an argv list (never a shell string), runs it in its own process group, streams
``-progress pipe:1`` blocks to a callback, keeps the stderr tail, and kills the whole group on
timeout, cancel, or any exception in the caller (KeyboardInterrupt included), so no ffmpeg is
ever left behind.

Bounds (`RunLimits`): wall time; address space (RLIMIT_AS); the size of any one file the child
writes (RLIMIT_FSIZE: the kernel stops the write and the child dies of SIGXFSZ); the total size of
the folders it writes into (polled once a second, the group killed when over); ffprobe's stdout.
A full disk (ENOSPC in ffmpeg's stderr) is a `ScratchError`; an exceeded output bound is
`OutputTooLarge`.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import resource
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from pipelines.encoder_start import classify, is_start_failure
from pipelines.errors import (
    Cancelled,
    EncoderStartFailed,
    FFmpegFailed,
    FFmpegTimeout,
    OutputTooLarge,
    ScratchError,
)
from pipelines.progress import Progress, ProgressParser

log = logging.getLogger(__name__)

_POLL_SECONDS = 0.05
_TERM_GRACE_SECONDS = 2.0
_OUTPUT_POLL_SECONDS = 1.0
_DISK_FULL_MARKS = ("no space left on device", "disk quota exceeded")
_START_FAILURE_GRACE_SECONDS = 2.0  # after an encoder start failure: time for ffmpeg to exit (and finish stderr)


@dataclass(frozen=True)
class RunResult:
    argv: tuple[str, ...]
    returncode: int
    stdout: bytes  # empty when progress was streamed from stdout
    stderr_tail: str
    elapsed: float


@dataclass(frozen=True)
class RunLimits:
    """Per-process bounds. None means unbounded."""

    timeout: float | None = None
    memory_bytes: int | None = None  # RLIMIT_AS of the child
    max_stdout_bytes: int = 64 * 1024 * 1024  # ffprobe JSON of a hostile file must not eat the host
    max_file_bytes: int | None = None  # RLIMIT_FSIZE of the child: no single file it writes grows past this
    max_output_bytes: int | None = None  # total bytes under `output_dirs`, polled while it runs
    output_dirs: tuple[Path, ...] = ()


def run(
    argv: Sequence[str],
    *,
    limits: RunLimits = RunLimits(),
    on_progress: Callable[[Progress], None] | None = None,
    duration: float | None = None,
    cancel: threading.Event | None = None,
    stderr_lines: int = 40,
    check: bool = True,
) -> RunResult:
    """Run argv to completion; raise FFmpegFailed/FFmpegTimeout/Cancelled (process group already dead).

    With `on_progress`, argv must write ``-progress pipe:1`` to stdout; blocks are parsed and passed on
    with percent/ETA computed against `duration`.
    """
    args = tuple(argv)
    log.debug("run: %s", shlex.join(args))
    started = time.monotonic()
    proc = subprocess.Popen(
        args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # own process group: killpg reaches every child
        preexec_fn=_child_setup(limits.memory_bytes, limits.max_file_bytes, os.getpid()),  # noqa: PLW1509
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    tail: deque[str] = deque(maxlen=stderr_lines)
    start_failed = threading.Event()

    def on_stderr(line: str) -> None:
        tail.append(line)
        if is_start_failure(line):
            start_failed.set()

    out = bytearray()
    readers = [
        threading.Thread(target=_drain_lines, args=(proc.stderr, on_stderr), daemon=True),
        threading.Thread(
            target=_drain_stdout,
            args=(proc.stdout, out, limits.max_stdout_bytes,
                  ProgressParser(duration, on_progress) if on_progress else None),
            daemon=True,
        ),
    ]
    for reader in readers:
        reader.start()
    try:
        reason = _wait(proc, started, limits, cancel, start_failed)
    except BaseException:
        _kill_group(proc)
        raise
    finally:
        for reader in readers:
            reader.join(timeout=5)
        proc.stdout.close()
        proc.stderr.close()
    elapsed = time.monotonic() - started
    stderr_tail = "\n".join(tail)
    if reason == "timeout":
        raise FFmpegTimeout(args, proc.returncode, stderr_tail,
                            what=f"{args[0]} ran past its time limit of {limits.timeout:.0f} s and was killed")
    if reason == "cancel":
        raise Cancelled(f"{Path(args[0]).name} was cancelled after {elapsed:.1f} s",
                        hint="nothing was kept; submit again to restart")
    name = Path(args[0]).name
    failure = classify(stderr_tail) if reason in ("start", "done") and proc.returncode != 0 else None
    if failure is not None and (check or reason == "start"):
        raise EncoderStartFailed(args, proc.returncode, stderr_tail, what=failure.what, hint=failure.hint)
    if reason == "output":
        raise OutputTooLarge(f"{name} wrote more than its output budget of {limits.max_output_bytes} bytes "
                             "and was killed", hint=_TOO_LARGE_HINT)
    if check and proc.returncode != 0:
        if proc.returncode == -signal.SIGXFSZ or "file too large" in stderr_tail.lower():
            raise OutputTooLarge(f"{name} tried to write a file larger than {limits.max_file_bytes} bytes and "
                                 "was stopped", hint=_TOO_LARGE_HINT)
        if any(mark in stderr_tail.lower() for mark in _DISK_FULL_MARKS):
            raise ScratchError(f"the disk {name} writes to is full ({_last(stderr_tail)})",
                               hint="free space on the scratch/output volume (or give the worker a larger one) "
                               "and retry; nothing was kept")
        raise FFmpegFailed(args, proc.returncode, stderr_tail)
    return RunResult(args, proc.returncode, bytes(out) if not on_progress else b"", stderr_tail, elapsed)


_TOO_LARGE_HINT = ("the source makes far more output than its ladder allows (a flood of embedded subtitles, "
                   "or a damaged stream); remux the master keeping only the tracks to publish")


def _wait(proc: subprocess.Popen[bytes], started: float, limits: RunLimits,
          cancel: threading.Event | None, start_failed: threading.Event) -> str:
    next_size_check = started + _OUTPUT_POLL_SECONDS
    stop_at: float | None = None  # an encoder failed to start: ffmpeg 5.1 may hang instead of exiting
    while True:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=_POLL_SECONDS)
            return "done"
        now = time.monotonic()
        if cancel is not None and cancel.is_set():
            _kill_group(proc)
            return "cancel"
        if limits.timeout is not None and now - started > limits.timeout:
            _kill_group(proc)
            return "timeout"
        if start_failed.is_set():
            stop_at = stop_at if stop_at is not None else now + _START_FAILURE_GRACE_SECONDS
            if now >= stop_at:
                _kill_group(proc)
                return "start"
        if limits.max_output_bytes is not None and now >= next_size_check:
            next_size_check = now + _OUTPUT_POLL_SECONDS
            if tree_size(limits.output_dirs) > limits.max_output_bytes:
                _kill_group(proc)
                return "output"


def tree_size(folders: Sequence[Path]) -> int:
    """Bytes in regular files under `folders` (missing folders and vanishing files count 0)."""
    total = 0
    pending = [str(folder) for folder in folders]
    while pending:
        with contextlib.suppress(OSError), os.scandir(pending.pop()) as entries:
            for entry in entries:
                with contextlib.suppress(OSError):
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(entry.path)
                    elif entry.is_file(follow_symlinks=False):
                        total += entry.stat(follow_symlinks=False).st_size
    return total


def _last(stderr: str) -> str:
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else "no error message"


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the whole group (ffmpeg finalises nothing we keep), then SIGKILL whatever is left."""
    for sig, grace in ((signal.SIGTERM, _TERM_GRACE_SECONDS), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
            break
    # children that outlived the leader still carry the group id
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


_PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None


def _child_setup(memory_bytes: int | None, file_bytes: int | None, parent: int) -> Callable[[], None]:
    """Runs in the child before exec: bound its memory and file sizes, and have the kernel SIGKILL it if we die.

    A new session protects ffmpeg from the terminal's Ctrl-C (we stop it ourselves); the death signal
    covers the case where we cannot: this process SIGKILLed or OOM-killed mid-encode.
    """

    def apply() -> None:
        if _LIBC is not None:
            _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
            if os.getppid() != parent:  # the parent died before prctl took effect
                os._exit(1)
        if memory_bytes:
            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        if file_bytes:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))

    return apply


def _lines(stream: IO[bytes]) -> Iterator[str]:
    for raw in iter(stream.readline, b""):
        yield raw.decode("utf-8", "replace").rstrip("\r\n")


def _drain_lines(stream: IO[bytes], sink: Callable[[str], None]) -> None:
    for line in _lines(stream):
        sink(line)


def _drain_stdout(stream: IO[bytes], out: bytearray, cap: int, parser: ProgressParser | None) -> None:
    if parser is not None:
        for line in _lines(stream):
            parser.feed(line)
        return
    while chunk := stream.read(65536):
        if len(out) < cap:
            out.extend(chunk[: cap - len(out)])
