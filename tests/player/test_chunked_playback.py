"""What the fleet publishes from chunk tasks plays like a whole-file encode: hls.js and Shaka in Chromium play it to
the end, across every chunk join, with the picture and the subtitles of the source.

The output comes from a real fleet run: Redis (broker and store) and SeaweedFS (S3) started here, two `vodfleet
worker` processes, `vodfleet submit --chunks 4`; the published version is fetched back from S3 and served by
`vodfleet preview`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fleet.seaweed_server import serve
from fleetkit import RedisServer, make_fleet, s3_settings
from mediagen import make_source
from playerpage import MODES, PlayerPage
from published import FRAME, Cue, held_pieces, write_srt

from workers.preview.server import Address, running
from workers.preview.site import open_site
from workers.publish.protocol import read_live

pytestmark = [pytest.mark.player, pytest.mark.queue, pytest.mark.fleet, pytest.mark.media]
DURATION = 32.0  # 16 segments of 2 s → 4 chunks of 8 s: joins at 8, 16 and 24 s
JOINS = (8.0, 16.0, 24.0)
CUE = Cue(7.5, 8.6, "이음새를 건너는 자막")  # crosses the first chunk join


@pytest.fixture(scope="module")
def chunked_output(tmp_path_factory: pytest.TempPathFactory, playwright_api: object) -> Iterator[Path]:
    """(`playwright_api` first: without a browser setup this skips, or fails in CI, before any fleet starts.)"""
    work = tmp_path_factory.mktemp("chunked-fleet")
    source = make_source(work / "episode.mp4", width=640, height=360, duration=DURATION)
    sidecar = write_srt(work / "episode.ko.srt", (CUE,))
    redis = RedisServer(work)
    redis.start()
    try:
        for s3 in serve(tmp_path_factory.mktemp("chunked-seaweed")):
            for fleet in make_fleet(work, broker_url=redis.url, store_url=redis.url,
                                    **s3_settings(s3, "player")):
                fleet.worker(name="a")
                fleet.worker(name="b")
                done = fleet.cli("submit", str(source), "--subtitle", f"ko={sidecar}", "--profile", "draft",
                                 "--segment-seconds", "2", "--no-quality", "--chunks", "4", "--wait", timeout=300)
                assert done.returncode == 0, done.stderr + fleet.logs()[-4000:]
                record = json.loads(fleet.cli("status", done.stdout.splitlines()[0], "--json").stdout)
                assert record["chunks"]["count"] == 4
                storage = s3.storage("player")
                live = read_live(storage, "outputs/episode")
                assert live is not None
                base = f"outputs/episode/{live.version}/"
                out = work / "published"
                for info in storage.list(base):
                    target = out / info.key.removeprefix(base)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    storage.get_file(info.key, target)
                storage.close()
                yield out
    finally:
        redis.kill()


@pytest.fixture(scope="module")
def preview(chunked_output: Path) -> Iterator[Address]:
    """Overrides the suite's `preview`: the `player` fixture opens this output."""
    with running(open_site(chunked_output)) as address:
        yield address


@pytest.mark.parametrize("mode", MODES)
def test_a_chunked_fleet_output_plays_to_the_end(player: PlayerPage, mode: str) -> None:
    player.open(mode, autoplay=True)
    player.wait_playing_past(0.2, timeout=8)
    assert player.state()["duration"] == pytest.approx(DURATION, abs=0.1)
    player.js("() => { vodfleetPlayer.video.muted = true; vodfleetPlayer.video.playbackRate = 4; }")
    player.wait("() => vodfleetPlayer.video.ended || vodfleetPlayer.video.currentTime >= vodfleetPlayer.video.duration"
                " - 0.5", timeout=30, what="playback to reach the end")
    frame = player.frame()
    assert frame["frames"] > DURATION * 25 / 2, f"only {frame['frames']} frames decoded for {DURATION} s at 25 fps"
    assert player.fatal_errors() == []
    assert player.page_errors == []


@pytest.mark.parametrize("mode", MODES)
def test_every_chunk_join_plays_through(player: PlayerPage, mode: str) -> None:
    player.open(mode)
    for join in JOINS:
        player.seek(join - 0.6)
        player.play()
        player.wait_playing_past(join + 0.5, timeout=10)
        player.pause()
        frame = player.frame()
        assert frame["stddev"] > 20, f"flat picture after the join at {join} s ({frame})"
        state = player.state()
        assert state["mediaError"] is None
    assert player.fatal_errors() == []
    assert player.page_errors == []


@pytest.mark.parametrize("mode", MODES)
def test_a_subtitle_across_a_join_shows_on_time(player: PlayerPage, mode: str) -> None:
    player.open(mode)
    player.js("(lang) => vodfleetPlayer.selectText(lang)", "ko")
    if mode.startswith("shaka"):  # see PlayerPage.wait_text_loaded
        player.wait_text_loaded("ko")
    for at, start, end in held_pieces(CUE, mode, 2.0):  # 2 s segments
        player.seek(at)
        active = player.wait_cue_text("ko", CUE.text, what=f"the ko cue at {at} s")
        assert active[0]["start"] == pytest.approx(start, abs=FRAME)
        assert active[0]["end"] == pytest.approx(end, abs=FRAME)
