"""Caption channels and services, pure: CEA-708 service numbers from DTVCC packets, caption options and
languages, and how both manifests name in-band captions (RFC 8216 §4.3.4.1, DASH-IF IOP 4.3 §6.4.3)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from cea608gen import dtvcc_packets

from pipelines.captions import CaptionOptions
from pipelines.captions.dtvcc import ServiceScan, packet_services, services
from pipelines.captions.scc import _as_channel_1
from pipelines.captions.service import caption_language, parse_caption_language
from pipelines.dash import CEA608_SCHEME, CEA708_SCHEME, caption_accessibility, render_mpd
from pipelines.errors import ConfigError
from pipelines.ffmpeg import video_output_args
from pipelines.hls import render_master
from pipelines.ladder import load_ladder
from pipelines.options import PlanOptions
from pipelines.plan import plan_encode
from pipelines.presentation import ClosedCaptions, Presentation, Segment, VideoTrack
from pipelines.qc.captions import check_in_band
from pipelines.source import AudioStream, SourceInfo, VideoStream

LADDER = load_ladder("default")


def test_services_are_read_from_dtvcc_packets() -> None:
    triplets = [*dtvcc_packets({1: "HELLO", 2: "HOLA"}), *dtvcc_packets({6: "X"}, sequence=1)]
    assert services(triplets) == (1, 2, 6)
    scan = ServiceScan()
    for triplet in triplets:
        scan.feed(*triplet)
    assert scan.found == (1, 2, 6)


def test_extended_service_numbers_and_null_blocks() -> None:
    # header: size code 3 (6 bytes); block: service 7 → extended number 20, 2 bytes; then a null block
    assert packet_services(bytes([0x03, 7 << 5 | 2, 20, 0x41, 0x42, 0x00])) == {20}
    assert packet_services(bytes([0x02, 0x00, 1 << 5 | 1, 0x41])) == set()  # after the null block: padding
    assert services([(2, 0x01, 0x21)]) == ()  # data before any packet start is not a packet


def test_caption_options_validate_and_name_the_field() -> None:
    assert CaptionOptions("both").webvtt and CaptionOptions("both").in_band
    assert not CaptionOptions("in-band").webvtt and not CaptionOptions().in_band
    with pytest.raises(ConfigError, match="caption mode 'sei'"):
        CaptionOptions("sei")
    with pytest.raises(ConfigError, match="'CC5'"):
        CaptionOptions(languages=(("CC5", "en"),))
    with pytest.raises(ConfigError, match="caption language CC3"):
        CaptionOptions(languages=(("CC3", "not a language"),))


def test_caption_language_arguments() -> None:
    assert parse_caption_language("cc3=spa") == ("CC3", "es")
    assert parse_caption_language("SERVICE12=pt_br") == ("SERVICE12", "pt-BR")
    for bad in ("CC3", "CC0=en", "SERVICE64=en"):
        with pytest.raises(ValueError, match=r"CC1\.\.CC4"):
            parse_caption_language(bad)
    with pytest.raises(ValueError, match="not a BCP-47 tag"):
        parse_caption_language("CC1=english please")


def test_default_languages_follow_the_audio() -> None:
    audio = ["en", "es"]
    assert [caption_language(c, {}, audio) for c in ("CC1", "CC2", "CC3", "CC4", "SERVICE1", "SERVICE2")] == [
        "en", "und", "es", "und", "en", "es"]
    assert caption_language("CC2", {"CC2": "fre"}, audio) == "fr"
    assert caption_language("CC3", {}, ["en"]) == "und"


def test_channel_2_codes_become_channel_1_for_the_decoder() -> None:
    assert _as_channel_1(0x1C20) == 0x9420  # CC2 RCL → CC1 RCL (odd parity: 0x14 → 0x94)
    assert _as_channel_1(0x1DAE) == 0x94AE  # CC4 ENM (field 2, channel 2) → CC1 ENM
    assert _as_channel_1(0x9D2F) == 0x942F  # CC4 EOC with parity
    assert _as_channel_1(0x1C70) == 0x9470  # CC2 PAC row 15
    assert _as_channel_1(0xC1C2) == 0xC1C2  # characters are untouched


CAPTIONS = (ClosedCaptions("CC1", "en", "English (CC1)"), ClosedCaptions("CC3", "pt-BR", "Portuguese (CC3)"),
            ClosedCaptions("SERVICE1", "en", "English (SERVICE1)"))


def _presentation(captions: tuple[ClosedCaptions, ...]) -> Presentation:
    video = VideoTrack(id="360p", path="video/360p", init="init.mp4", codecs="avc1.64001e", timescale=30000,
                       segments=(Segment("seg_00001.m4s", 0.0, 2.0, 50_000, 0, 60000),), width=640, height=360,
                       frame_rate=Fraction(30000, 1001))
    return Presentation(duration=2.0, segment_seconds=2, video=(video,), closed_captions=captions)


def test_dash_descriptors_use_iso_639_2() -> None:
    assert caption_accessibility(CAPTIONS) == [(CEA608_SCHEME, "CC1=eng;CC3=por"), (CEA708_SCHEME, "1=lang:eng")]
    assert caption_accessibility(()) == []
    mpd = render_mpd(_presentation(CAPTIONS))
    assert mpd.index(CEA608_SCHEME) < mpd.index("<Representation")  # schema order


def test_hls_group_and_variants() -> None:
    text = render_master(_presentation(CAPTIONS))
    assert ('#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID="cc",LANGUAGE="pt-BR",NAME="Portuguese (CC3)",DEFAULT=NO,'
            'AUTOSELECT=YES,INSTREAM-ID="CC3"') in text
    assert 'INSTREAM-ID="SERVICE1"' in text and 'CLOSED-CAPTIONS="cc"' in text and "URI" not in text.split(
        "CLOSED-CAPTIONS,")[1].split("\n")[0]
    assert "CLOSED-CAPTIONS=NONE" in render_master(_presentation(()))


def test_qc_in_band_check_wants_exactly_the_declared_captions() -> None:
    assert check_in_band("c", ["CC1", "SERVICE1"], ["CC1", "SERVICE1"], "video/90p").passed
    missing = check_in_band("c", ["CC1", "CC3"], ["CC1"], "video/90p")
    assert not missing.passed and "CC3 declared but video/90p carries no data for it" in missing.detail
    extra = check_in_band("c", ["CC1"], ["CC1", "CC2"], "video/90p")
    assert not extra.passed and "video/90p carries CC2, not declared" in extra.detail


def _source(fps: Fraction) -> SourceInfo:
    video = VideoStream(index=0, codec="h264", width=1280, height=720, fps=fps, avg_fps=fps)
    audio = (AudioStream(index=1, codec="aac", channels=2, sample_rate=48000, language="eng"),)
    return SourceInfo(path="/m/ep.mp4", format_name="mov,mp4,m4a,3gp,3g2,mj2", size_bytes=1, duration=60.0,
                      video=video, audio=audio)


def test_in_band_captions_keep_the_sei_only_when_every_picture_is_kept() -> None:
    in_band = PlanOptions(captions=CaptionOptions("both"))
    kept = plan_encode(_source(Fraction(30000, 1001)), LADDER, in_band)
    assert kept.a53cc and video_output_args(kept, kept.video[0])["a53cc"] == 1
    default = plan_encode(_source(Fraction(30000, 1001)), LADDER)
    assert not default.a53cc and video_output_args(default, default.video[0])["a53cc"] == 0
    halved = plan_encode(_source(Fraction(120)), LADDER, in_band)
    assert not halved.a53cc and video_output_args(halved, halved.video[0])["a53cc"] == 0
    assert "in-band captions not kept: the frame rate changes (WebVTT captions are unaffected)" in halved.notes
