"""WebVTT output: one whole file for DASH and downloads, or one file per HLS media segment.

HLS segments carry X-TIMESTAMP-MAP so players place cue times on the media timeline; our CMAF
media starts at 0, so MPEGTS:0 maps LOCAL 0 to media time 0 and cues keep absolute times.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pipelines.subtitles.cue import Cue, SubtitleDocument
from pipelines.subtitles.timestamp import format_timestamp, to_millis


def _block(cue: Cue) -> str:
    return f"{format_timestamp(cue.start)} --> {format_timestamp(cue.end)}\n{cue.text}\n"


def to_webvtt(doc_or_cues: SubtitleDocument | Iterable[Cue]) -> str:
    cues = doc_or_cues.cues if isinstance(doc_or_cues, SubtitleDocument) else tuple(doc_or_cues)
    return "WEBVTT\n\n" + "\n".join(_block(cue) for cue in cues)


def segment_webvtt(cues: SubtitleDocument | Iterable[Cue], boundaries: Sequence[tuple[float, float]], *,
                   mpegts: int = 0) -> list[str]:
    """One file per (start, duration) segment holding every cue that intersects [start, start+duration).

    A cue spanning a boundary is repeated in each segment with its original times (players drop the
    duplicate); a segment without cues is a header-only file, which is valid.
    """
    all_cues = cues.cues if isinstance(cues, SubtitleDocument) else tuple(cues)
    header = f"WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:{mpegts},LOCAL:00:00:00.000\n\n"
    files = []
    for start, duration in boundaries:
        low, high = to_millis(start), to_millis(start + duration)
        inside = [cue for cue in all_cues if to_millis(cue.start) < high and to_millis(cue.end) > low]
        files.append(header + "\n".join(_block(cue) for cue in inside))
    return files
