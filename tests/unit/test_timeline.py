"""One timeline (pure): the title's duration, the picture's shift onto the frame grid, the audio graph that pads,
trims and compensates the AAC priming, and the cross-track QC rule."""

from __future__ import annotations

import array
import math
from fractions import Fraction
from pathlib import Path

import pytest

from pipelines.ffmpeg import encode_argv
from pipelines.ladder import load_ladder
from pipelines.plan import plan_encode
from pipelines.qc import sync, timing
from pipelines.rendition import AAC_PRIMING_SAMPLES
from pipelines.source import AudioStream, SourceInfo, VideoStream


def source(*, duration: float = 10.0, video_start: float = 0.0, video_duration: float | None = None,
           fps: Fraction = Fraction(25), sample_rate: int = 48000, start: float = 0.0) -> SourceInfo:
    return SourceInfo(
        path="/m/ep.ts", format_name="mpegts", size_bytes=1, duration=duration, start_time=start,
        video=VideoStream(0, "h264", 640, 360, fps=fps, avg_fps=fps, duration=video_duration,
                          start_time=video_start),
        audio=(AudioStream(1, "aac", 2, sample_rate, start_time=start),))


def audio_graph(info: SourceInfo) -> str:
    argv = encode_argv(plan_encode(info, load_ladder("default")), ffmpeg="ffmpeg", source=Path("/m/ep.ts"),
                       out=Path("/o"), scratch=Path("/s"))
    graph = argv[argv.index("-filter_complex") + 1]
    return graph[graph.index("[0:1]"):]


def test_the_title_lasts_the_picture_on_the_frame_grid() -> None:
    plan = plan_encode(source(duration=8.0, video_duration=5.0), load_ladder("default"))
    assert (plan.title_frames, plan.title_duration) == (125, Fraction(5))
    ntsc = plan_encode(source(video_duration=4.004, fps=Fraction(30000, 1001)), load_ladder("default"))
    assert ntsc.title_frames == 120 and ntsc.title_samples(ntsc.audio[0]) == 192192


@pytest.mark.parametrize(("video_start", "shift"), [
    (0.0, Fraction(0)),
    (0.021333, Fraction(40, 1000) - Fraction(21333, 1_000_000)),  # MPEG-TS: the picture 21 ms after the priming
    (0.01, Fraction(-1, 100)),  # rounds down onto frame 0
    (0.02, Fraction(2, 100)),  # half a frame: away from zero, as ffmpeg's AV_ROUND_NEAR_INF
])
def test_the_picture_shift_is_the_fps_filters_rounding(video_start: float, shift: Fraction) -> None:
    plan = plan_encode(source(start=1.4, video_start=1.4 + video_start), load_ladder("default"))
    assert plan.picture_shift == shift


def test_the_audio_is_padded_or_cut_to_the_title_less_the_priming() -> None:
    # 10 s at 48 kHz: 480000 samples; the encoder adds 1024 of its own in front
    assert audio_graph(source()) == (
        "[0:1]aresample=48000:async=1:first_pts=0[s8];[s8]atrim=start_sample=1024[s9];"
        "[s9]apad=whole_len=478976[s10];[s10]atrim=end_sample=478976[s11];[s11]asetpts=PTS-STARTPTS[s12]")
    assert AAC_PRIMING_SAMPLES == 1024


def test_a_picture_moved_later_by_the_grid_moves_the_audio_with_it() -> None:
    # the picture starts 21.333 ms into the container: on frame 1 (40 ms), 18.667 ms (896 samples) later;
    # so only 1024 - 896 = 128 samples of the head are cut
    assert "atrim=start_sample=128[" in audio_graph(source(start=1.4, video_start=1.421333))


def test_a_picture_moved_by_more_than_the_priming_gets_silence_in_front() -> None:
    # 15 fps: a picture 40 ms in lands on frame 1 (66.7 ms): 26.7 ms = 1280 samples > 1024 of priming
    graph = audio_graph(source(start=0.0, video_start=0.04, fps=Fraction(15)))
    assert "adelay=all=1:delays=256S" in graph and "start_sample" not in graph


@pytest.mark.parametrize(("track", "passed", "fragment"), [
    ((0.0, 4.0106), True, ""),
    ((0.0, 4.03), False, "ends at 4.030000 s, the picture at 4.000000 s (+0.030000 s = +1.41 AAC frames"),
    ((0.0, 3.0), False, "ends at 3.000000 s"),
    ((0.0213, 4.0), True, ""),
    ((0.03, 4.0), False, "starts at 0.030000 s"),
])
def test_sync_holds_a_track_to_the_picture_within_one_of_its_frames(
        track: tuple[float, float], passed: bool, fragment: str) -> None:
    result = timing.check_sync("audio.en.sync", track, (0.0, 4.0), 1024 / 48000, "AAC frame")
    assert result.passed is passed
    assert fragment in result.detail


def _bursts(length_ms: int, at_ms: tuple[int, ...], *, delay: int = 0) -> list[float]:
    return [1000.0 if any(0 <= t - delay - a < 40 for a in at_ms) else 10.0 for t in range(length_ms)]


@pytest.mark.parametrize("delay", [0, 21, -7, 55])
def test_the_lag_of_the_published_sound_is_found_to_the_millisecond(delay: int) -> None:
    master = _bursts(4000, (1000, 2600, 3100))
    lag = sync.best_lag(master, _bursts(4000, (1000, 2600, 3100), delay=delay))
    assert lag.ms == delay and lag.correlation > 0.9


def test_a_steady_tone_cannot_be_lined_up_and_says_so() -> None:
    lag = sync.best_lag([500.0] * 4000, [500.0] * 4000)
    assert lag.ms is None and "steady" in lag.why
    assert sync.check_offset("audio.en.offset", lag, 0.0, 0.005).passed


@pytest.mark.parametrize(("lag_ms", "shift", "passed"), [
    (0, 0.0, True), (21, 0.0, False), (19, 0.018667, True), (4, 0.0, True), (-6, 0.0, False)])
def test_the_offset_is_the_sounds_lag_less_the_pictures_shift(lag_ms: int, shift: float, passed: bool) -> None:
    result = sync.check_offset("audio.en.offset", sync.Lag(lag_ms, 0.99), shift, 0.00533)
    assert result.passed is passed, result.detail


def test_envelope_is_the_mean_level_per_millisecond() -> None:
    pcm = array.array("h", [100, -100] * 4 + [0] * 8 + [-3000] * 8).tobytes()
    assert sync.envelope(pcm) == [100.0, 0.0, 3000.0]


def test_a_periodic_envelope_is_not_lined_up_at_a_wrong_lag() -> None:
    """A steady tone beats against the 1 ms bins: its envelope repeats every few ms and matches at many lags."""
    beating = [500.0 + 200.0 * math.sin(2 * math.pi * t / 7.0) for t in range(4000)]
    lag = sync.best_lag(beating, beating[3:] + beating[:3])
    assert lag.ms is None and "periodic" in lag.why


def test_a_vfr_master_ending_half_a_slot_in_rounds_up_like_the_fps_filter() -> None:
    # its last frame lasts 20 ms: the picture ends at 35.98 s, slot 899.5 at 25 fps: ffmpeg makes 900 frames
    plan = plan_encode(source(duration=36.0, video_duration=35.98), load_ladder("default"))
    assert plan.title_frames == 900
