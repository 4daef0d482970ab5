"""The encoder-start classifier on stderr captured from ffmpeg 5.1 + SVT-AV1 1.4.1 (a 720p h264,av1 ladder under
a 6 GiB RLIMIT_AS), and the encode memory bound's per-rung allowance."""

from __future__ import annotations

from pipelines.encoder_start import classify, is_start_failure
from pipelines.ladder import load_ladder
from pipelines.limits import EXTRA_RUNG_MEMORY, GIB, encode_memory_bytes
from pipelines.options import PlanOptions
from pipelines.plan import EncodePlan, plan_encode
from pipelines.source import AudioStream, SourceInfo, VideoStream

CAPTURED = """Svt[info]: SVT [config]: BRC mode / target bitrate (kbps)\t\t\t\t: VBR / 1000
Svt[info]: -------------------------------------------
Svt[error]: Failed to create thread: Cannot allocate memory
SvtMalloc[fatal]: allocate memory failed, at ./Source/Lib/Encoder/Globals/EbEncHandle.c:2340
[libsvtav1 @ 0x564c81d73bc0] Error initializing encoder: insufficient resources (0x80001000)
Svt[error]: deinit called without sending EOS!"""


def test_svtav1_thread_failure_names_the_encoder_and_memory() -> None:
    failure = classify(CAPTURED)
    assert failure is not None
    assert failure.encoder == "libsvtav1"
    assert "AV1 (SVT-AV1) encoder could not start: not enough memory" in failure.what
    assert "memory_bytes" in failure.hint


def test_output_stream_line_without_memory_is_an_option_failure() -> None:
    line = ("Error initializing output stream 0:1 -- Error while opening encoder for output stream #0:1 - maybe "
            "incorrect parameters such as bit_rate, rate, width or height")
    assert is_start_failure(line)
    failure = classify(line)
    assert failure is not None and failure.encoder == "" and "an encoder could not start" in failure.what
    assert "not enough memory" not in failure.what


def test_ordinary_errors_are_not_start_failures() -> None:
    for line in ("Svt[error]: deinit called without sending EOS!", "x264 [error]: malloc of size 2029952 failed",
                 "Error submitting video frame to the encoder", "[libsvtav1 @ 0x1] Error encoding frame"):
        assert not is_start_failure(line), line
    assert classify("Svt[info]: ok\nError submitting video frame to the encoder") is None


def _plan(codecs: tuple[str, ...]) -> EncodePlan:
    stream = VideoStream(index=0, codec="h264", width=1280, height=720)
    audio = (AudioStream(index=1, codec="aac", channels=2, sample_rate=48000, language="eng"),)
    info = SourceInfo(path="/m/ep.mp4", format_name="mov,mp4,m4a,3gp,3g2,mj2", size_bytes=1, duration=8.0,
                      video=stream, audio=audio)
    return plan_encode(info, load_ladder("default"), PlanOptions(codecs=codecs))


def test_every_hevc_and_av1_rung_adds_its_allowance() -> None:
    h264, av1 = _plan(("h264",)), _plan(("h264", "av1"))
    av1_rungs = sum(r.codec == "av1" for r in av1.video)
    assert av1_rungs == 5  # the 720p master of the report: 234p .. 720p
    assert encode_memory_bytes(2, h264) == encode_memory_bytes(2) == 6 * GIB  # H.264 alone: unchanged
    # measured: one lp=1 AV1 rung adds 0.67 GiB VmPeak at 1080p (pipelines.limits); 1 GiB keeps 1.5x headroom
    assert encode_memory_bytes(2, av1) == 6 * GIB + av1_rungs * EXTRA_RUNG_MEMORY["av1"] == 11 * GIB
    assert encode_memory_bytes(16, av1) == 25 * GIB
