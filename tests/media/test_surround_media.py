"""The opt-in 5.1 rendition through real ffmpeg: a 5.1 master with a different tone on every channel, published with
``--surround`` and the default loudness preset (EBU R128), measured in the output — the 5.1 rendition is AAC-LC with
6 channels in the 5.1 layout (ffprobe), each output channel carries its own source channel's tone (Goertzel per
channel), it is normalised to −23 LUFS on its own (ffmpeg's loudnorm meter, independent of QC's ebur128), and the
master playlist and MPD, re-read by the m3u8 and mpegdash parsers, offer it in its own audio group / AdaptationSet
beside the stereo downmix."""

from __future__ import annotations

import array
import json
import math
import subprocess
import sys
from pathlib import Path

import m3u8
import pytest
import syncmarks
from mediagen import SURROUND_TONES, make_51_master
from mpegdash.parser import MPEGDASHParser
from test_loudness import independent_loudness

pytestmark = pytest.mark.media

TINY = str(Path(__file__).parents[1] / "fixtures" / "ladders" / "tiny.toml")
TONES = SURROUND_TONES  # FL FR FC LFE BL BR


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`vodfleet transcode --surround` (the CLI, default loudness) of the 5.1 master."""
    folder = tmp_path_factory.mktemp("surround")
    out = folder / "out"
    done = subprocess.run([sys.executable, "-m", "workers.cli", "transcode", str(make_51_master(folder / "m51.mov")),
                           "-o", str(out), "--ladder", TINY, "--profile", "draft", "--segment-seconds", "2",
                           "--no-quality", "--no-thumbnails", "--surround"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return out


def _joined(out: Path, rendition: str, scratch: Path) -> Path:
    return syncmarks.joined(out / "audio" / rendition, scratch / f"{rendition}.mp4")


def _power(samples: list[float], hz: float) -> float:
    """Goertzel: the power of one frequency in a run of 48 kHz samples."""
    coeff = 2 * math.cos(2 * math.pi * hz / 48000)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coeff * s1 - s2, s1
    return s1 * s1 + s2 * s2 - coeff * s1 * s2


def test_the_51_rendition_is_aac_lc_with_six_channels_in_the_51_layout(published: Path, tmp_path: Path) -> None:
    probe = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,profile,channels,channel_layout,sample_rate",
         "-of", "json", str(_joined(published, "en-51", tmp_path))], capture_output=True, text=True, check=True).stdout)
    (stream,) = probe["streams"]
    assert (stream["codec_name"], stream["profile"], stream["channels"], stream["channel_layout"],
            stream["sample_rate"]) == ("aac", "LC", 6, "5.1", "48000")


def test_every_channel_keeps_its_own_tone(published: Path, tmp_path: Path) -> None:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(_joined(published, "en-51", tmp_path)),
                          "-f", "f32le", "-"], check=True, capture_output=True).stdout
    samples = array.array("f", raw)
    window = slice(6 * 48000, 6 * 72000)  # 1.0–1.5 s, 6 interleaved channels
    levels: dict[str, float] = {}
    for position, (channel, own) in enumerate(TONES.items()):
        data = list(samples[window][position::6])
        powers = {hz: _power(data, hz) for hz in TONES.values()}
        for hz, power in powers.items():
            if hz != own:  # every other channel's tone at least 40 dB under this channel's own
                assert 10 * math.log10(powers[own] / max(power, 1e-30)) > 40, (channel, hz, powers)
        levels[channel] = 10 * math.log10(powers[own])
    relative = {channel: round(level - levels["FL"], 2) for channel, level in levels.items()}
    print("5.1 CHANNEL LEVELS (dB against FL)", relative)
    for channel, level in relative.items():  # one gain for all: the channels' balance is the master's
        assert level == pytest.approx(0.0, abs=1.0), (channel, relative)


def test_the_51_rendition_is_normalised_on_its_own(published: Path, tmp_path: Path) -> None:
    report = json.loads((published / "report.json").read_text(encoding="utf-8"))
    tracks = {t["id"]: t for t in report["loudness"]["tracks"]}
    assert set(tracks) == {"en", "en-51"}
    for rendition, track in tracks.items():
        integrated, peak = independent_loudness(_joined(published, rendition, tmp_path))
        print("LOUDNESS", rendition, track["source"]["integrated_lufs"], track["mode"], track["gain_db"],
              track["output"]["integrated_lufs"], "independent", integrated, peak)
        assert integrated == pytest.approx(-23.0, abs=1.0), rendition
        assert peak <= -1.0
    checks = {c["name"]: c for c in report["qc"]["checks"]}
    for name in ("audio.en-51.loudness", "audio.en-51.duration", "audio.en-51.sync", "audio.en-51.channels",
                 "hls.master.audio_groups", "client.hls", "client.dash"):
        assert checks[name]["passed"], checks[name]
    plan = {a["id"]: a for a in report["plan"]["audio"]}
    assert (plan["en-51"]["layout_rule"], plan["en-51"]["surround_of"]) == ("5.1 kept", "en")
    assert "ITU-R BS.775" in plan["en"]["layout_rule"]


def test_the_manifests_offer_the_51_group_beside_the_stereo_one(published: Path) -> None:
    master = m3u8.load(str(published / "master.m3u8"))
    groups: dict[str, list[tuple[str | None, str | None, str | None]]] = {}
    for media in master.media:
        groups.setdefault(media.group_id, []).append((media.name, media.channels, media.uri))
    assert groups == {"audio": [("English", "2", "audio/en/index.m3u8")],
                      "audio-51": [("English", "6", "audio/en-51/index.m3u8")]}
    variants = [(p.uri, p.stream_info.audio) for p in master.playlists]
    rungs = sorted({uri for uri, _ in variants})
    assert sorted(variants) == sorted((uri, group) for uri in rungs for group in ("audio", "audio-51"))
    mpd = MPEGDASHParser.parse(str(published / "manifest.mpd"))
    audio_sets = [s for s in mpd.periods[0].adaptation_sets if s.content_type == "audio"]
    channels = {s.representations[0].id: {(c.scheme_id_uri.rsplit(":", 1)[-1], c.value)
                                          for c in s.representations[0].audio_channel_configurations}
                for s in audio_sets}
    assert channels == {"audio-en": {("2011", "2")}, "audio-en-51": {("2011", "6"), ("ChannelConfiguration", "6")}}
