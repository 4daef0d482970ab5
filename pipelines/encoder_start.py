"""Encoder start failures: ffmpeg stderr lines saying an encoder could not initialise (pure).

ffmpeg 5.1 with SVT-AV1 1.4 does not always exit after an encoder fails to start: when SVT-AV1 cannot
create its threads ("Failed to create thread: Cannot allocate memory", then "Error initializing encoder:
insufficient resources") the library's deinit waits for threads that never started, and ffmpeg sleeps
(ignoring SIGTERM) until the runner's time limit. The runner watches stderr for these lines and stops the
process group at once instead (`pipelines.runner`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ENCODERS = {"libsvtav1": "AV1 (SVT-AV1)", "libx265": "HEVC (x265)", "libx264": "H.264 (x264)"}
_ENCODER_LINE = re.compile(r"^\[(?P<encoder>\w+) @ 0x[0-9a-f]+\] Error initializing encoder", re.IGNORECASE)
_STREAM_LINE = re.compile(r"^Error initializing output stream", re.IGNORECASE)
_MEMORY_MARKS = ("insufficient resources", "cannot allocate memory", "allocate memory failed")


@dataclass(frozen=True)
class EncoderStartFailure:
    """What failed to start, and what to do. `encoder` is ffmpeg's name ("libsvtav1"), "" when unnamed."""

    encoder: str
    what: str
    hint: str


def is_start_failure(line: str) -> bool:
    """True for an ffmpeg stderr line that says an encoder (or an output stream's encoder) failed to open."""
    text = line.strip()
    return bool(_ENCODER_LINE.match(text) or _STREAM_LINE.match(text))


def classify(stderr_tail: str) -> EncoderStartFailure | None:
    """The start failure described by ffmpeg's stderr `stderr_tail` (lines), or None when there is none."""
    lines = [line.strip() for line in stderr_tail.splitlines()]
    starts = [line for line in lines if is_start_failure(line)]
    if not starts:
        return None
    named = next((m for m in map(_ENCODER_LINE.match, starts) if m), None)
    encoder = named.group("encoder") if named else ""
    who = f"the {_ENCODERS.get(encoder, encoder)} encoder" if encoder else "an encoder"
    lowered = stderr_tail.lower()
    if any(mark in lowered for mark in _MEMORY_MARKS):
        return EncoderStartFailure(
            encoder, f"{who} could not start: not enough memory for its threads ({starts[0][:160]})",
            "the encode's address-space bound (RLIMIT_AS, pipelines.limits.encode_memory_bytes) is too small for "
            "this ladder: give the worker more memory, raise TranscodeRequest.memory_bytes, or publish fewer "
            "HEVC/AV1 rungs; nothing was kept")
    return EncoderStartFailure(
        encoder, f"{who} could not start ({starts[0][:160]})",
        "the encoder rejected its options for this rendition (size, rate or profile); see stderr_tail and "
        "report the argv; nothing was kept")
