"""An AV1 rung plays in Chromium: hls.js (HLS) and Shaka Player (DASH), forced onto the AV1 variant.

One transcode with --codecs h264,hevc,av1 (640x360 6 s, default ladder: 234p and 360p in each codec, draft
presets, 2 s segments), served by `vodfleet preview`. Each player is forced onto the 360p AV1 rendition (hls.js:
``currentLevel`` = the av01 level; Shaka: ABR off, ``selectVariantTrack`` of the av01 variant); then the video
element's clock must advance, the decoded picture must be 640x360 and not blank, the active track's codec must
be av01 and the AV1 rung's segments must be what was fetched. Chromium's AV1 decoding is checked first with
MediaSource.isTypeSupported (Debian's Chromium decodes AV1 with dav1d; HEVC it cannot, so the HEVC variants
are only listed and must be left out by the players, never chosen).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from mediagen import make_source
from playerpage import PlayerPage

from pipelines.options import PlanOptions
from pipelines.transcode import TranscodeRequest, transcode
from workers.preview.server import Address, running
from workers.preview.site import open_site

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext

pytestmark = pytest.mark.player

AV1_360 = "video/360p-av1/"
READY = "() => window.vodfleetPlayer && vodfleetPlayer.ready && vodfleetPlayer.video.readyState >= 2"
SUPPORT_JS = """(types) => types.map((t) => [t, MediaSource.isTypeSupported(t)])"""
HLS_FORCE_JS = """() => {
  const hls = vodfleetPlayer.raw();
  const index = hls.levels.findIndex((l) => (l.videoCodec || '').startsWith('av01') && l.height === 360);
  if (index < 0) throw new Error('no av01 level: ' + JSON.stringify(hls.levels.map((l) => l.videoCodec)));
  hls.currentLevel = index;
  return {index, codecs: hls.levels.map((l) => l.videoCodec)};
}"""
HLS_STATE_JS = """() => {
  const hls = vodfleetPlayer.raw();
  const level = hls.levels[hls.currentLevel];
  return {codec: level ? level.videoCodec : null, height: level ? level.height : null};
}"""
SHAKA_FORCE_JS = """() => {
  const player = vodfleetPlayer.raw();
  player.configure({abr: {enabled: false}});
  const tracks = player.getVariantTracks();
  const track = tracks.find((t) => (t.videoCodec || '').startsWith('av01') && t.height === 360);
  if (!track) throw new Error('no av01 variant: ' + JSON.stringify(tracks.map((t) => t.videoCodec)));
  player.selectVariantTrack(track, /* clearBuffer= */ true);
  return {codecs: [...new Set(tracks.map((t) => t.videoCodec))]};
}"""
SHAKA_STATE_JS = """() => {
  const active = vodfleetPlayer.raw().getVariantTracks().find((t) => t.active);
  return {codec: active ? active.videoCodec : null, height: active ? active.height : null};
}"""


@pytest.fixture(scope="module")
def av1_published(tmp_path_factory: pytest.TempPathFactory, browser: BrowserContext) -> Path:
    work = tmp_path_factory.mktemp("av1")
    source = make_source(work / "source.mp4", width=640, height=360, duration=6.0)
    result = transcode(TranscodeRequest(source=source, output=work / "out", measure_quality=False,
                                        options=PlanOptions(segment_seconds=2, profile="draft",
                                                            codecs=("h264", "hevc", "av1"))))
    return result.output


@pytest.fixture(scope="module")
def av1_preview(av1_published: Path) -> Iterator[Address]:
    with running(open_site(av1_published)) as address:
        yield address


@pytest.fixture
def av1_player(browser: BrowserContext, av1_preview: Address) -> Iterator[PlayerPage]:
    page = browser.new_page()
    yield PlayerPage(page, av1_preview)
    page.close()


def _require_av1(player: PlayerPage, codecs: str) -> None:
    support = dict(player.js(SUPPORT_JS, [f'video/mp4; codecs="{codecs}"', 'video/mp4; codecs="hvc1.1.6.L63.90"']))
    if not support[f'video/mp4; codecs="{codecs}"']:
        pytest.skip(f"this Chromium does not decode AV1 ({codecs}) through MSE: {support}")


def _av1_codec(root: Path) -> str:
    master = (root / "master.m3u8").read_text()
    line = next(ln for ln in master.splitlines() if 'CODECS="av01' in ln)
    return line.split('CODECS="')[1].split(",")[0]


def _played_av1(player: PlayerPage, state_js: str) -> dict[str, Any]:
    player.play()
    player.wait(f"() => {{ const s = ({state_js})(); return s.codec && s.codec.startsWith('av01') && "
                "vodfleetPlayer.video.currentTime > 2.5 && !vodfleetPlayer.video.paused && "
                "vodfleetPlayer.video.videoWidth === 640; }",
                timeout=20, what="the AV1 rendition to play past 2.5 s at 640x360")
    frame = player.frame()
    assert (frame["width"], frame["height"]) == (640, 360)
    assert frame["stddev"] > 10, frame  # testsrc2's pattern, not a black or blank frame
    fetched = [url for url in player.requests if AV1_360 in url and url.endswith(".m4s")]
    assert fetched, [url for url in player.requests if "/video/" in url]
    assert not [e for e in player.state()["errors"] if e.get("fatal")]
    # the page's own rendition naming tells the sizes' codecs apart (report.json's ids)
    assert player.js("() => vodfleetPlayer.currentRendition().id") == "360p-av1"
    state: dict[str, Any] = player.js(state_js)
    return state


def test_hlsjs_plays_the_av1_level(av1_player: PlayerPage, av1_published: Path) -> None:
    _require_av1(av1_player, _av1_codec(av1_published))
    av1_player.page.goto(f"{av1_player.address.page}?mode=hlsjs-hls&autoplay=0")
    av1_player.wait(READY, timeout=15, what="hls.js to load the master and decode a first frame")
    forced = av1_player.js(HLS_FORCE_JS)
    assert not any(c.startswith("hvc1") for c in forced["codecs"]), forced  # HEVC left out: Chromium lacks it
    print("hls.js levels:", forced["codecs"])
    state = _played_av1(av1_player, HLS_STATE_JS)
    assert state["codec"].startswith("av01.0.") and state["height"] == 360


def test_shaka_plays_the_av1_representation(av1_player: PlayerPage, av1_published: Path) -> None:
    _require_av1(av1_player, _av1_codec(av1_published))
    av1_player.page.goto(f"{av1_player.address.page}?mode=shaka-dash&autoplay=0")
    av1_player.wait(READY, timeout=15, what="Shaka to load the MPD and decode a first frame")
    forced = av1_player.js(SHAKA_FORCE_JS)
    assert not any(c.startswith("hvc1") for c in forced["codecs"]), forced
    print("Shaka variants:", forced["codecs"])
    state = _played_av1(av1_player, SHAKA_STATE_JS)
    assert state["codec"].startswith("av01.0.") and state["height"] == 360
