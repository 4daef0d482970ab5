"""Split-and-stitch with real ffmpeg: 4 chunks of a 34 s episode, 2 at a time, against a whole-file encode.

Both encodes are measured again here (segment boxes, ffprobe); a chunk encoded with other settings must
make the stitch fail loudly and publish nothing.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path
from typing import Any

import mediagen
import pytest

from pipelines.chunk import Chunk, ChunkPolicy
from pipelines.errors import QCFailed
from pipelines.isobmff import read_fragment, read_init
from pipelines.options import PlanOptions
from pipelines.plan import EncodePlan
from pipelines.transcode import TranscodeRequest, plan_transcode, transcode
from pipelines.workspace import STAGING_PREFIX

pytestmark = pytest.mark.media

LADDER = str(Path(__file__).parents[1] / "fixtures" / "ladders" / "tiny.toml")  # 90p (main) + 180p (high)
OPTIONS = PlanOptions(segment_seconds=2, gop_seconds=2, profile="draft")
RUNGS = ("90p", "180p")


def request(source: Path, output: Path, chunks: ChunkPolicy | None, jobs: int = 1) -> TranscodeRequest:
    return TranscodeRequest(source=source, output=output, ladder=LADDER, options=OPTIONS, chunks=chunks, jobs=jobs,
                            measure_quality=False)


def timeline(folder: Path) -> list[tuple[str, int, int, int, int]]:
    """(name, mfhd sequence, tfdt, duration, samples) of every segment, from the boxes."""
    init = read_init((folder / "init.mp4").read_bytes())
    rows = []
    for path in sorted(folder.glob("seg_*.m4s")):
        fragment = read_fragment(path.read_bytes(), init)
        rows.append((path.name, fragment.sequence_number, fragment.decode_time, fragment.duration,
                     len(fragment.durations)))
    return rows


@pytest.fixture(scope="module")
def encodes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("chunks")
    source = mediagen.make_source(base / "episode.mp4", width=320, height=180, duration=34.0)
    chunked = transcode(request(source, base / "chunked", ChunkPolicy(count=4), jobs=2))
    whole = transcode(request(source, base / "whole", None))
    return {"base": base, "source": source, "chunked": chunked, "whole": whole}


def test_four_chunks_two_at_a_time_pass_every_qc_rule(encodes: dict[str, Any]) -> None:
    report = encodes["chunked"].report
    assert report["status"] == "passed" and report["qc"]["passed"]
    names = {c["name"] for c in report["qc"]["checks"]}
    for rung in RUNGS:
        assert {f"video.{rung}.keyframes", f"video.{rung}.gop", f"video.{rung}.segments",
                f"video.{rung}.duration", f"hls.variant.{rung}.bandwidth", f"stitch.{rung}.init",
                f"stitch.{rung}.joins", f"stitch.{rung}.decode"} <= names
    assert "video.keyframes.aligned" in names
    section = report["chunks"]
    assert section["count"] == 4 and section["jobs"] == 2
    assert [(c["first_segment"], c["segments"], c["frames"]) for c in section["chunks"]] == [
        (1, 5, 250), (6, 4, 200), (10, 4, 200), (14, 4, 200)]
    assert all(c["seconds"] > 0 for c in section["chunks"]) and section["audio_seconds"] > 0
    assert json.loads((encodes["chunked"].output / "report.json").read_text())["chunks"] == section
    assert "chunks" not in encodes["whole"].report


def test_segments_carry_the_whole_file_timeline(encodes: dict[str, Any]) -> None:
    for rung in RUNGS:
        chunked = timeline(encodes["chunked"].output / "video" / rung)
        whole = timeline(encodes["whole"].output / "video" / rung)
        assert len(chunked) == 17
        assert chunked == whole, f"{rung}: names, mfhd, tfdt, durations and sample counts as the whole file"
        init = (encodes["chunked"].output / "video" / rung / "init.mp4").read_bytes()
        assert init == (encodes["whole"].output / "video" / rung / "init.mp4").read_bytes()


def test_a_full_decode_of_each_stitched_rung_has_every_frame(encodes: dict[str, Any], tmp_path: Path) -> None:
    for rung in RUNGS:
        folder = encodes["chunked"].output / "video" / rung
        joined = tmp_path / f"{rung}.mp4"
        joined.write_bytes(b"".join(p.read_bytes() for p in [folder / "init.mp4", *sorted(folder.glob("seg_*"))]))
        done = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                               "stream=nb_read_frames", "-of", "json", str(joined)],
                              check=True, capture_output=True, text=True)
        assert json.loads(done.stdout)["streams"][0]["nb_read_frames"] == "850"
        assert done.stderr == ""


def test_audio_is_encoded_once_for_the_whole_title(encodes: dict[str, Any]) -> None:
    chunked = timeline(encodes["chunked"].output / "audio" / "en")
    assert chunked == timeline(encodes["whole"].output / "audio" / "en")


def test_a_chunk_from_other_settings_fails_the_stitch_and_publishes_nothing(encodes: dict[str, Any],
                                                                          tmp_path: Path) -> None:
    out = tmp_path / "mixed"
    req = request(encodes["source"], out, ChunkPolicy(count=4), jobs=2)
    plan = plan_transcode(req).plan
    other = dataclasses.replace(plan, video=tuple(dataclasses.replace(r, profile="main" if r.profile == "high"
                                                                      else "high") for r in plan.video))

    def chunk_plan(chunk: Chunk) -> EncodePlan:
        return other if chunk.index == 2 else plan

    with pytest.raises(QCFailed) as info:
        transcode(dataclasses.replace(req, scratch_root=tmp_path), chunk_plan=chunk_plan)
    message = info.value.message
    assert "stitch.90p.init" in message and "stitch.180p.init" in message
    assert "chunk 2's 90p init segment differs from chunk 0's" in message
    failed = {f.name for f in info.value.failures}
    assert {"stitch.90p.init", "stitch.180p.init"} <= failed
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [], "staging or scratch left behind"
    assert not list(tmp_path.parent.glob(f"{STAGING_PREFIX}mixed*"))


@pytest.mark.parametrize(("name", "options"), [
    ("ntsc-film", {"fps": "24000/1001"}),
    ("ntsc", {"fps": "30000/1001"}),
    ("vfr", {"vfr": True}),
    ("interlaced", {"interlaced": True, "fps": "25"}),
    ("mkv-subtitles", {"subtitle_langs": ("en",)}),
    ("mpegts-aac", {"fps": "30000/1001"}),
])
def test_odd_sources_stitch_to_the_whole_file_timeline(tmp_path: Path, name: str, options: dict[str, Any]) -> None:
    """NTSC rates (segments of 143/144 frames), variable frame rate made constant, deinterlacing, an MKV with an
    embedded subtitle track, an MPEG-TS capture (non-zero start, AAC): the chunked encode (with its pre-roll) has
    the whole file's segments, box for box."""
    suffix = {"mkv-subtitles": ".mkv", "mpegts-aac": ".ts"}.get(name, ".mp4")
    source = mediagen.make_source(tmp_path / f"{name}{suffix}", width=320, height=180, duration=36.0, **options)
    chunked = transcode(request(source, tmp_path / "chunked", ChunkPolicy(count=3), jobs=2))
    whole = transcode(request(source, tmp_path / "whole", None))
    assert chunked.report["status"] == "passed", [c for c in chunked.report["qc"]["checks"] if not c["passed"]]
    for rung in RUNGS:
        assert timeline(chunked.output / "video" / rung) == timeline(whole.output / "video" / rung), rung
    assert sorted(p.name for p in chunked.output.rglob("*.vtt")) == sorted(p.name for p in whole.output.rglob("*.vtt"))
    text = sorted(p.relative_to(whole.output) for p in whole.output.glob("subtitles/*/*.m4s"))
    assert text == sorted(p.relative_to(chunked.output) for p in chunked.output.glob("subtitles/*/*.m4s"))
    assert all((whole.output / p).read_bytes() == (chunked.output / p).read_bytes() for p in text)


def test_chunked_title_gets_thumbnails_for_the_whole_title(encodes: dict[str, Any]) -> None:
    """The storyboard is made after the stitch: 34 s at one tile every 2 s is 17 tiles over every chunk."""
    chunked, whole = encodes["chunked"], encodes["whole"]
    board = chunked.report["thumbnails"]["storyboard"]
    assert board["tiles"] == board["expected_tiles"] == 17
    vtt = (chunked.output / "thumbnails" / "thumbnails.vtt").read_text(encoding="utf-8")
    assert vtt == (whole.output / "thumbnails" / "thumbnails.vtt").read_text(encoding="utf-8")
    assert vtt.count("#xywh=") == 17 and "00:00:32.000 --> 00:00:34.000" in vtt
    assert (chunked.output / "poster.jpg").stat().st_size > 0
    assert all(c["passed"] for c in chunked.report["qc"]["checks"] if c["name"].startswith("thumbnails."))
