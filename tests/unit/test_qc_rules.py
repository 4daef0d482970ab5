"""QC's pure rules on hand-made numbers: passing and failing tables, and the parsers on captured text."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from pipelines.qc import bandwidth, captions, clients, manifests, streams, timing
from pipelines.qc.mpd import DashRepresentation, expand_template, expand_timeline, segment_uris
from pipelines.qc.playlists import Entry, Master, MediaPlaylist, Rendition, Variant, parse_master, parse_media, resolve
from pipelines.qc.verdict import MAX_LISTED, verdict
from pipelines.rendition import AudioRendition, VideoRendition
from pipelines.subtitles import Cue, wvtt
from pipelines.subtitles.cue import Placement
from pipelines.subtitles.webvtt import segment_webvtt

F25 = Fraction(25)
F2997 = Fraction(30000, 1001)
F23976 = Fraction(24000, 1001)


# --- verdict ---------------------------------------------------------------------------------------


def test_verdict_lists_a_few_problems_then_counts() -> None:
    assert verdict("x", [], "ok").passed
    result = verdict("x", [f"p{i}" for i in range(MAX_LISTED + 3)], "sum")
    assert not result.passed
    assert result.detail.endswith("; and 3 more [sum]")


# --- timing: grids ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("index", "step", "fps", "expected"), [
    (0, 2, F25, 0.0), (3, 2, F25, 6.0), (1, 6, F23976, 144 / F23976), (7, 6, F23976, 1007 / F23976),
    (1, 2, F2997, 60 / F2997),
])
def test_grid_time_snaps_up_to_the_frame_grid(index: int, step: int, fps: Fraction, expected: float) -> None:
    assert timing.grid_time(index, step, fps) == pytest.approx(float(expected))


def test_keyframe_grid_stops_before_the_last_frame() -> None:
    assert timing.keyframe_grid(2, F25, 6.0) == [0.0, 2.0, 4.0]
    assert timing.keyframe_grid(2, F25, 6.04) == [0.0, 2.0, 4.0, 6.0]  # a frame starts at 6.0


# --- timing: keyframes ------------------------------------------------------------------------------


@pytest.mark.parametrize(("starts", "keyframes", "passed", "fragment"), [
    ([("s1", 0.0), ("s2", 4.0)], [0.0, 2.0, 4.0], True, "2 segment starts, 3 keyframes"),
    ([("s1", 0.0), ("s2", 4.0)], [0.0, 2.0, 4.019], True, ""),  # within half a frame (20 ms)
    ([("s1", 0.0), ("s2", 4.0)], [0.08, 2.08, 4.08], False, "s1 starts at 0.000 s but the nearest keyframe pts is "
                                                            "0.080 s (+2.0 frames; allowed ±0.5)"),
    ([("s1", 0.0), ("s2", 4.0)], [0.0, 2.0], False, "s2 starts at 4.000 s but the nearest keyframe pts is 2.000 s"),
    ([("s1", 0.0)], [], False, "s1 starts at 0.000 s and the rendition has no keyframe at all"),
])
def test_keyframes_at_segment_starts(starts: list[tuple[str, float]], keyframes: list[float], passed: bool,
                                     fragment: str) -> None:
    result = timing.check_keyframes_at_starts("video.720p.keyframes", starts, keyframes, F25)
    assert (result.name, result.passed) == ("video.720p.keyframes", passed)
    assert fragment in result.detail


@pytest.mark.parametrize(("keyframes", "passed", "fragments"), [
    ([0.0, 2.0, 4.0], True, ["expected 3 keyframes every 2 s"]),
    ([0.0, 2.0, 3.2, 4.0], False, ["keyframe off the 2 s grid at 3.200 s"]),  # a scene-cut IDR
    ([0.0, 4.0], False, ["no keyframe at 2.000 s"]),
    ([0.0, 2.5, 4.0], False, ["no keyframe at 2.000 s", "keyframe off the 2 s grid at 2.500 s"]),
])
def test_keyframe_grid(keyframes: list[float], passed: bool, fragments: list[str]) -> None:
    result = timing.check_keyframe_grid("video.720p.gop", keyframes, 2, F25, 6.0)
    assert result.passed is passed
    for fragment in fragments:
        assert fragment in result.detail


def test_keyframe_grid_at_23976_uses_the_frame_grid() -> None:
    keys = [i / float(F23976) for i in (0, 48, 96, 144)]  # ceil(k*2*23.976) = 0, 48, 96, 144
    assert timing.check_keyframe_grid("g", keys, 2, F23976, 150 / float(F23976)).passed


@pytest.mark.parametrize(("lists", "passed", "fragment"), [
    ({"1080p": [0.0, 2.0, 4.0], "720p": [0.0, 2.0, 4.0], "360p": [0.0, 2.01, 4.0]}, True, "3 renditions"),
    ({"1080p": [0.0, 2.0, 4.0], "720p": [0.0, 2.0]}, False, "720p has 2 keyframes, 1080p has 3"),
    ({"1080p": [0.0, 2.0, 4.0], "720p": [0.0, 2.5, 4.0]}, False,
     "720p keyframe #2 at 2.500 s, 1080p at 2.000 s (1 differ)"),
    ({}, True, "no video renditions"),
])
def test_keyframes_aligned(lists: dict[str, list[float]], passed: bool, fragment: str) -> None:
    result = timing.check_keyframes_aligned("video.keyframes.aligned", lists, F25)
    assert result.passed is passed
    assert fragment in result.detail


# --- timing: segments and durations -----------------------------------------------------------------


@pytest.mark.parametrize(("durations", "fps", "passed", "fragment"), [
    ([6.0, 6.0, 3.2], F25, True, "3 segments of 6.000000 s"),
    ([6.0, 6.0, 6.0], F25, True, ""),  # the last may equal the target
    ([6.0, 4.0, 6.0], F25, False, "s2 lasts 4.000000 s, expected 6.000000 s (-50.0 frames)"),
    ([6.0, 6.0, 6.2], F25, False, "s3 lasts 6.200000 s, expected at most 6.000000 s (+5.0 frames)"),
    ([6.0, 6.02], F25, True, ""),  # half a frame is allowed
    # 23.976: boundaries at ceil(k*143.856) frames: 144, 288, ..., 864, 1007: the 7th segment is 143 frames.
    ([144 / float(F23976)] * 6 + [143 / float(F23976), 144 / float(F23976), 1.0], F23976, True, ""),
    ([144 / float(F23976)] * 7 + [1.0], F23976, False, "s7 lasts 6.006000 s, expected 5.964292 s (+1.0 frames)"),
])
def test_video_segment_durations(durations: list[float], fps: Fraction, passed: bool, fragment: str) -> None:
    segments = [(f"s{i}", d) for i, d in enumerate(durations, start=1)]
    result = timing.check_video_segments("video.720p.segments", segments, 6, fps)
    assert result.passed is passed, result.detail
    assert fragment in result.detail


@pytest.mark.parametrize(("durations", "passed"), [
    ([6.005333, 6.005333, 0.02], True), ([6.05, 1.0], True), ([6.051, 1.0], False),
])
def test_audio_segment_durations(durations: list[float], passed: bool) -> None:
    result = timing.check_audio_segments("audio.en.segments", [(f"s{i}", d) for i, d in enumerate(durations)], 6)
    assert result.passed is passed
    if not passed:
        assert "s0 lasts 6.051000 s, more than 6.050 s" in result.detail


@pytest.mark.parametrize(("measured", "expected", "tolerance", "passed"), [
    (10.0, 10.0, 0.04, True), (10.04, 10.0, 0.04, True), (9.92, 10.0, 0.04, False), (4.032, 4.0, 0.0427, True),
])
def test_total_duration(measured: float, expected: float, tolerance: float, passed: bool) -> None:
    result = timing.check_duration("video.720p.duration", measured, expected, tolerance, "source video")
    assert result.passed is passed
    assert f"{expected:.6f} s" in result.detail


def test_timeline_start() -> None:
    assert timing.check_timeline_start("video.x.start", 0.0, 0.02).passed
    failing = timing.check_timeline_start("video.x.start", 0.08, 0.02)
    assert not failing.passed
    assert "first pts is 0.080000 s, expected 0" in failing.detail


# --- bandwidth --------------------------------------------------------------------------------------


def test_segment_rates_peak_and_average() -> None:
    rate = bandwidth.segment_rates([250_000, 500_000, 100_000], [2.0, 2.0, 0.0])
    assert (rate.peak, rate.average) == (2_000_000, 1_500_000)
    assert rate.peak_low < rate.peak


@pytest.mark.parametrize(("declared", "passed", "fragment"), [
    (1_000_000, True, "allowed"), (1_100_000, True, ""), (999_999, True, ""),  # writer's whole-bit rounding
    (999_000, False, "BANDWIDTH=999000 is below the measured 1000000 bit/s (-0.1%)"),
    (1_100_003, False, "BANDWIDTH=1100003 is more than 1.10x the measured 1000000 bit/s (+10.0%)"),
    (None, False, "BANDWIDTH is missing; measured 1000000 bit/s"),
])
def test_declared_bandwidth(declared: int | None, passed: bool, fragment: str) -> None:
    result = bandwidth.check_declared("hls.variant.720p.bandwidth", "BANDWIDTH", declared, 1_000_000.0)
    assert result.passed is passed
    assert fragment in result.detail


def test_extinf_rounding_on_a_tiny_tail_segment_is_allowed() -> None:
    # 577 bytes in 1024/48000 s, written as EXTINF 0.021333: the true rate is 216375, EXTINF gives 216378.
    rate = bandwidth.segment_rates([577], [0.021333])
    assert round(rate.peak) == 216378
    assert bandwidth.check_declared("b", "BANDWIDTH", 216375, rate.peak, rate.peak_low).passed


@pytest.mark.parametrize(("declared", "video", "audio", "passed", "fragment"), [
    ("avc1.64001f,mp4a.40.2", ("High", 31), ["mp4a.40.2"], True, "High@3.1"),
    ("avc1.4d401e,mp4a.40.2", ("Main", 30), ["mp4a.40.2"], True, ""),
    ("avc1.42c00d", ("Constrained Baseline", 13), [], True, ""),
    ("avc1.42000d", ("Constrained Baseline", 13), [], False, "does not name avc1.42xx0d"),
    ("avc1.64001f,mp4a.40.2", ("Main", 31), ["mp4a.40.2"], False, "does not name avc1.4dxx1f (Main@3.1)"),
    ("avc1.640028,mp4a.40.2", ("High", 31), ["mp4a.40.2"], False, "does not name avc1.64xx1f"),
    ("avc1.64001f", ("High", 31), ["mp4a.40.2"], False, "lacks mp4a.40.2"),
    ("avc1.64001f,mp4a.40.5", ("High", 31), ["mp4a.40.2"], False, "names mp4a.40.5, not measured"),
])
def test_codecs(declared: str, video: tuple[str, int], audio: list[str], passed: bool, fragment: str) -> None:
    result = bandwidth.check_codecs("hls.variant.720p.codecs", declared, video, audio)
    assert result.passed is passed, result.detail
    assert fragment in result.detail


def test_aac_codec_names() -> None:
    assert bandwidth.aac_codec("LC") == "mp4a.40.2"
    assert bandwidth.aac_codec("HE-AAC") == "mp4a.40.5"


# --- streams ----------------------------------------------------------------------------------------

PROBE_JSON = json.dumps({
    "packets": [
        {"stream_index": 0, "pts_time": "0.000000", "duration_time": "0.040000", "flags": "K_"},
        {"stream_index": 0, "pts_time": "0.040000", "duration_time": "0.040000", "flags": "__"},
        {"stream_index": 0, "pts_time": "0.080000", "flags": "__"},
        {"stream_index": 0, "pts_time": "N/A", "flags": "__"},
        {"stream_index": 1, "pts_time": "9.0", "flags": "K_"},
    ],
    "streams": [{"codec_type": "video", "codec_name": "h264", "profile": "High", "level": 31, "width": 1280,
                 "height": 720, "pix_fmt": "yuv420p", "r_frame_rate": "25/1", "avg_frame_rate": "25/1",
                 "color_primaries": "bt709", "color_transfer": "bt709", "color_space": "bt709"}],
})
RUNG = VideoRendition("720p", 1280, 720, 3_000_000, 4_500_000, 6_000_000, "high")


def test_parse_probe_keeps_stream_zero_packets_with_a_pts() -> None:
    probe = streams.parse_probe(PROBE_JSON)
    assert [p.pts for p in probe.packets] == [0.0, 0.04, 0.08]
    assert probe.keyframes == (0.0,)
    assert probe.end == pytest.approx(0.12)  # the packet without a duration counts the median
    assert probe.streams[0].frame_rate == 25
    with pytest.raises(ValueError, match="Expecting value"):
        streams.parse_probe("not json")


def test_probe_argv_reads_one_local_file() -> None:
    from pathlib import Path
    argv = streams.probe_argv("ffprobe", Path("/out/x.mp4"))
    assert argv[:5] == ["ffprobe", "-v", "error", "-hide_banner", "-protocol_whitelist"]
    assert argv[5] == "file"
    assert argv[-1] == "file:/out/x.mp4"


@pytest.mark.parametrize(("override", "failing", "fragment"), [
    ({}, set(), ""),
    ({"profile": "Main"}, {"video.720p.profile"}, "profile 'Main', the rung asks for 'high' (High)"),
    ({"width": 1278}, {"video.720p.size"}, "1278x720, expected 1280x720"),
    ({"pix_fmt": "yuv420p10le"}, {"video.720p.pix_fmt"}, "pix_fmt 'yuv420p10le'"),
    ({"r_frame_rate": "30/1", "avg_frame_rate": "30/1"}, {"video.720p.frame_rate"}, "30 fps (30.000), expected 25"),
    ({"codec_name": "hevc"}, {"video.720p.codec"}, "codec 'hevc'"),
    ({"color_transfer": "smpte2084"}, {"video.720p.colour"}, "bt709/smpte2084/bt709, expected bt709/bt709/bt709"),
])
def test_video_stream_checks(override: dict[str, object], failing: set[str], fragment: str) -> None:
    doc = json.loads(PROBE_JSON)
    doc["streams"][0].update(override)
    results = streams.video_stream_checks(RUNG, streams.parse_probe(json.dumps(doc)), F25)
    assert {r.name for r in results if not r.passed} == failing
    assert all(fragment in r.detail for r in results if not r.passed)


def test_baseline_rung_accepts_constrained_baseline() -> None:
    doc = json.loads(PROBE_JSON)
    doc["streams"][0]["profile"] = "Constrained Baseline"
    rung = VideoRendition("720p", 1280, 720, 1, 1, 1, "baseline")
    assert all(r.passed for r in streams.video_stream_checks(rung, streams.parse_probe(json.dumps(doc)), F25))


def test_two_streams_in_a_rendition_fail() -> None:
    doc = json.loads(PROBE_JSON)
    doc["streams"].append({"codec_type": "audio", "codec_name": "aac"})
    results = streams.video_stream_checks(RUNG, streams.parse_probe(json.dumps(doc)), F25)
    assert [(r.name, r.passed) for r in results] == [("video.720p.streams", False)]
    assert "found video, audio" in results[0].detail


@pytest.mark.parametrize(("stream", "failing"), [
    ({"codec_type": "audio", "codec_name": "aac", "profile": "LC", "channels": 2, "sample_rate": "48000"}, set()),
    ({"codec_type": "audio", "codec_name": "aac", "profile": "HE-AAC", "channels": 2, "sample_rate": "48000"},
     {"audio.en.codec"}),
    ({"codec_type": "audio", "codec_name": "aac", "profile": "LC", "channels": 6, "sample_rate": "44100"},
     {"audio.en.channels", "audio.en.sample_rate"}),
])
def test_audio_stream_checks(stream: dict[str, object], failing: set[str]) -> None:
    probe = streams.parse_probe(json.dumps({"streams": [stream], "packets": []}))
    results = streams.audio_stream_checks(AudioRendition("en", 1, "en", "English", 128_000), probe)
    assert {r.name for r in results if not r.passed} == failing


# --- playlists and manifests ------------------------------------------------------------------------

MASTER = """#EXTM3U
#EXT-X-VERSION:6
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",LANGUAGE="en",NAME="English",DEFAULT=YES,URI="audio/en/index.m3u8"
#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="ko",NAME="Korean",URI="subtitles/ko/index.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=500000,AVERAGE-BANDWIDTH=400000,CODECS="avc1.4d401e,mp4a.40.2",RESOLUTION=640x360,AUDIO="audio",SUBTITLES="subs"
video/360p/index.m3u8
#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=20000,CODECS="avc1.4d401e",RESOLUTION=640x360,URI="video/360p/iframes.m3u8"
"""
IFRAMES = """#EXTM3U
#EXT-X-VERSION:5
#EXT-X-TARGETDURATION:6
#EXT-X-I-FRAMES-ONLY
#EXT-X-MAP:URI="init.mp4"
#EXTINF:6.000000,
#EXT-X-BYTERANGE:700@100
seg_00001.m4s
#EXTINF:5.500000,
#EXT-X-BYTERANGE:300
seg_00001.m4s
#EXT-X-ENDLIST
"""


def test_parse_master_and_media() -> None:
    master = parse_master(MASTER)
    assert master.variants == (Variant("video/360p/index.m3u8", 500_000, 400_000, "avc1.4d401e,mp4a.40.2",
                                       (640, 360), "audio", "subs"),)
    assert [(r.type, r.language) for r in master.renditions] == [("AUDIO", "en"), ("SUBTITLES", "ko")]
    assert master.iframe_variants[0].uri == "video/360p/iframes.m3u8"
    media = parse_media("video/360p/iframes.m3u8", IFRAMES)
    assert media.maps == ("init.mp4",)
    assert [e.byterange for e in media.entries] == [(700, 100), (300, 800)]  # no offset: follows the last
    with pytest.raises(ValueError, match="not a multivariant"):
        parse_master(IFRAMES)


@pytest.mark.parametrize(("base", "uri", "expected"), [
    ("master.m3u8", "video/360p/index.m3u8", "video/360p/index.m3u8"),
    ("video/360p/index.m3u8", "seg_00001.m4s", "video/360p/seg_00001.m4s"),
    ("video/360p/index.m3u8", "../../audio/en/init.mp4", "audio/en/init.mp4"),
    ("video/360p/index.m3u8", "../../../etc/passwd", None),
    ("master.m3u8", "/etc/passwd", None), ("master.m3u8", "https://cdn/x.m3u8", None),
    ("master.m3u8", "file:x.m3u8", None),
])
def test_resolve_keeps_uris_inside_the_output(base: str, uri: str, expected: str | None) -> None:
    assert resolve(base, uri) == expected


def _media(entries: list[Entry], target: int | None = 6, maps: tuple[str, ...] = ("init.mp4",)) -> MediaPlaylist:
    return MediaPlaylist("video/360p/index.m3u8", target, maps, tuple(entries))


def test_playlist_uris_and_byte_ranges() -> None:
    sizes: dict[str, int | None] = {"video/360p/init.mp4": 800, "video/360p/seg_00001.m4s": 1000,
                                    "video/360p/seg_00002.m4s": None}
    good = _media([Entry("seg_00001.m4s", 6.0, (700, 300))])
    assert manifests.check_playlist_uris(good, sizes).passed
    bad = _media([Entry("seg_00001.m4s", 6.0, (700, 301)), Entry("seg_00002.m4s", 6.0), Entry("/abs.m4s", 1.0)])
    result = manifests.check_playlist_uris(bad, sizes)
    assert result.name == "hls.video.360p.index.uris"
    assert "byte range 700@301 of seg_00001.m4s ends at 1001, the file has 1000 bytes" in result.detail
    assert "seg_00002.m4s (video/360p/seg_00002.m4s) does not exist" in result.detail
    assert "URI '/abs.m4s' is not a relative path inside the output" in result.detail


@pytest.mark.parametrize(("target", "durations", "passed", "fragment"), [
    (6, [6.0, 6.49, 2.0], True, "longest EXTINF 6.490000 (rounds to 6)"),
    (6, [6.0, 6.5], False, "EXTINF 6.500000 of s2 rounds above TARGETDURATION 6"),
    (None, [6.0], False, "has no EXT-X-TARGETDURATION"),
])
def test_target_duration(target: int | None, durations: list[float], passed: bool, fragment: str) -> None:
    playlist = _media([Entry(f"s{i}", d) for i, d in enumerate(durations, start=1)], target)
    result = manifests.check_target_duration(playlist)
    assert result.passed is passed
    assert fragment in result.detail


def test_master_renditions_by_resolution_and_type() -> None:
    master = Master((Variant("v", 1, 1, "", (640, 360)),), (Rendition("AUDIO", "a", "en", "E", "a.m3u8"),),
                    (Variant("i", 1, 1, "", (640, 360)),))
    assert manifests.check_master_renditions(master, [(640, 360)], 1, 0).passed
    result = manifests.check_master_renditions(master, [(640, 360), (1280, 720)], 2, 1)
    assert "variants have resolutions [(640, 360)], the rungs [(640, 360), (1280, 720)]" in result.detail
    assert "1 EXT-X-MEDIA TYPE=AUDIO, expected 2" in result.detail
    assert "0 EXT-X-MEDIA TYPE=SUBTITLES, expected 1" in result.detail


def _rep(timeline: tuple[tuple[int | None, int, int], ...], media: str = "video/360p/seg_$Number%05d$.m4s"
         ) -> DashRepresentation:
    return DashRepresentation("video", None, "360p", 500_000, 12800, 1, "video/360p/init.mp4", media, timeline)


def test_expand_timeline_and_template() -> None:
    assert expand_timeline(((0, 100, 2), (None, 40, 0)), 1) == [(1, 0, 100), (2, 100, 100), (3, 200, 100),
                                                                 (4, 300, 40)]
    assert expand_timeline(((500, 10, 0), (600, 10, 0)), 7) == [(7, 500, 10), (8, 600, 10)]
    with pytest.raises(ValueError, match="r=-1"):
        expand_timeline(((0, 100, -1),), 1)
    assert expand_template("$RepresentationID$/$Number%05d$-$Time$-$Bandwidth$$$.m4s", representation_id="a",
                           bandwidth=7, number=3, time=900) == "a/00003-900-7$.m4s"
    assert segment_uris(_rep(((0, 25600, 1),))) == ["video/360p/seg_00001.m4s", "video/360p/seg_00002.m4s"]


def test_dash_segments_must_match_the_files_exactly() -> None:
    sizes: dict[str, int | None] = {"video/360p/init.mp4": 800}
    rep = _rep(((0, 25600, 1),))
    on_disk = ["video/360p/seg_00001.m4s", "video/360p/seg_00002.m4s"]
    assert manifests.check_dash_segments("dash.video.360p.segments", rep, sizes, on_disk).passed
    result = manifests.check_dash_segments("d", rep, {}, [*on_disk[:1], "video/360p/seg_00003.m4s"])
    assert "initialization video/360p/init.mp4 does not exist" in result.detail
    assert "video/360p/seg_00002.m4s is addressed by the timeline but does not exist" in result.detail
    assert "video/360p/seg_00003.m4s is on disk but no S element addresses it" in result.detail
    assert manifests.template_pattern("video/360p/seg_$Number%05d$.m4s").fullmatch("seg_00012.m4s")
    assert manifests.template_folder(rep) == "video/360p"


def test_dash_text_and_representations() -> None:
    text = DashRepresentation("text", "ko", "text-ko", 100, 1, 1, None, None, (), base_url="subtitles/ko/x.vtt")
    assert manifests.check_dash_text("dash.text.ko.file", text, {"subtitles/ko/x.vtt": 50}).passed
    assert "does not exist or is empty" in manifests.check_dash_text("t", text, {"subtitles/ko/x.vtt": 0}).detail
    reps = [_rep(((0, 1, 0),)), text]
    assert not manifests.check_dash_representations(reps, [(0, 0)], 1, 1).passed
    assert "0 audio representations, expected 1" in manifests.check_dash_representations(reps, [], 1, 1).detail


@pytest.mark.parametrize(("hls", "dash", "made", "passed"), [
    (["en", "ko"], ["ko", "en"], ["en", "ko"], True),
    (["en"], ["en", "ko"], ["en", "ko"], False),
    (["en", None], ["en", "und"], ["en", "und"], False),
])
def test_languages_agree(hls: list[str | None], dash: list[str | None], made: list[str], passed: bool) -> None:
    assert manifests.check_languages("languages.audio", "audio", hls, dash, made).passed is passed


# --- clients ----------------------------------------------------------------------------------------


def test_client_streams() -> None:
    text = json.dumps({"streams": [{"codec_type": "video", "width": 640, "height": 360},
                                   {"codec_type": "audio"}, {"codec_type": "subtitle"}]})
    found = clients.parse_client_streams(text)
    assert clients.check_client("client.dash", "manifest.mpd", found, [(640, 360)], 1, 1).passed
    result = clients.check_client("client.hls", "master.m3u8", found, [(640, 360), (1280, 720)], 2)
    assert "with video [(640, 360)], the rungs are [(640, 360), (1280, 720)]" in result.detail
    assert "with 1 audio stream(s), expected 2" in result.detail
    from pathlib import Path
    # The MPD opens with no option; only the opt-in .vtt sidecar needs the dash demuxer told about .vtt.
    assert "-allowed_extensions" not in clients.client_argv("ffprobe", Path("/o/manifest.mpd"))
    assert "-allowed_extensions" in clients.client_argv("ffprobe", Path("/o/manifest.mpd"), sidecar=True)
    assert "-allowed_extensions" not in clients.client_argv("ffprobe", Path("/o/master.m3u8"), sidecar=True)
    wvtt_text = clients.parse_client_streams(json.dumps({"streams": [
        {"codec_type": "video", "width": 640, "height": 360}, {"codec_type": "audio"}, {"codec_type": "data"}]}))
    assert clients.check_client("client.dash", "manifest.mpd", wvtt_text, [(640, 360)], 1, 0, 1).passed
    missing = clients.check_client("client.dash", "manifest.mpd", found, [(640, 360)], 1, 0, 1)
    assert "with 0 data (text in ISO-BMFF) stream(s), expected 1" in missing.detail


# --- DASH text in ISO-BMFF ----------------------------------------------------------------------------

OVERLAP = (Cue(1.0, 5.0, "Long"), Cue(2.0, 4.0, "Top", Placement(line=0, line_percent=False)),
           Cue(5.5, 9.0, "Past the end"))


def _fragments(cues: tuple[Cue, ...], bounds: list[tuple[float, float]]) -> list[wvtt.FragmentCues]:
    return [wvtt.read_fragment_cues(wvtt.media_segment(cues, s, e, n)) for n, (s, e) in enumerate(bounds, 1)]


def test_fragment_cues_join_back_across_samples_and_segments() -> None:
    fragments = _fragments(OVERLAP, [(0.0, 2.0), (2.0, 4.0), (4.0, 6.0)])
    assert [(f.decode_time, f.duration) for f in fragments] == [(0, 2000), (2000, 2000), (4000, 2000)]
    joined = wvtt.join_cues(fragments)
    assert [(c.start_ms, c.end_ms, c.settings, c.payload) for c in joined] == [
        (1000, 5000, "", "Long"), (2000, 4000, "line:0", "Top"), (5500, 6000, "", "Past the end")]
    assert captions.check_fragment_cues("subtitles.fr.cues", joined, OVERLAP, 6000).passed
    lost = captions.check_fragment_cues("c", joined[:1] + joined[2:], OVERLAP, 6000)
    assert "document cue [2.000-4.000 'Top'] is in no text segment" in lost.detail
    moved = captions.check_fragment_cues("c", joined, (*OVERLAP[:1], Cue(2.0, 4.0, "Top"), OVERLAP[2]), 6000)
    assert "text segment cue [2.000-4.000 'Top'] is not in the document" in moved.detail  # its line:0 differs


def test_text_fragments_aligned_with_media_segments() -> None:
    fragments = _fragments(OVERLAP, [(0.0, 2.0), (2.0, 4.0), (4.0, 6.0)])
    read = [(f"subtitles/fr/seg_{n:05d}.m4s", f) for n, f in enumerate(fragments, 1)]
    media = [(0.0, 2.0), (2.0, 2.0), (4.0, 2.0)]
    assert captions.check_text_fragments("subtitles.fr.fragments", read, media).passed
    shifted = captions.check_text_fragments("f", read, [(0.0, 2.04), (2.04, 1.96), (4.0, 2.0)])
    assert "subtitles/fr/seg_00001.m4s covers 0-2000 ms, its media segment 0-2040 ms" in shifted.detail
    short = captions.check_text_fragments("f", [*read[:2], ("subtitles/fr/seg_00003.m4s", "is missing")], media)
    assert "subtitles/fr/seg_00003.m4s: is missing" in short.detail


def test_client_text_timing_from_sample_starts() -> None:
    # What ffprobe reads of OVERLAP through the MPD: sample starts and sizes (no durations), one data stream.
    packets = [(2, 0.0, 8), (2, 1.0, 20), (2, 2.0, 41), (2, 4.0, 20), (2, 5.0, 8), (2, 5.5, 28)]
    assert captions.check_client_text("client.dash.text", "manifest.mpd", packets, [OVERLAP], 6.0, 0.02).passed
    late = [(2, 0.0, 8), (2, 1.5, 20), *packets[2:]]
    assert "has text on screen at 1.500-5.000, 5.500-6.000, the document at 1.000-5.000, 5.500-6.000" in \
        captions.check_client_text("c", "manifest.mpd", late, [OVERLAP], 6.0, 0.02).detail
    assert "reads 1 text (data) stream(s) through manifest.mpd, the MPD has 2" in \
        captions.check_client_text("c", "manifest.mpd", packets, [OVERLAP, OVERLAP], 6.0, 0.02).detail
    assert captions.parse_text_packets('{"packets": [{"stream_index": 2, "pts_time": "1.000000", "size": "20"}]}') \
        == [(2, 1.0, 20)]


# --- captions ---------------------------------------------------------------------------------------

CUES = (Cue(0.2, 1.0, "Hello"), Cue(1.5, 2.6, "Across\nthe cut"), Cue(3.0, 3.8, "Bye"))
HEADER = "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n\n"
SEG1 = HEADER + "00:00:00.200 --> 00:00:01.000\nHello\n\n1\n00:00:01.500 --> 00:00:02.600 line:0\nAcross\nthe cut\n"
SEG2 = (HEADER + "NOTE a comment\n\n00:00:01.500 --> 00:00:02.600\nAcross\nthe cut\n\n"
        "00:00:03.000 --> 00:00:03.800\nBye\n")


def test_parse_vtt() -> None:
    parsed = captions.parse_vtt("\ufeff" + SEG2)
    assert parsed.signature_ok
    assert parsed.timestamp_map == {"MPEGTS": "0", "LOCAL": "00:00:00.000"}
    assert parsed.cues == (captions.TimedText(1500, 2600, "Across\nthe cut"), captions.TimedText(3000, 3800, "Bye"))
    assert not captions.parse_vtt("WEBVTTX\n").signature_ok
    with pytest.raises(ValueError, match="bad cue timing"):
        captions.parse_vtt("WEBVTT\n\n00:01.000 --> x\nHi\n")


def test_segment_files_union_equals_the_document() -> None:
    result = captions.check_segment_files("subtitles.ko.segments", [("s1", SEG1), ("s2", SEG2)], CUES)
    assert result.passed, result.detail
    assert "3 distinct cues" in result.detail


@pytest.mark.parametrize(("files", "fragment"), [
    ([("s1", SEG1)], "document cue [3.000-3.800 'Bye'] is in no segment"),
    ([("s1", SEG1), ("s2", SEG2.replace("03.000 -->", "03.500 -->"))], "segment cue [3.500-3.800 'Bye'] is not in"),
    ([("s1", SEG1), ("s2", None)], "s2 is missing"),
    ([("s1", SEG1.replace("MPEGTS:0", "MPEGTS:90000")), ("s2", SEG2)], "s1: X-TIMESTAMP-MAP is {'MPEGTS': '90000'"),
    ([("s1", SEG1.replace("X-TIMESTAMP-MAP", "X-OTHER")), ("s2", SEG2)], "s1: X-TIMESTAMP-MAP is None"),
    ([("s1", "\n" + SEG1), ("s2", SEG2)], "s1 does not begin with WEBVTT"),
])
def test_segment_files_failures(files: list[tuple[str, str | None]], fragment: str) -> None:
    result = captions.check_segment_files("subtitles.ko.segments", files, CUES)
    assert not result.passed
    assert fragment in result.detail


def test_vtt_packets_and_cue_times() -> None:
    text = json.dumps({"packets": [{"pts_time": "0.200", "duration_time": "0.800"},
                                   {"pts_time": "1.500", "duration_time": "1.100"},
                                   {"pts_time": "3.000", "duration_time": "0.800"}]})
    measured = captions.parse_vtt_packets(text)
    assert captions.check_cue_times("subtitles.ko.cues", "x.vtt", measured, CUES, 0.04).passed
    shifted = [measured[0], (2.0, 3.1), measured[2]]
    result = captions.check_cue_times("subtitles.ko.cues", "x.vtt", shifted, CUES, 0.04)
    assert "cue 2 start 2.000 s in x.vtt, 1.500 s in the document (+0.500 s, allowed ±0.040 s)" in result.detail
    assert "cue 2 end 3.100 s" in result.detail
    assert "x.vtt has 2 cues, the document 3" in captions.check_cue_times("c", "x.vtt", measured[:2], CUES, 0.04).detail


@pytest.mark.parametrize("end", [2.5025, 2.0005, 1.0015, 3.6745])
def test_segment_files_written_from_sub_millisecond_cue_times_pass(end: float) -> None:
    """Cue times between milliseconds (SCC frames at 29.97, TTML ticks) round the same way in writer and QC."""
    cues = [Cue(start=1.0010, end=end, text="Half a millisecond")]
    written = segment_webvtt(cues, [(0.0, 2.0), (2.0, 2.0)])
    result = captions.check_segment_files("subtitles.en.segments", list(zip(("s1", "s2"), written, strict=True)), cues)
    assert result.passed, result.detail
