"""In-band CEA-608 captions (``--captions in-band``) played by real players: hls.js reads the CLOSED-CAPTIONS
group and the rungs' SEI, Shaka the DASH SCTE 214 descriptor (and the HLS group); the preview page's subtitle
picker lists them, and each player shows the CC1 caption at its time, and CC3 under the language the job declared.

Its own small title: a 6 s master whose H.264 SEI carries CC1 (English) and CC3 (declared Spanish), published
with WebVTT off (`in-band` only), so any caption on screen came from the video stream."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from cea608gen import popon
from conftest import require_browser
from mediagen import make_captioned_source
from playerpage import MODES, PlayerPage

from pipelines.captions.service import CaptionOptions
from pipelines.options import PlanOptions
from pipelines.transcode import TranscodeRequest, transcode
from workers.preview.server import Address, running
from workers.preview.site import open_site

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext

pytestmark = pytest.mark.player

CC1 = [(45, 105, ["HELLO FROM THE SEI"])]  # 1.5-3.5 s
CC3 = [(60, 120, ["HOLA DESDE EL SEI"])]  # 2.0-4.0 s

CAPTION_TRACKS_JS = """() => [...vodfleetPlayer.video.textTracks].map((t) => ({kind: t.kind, label: t.label,
  language: t.language, mode: t.mode, cues: t.cues ? [...t.cues].map((c) => c.text) : null,
  active: t.activeCues ? [...t.activeCues].map((c) => c.text) : null}))"""


@pytest.fixture(scope="module")
def in_band_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Address]:
    require_browser()
    work = tmp_path_factory.mktemp("in-band-captions")
    master = make_captioned_source(work / "news.mp4", field1=popon(CC1), field2=popon(CC3, field=2), duration=6.0,
                                   audio=("eng",))
    # One rung: hls.js's 608 parser, fed the first segment from one level and then again from another after an
    # ABR switch, sometimes dropped a channel's cue (2 of 6 runs with two rungs, 0 of 8 with one); a viewer's
    # player then shows it from the next caption on. One rung keeps the test about what the stream carries.
    ladder = work / "one.toml"
    ladder.write_text('name = "one"\ncodec = "h264"\n\n[[rungs]]\nid = "180p"\nwidth = 320\nheight = 180\n'
                      'bitrate = 250_000\nprofile = "high"\n', encoding="utf-8")
    result = transcode(TranscodeRequest(
        source=master, output=work / "out", ladder=str(ladder),
        options=PlanOptions(segment_seconds=2, profile="draft", captions=CaptionOptions("in-band", (("CC3", "es"),))),
        measure_quality=False))
    with running(open_site(result.output)) as address:
        yield address


@pytest.fixture
def viewer(browser: BrowserContext, in_band_site: Address) -> Iterator[PlayerPage]:
    page = browser.new_page()
    yield PlayerPage(page, in_band_site)
    page.close()


def _tracks(viewer: PlayerPage) -> list[dict[str, Any]]:
    tracks: list[dict[str, Any]] = viewer.js(CAPTION_TRACKS_JS)
    return tracks


SHOWN_JS = """(lang) => [...vodfleetPlayer.video.textTracks]
  .filter((t) => t.kind === 'captions' && t.language === lang && t.mode === 'showing')
  .flatMap((t) => [...(t.activeCues || [])].map((c) => c.text.replace(/<[^>]*>/g, '').trim()))"""
# (Shaka writes its 608 decoder's colours as WebVTT classes: <c.white.bg_black>HELLO</c>; the text is compared)


@pytest.mark.parametrize("mode", MODES)
def test_in_band_captions_are_shown_in_their_languages(viewer: PlayerPage, mode: str) -> None:
    try:
        _watch(viewer, mode)
    except CuesNeverParsed as exc:
        # hls.js 1.7 on a loaded machine, in 2 of about 10 CI runs: a 608 channel's TextTrack was created (so its
        # parser saw that channel in the SEI) and then held no cue at all, at any time (once both channels, once CC3
        # alone). A viewer reloads the page: the same stream, a fresh player. A stream without the captions, or
        # with them at the wrong time, fails both tries.
        print(f"\n{mode}: {exc}; reloading the page once")
        _watch(viewer, mode)


class CuesNeverParsed(AssertionError):
    """The waited-for language's caption TextTrack exists and holds no cue (see the test)."""


def _watch(viewer: PlayerPage, mode: str) -> None:
    viewer.page.goto(f"{viewer.address.page}?mode={mode}&autoplay=0")
    viewer.wait("() => window.vodfleetPlayer && vodfleetPlayer.ready && vodfleetPlayer.video.readyState >= 2",
                timeout=15, what=f"{mode} to load and decode a first frame")
    try:
        viewer.wait("() => ['en', 'es'].every((lang) => [...vodfleetPlayer.video.textTracks]"
                    ".some((t) => t.kind === 'captions' && t.language === lang))", timeout=10,
                    what="a caption TextTrack for CC1 (en) and CC3 (es)")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; text tracks: {_tracks(viewer)}") from None
    if mode == "hlsjs-hls":  # hls.js names them from the CLOSED-CAPTIONS group's NAME
        assert {t["label"] for t in _tracks(viewer)} == {"English (CC1)", "Spanish (CC3)"}
    assert {t["lang"] for t in viewer.js("() => vodfleetPlayer.textLanguages()")} == {"en", "es"}
    viewer.pause()
    for language, seconds, text in (("en", 2.5, CC1[0][2][0]), ("es", 3.5, CC3[0][2][0])):
        viewer.js("(lang) => vodfleetPlayer.selectText(lang)", language)  # the page's picker lists them
        assert viewer.js("() => vodfleetPlayer.textLanguage()") == language
        viewer.seek(seconds)
        try:
            viewer.wait("([lang, text]) => { const f = " + SHOWN_JS + "; return f(lang).includes(text); }",
                        [language, text], timeout=10, what=f"the {language} in-band caption at {seconds} s")
        except AssertionError as exc:
            tracks = _tracks(viewer)
            empty = any(t["cues"] == [] for t in tracks if t["kind"] == "captions" and t["language"] == language)
            raise (CuesNeverParsed if empty else AssertionError)(f"{exc}; text tracks: {tracks}") from None
    viewer.seek(4.8)  # after both captions' end (EDM at 3.5 s and 4.0 s): nothing on screen
    viewer.wait("() => { const f = " + SHOWN_JS + "; return f('es').length === 0; }", timeout=10,
                what="the captions cleared at their end")
    assert viewer.fatal_errors() == [] and viewer.page_errors == []
