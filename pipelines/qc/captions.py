"""Captions: the written WebVTT against the SubtitleDocument it came from.

Independent readers: ffprobe's webvtt demuxer for the opt-in whole-title ``subtitles.vtt`` (DASH), a small
parser here for the HLS segment files (header, X-TIMESTAMP-MAP, cue blocks), and for the DASH text in
ISO-BMFF the fragments' boxes (``pipelines.isobmff``) plus ffprobe reading the MPD as a client does. The
checks are pure; ``probe_vtt`` and ``probe_text_packets`` are the effects.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipelines.errors import CheckResult
from pipelines.qc.verdict import verdict
from pipelines.runner import RunLimits, run
from pipelines.subtitles import Cue
from pipelines.subtitles.timestamp import to_millis
from pipelines.subtitles.wvtt import FragmentCues, TimedCue
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


# --- DASH text in ISO-BMFF (wvtt) -------------------------------------------------------------------


def check_text_fragments(name: str, fragments: Sequence[tuple[str, FragmentCues | str]],
                         media: Sequence[tuple[float, float]]) -> CheckResult:
    """One wvtt fragment per media segment, each starting (tfdt) and lasting (trun) what its media segment
    does, to the millisecond (DASH-IF IOP: text segments aligned with the media segments). ``fragments``:
    (uri, what was read or why it could not be); ``media``: (start, duration) seconds of the video segments."""
    problems = []
    if len(fragments) != len(media):
        problems.append(f"{len(fragments)} text segments, {len(media)} media segments")
    for (uri, read), (start, duration) in zip(fragments, media, strict=False):
        if isinstance(read, str):
            problems.append(f"{uri}: {read}")
            continue
        low, high = to_millis(start), to_millis(start + duration)
        if (read.decode_time, read.decode_time + read.duration) != (low, high):
            problems.append(f"{uri} covers {read.decode_time}-{read.decode_time + read.duration} ms, its media "
                            f"segment {low}-{high} ms")
    return verdict(name, problems, f"{len(fragments)} text segments aligned with {len(media)} media segments")


def check_fragment_cues(name: str, found: Sequence[TimedCue], expected: Sequence[Cue], end_ms: int) -> CheckResult:
    """The cues joined back from the fragments are the document's (times to the millisecond, settings and
    text), each clipped to the presentation's end ``end_ms``."""
    want = Counter(TimedCue(to_millis(c.start), min(to_millis(c.end), end_ms), c.placement.settings(), c.text)
                   for c in expected if to_millis(c.start) < end_ms)
    got = Counter(found)
    problems = [f"document cue {_show_timed(c)} is in no text segment" for c in sorted(want - got, key=_order)]
    problems += [f"text segment cue {_show_timed(c)} is not in the document"
                 for c in sorted(got - want, key=_order)]
    return verdict(name, problems, f"{sum(got.values())} cues read back from the text segments, "
                                   f"{sum(want.values())} in the document")


def _show_timed(cue: TimedCue) -> str:
    return f"[{cue.start_ms / 1000:.3f}-{cue.end_ms / 1000:.3f} {cue.payload[:24]!r}]"


def _order(cue: TimedCue) -> tuple[int, int, str]:
    return cue.start_ms, cue.end_ms, cue.payload


def check_client_text(name: str, manifest: str, packets: Sequence[tuple[int, float, int]],
                      tracks: Sequence[Sequence[Cue]], end: float, tolerance: float) -> CheckResult:
    """The text as an ffmpeg-based DASH client reads it: ffmpeg 5.1 has no wvtt decoder and lists each text
    AdaptationSet as a data stream, so ``packets`` are (stream index, pts s, size bytes) of the data streams,
    in MPD order = ``tracks`` order. Its dash demuxer gives these packets no duration, so a sample lasts until
    the next one starts (the last one until ``end``, the text timeline's end). The first sample must start at
    0, and the samples holding cues (bigger than an 8-byte empty ``vtte``) must cover exactly the times where
    the track's document has a cue (within ``tolerance`` s at each edge)."""
    by_stream: dict[int, list[tuple[float, int]]] = {}
    for index, pts, size in packets:
        by_stream.setdefault(index, []).append((pts, size))
    problems = []
    if len(by_stream) != len(tracks):
        problems.append(f"ffprobe reads {len(by_stream)} text (data) stream(s) through {manifest}, "
                        f"the MPD has {len(tracks)}")
    for number, (index, cues) in enumerate(zip(sorted(by_stream), tracks, strict=False), start=1):
        rows = sorted(by_stream[index])
        if abs(rows[0][0]) > tolerance:
            problems.append(f"text stream {number} starts at {rows[0][0]:.3f} s, not 0")
        if rows[-1][0] >= end:
            problems.append(f"text stream {number} has a sample at {rows[-1][0]:.3f} s, past the end {end:.3f} s")
        edges = [pts for pts, _ in rows[1:]] + [end]
        shown = _union([(pts, stop) for (pts, size), stop in zip(rows, edges, strict=True) if size > EMPTY_SAMPLE])
        want = _union([(c.start, min(c.end, end)) for c in cues if c.start < end])
        if len(shown) != len(want) or any(abs(a - b) > tolerance for x, y in zip(shown, want, strict=False)
                                          for a, b in zip(x, y, strict=True)):
            problems.append(f"text stream {number} has text on screen at {_spans(shown)}, the document at "
                            f"{_spans(want)}")
    return verdict(name, problems, f"{len(by_stream)} text stream(s), {len(packets)} samples, timing within "
                                   f"±{tolerance:.3f} s")


EMPTY_SAMPLE = 8  # bytes of a sample holding only an empty-cue box ('vtte')


def _union(spans: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1] + 1e-6:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _spans(spans: Sequence[tuple[float, float]]) -> str:
    return ", ".join(f"{s:.3f}-{e:.3f}" for s, e in spans) or "no time"


def text_packets_argv(ffprobe: str, manifest: Path, number: int) -> list[str]:
    """Every sample of the MPD's data stream ``number`` (0-based: the wvtt text AdaptationSets in order) as
    ffmpeg's dash demuxer reads it, no option beyond the local-protocol whitelist; the other streams are
    discarded, not downloaded. One stream per run: the dash demuxer ends every stream at the first one's end
    of file, so read together, a track whose last sample comes later loses its tail."""
    return [ffprobe, "-v", "error", "-hide_banner", "-protocol_whitelist", "file,crypto,data",
            "-select_streams", f"d:{number}", "-show_entries", "packet=stream_index,pts_time,size",
            "-of", "json=c=1", f"file:{manifest.absolute()}"]


def parse_text_packets(text: str | bytes) -> list[tuple[int, float, int]]:
    """ffprobe packets → (stream index, pts s, size bytes). Raises ValueError if not JSON."""
    doc = json.loads(text)
    return [(int(p["stream_index"]), float(p["pts_time"]), int(p["size"]))
            for p in (doc.get("packets", []) if isinstance(doc, dict) else [])]


def probe_text_packets(manifest: Path, tools: Tools, streams: int, *, cancel: threading.Event | None = None
                       ) -> list[tuple[int, float, int]]:
    """The packets of the first ``streams`` data streams, one ffprobe run each."""
    packets = []
    for number in range(streams):
        result = run(text_packets_argv(tools.ffprobe, manifest, number), limits=RunLimits(timeout=VTT_PROBE_TIMEOUT),
                     cancel=cancel)
        packets += parse_text_packets(result.stdout)
    return packets


def check_in_band(name: str, declared: Sequence[str], found: Sequence[str], rung: str) -> CheckResult:
    """The captions the manifests declare in-band (HLS INSTREAM-IDs, the DASH SCTE 214 descriptors) are exactly
    those whose data the rung's SEI carries (RFC 8216 §4.3.4.2: a variant that names a CLOSED-CAPTIONS group
    carries its captions; a 608 channel or 708 service never declared would be invisible to players)."""
    missing = [f"{ident} declared but {rung} carries no data for it" for ident in declared if ident not in found]
    extra = [f"{rung} carries {ident}, not declared" for ident in found if ident not in declared]
    return verdict(name, missing + extra, f"{rung} carries {', '.join(found) or 'no captions'}")
