"""Shaka 5.2 on DASH: a text language chosen right after a quality change is shown.

Shaka 5.2.12 with segmented DASH text (WebVTT in ISO-BMFF) leaves the text stream stalled for good when the text
track is chosen while the quality switch's segments are in flight: the track is active and showing, its buffer
stays empty, and choosing it again is a no-op. Measured without the preview page's workaround: 4 of 4 tries
showed no cue. The page (workers/preview/static/adapters.js) watches the text buffer after each text choice,
variant change and seek, and restarts a stalled text stream (track off and on). Each try is a fresh page.
"""

from __future__ import annotations

import pytest
from playerpage import PlayerPage
from published import CUES

pytestmark = pytest.mark.player


@pytest.mark.parametrize("attempt", range(3))
def test_language_chosen_during_a_quality_change_is_shown(player: PlayerPage, attempt: int) -> None:
    player.open("shaka-dash")
    player.pause()
    player.js("() => vodfleetPlayer.selectText('ko')")
    rungs = [r["id"] for r in player.js("() => vodfleetPlayer.renditions()")]
    player.js("(id) => vodfleetPlayer.selectRendition(id)", rungs[-1])
    player.js("() => vodfleetPlayer.selectText('en')")  # at once: the switch's segments are in flight
    player.seek(CUES["en"][0].middle)
    player.wait_cue_text("en", CUES["en"][0].text, what="the English cue after the quality change", timeout=8)
    assert player.js("() => vodfleetPlayer.currentRendition().id") == rungs[-1]
    assert player.fatal_errors() == [] and player.page_errors == []


def test_language_change_after_a_settled_quality_change(player: PlayerPage) -> None:
    player.open("shaka-dash")
    player.pause()
    rungs = [r["id"] for r in player.js("() => vodfleetPlayer.renditions()")]
    player.js("(id) => vodfleetPlayer.selectRendition(id)", rungs[-1])
    player.wait("(id) => vodfleetPlayer.currentRendition().id === id && vodfleetPlayer.video.readyState >= 3",
                rungs[-1], what="the top rung to be decoding")
    player.js("() => vodfleetPlayer.selectText('ar')")
    player.seek(CUES["ar"][1].middle)
    player.wait_cue_text("ar", CUES["ar"][1].text, what="the Arabic cue after the quality change", timeout=8)
