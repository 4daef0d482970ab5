"""WebVTT in ISO-BMFF (start of issue 13 item 4): the fragments' timing read back by ffprobe, the cue boxes
(vttc/sttg/payl, vtte) by a box walk, for overlapping and positioned cues across segment boundaries."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from pipelines.isobmff import iter_boxes
from pipelines.subtitles.cue import Cue, Placement
from pipelines.subtitles.wvtt import init_segment, media_segment, samples

pytestmark = pytest.mark.media

TOP = Placement(line=0, line_percent=False)
CUES = (Cue(1.0, 7.0, "The long line"), Cue(2.0, 4.0, "Short &amp; <i>on top</i>", TOP))
BOUNDS = [(0.0, 2.0), (2.0, 4.0), (4.0, 6.0), (6.0, 8.0)]  # (start, end) of each media segment


def _texts(sample: bytes) -> list[tuple[str, str]]:
    """(settings, payload) per vttc box of a sample; [] for an empty-cue (vtte) sample."""
    out = []
    for box in iter_boxes(sample):
        if box.type == "vtte":
            continue
        assert box.type == "vttc", box.type
        kids = {k.type: sample[k.body:k.end].decode() for k in iter_boxes(sample, box.body, box.end)}
        out.append((kids.get("sttg", ""), kids["payl"]))
    return out


def test_samples_cut_at_every_cue_edge_and_keep_overlaps() -> None:
    rows = [(duration, _texts(body)) for duration, body in samples(CUES, 0, 8000)]
    assert rows == [
        (1000, []),
        (1000, [("", "The long line")]),
        (2000, [("", "The long line"), ("line:0", "Short &amp; <i>on top</i>")]),
        (3000, [("", "The long line")]),
        (1000, []),
    ]


def test_fragments_read_back_by_ffprobe(tmp_path: Path) -> None:
    path = tmp_path / "text.mp4"
    path.write_bytes(init_segment("eng", "WEBVTT") + b"".join(
        media_segment(CUES, start, end, number) for number, (start, end) in enumerate(BOUNDS, 1)))
    probed = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "packet=pts_time,size", "-of", "json", str(path)],
        capture_output=True, text=True, check=True, timeout=60).stdout)
    starts = [float(p["pts_time"]) for p in probed["packets"]]
    # Each segment is cut at its own boundaries: 0-1 empty, 1-2; 2-4 both; 4-6 long; 6-7 long, 7-8 empty.
    assert starts == [0.0, 1.0, 2.0, 4.0, 6.0, 7.0]


def test_segment_boxes_and_init_header(tmp_path: Path) -> None:
    init = init_segment("eng", "WEBVTT\n\nSTYLE\n::cue(.red) { color: #ff0000; }")
    assert [b.type for b in iter_boxes(init)] == ["ftyp", "moov"]
    assert b"vttC" in init and b"::cue(.red)" in init and b"text" in init
    segment = media_segment(CUES, 2.0, 4.0, 2)
    assert [b.type for b in iter_boxes(segment)] == ["styp", "moof", "mdat"]
    [mdat] = [b for b in iter_boxes(segment) if b.type == "mdat"]
    assert _texts(segment[mdat.body:mdat.end]) == [("", "The long line"), ("line:0", "Short &amp; <i>on top</i>")]
