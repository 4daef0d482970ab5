"""Thumbnail and caption options through the fleet: `vodfleet submit --thumbnail-* --captions both
--caption-language` puts them in the JobSpec, a separate `vodfleet worker` on the embedded broker makes the job,
and the published output is measured: storyboard tile size, grid and interval (thumbnails.vtt, the sheet's pixels,
the HLS image playlist), the captions in-band in the rungs and named with their languages in the master playlist."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import m3u8
import pytest
import webvtt
from cea608gen import popon
from fleetkit import Fleet
from mediagen import make_captioned_source

from pipelines.captions.cc import in_band_ids
from pipelines.tools import Tools

pytestmark = [pytest.mark.queue, pytest.mark.media]
DRAFT = ("--profile", "draft", "--segment-seconds", "2", "--no-quality")


def _seconds(stamp: str) -> float:
    hours, minutes, seconds = stamp.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def test_fleet_job_honours_thumbnail_and_caption_options(embedded_fleet: Fleet, tmp_path: Path) -> None:
    master = make_captioned_source(tmp_path / "promo.mp4", field1=popon([(30, 60, ["ONE"])]),
                                   field2=popon([(45, 75, ["UNO"])], field=2), duration=4.0)
    embedded_fleet.worker()
    done = embedded_fleet.cli("submit", str(master), *DRAFT, "--thumbnail-interval", "0.5", "--thumbnail-width", "96",
                              "--thumbnail-grid", "3x2", "--captions", "both", "--caption-language", "CC3=es",
                              "--wait", timeout=240)
    assert done.returncode == 0, done.stderr + embedded_fleet.logs()[-4000:]
    location = next(line for line in done.stdout.splitlines() if "published: file://" in line)
    out = Path(location.split("published: file://", 1)[1].strip())

    cues = list(webvtt.from_buffer(io.StringIO((out / "thumbnails" / "thumbnails.vtt").read_text())))
    assert [(_seconds(c.start), _seconds(c.end)) for c in cues[:3]] == [(0.0, 0.5), (0.5, 1.0), (1.0, 1.5)]
    assert [c.text for c in cues[:7]] == [
        "sprite_0001.jpg#xywh=0,0,96,54", "sprite_0001.jpg#xywh=96,0,96,54", "sprite_0001.jpg#xywh=192,0,96,54",
        "sprite_0001.jpg#xywh=0,54,96,54", "sprite_0001.jpg#xywh=96,54,96,54", "sprite_0001.jpg#xywh=192,54,96,54",
        "sprite_0002.jpg#xywh=0,0,96,54"]
    probe = json.loads(subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=width,height", "-of", "json",
                                       str(out / "thumbnails" / "sprite_0001.jpg")],
                                      capture_output=True, check=True).stdout)["streams"][0]
    assert (probe["width"], probe["height"]) == (3 * 96, 2 * 54)  # a full 3x2 sheet of 96x54 tiles
    images = (out / "thumbnails" / "index.m3u8").read_text()
    assert "#EXT-X-TILES:RESOLUTION=96x54,LAYOUT=3x2,DURATION=0.500000" in images

    playlist = m3u8.load(str(out / "master.m3u8"))
    assert {m.instream_id: m.language for m in playlist.media if m.type == "CLOSED-CAPTIONS"} == {
        "CC1": "en", "CC3": "es"}
    assert {m.uri.split("/")[1] for m in playlist.media if m.type == "SUBTITLES"} == {"en-cc1", "es-cc3"}
    rung = next((out / "video").iterdir())
    joined = tmp_path / "rung.mp4"
    joined.write_bytes(b"".join(p.read_bytes() for p in [rung / "init.mp4", *sorted(rung.glob("seg_*.m4s"))]))
    assert in_band_ids(joined, tools=Tools.resolve(), scratch=tmp_path, duration=4.0) == ("CC1", "CC3")
