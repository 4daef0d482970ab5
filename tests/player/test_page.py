"""The preview page itself: the report panel, the player switch, and that it runs on local code only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playerpage import REPO, PlayerPage
from published import read_report

from workers.preview.server import Address

pytestmark = pytest.mark.player


def _cells(player: PlayerPage, table: str) -> list[list[str]]:
    rows: list[list[str]] = player.js(
        "(id) => [...document.querySelectorAll(`#${id} tbody tr`)]"
        ".map((tr) => [...tr.cells].map((c) => c.textContent))",
        table)
    return rows


def test_panel_shows_the_report(player: PlayerPage, published: Path) -> None:
    report = read_report(published)
    player.open("hlsjs-hls")
    player.wait("() => document.querySelectorAll('#ladder tbody tr').length > 0", what="the ladder table")
    expected = [[v["id"], f"{v['width']}×{v['height']}", v["codecs"], str(round(v["target_bitrate"] / 1000)),
                 str(round(v["measured_average_bitrate"] / 1000)), str(round(v["measured_peak_bitrate"] / 1000)),
                 f"{v['quality']['psnr']:.2f}", f"{v['quality']['ssim']:.4f}", f"{v['quality']['vmaf']:.1f}",
                 f"{v['quality']['vmaf_p5']:.1f}", f"{v['quality']['vmaf_worst_segment']:.1f}"]
                for v in report["renditions"]["video"]]
    assert _cells(player, "ladder") == expected
    method = report["quality_method"]["vmaf"]
    assert player.js("() => document.getElementById('vmaf-method').textContent") == \
        f"VMAF vmaf_v0.6.1 at {method['display']} (bicubic), FFmpeg {method['tool']['ffmpeg_version']}"
    assert [row[:2] for row in _cells(player, "audio")] == [["en", "en"], ["es", "es"]]
    tracks = {t["id"]: t for t in report["loudness"]["tracks"]}
    for row in _cells(player, "audio"):  # one decimal, rounded by JavaScript: compared within half a step
        t = tracks[row[0]]
        shown = [float(cell) for cell in row[6:10]]
        wanted = [t["source"]["integrated_lufs"], t["output"]["integrated_lufs"], t["output"]["lra_lu"],
                  t["output"]["true_peak_dbtp"]]
        assert shown == pytest.approx(wanted, abs=0.051), row
        assert row[10] == (f"{float(row[10].split()[0]):.1f} dB" if t["mode"] == "linear" else t["mode"])
    assert player.js("() => document.getElementById('loudness-target').textContent") == \
        "loudness ebu-r128: -23 LUFS, ceiling -1 dBTP"
    player.page.set_viewport_size({"width": 1000, "height": 800})  # a narrow panel (about 400 px)
    for name in ("ladder", "audio"):  # wide tables scroll in their own box, never past the panel's right edge
        right = player.js(f"() => [document.getElementById('{name}').parentElement.getBoundingClientRect().right, "
                          "document.getElementById('panel').getBoundingClientRect().right, window.innerWidth]")
        assert right[0] <= right[1] + 0.5 and right[1] <= right[2], (name, right)
    panel = player.js("() => [document.getElementById('panel').scrollWidth, "
                      "document.getElementById('panel').clientWidth]")
    assert panel[0] <= panel[1], panel  # nothing in the panel runs past its edge
    assert [row[1] for row in _cells(player, "subtitles")] == ["ko", "ar", "en"]
    encoder = player.js("() => document.getElementById('encoder').textContent")
    assert report["encoder"]["ffmpeg_version"] in encoder
    assert report["encoder"]["x264"] in encoder
    assert report["encoder"]["identity"][:23] in encoder
    checks = report["qc"]["checks"]
    assert player.js("() => document.getElementById('qc-summary').textContent") == \
        f"{len(checks)} of {len(checks)} checks passed"
    assert player.js("() => document.querySelectorAll('#qc-checks li').length") == len(checks)
    assert player.js("() => document.getElementById('qc-badge').textContent") == "QC passed"


def test_player_switch_reloads_with_the_other_player(player: PlayerPage, preview: Address) -> None:
    player.open("hlsjs-hls")
    for mode, manifest in (("shaka-dash", "/manifest.mpd"), ("shaka-hls", "/master.m3u8"), ("hlsjs-hls",
                                                                                          "/master.m3u8")):
        before = len(player.requests)
        player.pick("player-select", mode)
        player.wait("(m) => vodfleetPlayer.mode === m && vodfleetPlayer.ready", mode, what=f"the switch to {mode}")
        assert f"{preview.url}{manifest}" in player.requests[before:]
        assert player.page.url.endswith(f"?mode={mode}&autoplay=0")
        player.play()
        player.wait_playing_past(0.3)
        player.pause()
    assert player.fatal_errors() == []


def test_page_runs_on_local_code_at_the_locked_versions(player: PlayerPage, preview: Address) -> None:
    player.open("shaka-dash", autoplay=True)
    player.wait_playing_past(0.3)
    outside = [url for url in player.requests if not url.startswith(preview.url + "/") and not url.startswith("data:")]
    assert outside == [], "the page fetched something that is not on the preview server"
    assert f"{preview.url}/_vodfleet/lib/hls.js" in player.requests
    assert f"{preview.url}/_vodfleet/lib/shaka-player.js" in player.requests
    lock = json.loads((REPO / "package-lock.json").read_text(encoding="utf-8"))["packages"]
    versions = player.js("() => vodfleetPlayer.versions")
    assert versions["hlsjs"] == lock["node_modules/hls.js"]["version"]
    assert versions["shaka"].lstrip("v") == lock["node_modules/shaka-player"]["version"]
    assert player.page_errors == []
