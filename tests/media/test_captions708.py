"""CEA-708 caption services end to end: a generated master whose H.264 A/53 SEI carries DTVCC service data
(SERVICE1 English, SERVICE2 Spanish with Latin-1 and G2 characters, pop-on windows) through `vodfleet transcode`,
measured in the published output with independent readers (webvtt-py, m3u8, mpegdash); the same data read from
MPEG-2 user data and HEVC SEI by the scanner."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import m3u8
import mediagen
import pytest
import webvtt
from cea608gen import cea708_popon, cea708_rollup, dtvcc_frames, dtvcc_packets
from mpegdash.parser import MPEGDASHParser

from pipelines.captions.cc import CHARSET_REASON_708, extract_captions, scan_captions
from pipelines.hls import SDH_CHARACTERISTICS
from pipelines.subtitles import wvtt
from pipelines.tools import Tools

pytestmark = pytest.mark.media

ROOT = Path(__file__).parents[2]
TINY = str(ROOT / "tests" / "fixtures" / "ladders" / "tiny.toml")
FRAME = 1001 / 30000
SVC1 = [(30, 75, ["HELLO FROM 708"]), (100, 150, ["SECOND CAPTION", "TWO ROWS"])]
SVC2 = [(40, 90, ["\u00bfQU\u00c9 TAL?", "\u00d1AND\u00da \u2026"]), (120, 160, ["ADI\u00d3S \u266a"])]


def _expected(captions: list[tuple[int, int, list[str]]], offset: float = 0.0) -> list[tuple[float, float, str]]:
    return [(start * FRAME + offset, end * FRAME + offset, "\n".join(rows)) for start, end, rows in captions]


def _seconds(stamp: str) -> float:
    hours, minutes, seconds = stamp.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def _within_a_frame(got: list[tuple[float, float, str]], want: list[tuple[float, float, str]]) -> None:
    assert [text for _, _, text in got] == [text for _, _, text in want]
    for (start, end, _), (w_start, w_end, _) in zip(got, want, strict=True):
        assert abs(start - w_start) < FRAME / 2 and abs(end - w_end) < FRAME / 2, (got, want)


def _hls_cues(folder: Path) -> list[tuple[float, float, str]]:
    """Every HLS WebVTT segment's cues by webvtt-py, a cue repeated across segments counted once."""
    seen: dict[tuple[float, float, str], None] = {}
    for path in sorted(folder.glob("seg_*.vtt")):
        for c in webvtt.from_buffer(io.StringIO(path.read_text(encoding="utf-8"))):
            seen[(_seconds(c.start), _seconds(c.end), c.text)] = None
    return list(seen)


def _dtvcc() -> dict[int, list[tuple[int, int, int]]]:
    """Both services' pop-on captions, and on picture 5 a packet cut short (its header promises more byte pairs
    than come: "LO" of "LOST TEXT", for a service with no window yet): skipped and counted."""
    return {**dtvcc_frames({1: cea708_popon(SVC1), 2: cea708_popon(SVC2, window=1)}),
            5: dtvcc_packets({1: "LOST TEXT"})[:2]}


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("captions708")
    mediagen.make_captioned_source(work / "news708.mp4", field1={}, dtvcc=_dtvcc(), duration=6.0,
                                   audio=("eng", "spa"))
    return work


@pytest.fixture(scope="module")
def published(work: Path) -> Path:
    out = work / "out"
    result = subprocess.run(
        [sys.executable, "-m", "workers.cli", "transcode", str(work / "news708.mp4"), "-o", str(out), "--ladder",
         TINY, "--profile", "draft", "--segment-seconds", "2", "--no-quality", "--no-thumbnails"],
        capture_output=True, text=True, check=False, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return out


def test_each_708_service_becomes_webvtt_within_a_frame(published: Path) -> None:
    for track, captions in (("en-svc1", SVC1), ("es-svc2", SVC2)):
        _within_a_frame(_hls_cues(published / "subtitles" / track), _expected(captions))
        fragments = (wvtt.read_fragment_cues(p.read_bytes())
                     for p in sorted((published / "subtitles" / track).glob("seg_*.m4s")))
        dash = [(c.start_ms / 1000, c.end_ms / 1000, c.payload) for c in wvtt.join_cues(fragments)]
        _within_a_frame(dash, _expected(captions))


def test_both_manifests_list_the_708_renditions_as_captions(published: Path) -> None:
    master = m3u8.load(str(published / "master.m3u8"))
    subs = {m.uri.split("/")[1]: (m.language, m.name, m.characteristics) for m in master.media
            if m.type == "SUBTITLES"}
    assert subs == {"en-svc1": ("en", "English (SERVICE1)", SDH_CHARACTERISTICS),
                    "es-svc2": ("es", "Spanish (SERVICE2)", SDH_CHARACTERISTICS)}
    mpd = MPEGDASHParser.parse(str(published / "manifest.mpd"))
    texts = {a.representations[0].id: a for a in mpd.periods[0].adaptation_sets if a.content_type == "text"}
    assert {k: a.lang for k, a in texts.items()} == {"text-en-svc1": "en", "text-es-svc2": "es"}
    for adaptation in texts.values():
        assert ("urn:mpeg:dash:role:2011", "caption") in {
            (d.scheme_id_uri, d.value) for d in adaptation.accessibilities}


def test_report_and_qc_cover_the_708_renditions(published: Path) -> None:
    report = json.loads((published / "report.json").read_text(encoding="utf-8"))
    subs = {s["id"]: (s["sdh"], s["source_format"], s["charset_reason"]) for s in report["renditions"]["subtitles"]}
    assert subs == {"en-svc1": (True, "cea708", CHARSET_REASON_708), "es-svc2": (True, "cea708", CHARSET_REASON_708)}
    # the cut packet on picture 5 is skipped, counted and reported with each 708 rendition
    assert {s["id"]: s["dropped"] for s in report["renditions"]["subtitles"]} == {
        track: {"dtvcc_text_without_window": 2, "dtvcc_truncated_packet": 1} for track in ("en-svc1", "es-svc2")}
    checks = {c["name"]: c["passed"] for c in report["qc"]["checks"] if c["name"].startswith("subtitles.")}
    assert {name.split(".")[1] for name in checks} == {"en-svc1", "es-svc2"}
    assert all(checks.values()), checks


def test_declared_service_language_wins_else_the_audio_order(work: Path, tmp_path: Path) -> None:
    def languages(declared: dict[str, str], audio: list[str]) -> list[tuple[str, str]]:
        scan = scan_captions(work / "news708.mp4", format_name="mov,mp4,m4a,3gp,3g2,mj2", video_codec="h264",
                             video_start=0.0, fps=Fraction(30000, 1001), languages=audio, duration=6.0,
                             tools=Tools.resolve(), scratch=tmp_path, declared=declared)
        return [(t.channel, t.document.language) for t in scan.tracks]

    assert languages({"SERVICE2": "es-MX"}, ["en"]) == [("SERVICE1", "en"), ("SERVICE2", "es-MX")]
    assert languages({}, ["en"]) == [("SERVICE1", "en"), ("SERVICE2", "und")]


def test_mpeg2_user_data_carries_the_708_services(work: Path, tmp_path: Path) -> None:
    master = mediagen.make_captioned_source(work / "news708.ts", field1={}, dtvcc=_dtvcc(), duration=6.0,
                                            mpeg2=True)
    probe = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=start_time:stream=codec_type,start_time", "-of", "json",
         str(master)], capture_output=True, check=True).stdout)
    container = float(probe["format"]["start_time"])
    video = next(float(s["start_time"]) for s in probe["streams"] if s["codec_type"] == "video")
    tracks = extract_captions(master, format_name="mpegts", video_codec="mpeg2video", video_start=container,
                              fps=Fraction(30000, 1001), languages=["en", "es"], duration=6.0,
                              tools=Tools.resolve(), scratch=tmp_path)
    assert [t.channel for t in tracks] == ["SERVICE1", "SERVICE2"]
    for track, captions in zip(tracks, (SVC1, SVC2), strict=True):
        _within_a_frame([(c.start, c.end, c.text) for c in track.document.cues],
                        _expected(captions, video - container))


def test_hevc_sei_carries_the_708_services(work: Path, tmp_path: Path) -> None:
    master = mediagen.make_captioned_source(work / "news708_hevc.mp4", field1={}, dtvcc=_dtvcc(), duration=6.0,
                                            hevc=True)
    tracks = extract_captions(master, format_name="mov,mp4,m4a,3gp,3g2,mj2", video_codec="hevc", video_start=0.0,
                              fps=Fraction(30000, 1001), languages=["en", "es"], duration=6.0,
                              tools=Tools.resolve(), scratch=tmp_path)
    for track, captions in zip(tracks, (SVC1, SVC2), strict=True):
        _within_a_frame([(c.start, c.end, c.text) for c in track.document.cues], _expected(captions))


def test_roll_up_service_commits_line_by_line(work: Path, tmp_path: Path) -> None:
    lines = [(20, "FIRST ROLLED LINE"), (50, "SECOND ROLLED LINE"), (80, "THIRD ROLLED LINE")]
    master = mediagen.make_captioned_source(work / "rollup708.mp4", field1={}, duration=4.0,
                                            dtvcc=dtvcc_frames({1: cea708_rollup(lines, end=110)}))
    tracks = extract_captions(master, format_name="mov,mp4,m4a,3gp,3g2,mj2", video_codec="h264", video_start=0.0,
                              fps=Fraction(30000, 1001), languages=["en"], duration=4.0, tools=Tools.resolve(),
                              scratch=tmp_path)
    assert [t.channel for t in tracks] == ["SERVICE1"]
    _within_a_frame([(c.start, c.end, c.text) for c in tracks[0].document.cues],
                    _expected([(20, 50, ["FIRST ROLLED LINE"]), (50, 80, ["FIRST ROLLED LINE", "SECOND ROLLED LINE"]),
                               (80, 110, ["SECOND ROLLED LINE", "THIRD ROLLED LINE"])]))
