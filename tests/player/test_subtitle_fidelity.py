"""Subtitle fidelity in real players (hls.js on HLS, Shaka on DASH and HLS, Chromium's native cue rendering):
overlapping cues on screen together, a top-positioned cue drawn in the upper part of the picture, a coloured cue
drawn in its colour, and a forced track chosen without the viewer asking.

Its own small title: 640x360, 8 s, English audio; French subtitles (SRT) with a 1-5 s cue overlapped by a
2-4 s cue and an ``{\\an8}`` cue alone at 5.5-7.5 s; an English forced track named ``*.en.forced.srt`` and an
English SDH track (two text tracks in one language: the page's picker must tell them apart).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from conftest import require_browser
from mediagen import make_source
from playerpage import MODES, PlayerPage

from pipelines.options import PlanOptions
from pipelines.transcode import Sidecar, TranscodeRequest, transcode
from workers.preview.server import Address, running
from workers.preview.site import open_site

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext

pytestmark = pytest.mark.player

LONG, SHORT, TOP, FORCED, SDH = "The long line stays", "A short one over it", "Up at the top", "EXIT", "[door slams]"
# The short cue is coloured: its HLS segments carry a STYLE block, which must not stop a player's parser.
FRENCH = (f"1\n00:00:01,000 --> 00:00:05,000\n{LONG}\n\n2\n00:00:02,000 --> 00:00:04,000\n"
          f'<font color="yellow">{SHORT}</font>\n\n'
          f"3\n00:00:05,500 --> 00:00:07,500\n{{\\an8}}{TOP}\n")
ENGLISH_FORCED = f"1\n00:00:01,500 --> 00:00:03,000\n{FORCED}\n"
ENGLISH_SDH = f"1\n00:00:01,500 --> 00:00:03,000\n{SDH}\n"

SHOWING_JS = """() => [...vodfleetPlayer.video.textTracks].filter((t) => t.mode === 'showing')
  .map((t) => ({label: t.label, language: t.language,
                cues: [...(t.activeCues || [])].map((c) => c.text)}))"""

# Rows (in the screenshot's pixels) where two PNG screenshots differ on more than 5 % of the width, computed in
# the page: a cue box changes a solid run of each row it covers; a player that re-decodes the same frame from
# another rendition changes scattered pixels only.
DIFF_JS = """async ([a, b]) => {
  const load = (data) => new Promise((resolve, reject) => {
    const img = new Image(); img.onload = () => resolve(img); img.onerror = reject;
    img.src = 'data:image/png;base64,' + data;
  });
  const [x, y] = await Promise.all([load(a), load(b)]);
  const pixels = (img) => {
    const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
    const g = c.getContext('2d'); g.drawImage(img, 0, 0); return g.getImageData(0, 0, c.width, c.height).data;
  };
  const p = pixels(x), q = pixels(y);
  const perRow = new Array(x.height).fill(0);
  for (let i = 0; i < p.length; i += 4) {
    if (Math.abs(p[i] - q[i]) + Math.abs(p[i + 1] - q[i + 1]) + Math.abs(p[i + 2] - q[i + 2]) > 100) {
      perRow[Math.floor(i / 4 / x.width)]++;
    }
  }
  const rows = perRow.map((n, row) => (n > 0.05 * x.width ? row : -1)).filter((row) => row >= 0);
  return {width: x.width, height: x.height, top: rows.length ? Math.min(...rows) : -1,
          bottom: rows.length ? Math.max(...rows) : -1, changed: rows.length};
}"""


@pytest.fixture(scope="module")
def fidelity_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Address]:
    require_browser()
    work = tmp_path_factory.mktemp("subtitle-fidelity")
    source = make_source(work / "source.mp4", width=640, height=360, duration=8.0, audio=("eng",))
    (work / "film.fr.srt").write_text(FRENCH, encoding="utf-8")
    (work / "film.en.forced.srt").write_text(ENGLISH_FORCED, encoding="utf-8")
    (work / "film.en.sdh.srt").write_text(ENGLISH_SDH, encoding="utf-8")
    result = transcode(TranscodeRequest(
        source=source, output=work / "out", options=PlanOptions(segment_seconds=2, profile="draft"),
        subtitles=(Sidecar("fr", work / "film.fr.srt"), Sidecar("en", work / "film.en.forced.srt", forced=True),
                   Sidecar("en", work / "film.en.sdh.srt", sdh=True))))
    with running(open_site(result.output)) as address:
        yield address


@pytest.fixture
def viewer(browser: BrowserContext, fidelity_site: Address) -> Iterator[PlayerPage]:
    page = browser.new_page()
    yield PlayerPage(page, fidelity_site)
    page.close()


def _showing(viewer: PlayerPage) -> list[dict[str, Any]]:
    showing: list[dict[str, Any]] = viewer.js(SHOWING_JS)
    return showing


@pytest.mark.parametrize("mode", MODES)
def test_forced_track_is_selected_without_asking(viewer: PlayerPage, mode: str) -> None:
    viewer.open(mode)
    viewer.wait("() => vodfleetPlayer.textLanguage() === 'en'", timeout=10, what="the forced English track")
    viewer.pause()
    viewer.seek(2.2)
    viewer.wait_cue_text("en", FORCED, what="the forced cue at 2.2 s")
    [track] = _showing(viewer)
    assert (track["language"], track["label"], track["cues"]) == ("en", "English (forced)", [FORCED])
    assert viewer.fatal_errors() == [] and viewer.page_errors == []


@pytest.mark.parametrize("mode", MODES)
def test_overlapping_cues_are_on_screen_together(viewer: PlayerPage, mode: str) -> None:
    viewer.open(mode)
    viewer.js("() => vodfleetPlayer.selectText('fr')")
    viewer.pause()
    viewer.wait_text_loaded("fr")
    viewer.seek(3.0)
    cues = viewer.wait(
        "() => { const c = [...vodfleetPlayer.video.textTracks].filter((t) => t.mode === 'showing' && "
        "t.language === 'fr').flatMap((t) => [...(t.activeCues || [])].map((x) => x.text)); "
        "return c.length === 2 ? c : false; }", timeout=10, what="two active French cues at 3 s")
    assert sorted(cues) == sorted([LONG, f"<c.yellow>{SHORT}</c>"])  # the colour span reaches the player
    viewer.seek(4.5)  # the short cue is over; the long one (cut at 2 s before) is still on screen
    viewer.wait_cue_text("fr", LONG, what="the long cue alone at 4.5 s")


@pytest.mark.parametrize("mode", MODES)
def test_top_positioned_cue_is_drawn_in_the_upper_part(viewer: PlayerPage, mode: str, tmp_path: Path) -> None:
    viewer.open(mode)
    viewer.js("() => vodfleetPlayer.selectText('fr')")
    viewer.pause()
    viewer.wait_text_loaded("fr")
    viewer.seek(6.5)
    viewer.wait_cue_text("fr", TOP, what="the top cue at 6.5 s")
    video = viewer.page.locator("video")
    viewer.page.wait_for_timeout(300)  # let the renderer lay the cue out
    with_text = video.screenshot(path=str(tmp_path / f"{mode}-top.png"))
    viewer.js("() => vodfleetPlayer.selectText(null)")
    viewer.wait("() => ![...vodfleetPlayer.video.textTracks].some((t) => t.mode === 'showing' && "
                "t.activeCues && t.activeCues.length)", timeout=10, what="the text to be turned off")
    viewer.page.wait_for_timeout(300)
    without = video.screenshot(path=str(tmp_path / f"{mode}-none.png"))
    box = viewer.js(DIFF_JS, [base64.b64encode(with_text).decode(), base64.b64encode(without).decode()])
    assert box["changed"] >= 8, f"the cue left no mark on the picture: {box}"  # rows of a line of text
    assert box["bottom"] < 0.4 * box["height"], f"the top cue was drawn at rows {box['top']}-{box['bottom']} " \
                                                f"of {box['height']}: not in the upper part"


@pytest.mark.parametrize("mode", MODES)
def test_page_picker_tells_two_english_tracks_apart(viewer: PlayerPage, mode: str) -> None:
    viewer.open(mode)
    options = viewer.option_values("text-select")
    assert options["English (SDH) (en)"] != options["English (forced) (en)"]
    viewer.pause()
    viewer.pick("text-select", options["English (SDH) (en)"])
    viewer.wait_text_loaded("en", label="English (SDH)")
    viewer.seek(2.2)
    viewer.wait_cue_text("en", SDH, what="the SDH cue after picking the SDH track")
    assert [t["label"] for t in _showing(viewer)] == ["English (SDH)"]


# Pixels that the cue layer changed (with text against without), by colour: the cue text's glyphs on the cue box.
COLOUR_JS = """async ([a, b]) => {
  const load = (data) => new Promise((resolve, reject) => {
    const img = new Image(); img.onload = () => resolve(img); img.onerror = reject;
    img.src = 'data:image/png;base64,' + data;
  });
  const [x, y] = await Promise.all([load(a), load(b)]);
  const pixels = (img) => {
    const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
    const g = c.getContext('2d'); g.drawImage(img, 0, 0); return g.getImageData(0, 0, c.width, c.height).data;
  };
  const p = pixels(x), q = pixels(y);
  let yellow = 0, white = 0, changed = 0;
  for (let i = 0; i < p.length; i += 4) {
    if (Math.abs(p[i] - q[i]) + Math.abs(p[i + 1] - q[i + 1]) + Math.abs(p[i + 2] - q[i + 2]) <= 100) continue;
    changed++;
    const [r, g, bl] = [p[i], p[i + 1], p[i + 2]];
    if (r > 200 && g > 200 && bl < 90) yellow++;
    else if (r > 200 && g > 200 && bl > 200) white++;
  }
  return {yellow, white, changed};
}"""


@pytest.mark.parametrize("mode", MODES)
def test_coloured_cue_is_drawn_in_its_colour(viewer: PlayerPage, mode: str, tmp_path: Path) -> None:
    # at 3 s: the white long cue and the yellow short one (<c.yellow>, STYLE ::cue(.yellow) { color: #ffff00 })
    viewer.open(mode)
    viewer.js("() => vodfleetPlayer.selectText('fr')")
    viewer.pause()
    viewer.wait_text_loaded("fr")
    viewer.seek(3.0)
    viewer.wait("() => [...vodfleetPlayer.video.textTracks].filter((t) => t.mode === 'showing' && "
                "t.language === 'fr').flatMap((t) => [...(t.activeCues || [])]).length === 2", timeout=10,
                what="both French cues at 3 s")
    video = viewer.page.locator("video")
    viewer.page.wait_for_timeout(300)
    with_text = video.screenshot(path=str(tmp_path / f"{mode}-colour.png"))
    viewer.js("() => vodfleetPlayer.selectText(null)")
    viewer.wait("() => ![...vodfleetPlayer.video.textTracks].some((t) => t.mode === 'showing' && "
                "t.activeCues && t.activeCues.length)", timeout=10, what="the text to be turned off")
    viewer.page.wait_for_timeout(300)
    without = video.screenshot(path=str(tmp_path / f"{mode}-plain.png"))
    counts = viewer.js(COLOUR_JS, [base64.b64encode(with_text).decode(), base64.b64encode(without).decode()])
    # measured: 0 yellow pixels in every mode before the page applied the STYLE rules, 142-193 after
    assert counts["white"] >= 50, f"the white cue left no white glyphs: {counts}"
    assert counts["yellow"] >= 50, f"the yellow cue was not drawn in yellow: {counts}"
    assert "video::cue(.yellow) { color: #ffff00; }" in viewer.js("() => vodfleetPlayer.cueStyles()")
