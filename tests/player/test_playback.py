"""Real players play what vodfleet publishes: hls.js (HLS), Shaka Player (DASH and HLS) in Chromium.

Every assertion is about what the browser decoded or the player reports: currentTime, frame sizes and pixels,
the dominant frequency of the decoded audio, the text of the active cue and its timing.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from playerpage import MODES, PlayerPage, publish_screenshot
from published import AUDIO_HZ, CUES, DURATION, FRAME, RUNGS, SEGMENT, held_pieces

pytestmark = pytest.mark.player


@pytest.mark.parametrize("mode", MODES)
def test_plays_to_the_end(player: PlayerPage, mode: str) -> None:
    started = time.monotonic()
    player.open(mode, autoplay=True)
    player.wait_playing_past(0.2, timeout=5)
    startup = time.monotonic() - started
    assert startup < 5, f"playback took {startup:.1f} s to start"
    assert player.state()["duration"] == pytest.approx(DURATION, abs=0.1)
    player.js("() => { vodfleetPlayer.video.playbackRate = 2; }")  # 8 s of media in ~4 s; still real playback
    player.wait("() => vodfleetPlayer.video.ended || vodfleetPlayer.video.currentTime >= vodfleetPlayer.video.duration"
                " - 0.5", timeout=15, what="playback to reach the end")
    frame = player.frame()
    assert frame["frames"] > 150, f"only {frame['frames']} frames decoded for {DURATION} s at 25 fps"
    assert player.fatal_errors() == []
    assert player.page_errors == []


@pytest.mark.parametrize("mode", MODES)
def test_every_rung_decodes_at_its_resolution(player: PlayerPage, mode: str) -> None:
    player.open(mode)
    listed = {r["id"]: (r["width"], r["height"]) for r in player.js("() => vodfleetPlayer.renditions()")}
    assert listed == RUNGS
    for n, (rung, (width, height)) in enumerate(RUNGS.items()):
        # Seek first, then switch: Shaka 5 can stall for good when a seek lands while its buffer clear is in flight.
        player.seek(1.0 + 2 * n)
        fetched = len(player.requests)
        if n == 0:  # once through the page's own picker, then through the hook
            value = next(v for label, v in player.option_values("rendition-select").items() if label.startswith(rung))
            player.pick("rendition-select", value)
        else:
            player.js("(id) => vodfleetPlayer.selectRendition(id)", rung)
        player.play()
        player.wait("([w, h]) => vodfleetPlayer.video.videoWidth === w && vodfleetPlayer.video.videoHeight === h",
                    [width, height], what=f"frames of {rung} ({width}x{height})")
        start = player.state()["time"]
        player.wait_playing_past(start + 0.5)
        player.pause()
        frame = player.frame()
        assert (frame["width"], frame["height"]) == (width, height)
        assert frame["stddev"] > 20, f"{rung}: the decoded picture is flat ({frame})"
        assert player.js("() => vodfleetPlayer.currentRendition().id") == rung
        assert player.js("() => vodfleetPlayer.isAuto()") is False
        segments = [u for u in player.requests[fetched:] if f"/video/{rung}/seg_" in u]
        assert segments, f"{rung}: no segment of that rung was fetched after selecting it"
    player.pick("rendition-select", "auto")
    assert player.js("() => vodfleetPlayer.isAuto()") is True
    assert player.fatal_errors() == []


@pytest.mark.parametrize("mode", MODES)
def test_subtitles_show_the_source_cues_on_time(player: PlayerPage, mode: str, screenshots: Path) -> None:
    player.open(mode)
    listed = {t["lang"] for t in player.js("() => vodfleetPlayer.textLanguages()")}
    assert listed == set(CUES)
    tracks = player.js("() => [...vodfleetPlayer.video.textTracks].map((t) => [t.kind, t.language])")
    assert {lang for _kind, lang in tracks} >= set(CUES), f"text tracks on the <video>: {tracks}"
    for n, (language, cues) in enumerate(CUES.items()):
        if n == 0:
            player.pick("text-select", language)
        else:
            player.js("(lang) => vodfleetPlayer.selectText(lang)", language)
        assert player.js("() => vodfleetPlayer.textLanguage()") == language
        player.wait_text_loaded(language)
        for cue in cues:
            for at, start, end in held_pieces(cue, mode, SEGMENT):
                player.seek(at)
                active = player.wait_cue_text(language, cue.text, what=f"the {language} cue at {at} s")
                assert [c["text"] for c in active] == [cue.text], f"{language} at {at} s"
                assert active[0]["start"] == pytest.approx(start, abs=FRAME), f"{language} cue start at {at} s"
                assert active[0]["end"] == pytest.approx(end, abs=FRAME), f"{language} cue end at {at} s"
        if language == "ko":
            player.seek(CUES["ko"][0].middle)
            player.wait("() => !vodfleetPlayer.video.seeking && vodfleetPlayer.video.readyState >= 3",
                        what="a decoded frame under the cue")
            player.page.wait_for_timeout(400)  # let Chromium's loading spinner fade out of the picture
            shot = player.screenshot(screenshots / f"preview-{mode}-{language}.png")
            if mode == "hlsjs-hls":
                publish_screenshot(shot)
    if mode == "shaka-dash":  # the text came from the ISO-BMFF segments the MPD addresses, no .vtt file
        fetched = [u for u in player.requests if "/subtitles/" in u]
        assert any(u.endswith("/init.mp4") for u in fetched) and any(u.endswith(".m4s") for u in fetched)
        assert not any(u.endswith(".vtt") for u in fetched), fetched
    player.pick("text-select", "")
    assert player.js("() => vodfleetPlayer.textLanguage()") is None
    assert player.fatal_errors() == []


@pytest.mark.parametrize("mode", MODES)
def test_switching_audio_language_switches_the_decoded_audio(player: PlayerPage, mode: str) -> None:
    player.open(mode)
    assert {t["lang"] for t in player.js("() => vodfleetPlayer.audioLanguages()")} == set(AUDIO_HZ)
    assert player.js("() => vodfleetPlayer.audioLanguage()") == "en"
    player.install_audio_probe()
    player.play()
    player.wait_playing_past(0.3)
    player.wait_dominant_hz(AUDIO_HZ["en"])
    player.pick("audio-select", "es")
    player.wait("() => vodfleetPlayer.audioLanguage() === 'es'", what="the player to report Spanish audio")
    player.wait_dominant_hz(AUDIO_HZ["es"])
    player.js("() => vodfleetPlayer.selectAudio('en')")
    player.wait("() => vodfleetPlayer.audioLanguage() === 'en'", what="the player to report English audio")
    player.wait_dominant_hz(AUDIO_HZ["en"])
    assert player.fatal_errors() == []


@pytest.mark.parametrize("mode", MODES)
def test_seeking_to_the_middle_lands_and_keeps_playing(player: PlayerPage, mode: str) -> None:
    player.open(mode, autoplay=True)
    player.wait_playing_past(0.3, timeout=5)
    target = DURATION / 2 + 0.3  # not on a segment boundary
    landed = player.seek(target)
    assert landed == pytest.approx(target, abs=0.1)
    player.wait_playing_past(target + 0.6, timeout=6)
    assert player.state()["time"] < target + 3, "playback jumped past the seek target"
    assert player.fatal_errors() == []
