"""The opt-in 5.1 rendition in Chromium: hls.js (HLS) and Shaka Player (DASH and HLS) load a title published with
``--surround``, switch to the 5.1 rendition (hls.js: ``setAudioOption`` with CHANNELS 6, which moves it to the
variants of the 5.1 audio group; Shaka: the variant whose channelsCount is 6, ABR off), fetch its segments and play
past 6 s with no fatal error. Both offer stereo and 5.1 (hls.js: allAudioTracks with CHANNELS 2 and 6; Shaka:
variants of 2 and 6 channels). Which one a player starts with is its own choice: Shaka prefers 2 channels
(preferredAudioChannelCount); hls.js 1.7's ABR treats the 5.1 group's variants as higher rungs (their BANDWIDTH
includes the 384 kb/s) and climbs to them on a fast link."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from mediagen import make_51_master
from playerpage import MODES, PlayerPage
from published import CUES, write_srt

from pipelines.options import PlanOptions
from pipelines.transcode import Sidecar, TranscodeRequest, transcode
from workers.preview.server import Address, running
from workers.preview.site import open_site

pytestmark = [pytest.mark.player, pytest.mark.media]
PLAY_PAST = 6.0  # seconds: past the switch, into segments of the 5.1 rendition (2 s segments, an 8 s title)
TINY = str(Path(__file__).parents[1] / "fixtures" / "ladders" / "tiny.toml")  # 90p + 180p

OFFERED_JS = {
    "hlsjs-hls": "() => [...new Set(vodfleetPlayer.raw().allAudioTracks.map((t) => Number(t.channels)))].sort()",
    "shaka": "() => [...new Set(vodfleetPlayer.raw().getVariantTracks().map((t) => t.channelsCount))].sort()",
}
# hls.js: the current track's CHANNELS; Shaka: the active variant's channel count
CHANNELS_JS = {
    "hlsjs-hls": "() => { const h = vodfleetPlayer.raw(); const t = h.audioTracks[h.audioTrack]; "
                 "return t ? Number(t.channels) : null; }",
    "shaka": "() => { const v = vodfleetPlayer.raw().getVariantTracks().find((t) => t.active); "
             "return v ? v.channelsCount : null; }",
}
SELECT_51_JS = {
    "hlsjs-hls": "() => !!vodfleetPlayer.raw().setAudioOption({lang: 'en', channels: '6'})",
    "shaka": "() => { const p = vodfleetPlayer.raw(); p.configure({abr: {enabled: false}}); "
             "const v = p.getVariantTracks().filter((t) => t.channelsCount === 6)"
             ".sort((a, b) => a.bandwidth - b.bandwidth)[0]; if (!v) return false; "
             "p.selectVariantTrack(v, false); return true; }",
}


@pytest.fixture(scope="module")
def title(tmp_path_factory: pytest.TempPathFactory, playwright_api: object) -> Path:
    """An 8 s 5.1 master published with the 5.1 rendition (and a subtitle: the page waits for a text track)."""
    work = tmp_path_factory.mktemp("surround-play")
    sidecar = (Sidecar("en", write_srt(work / "en.srt", CUES["en"])),)
    master = make_51_master(work / "m51.mov", seconds=8)
    result = transcode(TranscodeRequest(source=master, output=work / "out", ladder=TINY, subtitles=sidecar,
                                        measure_quality=False,
                                        options=PlanOptions(segment_seconds=2, profile="draft", surround=True)))
    return result.output


@pytest.fixture(scope="module")
def preview(title: Path) -> Iterator[Address]:
    """Overrides the suite's `preview`: the `player` fixture opens this output."""
    with running(open_site(title)) as address:
        yield address


@pytest.mark.parametrize("mode", MODES)
def test_the_51_rendition_is_selected_and_plays(player: PlayerPage, mode: str) -> None:
    kind = "hlsjs-hls" if mode == "hlsjs-hls" else "shaka"
    player.open(mode)
    player.js("() => { vodfleetPlayer.video.muted = true; }")
    assert player.js(OFFERED_JS[kind]) == [2, 6], f"{mode}: stereo and 5.1 offered"
    started = player.js(CHANNELS_JS[kind])
    if kind == "shaka":  # buffer 2 s ahead, as on a long title: an 8 s one is otherwise all buffered before the
        # switch on a slow machine, and a switch that keeps the buffer (clearBuffer false) then fetches nothing new
        player.js("() => vodfleetPlayer.raw().configure({streaming: {bufferingGoal: 2, rebufferingGoal: 1}})")
    player.play()
    player.wait_playing_past(0.5)  # the viewer switches while watching; the switch takes the next segment
    assert player.js(SELECT_51_JS[kind]) is True, f"{mode}: no 5.1 option offered"
    player.wait(f"() => ({CHANNELS_JS[kind]})() === 6", what=f"{mode}: the 5.1 rendition to become active")
    player.wait_playing_past(PLAY_PAST, timeout=20)
    fetched = [url for url in player.requests if "/audio/en-51/seg_" in url]
    assert fetched, f"{mode}: no segment of the 5.1 rendition was fetched; requests: {player.requests}"
    decoded = player.js("() => vodfleetPlayer.video.webkitAudioDecodedByteCount")
    assert decoded > 0, f"{mode}: no audio decoded"
    state = player.state()
    assert state["mediaError"] is None, f"{mode}: {state}"
    assert player.fatal_errors() == [], f"{mode}: {state['errors']}"
    assert player.page_errors == []
    print("PLAYED 5.1", mode, "started with", started, "channels;", round(state["time"], 2), "s,", len(fetched),
          "5.1 segment request(s),", decoded, "audio bytes decoded")
