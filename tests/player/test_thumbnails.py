"""Thumbnails in the browser: Shaka's thumbnail API on the DASH (and HLS) output, the preview page's hover preview
over its timeline (screenshot region against the sprite's tile), and the poster before play.

The published title (tests/player/published.py) is 8 s of testsrc2: 4 tiles of 160x90, one every 2 s, all on
sprite_0001.jpg (10x10 grid). A time t shows tile floor(t / 2), at x = 160 · floor(t / 2), y = 0.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from playerpage import PlayerPage

pytestmark = pytest.mark.player

SHAKA_THUMBNAIL_JS = """async (t) => {
  const player = vodfleetPlayer.raw();
  const tracks = player.getImageTracks();
  const thumb = await player.getThumbnails(tracks[0].id, t);
  return {tracks: tracks.length, x: thumb.positionX, y: thumb.positionY, w: thumb.width, h: thumb.height,
          uris: thumb.uris, start: thumb.startTime, duration: thumb.duration};
}"""


@pytest.mark.parametrize("mode", ["shaka-dash", "shaka-hls"])
@pytest.mark.parametrize(("seconds", "tile"), [(0.5, 0), (5.0, 2), (7.5, 3)])
def test_shaka_thumbnail_api_returns_the_tile_for_a_time(player: PlayerPage, mode: str, seconds: float,
                                                         tile: int) -> None:
    player.open(mode)
    thumb: dict[str, Any] = player.js(SHAKA_THUMBNAIL_JS, seconds)
    assert thumb["tracks"] == 1
    assert (thumb["x"], thumb["y"], thumb["w"], thumb["h"]) == (160 * tile, 0, 160, 90)
    assert len(thumb["uris"]) == 1 and thumb["uris"][0].endswith("/thumbnails/sprite_0001.jpg")
    assert thumb["start"] == pytest.approx(2.0 * tile, abs=0.01)
    assert thumb["duration"] == pytest.approx(2.0, abs=0.01)


def rgb_of(path: Path, crop: tuple[int, int, int, int] | None = None) -> bytes:
    """A picture file (PNG/JPEG) as packed RGB24, optionally cropped to (x, y, w, h), decoded by ffmpeg."""
    filters = ["-vf", "crop={2}:{3}:{0}:{1}".format(*crop)] if crop else []
    return subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), *filters, "-f", "rawvideo", "-pix_fmt", "rgb24",
                           "-"], check=True, capture_output=True).stdout


def mean_abs_diff(a: bytes, b: bytes) -> float:
    assert len(a) == len(b), (len(a), len(b))
    return sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a)


def test_preview_page_shows_the_tile_for_the_hovered_time(player: PlayerPage, published: Path,
                                                          screenshots: Path) -> None:
    player.open("hlsjs-hls")
    player.wait("() => vodfleetPlayer.thumbnails().length === 4", what="the thumbnails track to load")
    bar = player.page.locator("#scrub")
    box = bar.bounding_box()
    assert box is not None
    duration = float(player.js("() => vodfleetPlayer.video.duration"))
    player.page.mouse.move(box["x"] + box["width"] * 5.0 / duration, box["y"] + box["height"] / 2)
    player.wait("() => !document.getElementById('thumb').hidden", what="the hover preview to show")
    tile = player.js("() => document.getElementById('thumb').dataset.tile")
    assert tile.endswith("/thumbnails/sprite_0001.jpg#xywh=320,0,160,90")
    shot = player.page.locator("#thumb-image").screenshot(path=str(screenshots / "thumbnail-hover.png"))
    assert shot
    shown = rgb_of(screenshots / "thumbnail-hover.png", (0, 0, 160, 90))
    sheet = published / "thumbnails" / "sprite_0001.jpg"
    # The element may sit on a half pixel (the screenshot is then resampled): the picture on screen must be
    # nearer to tile 2 than to any other tile of the sheet, by a clear margin.
    diffs = [mean_abs_diff(shown, rgb_of(sheet, (160 * k, 0, 160, 90))) for k in range(4)]
    others = [d for k, d in enumerate(diffs) if k != 2]
    assert diffs[2] < 0.8 * min(others), diffs
    player.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 200)
    player.wait("() => document.getElementById('thumb').hidden", what="the preview to hide when the mouse leaves")


def test_poster_is_shown_before_play(player: PlayerPage, published: Path) -> None:
    player.open("shaka-dash")
    poster = player.js("() => vodfleetPlayer.video.poster")
    assert poster.endswith("/poster.jpg")
    size = player.js("""(url) => new Promise((ok, fail) => { const i = new Image(); i.onload = () =>
      ok([i.naturalWidth, i.naturalHeight]); i.onerror = fail; i.src = url; })""", poster)
    assert size == [640, 360]
    assert player.js("() => vodfleetPlayer.video.paused && vodfleetPlayer.video.currentTime === 0")
