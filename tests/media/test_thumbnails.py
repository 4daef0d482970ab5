"""Thumbnails with real ffmpeg: the tile at each time shows the source's picture at that time, the poster skips a
black fade-in, and every manifest that lists them is re-read by an independent parser.

Sources (tests/mediagen.py): one flat colour per second (so a tile's mean colour says which second it shows)
and testsrc2 fading in from black (so a naive "first frame" poster would be black).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import m3u8
import mediagen
import pytest
from mpegdash.parser import MPEGDASHParser

from pipelines.options import PlanOptions
from pipelines.presentation import Segment, Storyboard
from pipelines.qc.thumbnails import check_thumbnails
from pipelines.storyboard_options import StoryboardOptions
from pipelines.tools import Tools
from pipelines.transcode import TranscodeRequest, transcode

pytestmark = pytest.mark.media

LADDER = str(Path(__file__).parents[1] / "fixtures" / "ladders" / "tiny.toml")  # 90p + 180p
OPTIONS = PlanOptions(segment_seconds=2, gop_seconds=2, profile="draft")
# RGB of each second of the colour source (distinct in every channel combination)
COLOURS = ("0xff0000", "0x00ff00", "0x0000ff", "0xffff00", "0xff00ff", "0x00ffff", "0xffffff")
GRID = StoryboardOptions(interval=1.0, tile_width=160, columns=2, rows=2)  # 7 tiles → 2 sheets, the 2nd partial


def rgb(colour: str) -> tuple[int, int, int]:
    value = int(colour, 16)
    return value >> 16, (value >> 8) & 0xFF, value & 0xFF


def decode_rgb(path: Path) -> tuple[int, int, bytes]:
    """A picture as packed RGB24 (ffmpeg decodes it; Python averages it)."""
    probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                            "stream=width,height", "-of", "json", str(path)], check=True, capture_output=True)
    stream = json.loads(probe.stdout)["streams"][0]
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         check=True, capture_output=True).stdout
    return int(stream["width"]), int(stream["height"]), raw


def mean_rgb(picture: tuple[int, int, bytes], x: int, y: int, w: int, h: int) -> tuple[float, float, float]:
    """Mean colour of the inner half of a region (edges carry the scaler's and JPEG's bleed)."""
    width, _, raw = picture
    sums = [0, 0, 0]
    count = 0
    for row in range(y + h // 4, y + 3 * h // 4):
        for col in range(x + w // 4, x + 3 * w // 4):
            at = (row * width + col) * 3
            for c in range(3):
                sums[c] += raw[at + c]
            count += 1
    return sums[0] / count, sums[1] / count, sums[2] / count


@pytest.fixture(scope="module")
def colours(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("thumbs-colours")
    source = mediagen.make_colour_steps(base / "colours.mp4", COLOURS)
    result = transcode(TranscodeRequest(source=source, output=base / "out", ladder=LADDER, options=OPTIONS,
                                        measure_quality=False, thumbnails=GRID))
    return {"root": result.output, "report": result.report}


@pytest.fixture(scope="module")
def fade(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("thumbs-fade")
    source = mediagen.make_fade_in(base / "fade.mp4", duration=6.0, fade_seconds=2.0)
    result = transcode(TranscodeRequest(source=source, output=base / "out", ladder=LADDER, options=OPTIONS,
                                        measure_quality=False))
    return {"root": result.output, "report": result.report}


def cues(vtt: Path) -> list[tuple[str, str, str]]:
    blocks = [b.splitlines() for b in vtt.read_text(encoding="utf-8").split("\n\n")[1:] if b.strip()]
    return [(*b[0].split(" --> "), b[1]) for b in blocks]


def test_sheets_have_the_grid_geometry_and_count(colours: dict[str, Any]) -> None:
    root = colours["root"]
    sheets = sorted(p.name for p in (root / "thumbnails").glob("sprite_*.jpg"))
    assert sheets == ["sprite_0001.jpg", "sprite_0002.jpg"]  # 7 s at 1 s → 7 tiles at 4 per sheet
    for name in sheets:
        width, height, _ = decode_rgb(root / "thumbnails" / name)
        assert (width, height) == (2 * 160, 2 * 90)  # 160 px tiles keep the 16:9 display aspect


def test_each_tile_shows_the_source_picture_at_its_time(colours: dict[str, Any]) -> None:
    root = colours["root"]
    listed = cues(root / "thumbnails" / "thumbnails.vtt")
    assert len(listed) == len(COLOURS)
    pictures = {name: decode_rgb(root / "thumbnails" / name) for name in ("sprite_0001.jpg", "sprite_0002.jpg")}
    for second, ((start, end, payload), colour) in enumerate(zip(listed, COLOURS, strict=True)):
        assert (start, end) == (f"00:00:0{second}.000", f"00:00:0{second + 1}.000")
        sheet, _, xywh = payload.partition("#xywh=")
        x, y, w, h = (int(v) for v in xywh.split(","))
        assert (w, h) == (160, 90)
        measured = mean_rgb(pictures[sheet], x, y, w, h)
        assert all(abs(m - e) < 40 for m, e in zip(measured, rgb(colour), strict=True)), (second, measured, colour)


def test_report_counts_the_bytes_on_disk(colours: dict[str, Any]) -> None:
    root, section = colours["root"], colours["report"]["thumbnails"]
    board = section["storyboard"]
    assert board["tiles"] == board["expected_tiles"] == 7
    assert [s["bytes"] for s in board["sheets"]] == [(root / "thumbnails" / s["uri"]).stat().st_size
                                                     for s in board["sheets"]]
    assert board["vtt_bytes"] == (root / "thumbnails" / "thumbnails.vtt").stat().st_size
    assert section["bytes"] == board["sheet_bytes"] + board["vtt_bytes"] + (root / "poster.jpg").stat().st_size
    assert section["fraction_of_encode"] is not None and section["fraction_of_encode"] > 0
    checks = {c["name"]: c["passed"] for c in colours["report"]["qc"]["checks"] if c["name"].startswith("thumb")}
    assert checks == dict.fromkeys(("thumbnails.tiles", "thumbnails.sheets", "thumbnails.vtt", "thumbnails.hls",
                                    "thumbnails.dash", "thumbnails.poster"), True)


def test_hls_image_playlist_re_read_by_m3u8(colours: dict[str, Any]) -> None:
    root = colours["root"]
    master = m3u8.load(str(root / "master.m3u8"))
    assert [p.uri for p in master.image_playlists] == ["thumbnails/index.m3u8"]
    info = master.image_playlists[0].image_stream_info
    assert info.resolution == (160, 90) and info.codecs == "jpeg" and info.bandwidth > 0
    assert len(master.playlists) == 2  # the video variants are still all there
    images = m3u8.load(str(root / "thumbnails" / "index.m3u8"))
    assert images.is_images_only
    assert [s.uri for s in images.segments] == ["sprite_0001.jpg", "sprite_0002.jpg"]
    assert [s.duration for s in images.segments] == [4.0, 3.0]  # the last sheet covers to the title's end
    tiles = images.data["tiles"]
    assert [(t["resolution"], t["layout"], float(t["duration"])) for t in tiles] == [("160x90", "2x2", 1.0)] * 2


def test_dash_image_adaptation_set_re_read_and_ffprobe_still_lists_the_streams(colours: dict[str, Any]) -> None:
    root = colours["root"]
    mpd = MPEGDASHParser.parse(str(root / "manifest.mpd"))
    sets = mpd.periods[0].adaptation_sets
    image = [a for a in sets if a.content_type == "image"]
    assert len(image) == 1 and image[0].mime_type == "image/jpeg"
    rep = image[0].representations[0]
    assert (rep.width, rep.height) == (320, 180)
    assert [(p.scheme_id_uri, p.value) for p in rep.essential_properties] == [
        ("http://dashif.org/thumbnail_tile", "2x2")]
    template = image[0].segment_templates[0]
    assert template.media == "thumbnails/sprite_$Number%04d$.jpg"
    assert int(template.duration) / int(template.timescale) == 4.0 and int(template.start_number) == 1
    probe = subprocess.run(["ffprobe", "-v", "error", "-of", "json", "-show_streams", str(root / "manifest.mpd")],
                           check=True, capture_output=True)
    kinds = sorted(s["codec_type"] for s in json.loads(probe.stdout)["streams"])
    assert kinds == ["audio", "video", "video"]


def test_poster_skips_the_black_fade_in(fade: dict[str, Any]) -> None:
    root, report = fade["root"], fade["report"]
    poster = report["thumbnails"]["poster"]
    assert poster["time"] >= 2.0 and poster["usable"]  # frame 0 is black, 0–2 s is the fade
    assert (poster["width"], poster["height"]) == (320, 180)  # the top rung, under the 1280 cap
    width, height, _ = picture = decode_rgb(root / "poster.jpg")
    assert (width, height) == (320, 180)
    luma = sum(0.2126 * r + 0.7152 * g + 0.0722 * b for r, g, b in [mean_rgb(picture, 0, 0, width, height)])
    assert luma > 60
    tile0 = cues(root / "thumbnails" / "thumbnails.vtt")[0]
    sheet, _, xywh = tile0[2].partition("#xywh=")
    x, y, w, h = (int(v) for v in xywh.split(","))
    assert max(mean_rgb(decode_rgb(root / "thumbnails" / sheet), x, y, w, h)) < 16  # tile 0: the black frame
    assert {c["name"]: c["passed"] for c in report["qc"]["checks"]}["thumbnails.poster"]


def test_qc_fails_a_missing_sheet_a_wrong_cue_and_a_black_poster(colours: dict[str, Any], tmp_path: Path) -> None:
    """The thumbnail checks measure the files: break a copy of a good output three ways and each check says so."""
    root = tmp_path / "out"
    shutil.copytree(colours["root"], root)
    board = colours["report"]["thumbnails"]["storyboard"]
    storyboard = Storyboard(path="thumbnails", interval=1.0, tile_width=160, tile_height=90, columns=2, rows=2,
                            tiles=7, sheets=tuple(Segment(s["uri"], s["start"], s["duration"], s["bytes"])
                                                  for s in board["sheets"]))
    tools = Tools.resolve()
    # Every sampled instant of the colour source is one flat colour: the poster is flat, and rightly passes
    assert colours["report"]["thumbnails"]["poster"]["usable"] is False
    good = {c.name: c.passed for c in check_thumbnails(root, storyboard, 7.0, 7, False, tools=tools)}
    assert all(good.values()), good
    (root / "thumbnails" / "sprite_0002.jpg").unlink()
    vtt = root / "thumbnails" / "thumbnails.vtt"
    vtt.write_text(vtt.read_text(encoding="utf-8").replace("xywh=160,0,160,90", "xywh=0,0,160,90"), encoding="utf-8")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "color=black:s=320x180", "-frames:v", "1",
                    str(root / "poster.jpg")], check=True)
    results = {c.name: c for c in check_thumbnails(root, storyboard, 7.0, 7, True, tools=tools)}
    sheets = results["thumbnails.sheets"]
    assert not sheets.passed and "sprite_0002.jpg is missing" in sheets.detail
    assert not results["thumbnails.vtt"].passed and "cue 2" in results["thumbnails.vtt"].detail
    assert not results["thumbnails.hls"].passed and not results["thumbnails.dash"].passed
    assert not results["thumbnails.poster"].passed and "black" in results["thumbnails.poster"].detail
    # A title that is black at every sampled instant may have a black poster: nothing better exists.
    lenient = {c.name: c.passed for c in check_thumbnails(root, storyboard, 7.0, 7, False, tools=tools)}
    assert lenient["thumbnails.poster"]
