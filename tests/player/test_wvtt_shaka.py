"""WebVTT-in-MP4 fragments (pipelines.subtitles.wvtt) parsed by Shaka Player's own Mp4VttParser in Chromium:
cue times, payloads and line settings as the player sees them (start of issue 13 item 4; the MPD does not
address these fragments yet)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from conftest import require_browser

from pipelines.subtitles.cue import Cue, Placement
from pipelines.subtitles.wvtt import init_segment, media_segment

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext

pytestmark = pytest.mark.player

SHAKA = Path(__file__).resolve().parents[2] / "node_modules" / "shaka-player" / "dist" / \
    "shaka-player.compiled.debug.js"
CUES = (Cue(1.0, 7.0, "The long line"), Cue(2.0, 4.0, "Up <i>here</i>", Placement(line=0, line_percent=False)))
BOUNDS = [(0.0, 2.0), (2.0, 4.0), (4.0, 6.0), (6.0, 8.0)]

PARSE_JS = """([init, segments]) => {
  const parser = new shaka.text.Mp4VttParser();
  parser.parseInit(new Uint8Array(init));
  const text = (cue) => cue.payload + cue.nestedCues.map(text).join('');
  return segments.flatMap(([bytes, start, end]) => parser.parseMedia(new Uint8Array(bytes),
      {periodStart: 0, segmentStart: start, segmentEnd: end, vttOffset: 0}, 'seg', [])
    .map((c) => ({start: c.startTime, end: c.endTime, text: text(c), line: c.line})));
}"""


def test_shaka_reads_our_wvtt_fragments(browser: BrowserContext) -> None:
    require_browser()
    page = browser.new_page()
    try:
        page.set_content("<html><body></body></html>")
        page.add_script_tag(path=str(SHAKA))
        segments = [[list(media_segment(CUES, start, end, n)), start, end] for n, (start, end) in enumerate(BOUNDS, 1)]
        cues: list[dict[str, Any]] = page.evaluate(PARSE_JS, [list(init_segment("eng")), segments])
    finally:
        page.close()
    # A cue crossing a boundary comes once per segment, clipped to it (players merge the pieces).
    assert [(c["start"], c["end"], c["text"], c["line"]) for c in cues] == [
        (1.0, 2.0, "The long line", None),
        (2.0, 4.0, "The long line", None), (2.0, 4.0, "Up here", 0),
        (4.0, 6.0, "The long line", None),
        (6.0, 7.0, "The long line", None),
    ]
