"""The demuxer allowlist and the input options every master-reading ffmpeg call carries (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.errors import OutputTooLarge, SourceRejected
from pipelines.formats import ALLOWED_DEMUXERS, FORMAT_WHITELIST, check_demuxer, input_options
from pipelines.probe import classify_probe_failure, decode_head_argv, decode_tail_argv, probe_argv
from pipelines.probe_parse import DEFAULT_PROBE_LIMITS, MAX_TITLE_CHARS, parse_probe
from pipelines.tools import Tools

TOOLS = Tools(ffmpeg="ffmpeg", ffprobe="ffprobe")
SOURCE = Path("/s/master.avi")


@pytest.mark.parametrize("format_name", ["mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "mxf", "avi", "mpegts"])
def test_real_containers_are_accepted(format_name: str) -> None:
    assert check_demuxer(format_name, path="m") == format_name.split(",", maxsplit=1)[0]


@pytest.mark.parametrize("format_name", ["hls", "dash", "concat", "image2", "png_pipe", "tty", "lavfi",
                                         "rawvideo", "subfile", "", "mov2"])
def test_everything_else_is_refused(format_name: str) -> None:
    with pytest.raises(SourceRejected) as caught:
        check_demuxer(format_name, path="m.avi")
    assert caught.value.code == "source_format_refused"
    assert caught.value.retryable is False


def test_no_allowed_demuxer_follows_references() -> None:
    assert not {"hls", "dash", "concat", "image2", "tty", "lavfi", "data", "subfile"} & set(ALLOWED_DEMUXERS)


@pytest.mark.parametrize("argv", [
    probe_argv(SOURCE, TOOLS), decode_head_argv(SOURCE, TOOLS, 0, demuxer="avi"),
    decode_tail_argv(SOURCE, TOOLS, 0, 3.0, demuxer="avi"),
])
def test_every_probe_argv_carries_both_whitelists_before_the_input(argv: list[str]) -> None:
    before_input = argv[:argv.index("-i")]
    assert before_input[before_input.index("-format_whitelist") + 1] == FORMAT_WHITELIST
    assert before_input[before_input.index("-protocol_whitelist") + 1] in {"file", "file,pipe"}
    assert "-probesize" in before_input
    assert "-analyzeduration" in before_input


def test_decode_checks_pin_the_probed_demuxer() -> None:
    argv = decode_head_argv(SOURCE, TOOLS, 0, demuxer="avi")
    assert argv[argv.index("-f") + 1] == "avi"
    assert argv.index("-f") < argv.index("-i")
    assert input_options()[:2] == ["-protocol_whitelist", "file"]


def test_format_whitelist_refusal_is_classified_without_echoing_content() -> None:
    stderr = "[hls @ 0x55] Format not on whitelist 'mov,matroska'\nfile:/s/a.avi: Invalid argument"
    error = classify_probe_failure(stderr, path="/s/a.avi", head=b"#EXTM3U\n")
    assert error.code == "source_format_refused"
    assert "EXTM3U" not in str(error)


def test_parse_probe_refuses_a_playlist_format_name() -> None:
    doc = {"format": {"format_name": "hls", "duration": "10"},
           "streams": [{"index": 0, "codec_type": "video", "codec_name": "h264", "width": 64, "height": 36,
                        "r_frame_rate": "25/1", "avg_frame_rate": "25/1"}]}
    with pytest.raises(SourceRejected) as caught:
        parse_probe(doc, path="p.avi", size_bytes=100, limits=DEFAULT_PROBE_LIMITS)
    assert caught.value.code == "source_format_refused"


def test_stream_titles_lose_control_characters_and_length() -> None:
    doc = {"format": {"format_name": "matroska,webm", "duration": "10"},
           "streams": [{"index": 0, "codec_type": "video", "codec_name": "h264", "width": 64, "height": 36,
                        "r_frame_rate": "25/1", "avg_frame_rate": "25/1"},
                       {"index": 1, "codec_type": "audio", "codec_name": "aac",
                        "tags": {"title": 'Eng\x00lish"\r\n#EXT-X-STREAM-INF\u2028' + "x" * 500}}]}
    title = parse_probe(doc, path="p.mkv", size_bytes=100, limits=DEFAULT_PROBE_LIMITS).audio[0].title
    assert not any(ch in title for ch in "\x00\r\n\u2028")
    assert len(title) <= MAX_TITLE_CHARS


def test_output_too_large_is_a_permanent_input_rejection() -> None:
    error = OutputTooLarge("ffmpeg wrote too much", hint="remux")
    assert error.code == "output_too_large"
    assert error.retryable is False
