"""Captions: the written WebVTT against the SubtitleDocument it came from.

Two independent readers: ffprobe's webvtt demuxer for the whole-title ``subtitles.vtt`` (DASH), and a
small parser here for the HLS segment files (header, X-TIMESTAMP-MAP, cue blocks). Both are pure
functions of text; ``probe_vtt`` is the one effect.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipelines.errors import CheckResult
from pipelines.qc.verdict import verdict
from pipelines.runner import RunLimits, run
from pipelines.subtitles import Cue
from pipelines.subtitles.timestamp import to_millis
from pipelines.tools import Tools

VTT_PROBE_TIMEOUT = 60.0
# Our media timeline starts at 0, so LOCAL 0 maps to MPEG-TS 0 (RFC 8216 §3.5).
EXPECTED_TIMESTAMP_MAP = {"MPEGTS": "0", "LOCAL": "00:00:00.000"}
_TIME = re.compile(r"(?:(\d+):)?(\d{2}):(\d{2})\.(\d{3})")
_TIMING = re.compile(rf"^\s*({_TIME.pattern})\s+-->\s+({_TIME.pattern})(?:\s.*)?$")


@dataclass(frozen=True)
class TimedText:
    start_ms: int
    end_ms: int
    text: str


@dataclass(frozen=True)
class VttFile:
    signature_ok: bool  # the first line is "WEBVTT" (after an optional BOM), alone or followed by space/tab
    timestamp_map: dict[str, str] | None  # X-TIMESTAMP-MAP fields, None if absent
    cues: tuple[TimedText, ...]


def _millis(text: str) -> int:
    match = _TIME.fullmatch(text)
    if match is None:
        raise ValueError(f"not a WebVTT timestamp: {text!r}")
    hours, minutes, secs, millis = match.groups()
    return ((int(hours or 0) * 60 + int(minutes)) * 60 + int(secs)) * 1000 + int(millis)


def parse_vtt(text: str) -> VttFile:
    """A WebVTT file's signature, X-TIMESTAMP-MAP and cue blocks (NOTE/STYLE/REGION blocks skipped)."""
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    first = lines[0] if lines else ""
    signature_ok = first == "WEBVTT" or first.startswith(("WEBVTT ", "WEBVTT\t"))
    blocks: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    header, *rest = [b for b in blocks if b] or [[]]
    timestamp_map = None
    for line in header[1:]:
        if line.startswith("X-TIMESTAMP-MAP="):
            fields = (part.partition(":") for part in line.removeprefix("X-TIMESTAMP-MAP=").split(","))
            timestamp_map = {key.strip(): value.strip() for key, _, value in fields}
    cues = []
    for block in rest:
        at = next((i for i, line in enumerate(block[:2]) if "-->" in line), None)
        if at is None:
            continue  # NOTE, STYLE, REGION
        match = _TIMING.match(block[at])
        if match is None:
            raise ValueError(f"bad cue timing line {block[at]!r}")
        cues.append(TimedText(_millis(match[1]), _millis(match[6]), "\n".join(block[at + 1:])))
    return VttFile(signature_ok, timestamp_map, tuple(cues))


def vtt_probe_argv(ffprobe: str, path: Path) -> list[str]:
    """Every cue of a WebVTT file as a packet (pts, duration) through ffprobe's webvtt demuxer."""
    return [ffprobe, "-v", "error", "-hide_banner", "-protocol_whitelist", "file", "-f", "webvtt",
            "-show_entries", "packet=pts_time,duration_time", "-of", "json=c=1", f"file:{path.absolute()}"]


def parse_vtt_packets(text: str | bytes) -> list[tuple[float, float]]:
    """ffprobe packets → (start, end) seconds per cue, in file order. Raises ValueError if not JSON."""
    doc = json.loads(text)
    cues = []
    for packet in doc.get("packets", []) if isinstance(doc, dict) else []:
        start = float(packet["pts_time"])
        cues.append((start, start + float(packet.get("duration_time", 0.0))))
    return cues


def probe_vtt(path: Path, tools: Tools, *, cancel: threading.Event | None = None) -> list[tuple[float, float]]:
    result = run(vtt_probe_argv(tools.ffprobe, path), limits=RunLimits(timeout=VTT_PROBE_TIMEOUT), cancel=cancel)
    return parse_vtt_packets(result.stdout)


def check_cue_times(name: str, file: str, measured: Sequence[tuple[float, float]], expected: Sequence[Cue],
                    tolerance: float) -> CheckResult:
    """Cue k of the file starts and ends where cue k of the document does, within `tolerance` seconds."""
    got = sorted(measured)
    want = sorted((c.start, c.end) for c in expected)
    problems = []
    if len(got) != len(want):
        problems.append(f"{file} has {len(got)} cues, the document {len(want)}")
    for number, ((start, end), (w_start, w_end)) in enumerate(zip(got, want, strict=False), start=1):
        for what, value, target in (("start", start, w_start), ("end", end, w_end)):
            if abs(value - target) > tolerance:
                problems.append(f"cue {number} {what} {value:.3f} s in {file}, {target:.3f} s in the document "
                                f"({value - target:+.3f} s, allowed ±{tolerance:.3f} s)")
    return verdict(name, problems, f"{len(got)} cues in {file} vs {len(want)} in the document, "
                                   f"±{tolerance:.3f} s")


def _ms(seconds: float) -> int:
    # the writer's rounding (half-up on the printed decimal), not round()'s half-to-even on the binary float:
    # a cue ending at 2.5025 s is written as 2.503 and must be expected as 2.503
    return to_millis(seconds)


def _show(cue: TimedText) -> str:
    return f"[{cue.start_ms / 1000:.3f}-{cue.end_ms / 1000:.3f} {cue.text[:24]!r}]"


def check_segment_files(name: str, files: Sequence[tuple[str, str | None]], expected: Sequence[Cue]
                        ) -> CheckResult:
    """Every (uri, text or None if missing) HLS WebVTT segment starts with WEBVTT, maps LOCAL 0 to MPEGTS 0,
    and the union of their cues (a cue crossing a boundary repeats) is the document's cues."""
    problems = []
    union: set[TimedText] = set()
    for uri, text in files:
        if text is None:
            problems.append(f"{uri} is missing")
            continue
        try:
            parsed = parse_vtt(text)
        except ValueError as exc:
            problems.append(f"{uri}: {exc}")
            continue
        if not parsed.signature_ok:
            problems.append(f"{uri} does not begin with WEBVTT")
        if parsed.timestamp_map != EXPECTED_TIMESTAMP_MAP:
            problems.append(f"{uri}: X-TIMESTAMP-MAP is {parsed.timestamp_map}, expected MPEGTS:0,LOCAL:00:00:00.000")
        union.update(parsed.cues)
    want = {TimedText(_ms(c.start), _ms(c.end), c.text) for c in expected}
    missing = sorted(want - union, key=lambda c: (c.start_ms, c.end_ms))
    extra = sorted(union - want, key=lambda c: (c.start_ms, c.end_ms))
    problems += [f"document cue {_show(c)} is in no segment" for c in missing]
    problems += [f"segment cue {_show(c)} is not in the document" for c in extra]
    return verdict(name, problems, f"{len(files)} segment files, {len(union)} distinct cues, "
                                   f"{len(want)} in the document")
