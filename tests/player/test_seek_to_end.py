"""A viewer picks a rendition (ABR off), seeks to 1.5 s before the end and plays to `ended`: hls.js (HLS) and Shaka
(DASH and HLS) in Chromium, on the sample clip and on a 30 s chunked output.

Shaka 5.2 used to stall for good here on DASH (buffer empty, the clock stuck at the seek target) because the MPD's
mediaPresentationDuration took the audio's end, padded past the picture's by the AAC priming and the last frame;
now every track ends with the picture and the manifests state its duration.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playerpage import MODES, PlayerPage
from published import CUES, write_srt

from pipelines.chunk import ChunkPolicy
from pipelines.options import PlanOptions
from pipelines.transcode import Sidecar, TranscodeRequest, transcode
from workers.preview.server import Address, running
from workers.preview.site import open_site

pytestmark = [pytest.mark.player, pytest.mark.media]
TINY = str(Path(__file__).parents[1] / "fixtures" / "ladders" / "tiny.toml")  # 90p + 180p
SAMPLE = Path(__file__).parents[2] / "sample_media" / "bigbuckbunny.mp4"
BEFORE_END = 1.5


def _publish(name: str, work: Path) -> Path:
    sidecar = (Sidecar("en", write_srt(work / "en.srt", CUES["en"])),)  # the page waits for a text track
    if name == "sample":
        source, chunks = SAMPLE, None
    else:  # a 30 s title in 3 chunks (2 s segments): joins at 10 and 20 s, small and draft
        from mediagen import make_source

        source, chunks = make_source(work / "thirty.mp4", width=320, height=180, duration=30.0), ChunkPolicy(count=3)
    result = transcode(TranscodeRequest(source=source, output=work / "out", ladder=TINY, subtitles=sidecar,
                                        options=PlanOptions(segment_seconds=2, profile="draft"),
                                        measure_quality=False, chunks=chunks, jobs=2))
    return result.output


@pytest.fixture(scope="module", params=["sample", "30s"])
def title(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, playwright_api: object) -> Path:
    """(`playwright_api` first: without a browser setup this skips, or fails in CI, before any encode.)"""
    return _publish(str(request.param), tmp_path_factory.mktemp(f"seek-end-{request.param}"))


@pytest.fixture(scope="module")
def preview(title: Path) -> Iterator[Address]:
    """Overrides the suite's `preview`: the `player` fixture opens this output."""
    with running(open_site(title)) as address:
        yield address


def test_every_rendition_plays_from_near_the_end_to_ended(player: PlayerPage, title: Path) -> None:
    from playwright.sync_api import Error as PlaywrightError

    report = json.loads((title / "report.json").read_text(encoding="utf-8"))
    end = report["renditions"]["video"][0]["end"]
    rungs = {v["id"]: (v["width"], v["height"]) for v in report["renditions"]["video"]}
    for mode in MODES:
        for rung, size in rungs.items():
            player.open(mode)
            assert player.state()["duration"] == pytest.approx(end, abs=0.05), f"{mode}: the title's duration"
            player.js("() => { vodfleetPlayer.video.muted = true; }")
            player.js("(id) => vodfleetPlayer.selectRendition(id)", rung)
            assert player.js("() => vodfleetPlayer.isAuto()") is False
            # the viewer watches the picked rendition for a moment, then seeks
            player.play()
            player.wait("([w, h]) => vodfleetPlayer.video.videoWidth === w && vodfleetPlayer.video.videoHeight === h",
                        list(size), what=f"{mode}: frames of {rung}")
            player.pause()
            target = end - BEFORE_END
            try:
                landed = player.seek(target)
            except PlaywrightError as exc:  # name the player and the rung
                raise AssertionError(f"{mode} {rung}: {exc}; state {player.state()}") from None
            assert landed == pytest.approx(target, abs=0.1), f"{mode} {rung}: the seek landed at {landed}"
            player.play()
            player.wait("() => vodfleetPlayer.video.ended", timeout=15,
                        what=f"{mode} {rung}: play from {target:.2f} s to `ended` at {end:.2f} s")
            state = player.state()
            assert state["time"] == pytest.approx(end, abs=0.1), f"{mode} {rung}: ended at {state['time']}"
            assert state["rendition"]["id"] == rung and state["auto"] is False, f"{mode}: {state}"
            assert state["mediaError"] is None
            assert player.fatal_errors() == [], f"{mode} {rung}"
    assert player.page_errors == []
