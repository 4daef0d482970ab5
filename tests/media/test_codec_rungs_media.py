"""HEVC and AV1 rungs with real ffmpeg (libx265, libsvtav1): an SDR and a PQ master, tiny ladder, fastest
presets, each transcoded once with --codecs h264,hevc,av1, then measured again with other tools: ffprobe on every
rendition (codec, sample entry, profile, bit depth, colour, keyframes on the H.264 rungs' segment starts,
duration), the manifests re-read with m3u8 and mpegdash (CODECS from the bitstream, VIDEO-RANGE, one
AdaptationSet per codec, HDR descriptors)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import m3u8
import mediagen
import pytest
from mpegdash.parser import MPEGDASHParser

from pipelines.options import PlanOptions
from pipelines.storyboard import StoryboardOptions
from pipelines.transcode import TranscodeRequest, transcode

pytestmark = pytest.mark.media

TINY = str(Path(__file__).resolve().parents[1] / "fixtures" / "ladders" / "tiny.toml")
ALL = ("h264", "hevc", "av1")
# (ffprobe codec_name, codec_tag_string, profile) per codec and range
EXPECTED = {("hevc", "SDR"): ("hevc", "hvc1", "Main"), ("hevc", "PQ"): ("hevc", "hvc1", "Main 10"),
            ("av1", "SDR"): ("av1", "av01", "Main"), ("av1", "PQ"): ("av1", "av01", "Main")}
COLOUR = {"SDR": ("bt709", "bt709", "bt709", "yuv420p"), "PQ": ("bt2020", "smpte2084", "bt2020nc", "yuv420p10le")}


def ffprobe(path: Path, *entries: str) -> Any:
    out = subprocess.run(["ffprobe", "-v", "error", "-of", "json", *entries, str(path)], check=True,
                         capture_output=True)
    return json.loads(out.stdout)


def joined(root: Path, folder: str, scratch: Path) -> Path:
    path = root / folder
    data = (path / "init.mp4").read_bytes() + b"".join(s.read_bytes() for s in sorted(path.glob("seg_*.m4s")))
    out = scratch / (folder.replace("/", "_") + ".mp4")
    out.write_bytes(data)
    return out


@pytest.fixture(scope="session", params=["SDR", "PQ"])
def coded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp(f"codecs_{request.param}")
    hdr = request.param == "PQ"
    master = mediagen.make_source(work / "master.mp4", width=320, height=180, duration=4.0, hdr=hdr,
                                  codec="libx265" if hdr else "libx264")
    result = transcode(TranscodeRequest(
        source=master, output=work / "out", ladder=TINY, measure_quality=False,
        options=PlanOptions(segment_seconds=2, profile="draft", codecs=ALL),
        thumbnails=StoryboardOptions(enabled=False)))
    return {"root": result.output, "report": result.report, "range": request.param, "scratch": work}


def test_qc_passed_and_every_codec_was_made(coded: dict[str, Any]) -> None:
    report = coded["report"]
    assert report["status"] == "passed", [c for c in report["qc"]["checks"] if not c["passed"]]
    ids = [r["id"] for r in report["renditions"]["video"]]
    assert ids == ["90p", "180p", "90p-hevc", "180p-hevc", "90p-av1", "180p-av1"]
    names = {c["name"] for c in report["qc"]["checks"]}
    assert {"video.180p-av1.codec", "video.180p-hevc.colour", "video.keyframes.aligned",
            "hls.variant.180p-av1.codecs", "dash.video.180p-hevc.segments"} <= names


def test_ffprobe_every_new_rendition(coded: dict[str, Any]) -> None:
    root, video_range = coded["root"], coded["range"]
    h264 = ffprobe(joined(root, "video/180p", coded["scratch"]), "-show_streams")["streams"][0]
    assert (h264["color_transfer"], h264["pix_fmt"]) == ("bt709", "yuv420p")  # H.264 stays SDR (tone-mapped)
    for rid in ("90p-hevc", "180p-hevc", "90p-av1", "180p-av1"):
        codec = rid.split("-")[1]
        stream = ffprobe(joined(root, f"video/{rid}", coded["scratch"]), "-show_streams")["streams"][0]
        name, tag, profile = EXPECTED[(codec, video_range)]
        primaries, transfer, matrix, pix_fmt = COLOUR[video_range]
        assert (stream["codec_name"], stream["codec_tag_string"], stream["profile"]) == (name, tag, profile), rid
        assert (stream["color_primaries"], stream["color_transfer"], stream["color_space"],
                stream["pix_fmt"]) == (primaries, transfer, matrix, pix_fmt), rid
        assert (stream["width"], stream["height"]) == ((320, 180) if rid.startswith("180p") else (160, 90))


def _keyframes(path: Path) -> list[float]:
    packets = ffprobe(path, "-select_streams", "v:0", "-show_entries", "packet=pts_time,flags")["packets"]
    return sorted(float(p["pts_time"]) for p in packets if "K" in p["flags"])


def test_keyframes_on_the_h264_segment_grid(coded: dict[str, Any]) -> None:
    root = coded["root"]
    master = m3u8.load(str(root / "video/180p/index.m3u8"))
    starts, t = [], 0.0
    for segment in master.segments:
        starts.append(round(t, 3))
        t += segment.duration
    assert starts == [0.0, 2.0]
    reference = _keyframes(joined(root, "video/180p", coded["scratch"]))
    for rid in ("180p-hevc", "180p-av1", "90p-av1"):
        keys = _keyframes(joined(root, f"video/{rid}", coded["scratch"]))
        offset = keys[0]  # ffmpeg's mov demuxer shifts a B-frame track by its delay (pipelines.qc.streams)
        assert [round(k - offset, 3) for k in keys] == [round(k - reference[0], 3) for k in reference] == starts
        playlist = m3u8.load(str(root / f"video/{rid}/index.m3u8"))
        assert [s.duration for s in playlist.segments] == [s.duration for s in master.segments]


def test_manifests_name_each_codec_from_its_bitstream(coded: dict[str, Any]) -> None:
    root, video_range = coded["root"], coded["range"]
    master = m3u8.load(str(root / "master.m3u8"))
    variants = {p.uri.split("/")[1]: p.stream_info for p in master.playlists}
    assert list(variants)[:2] == ["90p", "180p"]  # H.264 first: what every client plays
    for rid, info in variants.items():
        init = ffprobe(root / "video" / rid / "init.mp4", "-show_streams")["streams"][0]
        video = info.codecs.split(",")[0]
        if rid.endswith("-hevc"):
            idc = {"Main": 1, "Main 10": 2}[init["profile"]]
            assert video == f"hvc1.{idc}.{4 if idc == 2 else 6}.L{init['level']}.90"
        elif rid.endswith("-av1"):
            depth = 10 if init["pix_fmt"].endswith("10le") else 8
            assert video == f"av01.0.{init['level']:02d}M.{depth:02d}"
        else:
            assert video.startswith("avc1.")
        assert info.video_range == ("SDR" if "-" not in rid else video_range)
    mpd = MPEGDASHParser.parse(str(root / "manifest.mpd"))
    video_sets = [s for s in mpd.periods[0].adaptation_sets if s.content_type == "video"]
    assert [[r.id for r in s.representations] for s in video_sets] == [
        ["90p", "180p"], ["90p-hevc", "180p-hevc"], ["90p-av1", "180p-av1"]]
    for adaptation_set in video_sets[1:]:
        props = [(p.scheme_id_uri, p.value) for p in adaptation_set.essential_properties or []]
        assert props == ([("urn:mpeg:mpegB:cicp:TransferCharacteristics", "16")] if video_range == "PQ" else [])
        for rep in adaptation_set.representations:
            assert rep.codecs == variants[rep.id].codecs.split(",")[0]


def test_chunked_encode_stitches_hevc_and_av1_rungs(tmp_path: Path) -> None:
    """Split-and-stitch with every codec: each chunk's x265 and SVT-AV1 init segments are byte-identical, the
    joins continuous, the keyframes on one grid across codecs (the stitch checks and QC, re-read here)."""
    from pipelines.chunk import ChunkPolicy

    master = mediagen.make_source(tmp_path / "master.mp4", width=320, height=180, duration=16.0)
    result = transcode(TranscodeRequest(
        source=master, output=tmp_path / "out", ladder=TINY, measure_quality=False, chunks=ChunkPolicy(count=2),
        options=PlanOptions(segment_seconds=2, profile="draft", codecs=ALL),
        thumbnails=StoryboardOptions(enabled=False)))
    checks = {c["name"]: c for c in result.report["qc"]["checks"]}
    assert result.report["chunks"]["count"] == 2
    for rid in ("90p-hevc", "180p-hevc", "90p-av1", "180p-av1"):
        for what in ("init", "joins", "grid", "decode"):
            assert checks[f"stitch.{rid}.{what}"]["passed"], checks[f"stitch.{rid}.{what}"]
    assert checks["video.keyframes.aligned"]["passed"]
    h264 = _keyframes(joined(result.output, "video/180p", tmp_path))
    av1 = _keyframes(joined(result.output, "video/180p-av1", tmp_path))
    assert [round(k - av1[0], 3) for k in av1] == [round(k - h264[0], 3) for k in h264] == [
        float(t) for t in range(0, 16, 2)]
