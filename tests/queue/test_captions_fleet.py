"""Closed captions through the fleet: `vodfleet submit` of a master with CEA-608 in its H.264 SEI plus an SCC
sidecar, a separate `vodfleet worker` on the embedded broker, the published output re-read with m3u8."""

from __future__ import annotations

import io
from pathlib import Path

import m3u8
import pytest
import webvtt
from cea608gen import popon, scc_text
from fleetkit import Fleet
from mediagen import make_captioned_source

from pipelines.hls import SDH_CHARACTERISTICS

pytestmark = [pytest.mark.queue, pytest.mark.media]
DRAFT = ("--profile", "draft", "--segment-seconds", "2", "--no-quality")
FRAME = 1001 / 30000


def test_fleet_job_publishes_embedded_and_scc_captions(embedded_fleet: Fleet, tmp_path: Path) -> None:
    master = make_captioned_source(tmp_path / "news.mp4", field1=popon([(30, 60, ["FROM THE SEI"])]), duration=4.0)
    scc = tmp_path / "news.de.scc"  # uploaded to the fleet's storage; the worker reads it under another name
    scc.write_text(scc_text(popon([(45, 75, ["AUS DER SCC"])]), drop_frame=True), encoding="ascii")
    embedded_fleet.worker()
    done = embedded_fleet.cli("submit", str(master), "--subtitle", f"de={scc}", *DRAFT, "--wait", timeout=240)
    assert done.returncode == 0, done.stderr + embedded_fleet.logs()[-4000:]
    location = next(line for line in done.stdout.splitlines() if "published: file://" in line)
    out = Path(location.split("published: file://", 1)[1].strip())
    master_playlist = m3u8.load(str(out / "master.m3u8"))
    subs = {m.uri.split("/")[1]: (m.language, m.characteristics) for m in master_playlist.media
            if m.type == "SUBTITLES"}
    assert subs == {"en-cc1": ("en", SDH_CHARACTERISTICS), "de-sdh": ("de", SDH_CHARACTERISTICS)}
    for folder, start, end, text in (("en-cc1", 30, 60, "FROM THE SEI"), ("de-sdh", 45, 75, "AUS DER SCC")):
        [cue] = webvtt.from_buffer(io.StringIO((out / "subtitles" / folder / "seg_00001.vtt").read_text()))
        assert cue.text == text
        assert abs(_seconds(cue.start) - start * FRAME) < FRAME / 2 and abs(_seconds(cue.end) - end * FRAME) < FRAME / 2


def _seconds(stamp: str) -> float:
    hours, minutes, seconds = stamp.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
