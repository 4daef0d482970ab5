"""report.json: what was made, from what, by which encoder, how well, and every QC check with its numbers."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

from pipelines.encoder import EncoderIdentity
from pipelines.errors import CheckResult
from pipelines.plan import EncodePlan
from pipelines.presentation import Presentation, Track
from pipelines.source import SourceInfo
from pipelines.subtitles import SubtitleDocument
from pipelines.subtitles.webvtt import cue_stylesheet

REPORT_NAME = "report.json"
REPORT_VERSION = 1


def build_report(source: SourceInfo, plan: EncodePlan, presentation: Presentation,
                 subtitles: Sequence[tuple[str, SubtitleDocument]], checks: Sequence[CheckResult],
                 quality: Mapping[str, Mapping[str, float]], identity: EncoderIdentity,
                 timings: Mapping[str, float], *, fingerprint: str | None = None) -> dict[str, Any]:
    """report.json's dict from the probed `source` and its `plan`, the packaged `presentation`, the subtitle
    tracks, every QC check, the quality scores, the encoder and the phase timings (seconds); pure but for the
    creation time. It needs none of the orchestrator's types (`pipelines.transcode` calls it)."""
    picture = presentation.video[0] if presentation.video else None
    encode_seconds = timings.get("encode", 0.0)
    return {
        "report_version": REPORT_VERSION,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "status": "passed" if all(c.passed for c in checks) else "failed",
        "encoder": identity.to_dict() | ({"fingerprint": fingerprint} if fingerprint else {}),
        "source": _plain(source),
        "plan": {
            "ladder": plan.ladder, "profile": plan.encoder.name, "preset": plan.encoder.preset,
            "fps": str(plan.fps), "gop_seconds": plan.gop_seconds, "gop_frames": plan.gop_frames,
            "segment_seconds": plan.segment_seconds, "deinterlace": plan.deinterlace,
            "tonemap": plan.tonemap, "notes": list(plan.notes),
            "in_band_captions": plan.a53cc,  # the rungs keep the master's A/53 caption SEI (--captions in-band|both)
            "video": [_plain(r) for r in plan.video], "audio": [_plain(a) for a in plan.audio],
        },
        "renditions": {
            "video": [{
                **_timeline(t, picture),
                "id": t.id, "path": t.path, "width": t.width, "height": t.height, "codecs": t.codecs,
                "codec": t.codec, "video_range": t.video_range,
                "frame_rate": str(t.frame_rate), "target_bitrate": t.nominal_bitrate,
                "measured_peak_bitrate": t.peak_bitrate, "measured_average_bitrate": t.average_bitrate,
                "segments": len(t.segments), "duration": round(t.duration, 6),
                "quality": dict(quality.get(t.id, {})),
            } for t in presentation.video],
            "audio": [{
                **_timeline(t, picture), "source_offset": _source_offset(source, a.stream_index),
                "id": t.id, "path": t.path, "language": t.language, "name": t.name, "codecs": t.codecs,
                "channels": t.channels, "sample_rate": t.sample_rate, "default": t.default,
                "measured_peak_bitrate": t.peak_bitrate, "measured_average_bitrate": t.average_bitrate,
                "segments": len(t.segments), "duration": round(t.duration, 6),
            } for t, a in zip(presentation.audio, plan.audio, strict=True)],
            "subtitles": [{
                "id": t.id, "path": t.path, "language": t.language, "name": t.name,
                "forced": t.forced, "sdh": t.sdh, "default": t.default,
                "segments": len(t.segments), "source_format": doc.source_format, "charset": doc.charset,
                # DASH text: WebVTT in ISO-BMFF fragments ("wvtt"), or the opt-in whole-title .vtt ("sidecar")
                "dash_text": "sidecar" if t.vtt else "wvtt", "dash_segments": len(t.fragments),
                "charset_reason": doc.charset_reason, "cues": len(doc.cues),
                "overlapping_cues": overlapping(doc),
                "positioned_cues": sum(1 for c in doc.cues if c.placement.settings()),
                "dropped": dict(doc.dropped),
                "cue_styles": cue_stylesheet(doc),  # the STYLE block's CSS (::cue colour rules), for the preview
            } for t, doc in ((t, dict(subtitles).get(t.id) or dict(subtitles)[t.language])
                             for t in presentation.subtitles)],
            # captions kept in every video rung's SEI (HLS CLOSED-CAPTIONS, DASH SCTE 214 Accessibility)
            "closed_captions": [{"instream_id": c.instream_id, "language": c.language, "name": c.name}
                                for c in presentation.closed_captions],
        },
        "speed": {
            "encode_seconds": encode_seconds,
            "x_realtime": round(source.duration / encode_seconds, 3) if encode_seconds else None,
        },
        "timings": dict(timings),
        "qc": {"passed": all(c.passed for c in checks), "checks": [c.to_dict() for c in checks]},
        "outputs": {"hls": "master.m3u8", "dash": "manifest.mpd"},
    }


def overlapping(doc: SubtitleDocument) -> int:
    """How many cues start before an earlier cue has ended (shown together by players)."""
    count, latest_end = 0, float("-inf")
    for cue in doc.cues:  # sorted by start
        count += cue.start < latest_end
        latest_end = max(latest_end, cue.end)
    return count


def _timeline(track: Track, picture: Track | None) -> dict[str, float]:
    """Where a track lies on the title's timeline, from its boxes (tfdt, trun): start and end in seconds, and
    offset = its start − the picture's start (what a player presents; 0 when in sync)."""
    start = track.segments[0].start if track.segments else 0.0
    end = track.segments[-1].start + track.segments[-1].duration if track.segments else 0.0
    origin = picture.segments[0].start if picture is not None and picture.segments else 0.0
    return {"start": round(start, 6), "end": round(end, 6), "offset": round(start - origin, 6)}


def _source_offset(source: SourceInfo, index: int) -> float | None:
    """The master's A/V offset for one audio stream: its start − the picture's start (containers' timestamps,
    edit lists applied by ffprobe), in seconds; what the encode pads (> 0) or holds the picture for (< 0)."""
    stream = next((a for a in source.audio if a.index == index), None)
    if stream is None or stream.start_time is None or source.video.start_time is None:
        return None
    return round(stream.start_time - source.video.start_time, 6)


def write_report(root: Path, report: Mapping[str, Any]) -> Path:
    path = root / REPORT_NAME
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _plain(value: Any) -> Any:
    """Dataclasses/tuples/Fractions → JSON-ready values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Fraction):
        return str(value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value
