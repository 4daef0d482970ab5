"""--audio-map (pure): parsing, channel numbering over the master's streams, the renditions it plans, and the roles
the manifests signal (HLS CHARACTERISTICS, DASH Role/Accessibility)."""

from __future__ import annotations

import dataclasses

import pytest
from test_dash import PRESENTATION as DASH_PRESENTATION
from test_hls import PRESENTATION as HLS_PRESENTATION

from pipelines.audiomap import AudioMapEntry, channel_sources, parse_audio_map
from pipelines.dash import render_mpd
from pipelines.errors import ConfigError
from pipelines.hls import render_master
from pipelines.ladder import load_ladder
from pipelines.options import PlanOptions
from pipelines.plan import plan_encode
from pipelines.source import AudioStream, SourceInfo, VideoStream


@pytest.mark.parametrize(("text", "entry"), [
    ("1+2=en", AudioMapEntry((1, 2), "en", "main")),
    ("3+4=en:ad", AudioMapEntry((3, 4), "en", "description")),
    ("5=es:commentary:Comentario del director", AudioMapEntry((5,), "es", "commentary", "Comentario del director")),
    (" 7 + 8 = pt-br : main ", AudioMapEntry((7, 8), "pt-BR", "main")),
])
def test_entries_parse(text: str, entry: AudioMapEntry) -> None:
    assert parse_audio_map(text) == entry


@pytest.mark.parametrize(("text", "fragment"), [
    ("1+2", "is not CHANNELS=LANG"),
    ("1+2+3=en", "one channel (mono) or two"),
    ("1+1=en", "two different ones"),
    ("0=en", "numbered from 1"),
    ("1+2=en:karaoke", "unknown role 'karaoke'"),
])
def test_bad_entries_say_what_is_wrong(text: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        parse_audio_map(text)


def test_channels_are_numbered_over_the_streams_in_order() -> None:
    layout = ((1, 2), (2, 1), (3, 6))  # a stereo stream, a mono track, a 5.1 stream
    assert channel_sources(parse_audio_map("2+3=en"), layout) == ((1, 1), (2, 0))
    assert channel_sources(parse_audio_map("4+5=en"), layout) == ((3, 0), (3, 1))
    with pytest.raises(ConfigError, match=r"the master has 9 audio channel\(s\).*channel 10 does not exist"):
        channel_sources(parse_audio_map("9+10=en"), layout)


def _broadcast(tracks: int = 8) -> SourceInfo:
    return SourceInfo(path="/m/ep.mxf", format_name="mxf", size_bytes=1, duration=4.0,
                      video=VideoStream(0, "mpeg2video", 1920, 1080),
                      audio=tuple(AudioStream(i, "pcm_s24le", 1, 48000) for i in range(1, tracks + 1)))


def test_a_map_plans_one_rendition_per_entry_with_unique_ids_and_names() -> None:
    entries = tuple(parse_audio_map(t) for t in ("1+2=en:main", "3+4=en:ad", "5+6=en:main", "7=fr"))
    audio = plan_encode(_broadcast(), load_ladder("default"), PlanOptions(audio_map=entries)).audio
    assert [a.id for a in audio] == ["en", "en-description", "en-2", "fr"]
    assert [a.name for a in audio] == ["English", "English (audio description)", "English 2", "French"]
    assert [a.role for a in audio] == ["main", "description", "main", "main"]
    assert audio[1].channel_sources == ((3, 0), (4, 0)) and audio[3].channel_sources == ((7, 0),)
    assert [a.default for a in audio] == [True, False, False, False]


def test_a_map_naming_channels_the_master_lacks_is_refused_at_planning() -> None:
    with pytest.raises(ConfigError, match="channel 9 does not exist"):
        plan_encode(_broadcast(), load_ladder("default"), PlanOptions(audio_map=(parse_audio_map("9=en"),)))


def test_audio_description_is_signalled_in_hls_and_dash() -> None:
    en, es = HLS_PRESENTATION.audio
    hls = render_master(dataclasses.replace(HLS_PRESENTATION, audio=(en, dataclasses.replace(es, role="description"))))
    described = [line for line in hls.splitlines() if "describes-video" in line]
    assert len(described) == 1 and 'LANGUAGE="es"' in described[0]
    assert 'CHARACTERISTICS="public.accessibility.describes-video"' in described[0]
    en, es = DASH_PRESENTATION.audio
    mpd = render_mpd(dataclasses.replace(DASH_PRESENTATION, audio=(
        en, dataclasses.replace(es, role="description"), dataclasses.replace(en, id="cm", role="commentary"))))
    assert mpd.count('<Accessibility schemeIdUri="urn:tva:metadata:cs:AudioPurposeCS:2007" value="1" />') == 1
    assert '<Role schemeIdUri="urn:mpeg:dash:role:2011" value="commentary" />' in mpd
