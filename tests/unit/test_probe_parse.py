"""parse_probe over captured ffprobe JSON, plus the probe argv builders and stderr classifiers.

Fixtures in tests/fixtures/ffprobe: most are real ffprobe 5.1 output, captured with
``python tests/mediagen.py tests/fixtures/ffprobe`` (sources described in mediagen.FIXTURE_SOURCES) and
from sample_media/bigbuckbunny.mp4. Hand-edited from landscape.json: 8k, 65535x65535, 100h, 1000streams.
"""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from pipelines.errors import SourceRejected
from pipelines.probe import (
    DEFAULT_PROBE_LIMITS,
    ProbeLimits,
    check_decoded,
    classify_decode_failure,
    classify_probe_failure,
    decode_head_argv,
    decode_tail_argv,
    parse_probe,
    probe_argv,
)
from pipelines.probe_parse import packets_end
from pipelines.source import AudioStream, SourceInfo, SubtitleStream, VideoStream
from pipelines.tools import Tools

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ffprobe"
MP4 = "mov,mp4,m4a,3gp,3g2,mj2"


def load(name: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8")))


def parse(doc: dict[str, Any] | str, limits: ProbeLimits = DEFAULT_PROBE_LIMITS) -> SourceInfo:
    return parse_probe(load(doc) if isinstance(doc, str) else doc, path="master.mp4", size_bytes=1234,
                       limits=limits)


def h264(**changes: Any) -> VideoStream:
    """The mediagen default video stream (320x180 H.264 4:2:0 8-bit, 25 fps, 2 s), with changes."""
    base: dict[str, Any] = {
        "index": 0, "codec": "h264", "width": 320, "height": 180, "sar": Fraction(1), "rotation": 0,
        "fps": Fraction(25), "avg_fps": Fraction(25), "vfr": False, "interlaced": False,
        "field_order": "progressive", "pix_fmt": "yuv420p", "bit_depth": 8, "color_transfer": "",
        "color_primaries": "", "color_space": "", "frame_count": 50, "duration": 2.0,
    }
    return VideoStream(**(base | changes))


def aac(index: int = 1, language: str | None = "eng", **changes: Any) -> AudioStream:
    base: dict[str, Any] = {"index": index, "codec": "aac", "channels": 2, "sample_rate": 48000,
                            "channel_layout": "stereo", "language": language, "title": ""}
    return AudioStream(**(base | changes))


# name → (duration, video, audio, subtitles, format_name)
CASES: dict[str, tuple[float, VideoStream, tuple[AudioStream, ...], tuple[SubtitleStream, ...], str]] = {
    "landscape": (3.0, h264(frame_count=75, duration=3.0), (aac(),), (), MP4),
    "portrait": (2.0, h264(width=180, height=320), (aac(),), (), MP4),
    "rotated90": (2.0, h264(rotation=90), (aac(),), (), MP4),
    "anamorphic": (2.0, h264(width=720, height=576, sar=Fraction(64, 45)), (aac(),), (), MP4),
    "interlaced": (2.0, h264(interlaced=True, field_order="tt"), (aac(),), (), MP4),
    "hdr10": (2.0, h264(codec="hevc", pix_fmt="yuv420p10le", bit_depth=10, color_transfer="smpte2084",
                        color_primaries="bt2020", color_space="bt2020nc"), (aac(),), (), MP4),
    "vfr": (3.0, h264(fps=Fraction(50), avg_fps=Fraction(5000, 149), vfr=True, frame_count=100,
                      duration=2.98), (aac(),), (), MP4),
    "no_audio": (2.0, h264(), (), (), MP4),
    "three_audio": (2.0, h264(), (aac(1, "eng"), aac(2, "fra"), aac(3, None)), (), MP4),
    "surround51": (2.0, h264(), (aac(channels=6, channel_layout="5.1"),), (), MP4),
    "subtitles": (2.0, h264(), (aac(),),
                  (SubtitleStream(2, "mov_text", "eng"), SubtitleStream(3, "mov_text", "spa")), MP4),
    "titles_mkv": (2.021, h264(frame_count=None, duration=2.021),
                   (aac(1, "eng", title="Audio eng"), aac(2, "deu", title="Audio deu")),
                   (SubtitleStream(3, "subrip", "fra", "Subs fra"),), "matroska,webm"),
    "bigbuckbunny": (5.312, h264(width=1280, height=720, frame_count=132, duration=5.28),
                     (aac(language=None, channels=6, channel_layout="5.1"),), (), MP4),
    "8k": (20.003333, h264(codec="hevc", width=7680, height=4320, fps=Fraction(60000, 1001),
                           avg_fps=Fraction(60000, 1001), pix_fmt="yuv420p10le", bit_depth=10,
                           frame_count=1199, duration=20.003333), (aac(),), (), MP4),
}


@pytest.mark.parametrize("name", CASES)
def test_fixture_parses_to_expected_source(name: str) -> None:
    duration, video, audio, subtitles, format_name = CASES[name]
    doc = load(name)
    info = parse(doc)
    assert replace(info.video, start_time=None) == video
    assert tuple(replace(a, duration=None, start_time=None) for a in info.audio) == audio
    assert info.video.start_time is not None
    assert all(a.start_time is not None for a in info.audio)
    # every stream's own duration is read, and none claims more than the container
    assert all(a.duration is not None and 0 < a.duration <= duration + 0.1 for a in info.audio)
    assert info.subtitles == subtitles
    assert info.duration == pytest.approx(duration)
    assert info.format_name == format_name
    assert info.path == "master.mp4"
    assert info.size_bytes == 1234
    assert info.start_time == 0.0
    assert info.bit_rate == int(doc["format"]["bit_rate"])
    assert dict(info.tags) == {k.lower(): v for k, v in doc["format"].get("tags", {}).items()}


def test_display_sizes_follow_sar_and_rotation() -> None:
    assert parse("anamorphic").video.display_size == (1024, 576)
    assert parse("rotated90").video.display_size == (180, 320)
    assert parse("portrait").video.display_size == (180, 320)
    assert parse("hdr10").video.hdr
    assert not parse("landscape").video.hdr


@pytest.mark.parametrize(("name", "code", "words"), [
    ("cover_art_only", "source_no_video", "cover art"),
    ("1000streams", "source_too_many_streams", "1000 streams"),
    ("100h", "source_too_long", "100.0 h"),
    ("65535x65535", "source_too_large", "65535x65535"),
])
def test_fixture_is_rejected(name: str, code: str, words: str) -> None:
    with pytest.raises(SourceRejected) as caught:
        parse(name)
    assert caught.value.code == code
    assert words in caught.value.message
    assert caught.value.message.startswith("master.mp4: ")
    assert caught.value.hint


# --- hand-made variations of the landscape fixture -------------------------------------------------


def edited(video: dict[str, Any] | None = None, fmt: dict[str, Any] | None = None,
           drop: tuple[str, ...] = ()) -> dict[str, Any]:
    doc = copy.deepcopy(load("landscape"))
    doc["streams"][0].update(video or {})
    doc["format"].update(fmt or {})
    for key in drop:
        doc["streams"][0].pop(key, None)
    return doc


@pytest.mark.parametrize(("side_data", "tags", "expected"), [
    ([{"side_data_type": "Display Matrix", "rotation": -90}], {}, 90),  # phone portrait: turn clockwise
    ([{"side_data_type": "Display Matrix", "rotation": 90}], {}, 270),
    ([{"side_data_type": "Display Matrix", "rotation": 180}], {}, 180),
    ([{"side_data_type": "Display Matrix", "rotation": -180}], {}, 180),
    ([{"side_data_type": "Display Matrix", "rotation": -88.5}], {}, 90),  # snaps to a quarter turn
    ([{"side_data_type": "Display Matrix", "rotation": 0}], {"rotate": "90"}, 0),  # side data wins
    ([], {"rotate": "90"}, 90),  # legacy tag is clockwise already
    ([], {"rotate": "270"}, 270),
    ([], {"rotate": "-90"}, 270),
    ([], {"rotate": "junk"}, 0),
    ([{"side_data_type": "CPB properties"}], {}, 0),
])
def test_rotation_is_clockwise_quarter_turns(side_data: list[dict[str, Any]], tags: dict[str, str],
                                             expected: int) -> None:
    assert parse(edited({"side_data_list": side_data, "tags": tags})).video.rotation == expected


@pytest.mark.parametrize(("r", "avg", "fps", "avg_fps", "vfr"), [
    ("30000/1001", "2997/100", Fraction(30000, 1001), Fraction(2997, 100), False),  # rounding, not VFR
    ("0/0", "24/1", Fraction(24), Fraction(24), False),
    ("25/1", "0/0", Fraction(25), Fraction(25), False),
    ("0/0", "0/0", Fraction(25), Fraction(25), False),  # falls back to nb_frames / duration = 75 / 3
    ("90000/1", "25/1", Fraction(25), Fraction(25), False),  # a clock rate is not a frame rate
    ("60/1", "30/1", Fraction(60), Fraction(30), True),
    ("25/1", "2500/101", Fraction(25), Fraction(2500, 101), False),  # 0.99 % off: within tolerance
    ("25/1", "2500/102", Fraction(25), Fraction(2500, 102), True),
])
def test_frame_rates_and_vfr(r: str, avg: str, fps: Fraction, avg_fps: Fraction, vfr: bool) -> None:
    video = parse(edited({"r_frame_rate": r, "avg_frame_rate": avg})).video
    assert (video.fps, video.avg_fps, video.vfr) == (fps, avg_fps, vfr)


def test_frame_rate_without_any_hint_defaults_to_25() -> None:
    video = parse(edited({"r_frame_rate": "0/0", "avg_frame_rate": "0/0"}, drop=("nb_frames",))).video
    assert (video.fps, video.avg_fps, video.frame_count) == (Fraction(25), Fraction(25), None)


@pytest.mark.parametrize(("sar", "expected"), [
    ("0:1", Fraction(1)), ("N/A", Fraction(1)), (None, Fraction(1)), ("16:15", Fraction(16, 15)),
    ("4:3", Fraction(4, 3)), ("1:0", Fraction(1)),
])
def test_sar_unknown_means_square(sar: str | None, expected: Fraction) -> None:
    assert parse(edited({"sample_aspect_ratio": sar})).video.sar == expected


@pytest.mark.parametrize(("order", "interlaced", "stored"), [
    ("tt", True, "tt"), ("bb", True, "bb"), ("tb", True, "tb"), ("bt", True, "bt"),
    ("progressive", False, "progressive"), ("unknown", False, "unknown"), (None, False, "unknown"),
])
def test_field_order(order: str | None, interlaced: bool, stored: str) -> None:
    video = parse(edited({"field_order": order})).video
    assert (video.interlaced, video.field_order) == (interlaced, stored)


@pytest.mark.parametrize(("raw", "pix_fmt", "depth"), [
    ("8", "yuv420p", 8), (None, "yuv420p10le", 10), (None, "yuv422p12be", 12), (None, "p010le", 10),
    (None, "y210le", 10), (None, "rgb48le", 16), (None, "gray16le", 16), (None, "rgb565le", 8),
    (None, "nv12", 8), ("10", "yuv420p10le", 10), ("0", "yuv444p12le", 12), ("junk", "yuv420p", 8),
])
def test_bit_depth(raw: str | None, pix_fmt: str, depth: int) -> None:
    assert parse(edited({"bits_per_raw_sample": raw, "pix_fmt": pix_fmt})).video.bit_depth == depth


def test_unknown_colour_values_become_empty() -> None:
    video = parse(edited({"color_transfer": "unknown", "color_primaries": "unknown",
                          "color_space": "unspecified"})).video
    assert (video.color_transfer, video.color_primaries, video.color_space) == ("", "", "")


@pytest.mark.parametrize(("fmt_duration", "expected"), [
    ("N/A", 3.0), (None, 3.0), ("0.000000", 3.0), ("-5", 3.0),  # fall back to the longest stream
    ("4.5", 4.5),
])
def test_duration_falls_back_to_the_longest_stream(fmt_duration: str | None, expected: float) -> None:
    assert parse(edited(fmt={"duration": fmt_duration})).duration == expected


@pytest.mark.parametrize("bad", ["N/A", "nan", "0", "-1", "inf", "0.05", None])
def test_bad_duration_everywhere_is_rejected(bad: str | None) -> None:
    doc = edited(fmt={"duration": bad})
    for stream in doc["streams"]:
        stream["duration"] = bad
    with pytest.raises(SourceRejected) as caught:
        parse(doc)
    assert caught.value.code == "source_bad_duration"
    assert "master.mp4" in caught.value.message


def test_start_time_is_kept() -> None:
    assert parse(edited(fmt={"start_time": "1.400000"})).start_time == 1.4


@pytest.mark.parametrize(("width", "height", "accepted"), [
    (8192, 4320, True), (4320, 8192, True), (7680, 4320, True), (8193, 4320, False), (4400, 4321, False),
    (4321, 4321, False), (1, 8192, True),
])
def test_dimension_limits_compare_long_and_short_sides(width: int, height: int, accepted: bool) -> None:
    doc = edited({"width": width, "height": height})
    if accepted:
        assert parse(doc).video.width == width
    else:
        with pytest.raises(SourceRejected, match="downscale") as caught:
            parse(doc)
        assert caught.value.code == "source_too_large"


@pytest.mark.parametrize(("kind", "count", "accepted"), [
    ("audio", 16, True), ("audio", 17, False), ("subtitle", 32, True), ("subtitle", 33, False),
    ("data", 63, True), ("data", 64, False),
])
def test_stream_count_limits(kind: str, count: int, accepted: bool) -> None:
    doc = edited()
    doc["streams"] = doc["streams"][:1] + [{"index": i + 1, "codec_type": kind, "codec_name": "x"}
                                           for i in range(count)]
    doc["format"]["nb_streams"] = len(doc["streams"])
    if accepted:
        parse(doc)
    else:
        with pytest.raises(SourceRejected) as caught:
            parse(doc)
        assert caught.value.code == "source_too_many_streams"


def test_cover_art_before_the_video_does_not_count() -> None:
    doc = edited()
    cover = {"index": 0, "codec_type": "video", "codec_name": "mjpeg", "width": 600, "height": 600,
             "disposition": {"attached_pic": 1}}
    doc["streams"][0]["index"] = 1
    doc["streams"].insert(0, cover)
    assert (parse(doc).video.index, parse(doc).video.codec) == (1, "h264")


@pytest.mark.parametrize("changes", [{"codec_name": None}, {"width": 0}, {"height": "N/A"}])
def test_video_without_codec_or_size_is_undecodable(changes: dict[str, Any]) -> None:
    with pytest.raises(SourceRejected) as caught:
        parse(edited(changes))
    assert caught.value.code == "source_undecodable"


@pytest.mark.parametrize("doc", [{}, {"streams": "junk", "format": []}, {"streams": [1, None, "x"]}])
def test_garbage_json_is_rejected_not_crashing(doc: dict[str, Any]) -> None:
    with pytest.raises(SourceRejected) as caught:
        parse(doc)
    assert caught.value.code == "source_no_video"


def test_language_tags_normalised() -> None:
    doc = edited()
    doc["streams"][1]["tags"] = {"LANGUAGE": "FRE", "TITLE": "Français"}
    audio = parse(doc).audio[0]
    assert (audio.language, audio.title) == ("fre", "Français")


# --- argv builders ---------------------------------------------------------------------------------

TOOLS = Tools(ffmpeg="/opt/ff/ffmpeg", ffprobe="/opt/ff/ffprobe")
SOURCE = Path("/scratch/job 1/concat:master.mp4")  # spaces and a protocol-like name stay one argument
INPUT = ["-i", "file:/scratch/job 1/concat:master.mp4"]
QUIET = ["-v", "error", "-hide_banner"]
BOUNDS = ["-format_whitelist", "mov,matroska,mxf,avi,mpegts,mpeg,flv,asf,ogg,dv,gxf,nut",
          "-probesize", "33554432", "-analyzeduration", "15000000"]
DECODE = ["/opt/ff/ffmpeg", *QUIET, "-nostdin", "-xerror", "-protocol_whitelist", "file", *BOUNDS]
ONE_SECOND_TO_NULL = ["-t", "1", "-nostats", "-progress", "pipe:1", "-f", "null", "-"]


def test_probe_argv() -> None:
    assert probe_argv(SOURCE, TOOLS) == [
        "/opt/ff/ffprobe", *QUIET, "-protocol_whitelist", "file,pipe", *BOUNDS, "-show_format", "-show_streams",
        "-of", "json", *INPUT,
    ]


def test_decode_head_argv() -> None:
    assert decode_head_argv(SOURCE, TOOLS, 2) == [*DECODE, *INPUT, "-map", "0:2", *ONE_SECOND_TO_NULL]


def test_decode_tail_argv_seeks_before_the_input() -> None:
    assert decode_tail_argv(SOURCE, TOOLS, 0, 4.3125) == [
        *DECODE, "-ss", "4.312", *INPUT, "-map", "0:0", *ONE_SECOND_TO_NULL,
    ]
    four_seconds = ["-t", "4", *ONE_SECOND_TO_NULL[2:]]
    assert decode_tail_argv(SOURCE, TOOLS, 1, 6.0, 4.0) == [
        *DECODE, "-ss", "6.000", *INPUT, "-map", "0:1", *four_seconds,
    ]


@pytest.mark.parametrize("builder", [
    lambda p: probe_argv(p, TOOLS), lambda p: decode_head_argv(p, TOOLS, 0),
    lambda p: decode_tail_argv(p, TOOLS, 0, 1.0),
])
def test_argv_builders_refuse_relative_paths(builder: Any) -> None:
    with pytest.raises(ValueError, match="absolute"):
        builder(Path("http:/example.com/a.mp4"))


# --- stderr classification -------------------------------------------------------------------------

MOOV = ("[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55] moov atom not found\n"
        "file:/s/a.mp4: Invalid data found when processing input")
FTYP = b"\x00\x00\x00\x20ftypisom"


@pytest.mark.parametrize(("stderr", "head", "code"), [
    (MOOV, FTYP, "source_truncated"),
    (MOOV, b"hello this i", "source_not_media"),  # a text file named .mp4 gets the same stderr
    (MOOV, b"", "source_not_media"),
    ("file:/s/a.mp4: Invalid data found when processing input", b"\x89PNG\r\n\x1a\n....", "source_not_media"),
    ("file:/s/a.mp4: No such file or directory", b"", "source_missing"),
    ("file:/s/a.mp4: Permission denied", b"", "source_missing"),
    ("[mpegts @ 0x1] stream 0, offset 0x1f: partial file\nfile:/s/a.ts: End of file", b"G@",
     "source_truncated"),
    ("", b"", "source_not_media"),
])
def test_classify_probe_failure(stderr: str, head: bytes, code: str) -> None:
    rejected = classify_probe_failure(stderr, path="/s/a.mp4", head=head)
    assert rejected.code == code
    assert rejected.message.startswith("/s/a.mp4: ")
    assert rejected.hint


@pytest.mark.parametrize(("stderr", "at_end", "code"), [
    ("file:/s/a.mp4: corrupt input packet in stream 0", True, "source_truncated"),
    ("anything at all", True, "source_truncated"),
    ("[mov @ 0x1] stream 0, offset 0x9: partial file", False, "source_truncated"),
    ("Decoder (codec av1) not found for input stream #0:0", False, "source_undecodable"),
    ("[h264 @ 0x1] no frame!\nError while decoding stream #0:0: Invalid data found", False,
     "source_undecodable"),
])
def test_classify_decode_failure(stderr: str, at_end: bool, code: str) -> None:
    rejected = classify_decode_failure(stderr, path="/s/a.mp4", at_end=at_end)
    assert rejected.code == code
    assert rejected.message.startswith("/s/a.mp4: ")
    assert rejected.hint


@pytest.mark.parametrize(("frames", "out_time", "at_end", "min_time", "code"), [
    (25, 0.96, False, 0.0, None), (25, 0.96, True, 0.46, None), (1, 0.0, False, 0.0, None),
    (13, 0.48, True, 0.46, None), (1, 0.0, True, 0.0, None),  # 0.5 fps slideshow: one frame is enough
    (0, 0.0, False, 0.0, "source_undecodable"), (None, 0.0, False, 0.0, "source_undecodable"),
    (0, 0.0, True, 0.46, "source_truncated"),  # data cut before the last keyframe: ffmpeg ends quietly
    (10, 0.36, True, 0.46, "source_truncated"),
])
def test_check_decoded(frames: int | None, out_time: float, at_end: bool, min_time: float,
                       code: str | None) -> None:
    rejected = check_decoded(frames, out_time, path="/s/a.mp4", at_end=at_end, min_time=min_time)
    assert (rejected.code if rejected else None) == code
    if rejected:
        assert rejected.message.startswith("/s/a.mp4: ")
        assert rejected.hint


@pytest.mark.parametrize(("csv", "end"), [
    ("1.400000,0.021333\n1.421333,0.021333\n", 1.442666),
    ("1.0,0.5\n2.0,N/A\n", 1.5),  # a packet without a duration does not count
    ("N/A,N/A\n", None),
    ("", None),
    ("3.0,0.02\n2.0,0.02\n", 3.02),  # out of order: the latest end wins
])
def test_packets_end(csv: str, end: float | None) -> None:
    found = packets_end(csv)
    assert found == (None if end is None else pytest.approx(end))
