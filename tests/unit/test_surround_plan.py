"""The opt-in 5.1 rendition, pure parts: which masters get one (rules of pipelines.layout.surround_rule), how the
plan names it, the HLS master's two audio groups (RFC 8216 §4.3.4.1.1, Apple's authoring spec) re-read with the
m3u8 package, the MPD's AdaptationSet re-read with mpegdash, the QC rule over the groups, and the channel count read
from an AAC AudioSpecificConfig."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import m3u8
import pytest
from mpegdash.parser import MPEGDASHParser

from pipelines.dash import render_mpd
from pipelines.ffmpeg import audio_output_args, encode_argv
from pipelines.hls import AUDIO_GROUP, SURROUND_GROUP, audio_groups, render_master
from pipelines.isobmff import _Cursor, _mp4a_config
from pipelines.ladder import load_ladder
from pipelines.layout import surround_rule
from pipelines.options import PlanOptions
from pipelines.plan import SURROUND_BITRATE, plan_encode
from pipelines.presentation import AudioTrack, Presentation, Segment, VideoTrack
from pipelines.qc.manifests import check_audio_groups
from pipelines.qc.playlists import parse_master
from pipelines.source import AudioStream, SourceInfo, VideoStream

LADDER = load_ladder("compact")


def source(*audio: AudioStream) -> SourceInfo:
    return SourceInfo(path="/m/ep.mov", format_name="mov,mp4,m4a,3gp,3g2,mj2", size_bytes=1, duration=60.0,
                      video=VideoStream(index=0, codec="h264", width=1280, height=720), audio=audio)


def stream(index: int, channels: int, layout: str, language: str | None = "eng") -> AudioStream:
    return AudioStream(index, "pcm_s24le", channels, 48000, channel_layout=layout, language=language)


@pytest.mark.parametrize(("channels", "layout", "rule", "pan"), [
    (6, "5.1", "5.1 kept", None),
    (6, "5.1(side)", "5.1(side) → 5.1 (side surrounds as the surrounds)", "5.1|FL=FL|FR=FR|FC=FC|LFE=LFE|BL=SL|BR=SR"),
    (8, "7.1", "7.1 → 5.1 (side and back surrounds summed at −3 dB each)",
     "5.1|FL=FL|FR=FR|FC=FC|LFE=LFE|BL=0.7071*SL+0.7071*BL|BR=0.7071*SR+0.7071*BR"),
])
def test_tagged_surround_layouts_make_a_51_rendition(channels: int, layout: str, rule: str, pan: str | None) -> None:
    made, why = surround_rule(channels, layout)
    assert made is not None and why == ""
    assert (made.layout, made.rule, made.pan) == (layout, rule, pan)


@pytest.mark.parametrize(("channels", "layout", "reason"), [
    (2, "stereo", "a stereo stream has no surround channels"),
    (1, "mono", "a mono stream has no surround channels"),
    (6, "unknown", "6 channels (untagged) are not a 5.1 or 7.1 layout"),
    (6, "6.0", "6 channels (6.0) are not a 5.1 or 7.1 layout"),
])
def test_other_layouts_get_none_and_say_why(channels: int, layout: str, reason: str) -> None:
    made, why = surround_rule(channels, layout)
    assert made is None and why.startswith(reason)


def test_the_plan_adds_a_51_sibling_only_when_asked() -> None:
    info = source(stream(1, 6, "5.1"), stream(2, 2, "stereo", "spa"))
    assert [a.id for a in plan_encode(info, LADDER).audio] == ["en", "es"]
    plan = plan_encode(info, LADDER, PlanOptions(surround=True))
    assert [(a.id, a.channels, a.surround_of, a.bitrate) for a in plan.audio] == [
        ("en", 2, "", 128_000), ("es", 2, "", 128_000), ("en-51", 6, "en", SURROUND_BITRATE)]
    surround = plan.audio[2]
    assert (surround.name, surround.stream_index, surround.default, surround.downmix) == ("English (5.1)", 1, True,
                                                                                           None)
    assert plan.notes == ("no 5.1 rendition of es (stream 2): a stereo stream has no surround channels",)
    assert audio_output_args(surround)["ac"] == 6
    argv = encode_argv(plan, ffmpeg="ffmpeg", source=Path(info.path), out=Path("/o"), scratch=Path("/s"))
    assert "/o/audio/en-51/ffmpeg.m3u8" in argv


def test_a_stereo_master_gets_no_51_rendition_and_a_note() -> None:
    plan = plan_encode(source(stream(1, 2, "stereo")), LADDER, PlanOptions(surround=True))
    assert [a.id for a in plan.audio] == ["en"]
    assert plan.notes == ("no 5.1 rendition of en (stream 1): a stereo stream has no surround channels",)


def segments(bitrate: int, timescale: int = 48000) -> tuple[Segment, ...]:
    """Two 2 s segments at `bitrate` bits/s."""
    return tuple(Segment(uri=f"seg_{n + 1:05d}.m4s", start=2.0 * n, duration=2.0, size=bitrate // 4,
                         decode_time=2 * timescale * n, duration_units=2 * timescale) for n in range(2))


def video(track_id: str, width: int, height: int, bitrate: int) -> VideoTrack:
    return VideoTrack(id=track_id, path=f"video/{track_id}", init="init.mp4", codecs="avc1.64001f", timescale=12800,
                      segments=segments(bitrate, 12800), width=width, height=height, frame_rate=Fraction(25))


def _track(track_id: str, language: str, name: str, channels: int, *, default: bool, surround_of: str = "",
           peak: int = 128_000) -> AudioTrack:
    return AudioTrack(id=track_id, path=f"audio/{track_id}", init="init.mp4", codecs="mp4a.40.2", timescale=48000,
                      segments=segments(peak), language=language, name=name, channels=channels, default=default,
                      surround_of=surround_of)


@pytest.fixture
def presentation() -> Presentation:
    en = _track("en", "en", "English", 2, default=True)
    es = _track("es", "es", "Spanish", 2, default=False)
    en51 = _track("en-51", "en", "English (5.1)", 6, default=True, surround_of="en", peak=384_000)
    return Presentation(duration=4.0, segment_seconds=2, video=(video("720p", 1280, 720, 2_000_000),
                                                                video("360p", 640, 360, 800_000)),
                        audio=(en, es, en51))


def test_the_master_has_a_51_group_and_every_variant_once_per_group(presentation: Presentation) -> None:
    text = render_master(presentation)
    parsed = m3u8.loads(text)
    groups: dict[str, list[m3u8.Media]] = {}
    for media in parsed.media:
        groups.setdefault(media.group_id, []).append(media)
    assert sorted(groups) == [AUDIO_GROUP, SURROUND_GROUP]
    assert [(m.name, m.language, m.channels, m.uri, m.default) for m in groups[AUDIO_GROUP]] == [
        ("English", "en", "2", "audio/en/index.m3u8", "YES"), ("Spanish", "es", "2", "audio/es/index.m3u8", "NO")]
    # the same members (NAME, LANGUAGE, DEFAULT), only URI and CHANNELS differ; Spanish has no 5.1: its stereo again
    assert [(m.name, m.language, m.channels, m.uri, m.default) for m in groups[SURROUND_GROUP]] == [
        ("English", "en", "6", "audio/en-51/index.m3u8", "YES"), ("Spanish", "es", "2", "audio/es/index.m3u8", "NO")]
    variants = [(p.uri, p.stream_info.audio, p.stream_info.bandwidth) for p in parsed.playlists]
    assert [(uri, group) for uri, group, _ in variants] == [
        ("video/360p/index.m3u8", AUDIO_GROUP), ("video/720p/index.m3u8", AUDIO_GROUP),
        ("video/360p/index.m3u8", SURROUND_GROUP), ("video/720p/index.m3u8", SURROUND_GROUP)]
    # BANDWIDTH: the video plus the loudest audio its group plays (the 5.1 rendition's 384 kb/s)
    assert variants[2][2] - variants[0][2] == 384_000 - 128_000
    master = parse_master(text)
    channels = {f"{a.path}/index.m3u8": a.channels for a in presentation.audio}
    assert check_audio_groups(master, channels).passed


def test_groups_that_differ_fail_the_audio_groups_check(presentation: Presentation) -> None:
    text = render_master(presentation).replace('GROUP-ID="audio-51",LANGUAGE="en",NAME="English"',
                                               'GROUP-ID="audio-51",LANGUAGE="en",NAME="English 5.1"')
    channels = {f"{a.path}/index.m3u8": a.channels for a in presentation.audio}
    result = check_audio_groups(parse_master(text), channels)
    assert not result.passed and "only URI and CHANNELS differ" in result.detail
    wrong = render_master(presentation).replace('CHANNELS="6"', 'CHANNELS="2"')
    result = check_audio_groups(parse_master(wrong), channels)
    assert not result.passed and "has 6 channels" in result.detail


def test_without_a_51_rendition_there_is_one_group(presentation: Presentation) -> None:
    stereo = replace(presentation, audio=presentation.audio[:2])
    assert [group for group, _ in audio_groups(stereo)] == [AUDIO_GROUP]
    assert SURROUND_GROUP not in render_master(stereo)


def test_the_mpd_has_the_51_representation_in_its_own_adaptation_set(presentation: Presentation) -> None:
    mpd = MPEGDASHParser.parse(render_mpd(presentation))
    audio_sets = [s for s in mpd.periods[0].adaptation_sets if s.content_type == "audio"]
    assert len(audio_sets) == 3
    by_rep = {s.representations[0].id: s for s in audio_sets}
    surround = by_rep["audio-en-51"]
    assert len(surround.representations) == 1
    configs = {(c.scheme_id_uri, c.value) for c in surround.representations[0].audio_channel_configurations}
    assert configs == {("urn:mpeg:dash:23003:3:audio_channel_configuration:2011", "6"),
                       ("urn:mpeg:mpegB:cicp:ChannelConfiguration", "6")}
    stereo = {(c.scheme_id_uri, c.value) for c in by_rep["audio-en"].representations[0].audio_channel_configurations}
    assert stereo == {("urn:mpeg:dash:23003:3:audio_channel_configuration:2011", "2")}
    # the 5.1 set has the stereo main programme's Role, so a player chooses by channel count
    assert [r.value for r in surround.roles] == ["main"] == [r.value for r in by_rep["audio-en"].roles]
    assert [r.value for r in by_rep["audio-es"].roles] == ["alternate"]


@pytest.mark.parametrize(("config", "channels"), [(bytes([0x11, 0x90]), 2), (bytes([0x11, 0xB0]), 6),
                                                  (bytes([0x11, 0x88]), 1), (bytes([0x11, 0x80]), None)])
def test_the_channel_count_comes_from_the_audio_specific_config(config: bytes, channels: int | None) -> None:
    """AAC-LC (2) at 48 kHz (index 3): 0x1190 is stereo (channelConfiguration 2), 0x11B0 5.1 (6); 0 → unknown."""
    esds = (b"\0\0\0\0" + b"\x03\x80\x80\x80\x19" + b"\0\x01\0" + b"\x04\x80\x80\x80\x11" + b"\x40\x15"
            + b"\0" * 11 + b"\x05\x80\x80\x80\x02" + config)
    assert _mp4a_config(_Cursor(esds, 0, len(esds))) == ("mp4a.40.2", channels)
