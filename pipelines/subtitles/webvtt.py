"""WebVTT output: one whole file for DASH and downloads, or one file per HLS media segment.

HLS segments carry X-TIMESTAMP-MAP so players place cue times on the media timeline; our CMAF
media starts at 0, so MPEGTS:0 maps LOCAL 0 to media time 0 and cues keep absolute times.
HLS segment files open with the document's REGION blocks and one STYLE block (the source's STYLE
rules, then a ``::cue(.class)`` colour rule for each colour class the cues use), before the first cue
as W3C WebVTT §4.1 requires; cue settings follow each timing line. The whole-title file for DASH is
written without those blocks (see `to_webvtt`): ffmpeg-based DASH clients read it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from pipelines.subtitles.cue import Cue, SubtitleDocument
from pipelines.subtitles.payload import classes_in, stylesheet
from pipelines.subtitles.timestamp import format_timestamp, to_millis


def _block(cue: Cue) -> str:
    settings = cue.placement.settings()
    timing = f"{format_timestamp(cue.start)} --> {format_timestamp(cue.end)}" + (f" {settings}" if settings else "")
    return f"{timing}\n{cue.text}\n"


def cue_stylesheet(doc_or_cues: SubtitleDocument | Iterable[Cue]) -> str:
    """The body of the STYLE block the WebVTT files carry: the source's STYLE rules, then a ``::cue(.class)``
    colour rule per colour class the cues use ("" when none). report.json carries it for the preview page."""
    if isinstance(doc_or_cues, SubtitleDocument):
        cues, styles = doc_or_cues.cues, list(doc_or_cues.styles)
    else:
        cues, styles = tuple(doc_or_cues), []
    colours = stylesheet({name for cue in cues for name in classes_in(cue.text)})
    return "\n".join(style for style in [*styles, colours] if style.strip())


def _split(doc_or_cues: SubtitleDocument | Iterable[Cue]) -> tuple[tuple[Cue, ...], str]:
    """(cues, the REGION and STYLE blocks to put before them, each followed by a blank line)."""
    if isinstance(doc_or_cues, SubtitleDocument):
        cues, regions = doc_or_cues.cues, doc_or_cues.regions
    else:
        cues, regions = tuple(doc_or_cues), ()
    used = {cue.placement.region for cue in cues if cue.placement.region}
    css = cue_stylesheet(doc_or_cues if isinstance(doc_or_cues, SubtitleDocument) else cues)
    blocks = [f"REGION\n{region}\n\n" for region in regions if region.split()[0].removeprefix("id:") in used]
    if css:
        blocks.append(f"STYLE\n{css}\n\n")
    return cues, "".join(blocks)


def to_webvtt(doc_or_cues: SubtitleDocument | Iterable[Cue], *, head: bool = True) -> str:
    """The whole title as one WebVTT file; ``head=False`` leaves out the REGION and STYLE blocks (and so the
    cues' ``region:`` settings) for readers that stop at them: ffmpeg 5.1's webvtt demuxer skips only NOTE
    blocks and ends the file at the first other block without a timing line, so ffprobe, ffplay and mpv
    would read no cue at all."""
    cues, blocks = _split(doc_or_cues)
    if not head:
        cues = tuple(replace(cue, placement=replace(cue.placement, region="")) for cue in cues)
    return "WEBVTT\n\n" + (blocks if head else "") + "\n".join(_block(cue) for cue in cues)


def webvtt_header(doc_or_cues: SubtitleDocument | Iterable[Cue]) -> str:
    """The WebVTT file header up to the first cue: "WEBVTT", then the REGION and STYLE blocks the cues use
    (what ISO/IEC 14496-30 puts in a ``wvtt`` sample entry's ``vttC`` box)."""
    _, blocks = _split(doc_or_cues)
    return ("WEBVTT\n\n" + blocks).rstrip("\n")


def segment_webvtt(cues: SubtitleDocument | Iterable[Cue], boundaries: Sequence[tuple[float, float]], *,
                   mpegts: int = 0) -> list[str]:
    """One file per (start, duration) segment holding every cue that intersects [start, start+duration).

    A cue spanning a boundary is repeated in each segment with its original times (players drop the
    duplicate); overlapping cues each appear in every segment they touch; a segment without cues is a
    header-only file, which is valid.
    """
    all_cues, head = _split(cues)
    header = f"WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:{mpegts},LOCAL:00:00:00.000\n\n" + head
    files = []
    for start, duration in boundaries:
        low, high = to_millis(start), to_millis(start + duration)
        inside = [cue for cue in all_cues if to_millis(cue.start) < high and to_millis(cue.end) > low]
        files.append(header + "\n".join(_block(cue) for cue in inside))
    return files
