"""Subtitles through `vodfleet transcode` end to end: overlapping cues, positions, forced and SDH renditions,
and the issue's short CP1256 Arabic file, measured in the published output with independent readers
(m3u8, mpegdash, webvtt-py)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import m3u8
import mediagen
import pytest
import webvtt
from mpegdash.parser import MPEGDASHParser

from pipelines.hls import SDH_CHARACTERISTICS

pytestmark = pytest.mark.media

ROOT = Path(__file__).parents[2]
TINY = str(ROOT / "tests" / "fixtures" / "ladders" / "tiny.toml")
FRAME = 0.04  # 25 fps

OVERLAP_SRT = ("1\r\n00:00:01,000 --> 00:00:07,000\r\nThe long line stays seven seconds\r\n\r\n"
               "2\r\n00:00:02,000 --> 00:00:04,000\r\n{\\an8}A short one at the top\r\n")
FORCED_SRT = "1\n00:00:01,500 --> 00:00:03,000\n[sign] EXIT\n"
SDH_VTT = ("WEBVTT\n\n00:00:01.000 --> 00:00:02.500\n[door slams]\n\n"
           "00:00:03.000 --> 00:00:05.000 line:10%\nBOB: Who's there?\n")
ARABIC = ("1\r\n00:00:01,000 --> 00:00:03,000\r\nمرحبا بالعالم\r\n\r\n"
          "2\r\n00:00:04,000 --> 00:00:06,000\r\nإلى اللقاء\r\n")


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("subtracks")
    source = mediagen.make_source(work / "film.mp4", duration=8.0)
    (work / "film.en.srt").write_text(OVERLAP_SRT, encoding="utf-8")
    (work / "film.en.forced.srt").write_text(FORCED_SRT, encoding="utf-8")  # the flag from the file name
    (work / "film.en.vtt").write_text(SDH_VTT, encoding="utf-8")
    (work / "promo.ar.srt").write_bytes(ARABIC.encode("cp1256"))
    out = work / "out"
    result = subprocess.run(
        [sys.executable, "-m", "workers.cli", "transcode", str(source), "-o", str(out), "--ladder", TINY,
         "--profile", "draft", "--segment-seconds", "2", "--no-quality",
         "--subtitle", f"en={work / 'film.en.srt'}", "--subtitle", f"en={work / 'film.en.forced.srt'}",
         "--subtitle", f"en:sdh={work / 'film.en.vtt'}", "--subtitle", f"ar={work / 'promo.ar.srt'}"],
        capture_output=True, text=True, check=False, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return out


def _report(out: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return report


def _cues(path: Path) -> list[tuple[float, float, str]]:
    return [(c.start_in_seconds, c.end_in_seconds, c.raw_text)
            for c in webvtt.from_buffer(io.StringIO(path.read_text(encoding="utf-8")))]


def test_report_lists_every_track_with_its_decisions(published: Path) -> None:
    report = _report(published)
    assert report["status"] == "passed"
    subs = {s["id"]: s for s in report["renditions"]["subtitles"]}
    assert set(subs) == {"en", "en-forced", "en-sdh", "ar"}
    assert (subs["en-forced"]["forced"], subs["en-sdh"]["sdh"], subs["en"]["forced"]) == (True, True, False)
    assert subs["en"]["overlapping_cues"] == 1 and subs["en"]["positioned_cues"] == 1
    assert subs["ar"]["charset"] == "cp1256"
    assert "Arabic script" in subs["ar"]["charset_reason"]
    assert len({s["name"] for s in subs.values()}) == 4


def test_overlapping_cues_are_whole_in_dash_and_hls_files(published: Path) -> None:
    whole = _cues(published / "subtitles" / "en" / "subtitles.vtt")
    expected = [(1.0, 7.0, "The long line stays seven seconds"), (2.0, 4.0, "A short one at the top")]
    assert len(whole) == 2
    for (start, end, text), (w_start, w_end, w_text) in zip(whole, expected, strict=True):
        assert abs(start - w_start) <= FRAME and abs(end - w_end) <= FRAME and text == w_text
    # HLS: the 4-6 s segment still carries the long cue (it was cut at 2 s before).
    third = _cues(published / "subtitles" / "en" / "seg_00003.vtt")
    assert [(s, e) for s, e, _ in third] == [(1.0, 7.0)]
    timing_lines = [line for line in (published / "subtitles" / "en" / "subtitles.vtt").read_text().splitlines()
                    if "-->" in line]
    assert timing_lines[1].endswith(" line:0")  # {\an8}: the top line


def test_hls_master_signals_forced_and_sdh(published: Path) -> None:
    master = m3u8.load(str(published / "master.m3u8"))
    subs = {m.uri.split("/")[1]: m for m in master.media if m.type == "SUBTITLES"}
    assert (subs["en-forced"].forced, subs["en-forced"].autoselect, subs["en-forced"].default) == ("YES", "YES", "YES")
    assert subs["en-sdh"].characteristics == SDH_CHARACTERISTICS
    assert {subs[k].forced for k in ("en", "en-sdh", "ar")} == {"NO"}
    assert subs["en"].name == "English" and subs["en-forced"].name == "English (forced)"
    assert len({m.name for m in subs.values()}) == len(subs)


def test_dash_signals_forced_and_sdh(published: Path) -> None:
    mpd = MPEGDASHParser.parse(str(published / "manifest.mpd"))
    texts = {a.representations[0].id: a for a in mpd.periods[0].adaptation_sets if a.content_type == "text"}
    assert "forced-subtitle" in {r.value for r in texts["text-en-forced"].roles}
    assert ("urn:mpeg:dash:role:2011", "caption") in {
        (d.scheme_id_uri, d.value) for d in texts["text-en-sdh"].accessibilities}
    assert {a.lang for a in texts.values()} == {"en", "ar"}
