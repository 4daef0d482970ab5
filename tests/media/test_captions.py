"""Closed captions end to end: a generated master with CEA-608 in H.264 A/53 SEI (CC1 English, CC3 Spanish)
plus an SCC sidecar through `vodfleet transcode`, measured in the published output with independent readers
(m3u8, mpegdash, webvtt-py, ffprobe); MPEG-2 user data; a bad SCC refused with nothing published."""

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
from cea608gen import popon, scc_text
from mpegdash.parser import MPEGDASHParser

from pipelines.captions.cc import CHARSET_REASON, a53_probe_argv, extract_captions, parse_a53_packets
from pipelines.hls import SDH_CHARACTERISTICS
from pipelines.subtitles import wvtt
from pipelines.tools import Tools

pytestmark = pytest.mark.media

ROOT = Path(__file__).parents[2]
TINY = str(ROOT / "tests" / "fixtures" / "ladders" / "tiny.toml")
FRAME = 1001 / 30000
CC1 = [(30, 60, ["HELLO CAPTIONS"]), (110, 150, ["SECOND LINE", "TWO ROWS"])]
CC3 = [(45, 120, ["HOLA SUBTITULOS"])]
SCC_FR = [(60, 90, ["BONJOUR"])]


def _expected(captions: list[tuple[int, int, list[str]]], offset: float = 0.0) -> list[tuple[float, float, str]]:
    return [(start * FRAME + offset, end * FRAME + offset, "\n".join(rows)) for start, end, rows in captions]


def _seconds(stamp: str) -> float:
    hours, minutes, seconds = stamp.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def _cues(path: Path) -> list[tuple[float, float, str]]:
    """(start, end, text) by webvtt-py (its *_in_seconds are whole seconds: the stamps are read here)."""
    return [(_seconds(c.start), _seconds(c.end), c.text)
            for c in webvtt.from_buffer(io.StringIO(path.read_text(encoding="utf-8")))]


def _dash_cues(folder: Path) -> list[tuple[float, float, str]]:
    """(start, end, text) of the DASH text: WebVTT in ISO-BMFF, the fragments' cues joined back whole."""
    fragments = (wvtt.read_fragment_cues(p.read_bytes()) for p in sorted(folder.glob("seg_*.m4s")))
    return [(c.start_ms / 1000, c.end_ms / 1000, c.payload) for c in wvtt.join_cues(fragments)]


def _within_a_frame(got: list[tuple[float, float, str]], want: list[tuple[float, float, str]]) -> None:
    assert [text for _, _, text in got] == [text for _, _, text in want]
    for (start, end, _), (w_start, w_end, _) in zip(got, want, strict=True):
        assert abs(start - w_start) < FRAME / 2 and abs(end - w_end) < FRAME / 2, (got, want)


def _transcode(source: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workers.cli", "transcode", str(source), "-o", str(out), "--ladder", TINY,
         "--profile", "draft", "--segment-seconds", "2", "--no-quality", *extra],
        capture_output=True, text=True, check=False, timeout=300, cwd=ROOT)


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("captions")
    mediagen.make_captioned_source(work / "news.mp4", field1=popon(CC1), field2=popon(CC3, field=2),
                                   duration=6.0, audio=("eng", "spa"))
    (work / "news.fr.scc").write_text(scc_text(popon(SCC_FR), drop_frame=True), encoding="ascii")
    return work


@pytest.fixture(scope="module")
def published(work: Path) -> Path:
    out = work / "out"
    result = _transcode(work / "news.mp4", out, "--subtitle", f"fr={work / 'news.fr.scc'}")
    assert result.returncode == 0, result.stderr
    return out


def test_caption_channels_become_webvtt_within_a_frame(published: Path) -> None:
    _within_a_frame(_dash_cues(published / "subtitles" / "en-cc1"), _expected(CC1))
    _within_a_frame(_dash_cues(published / "subtitles" / "es-cc3"), _expected(CC3))
    _within_a_frame(_dash_cues(published / "subtitles" / "fr-sdh"), _expected(SCC_FR))
    # HLS segments (2 s) carry the same cues: the 2-4 s segment holds the second CC1 caption
    _within_a_frame(_cues(published / "subtitles" / "en-cc1" / "seg_00002.vtt"), _expected(CC1)[1:])


def test_hls_master_lists_captions_as_sdh_subtitles_and_no_in_band_captions(published: Path) -> None:
    master = m3u8.load(str(published / "master.m3u8"))
    subs = {m.uri.split("/")[1]: m for m in master.media if m.type == "SUBTITLES"}
    assert set(subs) == {"en-cc1", "es-cc3", "fr-sdh"}
    assert {k: (m.language, m.characteristics) for k, m in subs.items()} == {
        "en-cc1": ("en", SDH_CHARACTERISTICS), "es-cc3": ("es", SDH_CHARACTERISTICS),
        "fr-sdh": ("fr", SDH_CHARACTERISTICS)}
    assert {p.stream_info.closed_captions for p in master.playlists} == {"NONE"}


def test_dash_marks_every_caption_track_accessible(published: Path) -> None:
    mpd = MPEGDASHParser.parse(str(published / "manifest.mpd"))
    texts = {a.representations[0].id: a for a in mpd.periods[0].adaptation_sets if a.content_type == "text"}
    assert set(texts) == {"text-en-cc1", "text-es-cc3", "text-fr-sdh"}
    for adaptation in texts.values():
        assert ("urn:mpeg:dash:role:2011", "caption") in {
            (d.scheme_id_uri, d.value) for d in adaptation.accessibilities}


def test_rungs_carry_no_in_band_captions(published: Path, tmp_path: Path) -> None:
    # CLOSED-CAPTIONS=NONE must be true: the encode drops the A/53 SEI (-a53cc 0), read back like a master
    for rung in sorted((published / "video").iterdir()):
        joined = tmp_path / f"{rung.name}.mp4"
        joined.write_bytes(b"".join(p.read_bytes() for p in [rung / "init.mp4", *sorted(rung.glob("seg_*.m4s"))]))
        result = subprocess.run(a53_probe_argv("ffprobe", joined, "mov"), capture_output=True, check=True)
        assert parse_a53_packets(result.stdout) == {1: [], 2: []}


def test_report_names_the_caption_sources(published: Path) -> None:
    report = json.loads((published / "report.json").read_text(encoding="utf-8"))
    subs = {s["id"]: s for s in report["renditions"]["subtitles"]}
    got = {k: (s["sdh"], s["source_format"], s["charset_reason"]) for k, s in subs.items()}
    assert got == {"en-cc1": (True, "cea608", CHARSET_REASON), "es-cc3": (True, "cea608", CHARSET_REASON),
                   "fr-sdh": (True, "scc", CHARSET_REASON)}


def test_mpeg2_user_data_captions_are_read(work: Path, tmp_path: Path) -> None:
    master = mediagen.make_captioned_source(work / "news.ts", field1=popon(CC1), field2=popon(CC3, field=2),
                                            duration=6.0, mpeg2=True)
    probe = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=start_time:stream=codec_type,start_time", "-of", "json",
         str(master)], capture_output=True, check=True).stdout)
    container = float(probe["format"]["start_time"])
    video = next(float(s["start_time"]) for s in probe["streams"] if s["codec_type"] == "video")
    tracks = extract_captions(master, format_name="mpegts", video_codec="mpeg2video", video_start=container,
                              fps=Fraction(30000, 1001), languages=["en", "es"], duration=6.0,
                              tools=Tools.resolve(), scratch=tmp_path)
    assert [(t.channel, t.document.language) for t in tracks] == [("CC1", "en"), ("CC3", "es")]
    # on the output timeline the picture starts where it starts in the container (after the audio)
    got = [(c.start, c.end, c.text) for c in tracks[0].document.cues]
    _within_a_frame(got, _expected(CC1, video - container))


def test_a_bad_scc_is_refused_and_nothing_is_published(work: Path) -> None:
    bad = work / "bad.scc"
    bad.write_text("Scenarist_SCC V1.0\n\n00:01:00;00\t9420 9420\n", encoding="ascii")
    out = work / "refused"
    result = _transcode(work / "news.mp4", out, "--subtitle", f"en={bad}", "--json")
    assert result.returncode == 3, result.stderr
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "caption_scc_invalid"
    assert str(bad) in error["message"] and "00:01:00;00 does not exist" in error["message"]
    assert "SCC" in error["hint"]
    assert not out.exists()


def test_hevc_sei_captions_are_read(work: Path, tmp_path: Path) -> None:
    master = mediagen.make_captioned_source(work / "news_hevc.mp4", field1=popon(CC1), field2=popon(CC3, field=2),
                                            duration=6.0, hevc=True)
    tracks = extract_captions(master, format_name="mov,mp4,m4a,3gp,3g2,mj2", video_codec="hevc", video_start=0.0,
                              fps=Fraction(30000, 1001), languages=["en"], duration=6.0, tools=Tools.resolve(),
                              scratch=tmp_path)
    assert [(t.channel, t.document.language) for t in tracks] == [("CC1", "en"), ("CC3", "und")]
    _within_a_frame([(c.start, c.end, c.text) for c in tracks[0].document.cues], _expected(CC1))
    _within_a_frame([(c.start, c.end, c.text) for c in tracks[1].document.cues], _expected(CC3))


def test_a_master_without_captions_gives_none(work: Path, tmp_path: Path) -> None:
    plain = mediagen.make_source(work / "plain.mp4", duration=3.0)
    assert extract_captions(plain, format_name="mov,mp4,m4a,3gp,3g2,mj2", video_codec="h264", video_start=0.0,
                            fps=Fraction(25), languages=["en"], duration=3.0, tools=Tools.resolve(),
                            scratch=tmp_path) == []
