"""Every CEA-608 channel (CC1-CC4) and CEA-708 service of a master, through `vodfleet transcode`: as WebVTT
renditions per channel with declared languages, and kept in-band in the rungs' SEI (``--captions both`` /
``in-band``), named in both manifests (m3u8, mpegdash) and decoded back from the published video by ffmpeg's own
caption decoder (cc_dec through the ``movie`` source's subcc output) and per channel by our scanner."""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import m3u8
import mediagen
import pytest
from cea608gen import dtvcc_packets, merge, popon
from mpegdash.parser import MPEGDASHParser

from pipelines.captions.cc import a53_probe_argv, read_a53, scan_captions
from pipelines.dash import CEA608_SCHEME, CEA708_SCHEME
from pipelines.tools import Tools

pytestmark = pytest.mark.media

ROOT = Path(__file__).parents[2]
TINY = str(ROOT / "tests" / "fixtures" / "ladders" / "tiny.toml")
FRAME = 1001 / 30000
CAPTIONS = {  # channel → pop-on captions (start frame, end frame, rows); the blocks never share a frame
    "CC1": [(30, 60, ["HELLO CAPTIONS"])],
    "CC2": [(100, 140, ["BONJOUR"])],
    "CC3": [(45, 120, ["HOLA SUBTITULOS"])],
    "CC4": [(150, 170, ["GUTEN TAG"])],
}
LANGUAGES = {"CC1": "en", "CC2": "fr", "CC3": "es", "CC4": "de", "SERVICE1": "en", "SERVICE2": "es"}


def _run(source: Path, out: Path, *extra: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "workers.cli", "transcode", str(source), "-o", str(out), "--ladder", TINY,
         "--profile", "draft", "--segment-seconds", "2", "--no-quality", "--no-thumbnails",
         "--caption-language", "CC2=fr", "--caption-language", "cc4=deu", *extra],
        capture_output=True, text=True, check=False, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr


# the chunked master (18 s: two chunks of at least 8 s) adds a CC1 caption across the cut
ACROSS = (230, 320, ["ACROSS THE CUT"])  # 7.7-10.7 s: over a cut at 8 or 10 s


def _master(path: Path, captions: dict[str, list[tuple[int, int, list[str]]]], duration: float) -> Path:
    field1 = merge(popon(captions["CC1"]), popon(captions["CC2"], channel=2))
    field2 = merge(popon(captions["CC3"], field=2), popon(captions["CC4"], field=2, channel=2))
    dtvcc = {10: dtvcc_packets({1: "HELLO 708", 2: "HOLA 708"}), 11: dtvcc_packets({1: "AGAIN"}, sequence=1)}
    return mediagen.make_captioned_source(path, field1=field1, field2=field2, dtvcc=dtvcc, duration=duration,
                                          audio=("eng", "spa"))


@pytest.fixture(scope="module")
def master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _master(tmp_path_factory.mktemp("channels") / "four.mp4", CAPTIONS, 6.0)


@pytest.fixture(scope="module")
def both(master: Path) -> Path:
    out = master.parent / "both"
    _run(master, out, "--captions", "both")
    return out


@pytest.fixture(scope="module")
def in_band_chunked(master: Path) -> Path:
    long = _master(master.parent / "long.mp4", {**CAPTIONS, "CC1": [*CAPTIONS["CC1"], ACROSS]}, 18.0)
    out = master.parent / "in-band"
    _run(long, out, "--captions", "in-band", "--chunks", "2")
    return out


def _joined(root: Path, rung: str, scratch: Path) -> Path:
    joined = scratch / f"{root.name}-{rung}.mp4"
    folder = root / "video" / rung
    joined.write_bytes(b"".join(p.read_bytes() for p in [folder / "init.mp4", *sorted(folder.glob("seg_*.m4s"))]))
    return joined


def _cc_dec(video: Path, field: int) -> list[tuple[float, float, str]]:
    """ffmpeg's own 608 decoder (cc_dec) over the A/53 data of a published rung: (start, end, text)."""
    vtt = subprocess.run(["ffmpeg", "-v", "error", "-data_field", str(field - 1), "-f", "lavfi", "-i",
                          f"movie={video}[out0+subcc]", "-map", "0:s", "-c:s", "webvtt", "-f", "webvtt", "-"],
                         capture_output=True, text=True, check=True).stdout
    cues = []
    for block in vtt.split("\n\n")[1:]:
        times, _, text = block.strip().partition("\n")
        start, end = (float(t.split(":")[0]) * 60 + float(t.split(":")[1]) for t in times.split(" --> "))
        cues.append((start, end, text))
    return cues


def _expected(channel: str, extra: tuple[tuple[int, int, list[str]], ...] = ()) -> list[tuple[float, float, str]]:
    return [(s * FRAME, e * FRAME, "\n".join(rows)) for s, e, rows in [*CAPTIONS[channel], *extra]]


def _near(got: list[tuple[float, float, str]], want: list[tuple[float, float, str]]) -> bool:
    return len(got) == len(want) and all(
        g[2] == w[2] and abs(g[0] - w[0]) < FRAME / 2 and abs(g[1] - w[1]) < FRAME / 2
        for g, w in zip(got, want, strict=True))


def test_hls_names_every_channel_and_service_with_its_language(both: Path) -> None:
    master = m3u8.load(str(both / "master.m3u8"))
    captions = {m.instream_id: m for m in master.media if m.type == "CLOSED-CAPTIONS"}
    assert {k: m.language for k, m in captions.items()} == LANGUAGES
    assert {m.group_id for m in captions.values()} == {"cc"} and all(m.uri is None for m in captions.values())
    assert {p.stream_info.closed_captions for p in master.playlists} == {'"cc"'}
    # and the same channels as WebVTT subtitle renditions, one per 608 channel (708 is not decoded here)
    subs = {m.uri.split("/")[1]: m.language for m in master.media if m.type == "SUBTITLES"}
    assert subs == {"en-cc1": "en", "fr-cc2": "fr", "es-cc3": "es", "de-cc4": "de"}


def test_dash_video_set_carries_scte_214_caption_descriptors(both: Path) -> None:
    mpd = MPEGDASHParser.parse(str(both / "manifest.mpd"))
    video = next(a for a in mpd.periods[0].adaptation_sets if a.content_type == "video")
    found = {d.scheme_id_uri: d.value for d in video.accessibilities}
    assert found == {CEA608_SCHEME: "CC1=eng;CC2=fra;CC3=spa;CC4=deu", CEA708_SCHEME: "1=lang:eng;2=lang:spa"}


@pytest.mark.parametrize("rung", ["90p", "180p"])
def test_ffmpeg_decodes_the_captions_back_from_every_rung(both: Path, rung: str, tmp_path: Path) -> None:
    video = _joined(both, rung, tmp_path)
    # cc_dec (5.1) reads both data channels of a field as one: field 1 shows CC1 then CC2, field 2 CC3
    assert _near(_cc_dec(video, 1), _expected("CC1") + _expected("CC2"))
    assert [text for _, _, text in _cc_dec(video, 2)][:1] == ["HOLA SUBTITULOS"]


def _scan(video: Path, scratch: Path) -> dict[str, list[tuple[float, float, str]]]:
    start = float(subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=start_time", "-of", "csv=p=0",
                                  str(video)], capture_output=True, text=True, check=True).stdout)
    scan = scan_captions(video, format_name="mov,mp4,m4a,3gp,3g2,mj2", video_codec="h264", video_start=start,
                         fps=Fraction(30000, 1001), languages=["en", "es"], duration=18.0, tools=Tools.resolve(),
                         scratch=scratch)
    return {t.channel: [(c.start, c.end, c.text) for c in t.document.cues] for t in scan.tracks}


def test_each_channel_and_the_708_services_survive_a_chunked_in_band_encode(in_band_chunked: Path,
                                                                             tmp_path: Path) -> None:
    video = _joined(in_band_chunked, "180p", tmp_path)
    decoded = _scan(video, tmp_path)
    assert set(decoded) == set(CAPTIONS)
    for channel in CAPTIONS:
        extra = (ACROSS,) if channel == "CC1" else ()
        assert _near(decoded[channel], _expected(channel, extra)), (channel, decoded[channel])
    dump = subprocess.run(a53_probe_argv("ffprobe", video, "mov"), capture_output=True, check=True).stdout
    assert read_a53(dump.decode().splitlines()).services == (1, 2)


def test_in_band_only_publishes_no_caption_webvtt(in_band_chunked: Path) -> None:
    master = m3u8.load(str(in_band_chunked / "master.m3u8"))
    assert [m for m in master.media if m.type == "SUBTITLES"] == []
    assert {m.instream_id: m.language for m in master.media if m.type == "CLOSED-CAPTIONS"} == LANGUAGES
    assert "SUBTITLES=" not in (in_band_chunked / "master.m3u8").read_text()


def test_webvtt_default_keeps_no_captions_in_the_rungs(master: Path, tmp_path: Path) -> None:
    out = tmp_path / "webvtt"
    _run(master, out)
    assert "CLOSED-CAPTIONS=NONE" in (out / "master.m3u8").read_text()
    dump = subprocess.run(a53_probe_argv("ffprobe", _joined(out, "90p", tmp_path), "mov"), capture_output=True,
                          check=True).stdout
    got = read_a53(dump.decode().splitlines())
    assert got.fields == {1: [], 2: []} and got.services == ()


def test_qc_read_the_in_band_captions_back_and_the_report_lists_them(both: Path) -> None:
    report = json.loads((both / "report.json").read_text(encoding="utf-8"))
    check = next(c for c in report["qc"]["checks"] if c["name"] == "captions.in_band")
    assert check["passed"] and check["detail"] == "video/90p carries CC1, CC2, CC3, CC4, SERVICE1, SERVICE2"
    assert [(c["instream_id"], c["language"]) for c in report["renditions"]["closed_captions"]] == list(
        LANGUAGES.items())
    assert report["plan"]["in_band_captions"] is True
