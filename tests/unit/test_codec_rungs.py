"""HEVC/AV1 rungs, pure: codec lists, ladder factors, the plan, the encoder argv, HLS variants, DASH
AdaptationSets (re-read with m3u8 and mpegdash) and the CODECS rules against ffprobe's profile/level."""

from __future__ import annotations

import json
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import m3u8
import pytest
from mpegdash.parser import MPEGDASHParser

from pipelines.codecs import parse_codecs
from pipelines.dash import render_mpd
from pipelines.errors import ConfigError
from pipelines.ffmpeg import encode_argv, video_output_args
from pipelines.hls import render_master
from pipelines.ladder import load_ladder, parse_ladder
from pipelines.options import PlanOptions
from pipelines.plan import plan_encode
from pipelines.presentation import ClosedCaptions, Presentation, Segment, VideoTrack
from pipelines.qc import streams
from pipelines.qc.bandwidth import check_codecs
from pipelines.qc.streams import bit_depth
from pipelines.rendition import VideoRendition
from pipelines.source import AudioStream, SourceInfo, VideoStream

ALL = ("h264", "hevc", "av1")


def source(*, transfer: str = "", width: int = 1280, height: int = 720) -> SourceInfo:
    video = VideoStream(index=0, codec="hevc", width=width, height=height, color_transfer=transfer,
                        pix_fmt="yuv420p10le" if transfer else "yuv420p", bit_depth=10 if transfer else 8)
    return SourceInfo(path="/m/ep.mp4", format_name="mov,mp4,m4a,3gp,3g2,mj2", size_bytes=1, duration=10.0,
                      video=video, audio=(AudioStream(index=1, codec="aac", channels=2, sample_rate=48000),))


@pytest.mark.parametrize(("text", "expected"), [
    ("h264", ("h264",)), ("av1,h264", ("h264", "av1")), ("H264, HEVC,av1,hevc", ALL)])
def test_parse_codecs_orders_and_dedupes(text: str, expected: tuple[str, ...]) -> None:
    assert parse_codecs(text) == expected


@pytest.mark.parametrize(("text", "fragment"), [
    ("h264,vp9", r"unknown codec\(s\) vp9"), ("hevc,av1", "leaves out h264")])
def test_parse_codecs_refuses(text: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        parse_codecs(text)


def test_builtin_ladders_carry_the_factors() -> None:
    for name in ("default", "compact"):
        ladder = load_ladder(name)
        assert (ladder.factor("hevc"), ladder.factor("av1")) == (0.6, 0.5)


def test_a_ladder_without_a_factor_is_refused_when_the_codec_is_asked_for() -> None:
    ladder = parse_ladder('[[rungs]]\nid = "a"\nwidth = 640\nheight = 360\nbitrate = 800000\n', source="mine.toml")
    plan_encode(source(), ladder)  # H.264 only: no factor needed
    with pytest.raises(ConfigError, match=r"no bitrate factor for av1") as caught:
        plan_encode(source(), ladder, PlanOptions(codecs=("h264", "av1")))
    assert "[codecs.av1]" in caught.value.hint


@pytest.mark.parametrize(("table", "fragment"), [
    ("[codecs.vp9]\nbitrate_factor = 0.5", "unknown codec"),
    ("[codecs.av1]\nbitrate_factor = 3.0", "out of range"),
    ("[codecs.av1]\nfactor = 0.5", "exactly `bitrate_factor`"),
    ("[codecs.av1]\nbitrate_factor = 'half'", "not a number"),
])
def test_bad_factor_tables(table: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        parse_ladder(f'[[rungs]]\nid = "a"\nwidth = 640\nheight = 360\nbitrate = 800000\n{table}\n', source="x")


def test_plan_adds_each_codec_at_its_factor() -> None:
    plan = plan_encode(source(), load_ladder("default"), PlanOptions(codecs=ALL))
    h264 = [r for r in plan.video if r.codec == "h264"]
    by_id = {r.id: r for r in plan.video}
    assert [r.id for r in plan.video][:len(h264)] == [r.id for r in h264]  # H.264 first
    assert len(plan.video) == 3 * len(h264)
    top = by_id["720p"]
    hevc, av1 = by_id["720p-hevc"], by_id["720p-av1"]
    assert (hevc.width, hevc.height, hevc.bitrate, hevc.maxrate, hevc.bufsize) == (1280, 720, 2_700_000,
                                                                                   4_050_000, 5_400_000)
    assert (av1.bitrate, av1.profile, av1.rung, av1.pix_fmt, av1.dynamic_range) == (
        2_250_000, "main", "720p", "yuv420p", "SDR")
    assert (hevc.profile, top.profile, top.codec) == ("main", "high", "h264")
    assert plan.codecs == ALL


@pytest.mark.parametrize(("transfer", "video_range"), [("smpte2084", "PQ"), ("arib-std-b67", "HLG")])
def test_hdr_master_keeps_hdr_in_hevc_and_av1_only(transfer: str, video_range: str) -> None:
    plan = plan_encode(source(transfer=transfer), load_ladder("default"), PlanOptions(codecs=ALL))
    assert plan.tonemap
    for rung in plan.video:
        hdr = rung.codec != "h264"
        assert rung.dynamic_range == (video_range if hdr else "SDR")
        assert rung.pix_fmt == ("yuv420p10le" if hdr else "yuv420p")
    assert {r.profile for r in plan.video if r.codec == "hevc"} == {"main10"}
    assert any(f"keep {video_range} HDR" in note for note in plan.notes)
    hevc = next(r for r in plan.video if r.codec == "hevc")
    args = video_output_args(plan, hevc)
    assert (args["color_primaries"], args["colorspace"], args["profile:v"]) == ("bt2020", "bt2020nc", "main10")
    assert args["color_trc"] == transfer


def test_one_ffmpeg_one_decode_shared_scalers_and_the_keyframe_grid() -> None:
    plan = plan_encode(source(transfer="smpte2084"), load_ladder("compact"), PlanOptions(codecs=ALL))
    argv = encode_argv(plan, ffmpeg="ffmpeg", source=Path("/m/ep.mp4"), out=Path("/o"), scratch=Path("/s"))
    assert argv.count("-i") == 1
    graph = argv[argv.index("-filter_complex") + 1]
    assert graph.count("]fps=") == 1  # one timed picture, split into the SDR (tone-mapped) and HDR branches
    assert graph.count("]tonemap=") == 1 and "format=pix_fmts=yuv420p10le" in graph
    h264 = sum(r.codec == "h264" for r in plan.video)
    # each size scaled once per dynamic range: H.264 (SDR) and HEVC+AV1 (PQ) sharing a scaler
    assert graph.count("]scale=") == 2 * h264
    gop = str(plan.gop_frames)
    hevc = video_output_args(plan, next(r for r in plan.video if r.codec == "hevc"))
    assert hevc["x265-params"] == f"keyint={gop}:min-keyint={gop}:scenecut=0:open-gop=0:log-level=error"
    assert (hevc["c:v"], hevc["tag:v"], hevc["forced-idr"]) == ("libx265", "hvc1", 1)
    av1 = video_output_args(plan, next(r for r in plan.video if r.codec == "av1"))
    assert av1["svtav1-params"] == f"keyint={gop}:irefresh-type=2:scd=0:rc=1:lp=1"  # lp: SVT-AV1 threads per rung
    assert av1["force_key_frames"] == hevc["force_key_frames"] == f"expr:gte(t,n_forced*{plan.gop_seconds})"


def test_h264_only_argv_is_unchanged_by_the_codec_option() -> None:
    plan = plan_encode(source(), load_ladder("compact"))
    argv = encode_argv(plan, ffmpeg="ffmpeg", source=Path("/m/ep.mp4"), out=Path("/o"), scratch=Path("/s"))
    assert "libx265" not in argv and "libsvtav1" not in argv and "VIDEO-RANGE" not in " ".join(argv)


def _track(track_id: str, codec: str, codecs: str, size: int, video_range: str = "SDR") -> VideoTrack:
    segments = tuple(Segment(uri=f"seg_{n:05d}.m4s", start=2.0 * (n - 1), duration=2.0, size=size,
                             decode_time=25600 * (n - 1), duration_units=25600) for n in (1, 2))
    return VideoTrack(id=track_id, path=f"video/{track_id}", init="init.mp4", codecs=codecs, timescale=12800,
                      segments=segments, width=640, height=360, frame_rate=Fraction(25), codec=codec,
                      video_range=video_range)


MIXED = Presentation(duration=4.0, segment_seconds=2, video=(
    _track("360p-av1", "av1", "av01.0.04M.10", 40_000, "PQ"), _track("360p", "h264", "avc1.64001e", 90_000),
    _track("360p-hevc", "hevc", "hvc1.2.4.L90.90", 50_000, "PQ")))


def test_hls_lists_h264_first_with_exact_codecs_and_video_range() -> None:
    master = m3u8.loads(render_master(MIXED))
    listed = [(p.uri, p.stream_info.codecs, p.stream_info.video_range) for p in master.playlists]
    assert listed == [("video/360p/index.m3u8", "avc1.64001e", "SDR"),
                      ("video/360p-hevc/index.m3u8", "hvc1.2.4.L90.90", "PQ"),
                      ("video/360p-av1/index.m3u8", "av01.0.04M.10", "PQ")]
    assert [p.uri for p in master.iframe_playlists] == [f"video/{i}/iframes.m3u8" for i in
                                                        ("360p", "360p-hevc", "360p-av1")]
    h264_only = Presentation(duration=4.0, segment_seconds=2, video=(MIXED.video[1],))
    assert "VIDEO-RANGE" not in render_master(h264_only)


def test_dash_one_adaptation_set_per_codec_with_hdr_descriptors() -> None:
    mpd = MPEGDASHParser.parse(render_mpd(MIXED))
    sets = mpd.periods[0].adaptation_sets
    assert [[r.codecs for r in s.representations] for s in sets] == [
        ["avc1.64001e"], ["hvc1.2.4.L90.90"], ["av01.0.04M.10"]]
    assert sets[0].essential_properties is None
    for hdr in sets[1:]:
        assert [(p.scheme_id_uri, p.value) for p in hdr.essential_properties] == [
            ("urn:mpeg:mpegB:cicp:TransferCharacteristics", "16")]
        assert [(p.scheme_id_uri, p.value) for p in hdr.supplemental_properties] == [
            ("urn:mpeg:mpegB:cicp:ColourPrimaries", "9"), ("urn:mpeg:mpegB:cicp:MatrixCoefficients", "9")]


@pytest.mark.parametrize(("codec", "declared", "video", "depth", "passed"), [
    ("hevc", "hvc1.1.6.L93.B0,mp4a.40.2", ("Main", 93), 8, True),
    ("hevc", "hvc1.2.4.L120.90,mp4a.40.2", ("Main 10", 120), 10, True),
    ("hevc", "hvc1.1.6.L120.90,mp4a.40.2", ("Main 10", 120), 10, False),  # profile_idc 1 for a Main 10 stream
    ("hevc", "hvc1.1.6.L90.90,mp4a.40.2", ("Main", 93), 8, False),  # level
    ("av1", "av01.0.04M.08,mp4a.40.2", ("Main", 4), 8, True),
    ("av1", "av01.0.04M.08,mp4a.40.2", ("Main", 4), 10, False),  # bit depth
    ("av1", "av01.0.05M.08,mp4a.40.2", ("Main", 4), 8, False),  # level
    ("av1", "avc1.64001e,mp4a.40.2", ("Main", 4), 8, False),
])
def test_codecs_rule_per_codec(codec: str, declared: str, video: tuple[str, int], depth: int,
                               passed: bool) -> None:
    result = check_codecs("c", declared, video, ["mp4a.40.2"], codec=codec, bit_depth=depth)
    assert result.passed is passed, result.detail


def test_bit_depth_of_pix_fmts() -> None:
    assert [bit_depth(p) for p in ("yuv420p", "yuv420p10le", "yuv422p12le", "gbrp")] == [8, 10, 12, 8]


def test_options_refuse_a_non_canonical_codec_tuple() -> None:
    with pytest.raises(ConfigError, match="canonical order"):
        PlanOptions(codecs=("av1", "h264"))
    assert replace(PlanOptions(), codecs=ALL).codecs == ALL


HEVC_PQ = VideoRendition("180p-hevc", 320, 180, 150_000, 225_000, 300_000, "main10", codec="hevc",
                         dynamic_range="PQ", pix_fmt="yuv420p10le", rung="180p")
HEVC_STREAM = {"codec_type": "video", "codec_name": "hevc", "codec_tag_string": "hvc1", "profile": "Main 10",
               "level": 60, "width": 320, "height": 180, "pix_fmt": "yuv420p10le", "r_frame_rate": "25/1",
               "color_primaries": "bt2020", "color_transfer": "smpte2084", "color_space": "bt2020nc"}


@pytest.mark.parametrize(("override", "failing"), [
    ({}, set()),
    ({"codec_tag_string": "hev1"}, {"video.180p-hevc.codec"}),  # Apple: HEVC in fMP4 as hvc1
    ({"profile": "Main"}, {"video.180p-hevc.profile"}),
    ({"pix_fmt": "yuv420p"}, {"video.180p-hevc.pix_fmt"}),
    ({"color_transfer": "bt709"}, {"video.180p-hevc.colour"}),
])
def test_hevc_stream_checks(override: dict[str, object], failing: set[str]) -> None:
    doc = {"streams": [{**HEVC_STREAM, **override}], "packets": []}
    results = streams.video_stream_checks(HEVC_PQ, streams.parse_probe(json.dumps(doc)), Fraction(25))
    assert {r.name for r in results if not r.passed} == failing


def test_in_band_captions_are_signalled_on_the_h264_rungs_only() -> None:
    """libx264 keeps A/53 caption SEI (-a53cc); x265 and SVT-AV1 in ffmpeg 5.1 carry none. RFC 8216 §4.3.4.2:
    once a variant says CLOSED-CAPTIONS=NONE every variant must, so HEVC/AV1 variants leave the attribute out."""
    captioned = replace(MIXED, closed_captions=(ClosedCaptions("CC1", "en", "English (CC1)"),))
    master = m3u8.loads(render_master(captioned))
    by_uri = {p.uri: p.stream_info.closed_captions for p in master.playlists}
    assert by_uri == {"video/360p/index.m3u8": '"cc"', "video/360p-hevc/index.m3u8": None,
                      "video/360p-av1/index.m3u8": None}
    assert "CLOSED-CAPTIONS=NONE" not in render_master(captioned)
    sets = MPEGDASHParser.parse(render_mpd(captioned)).periods[0].adaptation_sets
    assert [[a.value for a in s.accessibilities or []] for s in sets] == [["CC1=eng"], [], []]
