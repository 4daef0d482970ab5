"""Probe: look at a local master once and return a frozen `SourceInfo`, or reject it with a clear reason.

Steps, cheapest first, so bad input stops early and with evidence:

1. stat: missing, not a regular file, or empty → rejected before any process starts;
2. ffprobe (``-show_format -show_streams``) under time/memory/output limits → `parse_probe` (pure);
3. decode the first second of the chosen video stream (codec support, corrupt start);
4. decode the last second (a truncated upload whose index survived still fails here);
5. MPEG-TS/PS only: each audio stream's real end, from its last packets (those containers carry no
   durations; ffprobe estimates one from the first and last PES timestamps, which misses the last PES:
   with AAC, several frames, 0.1 s on a captured master; QC compares the output's audio with this).

Inputs are always local files: the path goes to ffmpeg as ``file:<absolute path>`` with a protocol
whitelist, so a file named ``concat:x`` or ``http:...`` can never be opened as a protocol; and every
call carries ``-format_whitelist`` (`pipelines.formats`), so a file whose content is a playlist
(HLS, DASH, ffconcat), an image pattern or text is refused before ffmpeg follows anything it names.
The decode checks also pin the probed demuxer with ``-f``.
Argv builders and stderr classifiers are pure and table-tested; only `probe` does I/O.
"""

from __future__ import annotations

import dataclasses
import json
import stat
from pathlib import Path

from pipelines.errors import FFmpegFailed, FFmpegTimeout, SourceRejected
from pipelines.formats import REFUSED_HINT, demuxer_name, input_options
from pipelines.probe_parse import DEFAULT_PROBE_LIMITS, ProbeLimits, packets_end, parse_probe
from pipelines.progress import Progress
from pipelines.runner import RunLimits, run
from pipelines.source import AudioStream, SourceInfo
from pipelines.tools import Tools

__all__ = [
    "DEFAULT_PROBE_LIMITS", "ProbeLimits", "check_decoded", "classify_decode_failure",
    "classify_probe_failure", "decode_head_argv", "decode_tail_argv", "packets_tail_argv", "parse_probe", "probe",
    "probe_argv",
]

PTS_DURATION_DEMUXERS = frozenset({"mpegts", "mpeg"})  # stream durations are estimates from PES timestamps
_ISOBMFF_BOXES = frozenset({b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot", b"styp"})
_TRUNCATION_MARKS = ("moov atom not found", "partial file", "corrupt input packet", "end of file")
_NO_DECODER_MARKS = ("decoder (codec", "unsupported codec", "no decoder", "could not find codec")
_REEXPORT = "re-export or re-upload the complete master; check that the copy to storage finished"


def probe_argv(path: Path, tools: Tools) -> list[str]:
    return [tools.ffprobe, "-v", "error", "-hide_banner", *input_options(probe=True),
            "-show_format", "-show_streams", "-of", "json", "-i", _input(path)]


def decode_head_argv(path: Path, tools: Tools, stream_index: int, *, demuxer: str | None = None) -> list[str]:
    """Decode the first second of one stream (absolute index: cover art never shifts it)."""
    return [*_decode_prefix(tools, demuxer), "-i", _input(path), *_decode_suffix(stream_index, 1.0)]


def decode_tail_argv(path: Path, tools: Tools, stream_index: int, start: float, length: float = 1.0, *,
                     demuxer: str | None = None) -> list[str]:
    """Decode `length` seconds from `start` (input seeking: cheap, lands on the keyframe before it)."""
    return [*_decode_prefix(tools, demuxer), "-ss", f"{start:.3f}", "-i", _input(path),
            *_decode_suffix(stream_index, length)]


def packets_tail_argv(path: Path, tools: Tools, stream_index: int, start: float) -> list[str]:
    """Every packet's pts and duration of one stream from `start` to the end (cheap: a seek, no decode)."""
    return [tools.ffprobe, "-v", "error", "-hide_banner", *input_options(probe=True), "-select_streams",
            str(stream_index), "-read_intervals", f"{max(0.0, start):.3f}%", "-show_entries",
            "packet=pts_time,duration_time", "-of", "csv=p=0", "-i", _input(path)]


def _decode_prefix(tools: Tools, demuxer: str | None) -> list[str]:
    pinned = ["-f", demuxer] if demuxer else []
    return [tools.ffmpeg, "-v", "error", "-hide_banner", "-nostdin", "-xerror", *input_options(), *pinned]


def _decode_suffix(stream_index: int, length: float) -> list[str]:
    # -progress reports frames and output time: a cut file can end quietly with nothing decoded
    return ["-map", f"0:{stream_index}", "-t", f"{length:g}", "-nostats", "-progress", "pipe:1",
            "-f", "null", "-"]


def _input(path: Path) -> str:
    if not path.is_absolute():
        raise ValueError(f"ffmpeg inputs must be absolute paths, got {str(path)!r}")
    return f"file:{path}"


def probe(path: Path, *, tools: Tools, limits: ProbeLimits = DEFAULT_PROBE_LIMITS) -> SourceInfo:
    """Stat, ffprobe and decode-check a local master; raise SourceRejected for anything unusable."""
    name = str(path)
    if not path.is_absolute() and ":" in path.parts[0]:  # "http://x" arrives as Path("http:/x")
        raise SourceRejected(name, "looks like a URL or protocol, not a local file",
                             hint="fetch the master to local scratch first and pass that path",
                             code="source_not_local")
    absolute = path.absolute()
    size = _stat_size(absolute, name)
    argv = probe_argv(absolute, tools)
    try:
        result = run(argv, limits=RunLimits(timeout=limits.probe_timeout, memory_bytes=limits.probe_memory,
                                            max_stdout_bytes=limits.max_probe_output))
    except FFmpegTimeout as exc:
        raise _timeout(name, "ffprobe", limits.probe_timeout) from exc
    except FFmpegFailed as exc:
        raise classify_probe_failure(exc.stderr_tail, path=name, head=_head(absolute)) from exc
    if len(result.stdout) >= limits.max_probe_output:
        raise SourceRejected(name, f"ffprobe's description exceeds {limits.max_probe_output >> 20} MiB",
                             hint="remux the master without excess streams, chapters and tags",
                             code="source_too_many_streams")
    try:
        doc = json.loads(result.stdout)
    except ValueError as exc:
        raise SourceRejected(name, "ffprobe did not describe it (no valid JSON output)",
                             hint="check the file is a video container; remux it with ffmpeg",
                             code="source_not_media") from exc
    info = parse_probe(doc if isinstance(doc, dict) else {}, path=name, size_bytes=size, limits=limits)
    demuxer = demuxer_name(info.format_name)  # parse_probe checked it against the allowlist
    _decode_check(decode_head_argv(absolute, tools, info.video.index, demuxer=demuxer), name, limits,
                  at_end=False)
    video_end = info.video.duration or info.duration
    frame = float(1 / info.video.avg_fps)
    length = max(1.0, 2 * frame)  # a slideshow at 0.5 fps still has a frame in the window
    if video_end > length:
        tail = decode_tail_argv(absolute, tools, info.video.index, video_end - length, length, demuxer=demuxer)
        _decode_check(tail, name, limits, at_end=True, min_time=length / 2 - frame)
    if demuxer in PTS_DURATION_DEMUXERS:
        info = dataclasses.replace(info, audio=tuple(_measured_audio(absolute, tools, a, limits) for a in info.audio))
    return info


def _measured_audio(path: Path, tools: Tools, stream: AudioStream, limits: ProbeLimits) -> AudioStream:
    """The stream with its duration measured from its last packets (see PTS_DURATION_DEMUXERS); unchanged if
    that fails (the probe already accepted the file; this only sharpens a figure QC compares against)."""
    if stream.duration is None or stream.start_time is None:
        return stream
    argv = packets_tail_argv(path, tools, stream.index, stream.start_time + stream.duration - 5.0)
    try:
        result = run(argv, limits=RunLimits(timeout=limits.probe_timeout, memory_bytes=limits.probe_memory,
                                            max_stdout_bytes=limits.max_probe_output))
    except (FFmpegFailed, FFmpegTimeout):
        return stream
    end = packets_end(result.stdout.decode("utf-8", "replace"))
    if end is None or end <= stream.start_time:
        return stream
    return dataclasses.replace(stream, duration=round(end - stream.start_time, 6))


def _stat_size(path: Path, name: str) -> int:
    try:
        st = path.stat()
    except OSError as exc:
        raise SourceRejected(name, f"cannot be opened ({exc.strerror or exc})",
                             hint="check the path and that the fetch step wrote the file",
                             code="source_missing") from exc
    if not stat.S_ISREG(st.st_mode):
        raise SourceRejected(name, "is not a regular file", hint="pass the path of the master file itself",
                             code="source_missing")
    if st.st_size == 0:
        raise SourceRejected(name, "is empty (0 bytes)", hint=_REEXPORT, code="source_empty")
    return st.st_size


def _head(path: Path) -> bytes:
    """The first bytes: ffprobe says "moov atom not found" to a truncated MP4 and to any junk named .mp4."""
    try:
        with path.open("rb") as handle:
            return handle.read(12)
    except OSError:
        return b""


def _decode_check(argv: list[str], name: str, limits: ProbeLimits, *, at_end: bool,
                  min_time: float = 0.0) -> None:
    reports: list[Progress] = []
    try:
        run(argv, limits=RunLimits(timeout=limits.decode_timeout, memory_bytes=limits.decode_memory),
            on_progress=reports.append)
    except FFmpegTimeout as exc:
        raise _timeout(name, "the decode check", limits.decode_timeout) from exc
    except FFmpegFailed as exc:
        raise classify_decode_failure(exc.stderr_tail, path=name, at_end=at_end) from exc
    last = reports[-1] if reports else None
    short = check_decoded(last.frame if last else None, last.out_time if last else 0.0, path=name,
                          at_end=at_end, min_time=min_time)
    if short is not None:
        raise short


def check_decoded(frames: int | None, out_time: float, *, path: str, at_end: bool,
                  min_time: float = 0.0) -> SourceRejected | None:
    """A decode check that exited 0 must still have decoded frames, reaching `min_time` into the window
    (about half of it: data cut inside the last second ends the decode quietly, with no error)."""
    if frames and out_time >= min_time:
        return None
    if at_end:
        return SourceRejected(path, f"is truncated: only {out_time:.2f} s of its last second(s) decode "
                              f"({frames or 0} frames)", hint=_REEXPORT, code="source_truncated")
    return SourceRejected(path, "has no decodable frame in its first second",
                          hint="re-export the master; play it locally to check it", code="source_undecodable")


def _timeout(name: str, step: str, seconds: float) -> SourceRejected:
    return SourceRejected(name, f"{step} did not finish within {seconds:g} s",
                          hint="the file may be malformed or unusually complex; remux it and retry",
                          code="source_probe_timeout")


def classify_probe_failure(stderr: str, *, path: str, head: bytes) -> SourceRejected:
    """ffprobe exited non-zero: say why in terms of the file, from its stderr and first bytes."""
    text = stderr.lower()
    last = _last_line(stderr)
    if "format not on whitelist" in text:
        # ffmpeg refused the demuxer the content asked for (a playlist, image pattern, text...);
        # it printed our whitelist, not the file's content: say so without echoing it
        return SourceRejected(path, "is not in an accepted container format (ffprobe identified a "
                              "demuxer outside the allowlist, e.g. a playlist, image sequence or text)",
                              hint=REFUSED_HINT, code="source_format_refused")
    if "moov atom not found" in text and head[4:8] in _ISOBMFF_BOXES:
        return SourceRejected(path, "is a truncated MP4: its index (moov atom) is missing",
                              hint=_REEXPORT, code="source_truncated")
    if "no such file" in text or "permission denied" in text:
        return SourceRejected(path, f"cannot be opened by ffprobe ({last})",
                              hint="check the path and its permissions", code="source_missing")
    if any(mark in text for mark in _TRUNCATION_MARKS[1:]):
        return SourceRejected(path, f"ends early: {last}", hint=_REEXPORT, code="source_truncated")
    return SourceRejected(path, f"is not a media file ffprobe can read ({last})",
                          hint="submit a video container (MP4, MOV, MKV, MXF); check the upload is not a "
                          "text or HTML error page", code="source_not_media")


def classify_decode_failure(stderr: str, *, path: str, at_end: bool) -> SourceRejected:
    """A decode check failed: truncated (data missing) or undecodable (no decoder, corrupt start)."""
    text = stderr.lower()
    last = _last_line(stderr)
    if at_end or any(mark in text for mark in _TRUNCATION_MARKS):
        where = "its last second" if at_end else "its first second"
        return SourceRejected(path, f"is truncated or corrupt: {where} does not decode ({last})",
                              hint=_REEXPORT, code="source_truncated")
    if any(mark in text for mark in _NO_DECODER_MARKS):
        return SourceRejected(path, f"uses a video codec this ffmpeg cannot decode ({last})",
                              hint="re-export the master as H.264, HEVC or ProRes", code="source_undecodable")
    return SourceRejected(path, f"video does not decode ({last})",
                          hint="re-export the master; play it locally to check it", code="source_undecodable")


def _last_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no error message"
