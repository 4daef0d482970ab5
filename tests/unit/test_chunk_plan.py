"""plan_chunks (pure): chunks are runs of whole-file segments on the frame grid, cut where the hls muxer cuts."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from pathlib import Path

import pytest

from pipelines.chunk import Chunk, ChunkPolicy, keyframe_frames, plan_chunks, segment_starts, total_frames
from pipelines.errors import ConfigError
from pipelines.ffmpeg import chunk_argv, microseconds_text
from pipelines.ladder import load_ladder
from pipelines.options import PlanOptions
from pipelines.plan import EncodePlan, plan_encode
from pipelines.source import AudioStream, SourceInfo, VideoStream

NTSC_FILM, NTSC, PAL, PAL50 = Fraction(24000, 1001), Fraction(30000, 1001), Fraction(25), Fraction(50)


def muxer_cuts(keyframes: list[int], frames: int, split_us: int, fps: Fraction) -> list[int]:
    """What ffmpeg 5.1's hls muxer does (hlsenc.c): cut n at the first keyframe whose time since the
    chunk's first packet reaches n * hls_time (cumulative), in µs."""
    cuts, number = [0], 1
    for frame in keyframes:
        if frame == 0 or frame >= frames:
            continue
        if Fraction(frame) / fps * 1_000_000 >= number * split_us:
            cuts.append(frame)
            number += 1
    return cuts


@pytest.mark.parametrize(("fps", "seconds", "expected"), [
    (PAL, 6, [0, 150, 300, 450]),
    (PAL50, 6, [0, 300, 600, 900]),
    (NTSC_FILM, 6, [0, 144, 288, 432, 576, 720, 864, 1007]),  # ceil(k*6*23.976): one 143-frame segment
    (NTSC, 2, [0, 60, 120, 180]),
])
def test_segment_starts_are_the_hls_muxer_grid(fps: Fraction, seconds: int, expected: list[int]) -> None:
    assert segment_starts(expected[-1] + 1, seconds, fps) == expected


@pytest.mark.parametrize("fps", [PAL, NTSC_FILM, NTSC, PAL50])
@pytest.mark.parametrize(("duration", "segment", "policy"), [
    (600.0, 6, ChunkPolicy()),
    (601.3, 6, ChunkPolicy(target_seconds=30)),
    (3600.0, 2, ChunkPolicy(target_seconds=60)),
    (40.0, 2, ChunkPolicy(count=4)),
    (41.0, 2, ChunkPolicy(count=4)),
    (90.0, 4, ChunkPolicy(count=3)),
    (600.0, 6, ChunkPolicy(preroll_segments=0)),
    (90.0, 2, ChunkPolicy(count=4, preroll_segments=2)),
])
def test_chunks_tile_the_whole_file_segments(fps: Fraction, duration: float, segment: int,
                                             policy: ChunkPolicy) -> None:
    chunks = plan_chunks(duration, segment, 2, fps, policy)
    frames = total_frames(duration, fps)
    starts = segment_starts(frames, segment, fps)
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert chunks[0].start_frame == 0 and chunks[-1].end_frame == frames and chunks[-1].last
    assert not any(c.last for c in chunks[:-1])
    for a, b in itertools.pairwise(chunks):
        assert a.end_frame == b.start_frame
        assert b.first_segment_number == a.first_segment_number + a.segment_count
    assert sum(c.segment_count for c in chunks) == len(starts)
    for chunk in chunks:
        # a chunk starts where a whole-file segment starts, and that is a GOP boundary too
        assert chunk.start_frame == starts[chunk.first_segment_number - 1]
        near = math.floor(chunk.start_frame / (2 * fps))
        assert chunk.start_frame in {math.ceil(m * 2 * fps) for m in (near, near + 1)}
        assert chunk.duration >= 8.0
        assert chunk.start == pytest.approx(float(chunk.start_frame / fps))
        # its encode starts policy.preroll_segments whole segments earlier (not the first chunk's)
        first = chunk.encode_first_segment_number
        assert first == max(1, chunk.first_segment_number - policy.preroll_segments)
        assert chunk.encode_start_frame == starts[first - 1]
        assert list(chunk.preroll_numbers) == list(range(first, chunk.first_segment_number))
        # the hls muxer, given the chunk's hls_time and keyframes, cuts exactly at the whole-file starts
        count = chunk.segment_count + len(chunk.preroll_numbers)
        local = [s - chunk.encode_start_frame for s in starts[first - 1:][:count]]
        keys = keyframe_frames(chunk, 2, fps)
        assert muxer_cuts(keys, chunk.encode_frames, chunk.split_us, fps) == local
    sizes = [c.segment_count for c in chunks]
    assert max(sizes) - min(sizes) <= 1 and sizes == sorted(sizes, reverse=True), "even split, remainder first"


def test_auto_sizes_chunks_near_the_target() -> None:
    chunks = plan_chunks(600.0, 6, 2, PAL, ChunkPolicy(target_seconds=45))
    assert len(chunks) == 13 and {c.segment_count for c in chunks} == {8, 7}


@pytest.mark.parametrize(("duration", "policy"), [
    (120.0, ChunkPolicy()),  # under the threshold: the whole file in one chunk
    (9.0, ChunkPolicy(threshold_seconds=1)),  # too short to cut into two chunks of 8 s
    (4.0, ChunkPolicy(threshold_seconds=1)),
])
def test_short_titles_are_one_chunk(duration: float, policy: ChunkPolicy) -> None:
    chunks = plan_chunks(duration, 2, 2, PAL, policy)
    assert len(chunks) == 1
    assert (chunks[0].start_frame, chunks[0].end_frame, chunks[0].last) == (0, total_frames(duration, PAL), True)


def test_remainder_goes_to_the_first_chunks_and_the_short_segment_stays_last() -> None:
    chunks = plan_chunks(41.0, 2, 2, PAL, ChunkPolicy(count=4))
    assert [(c.first_segment_number, c.segment_count) for c in chunks] == [(1, 6), (7, 5), (12, 5), (17, 5)]
    assert [c.frames for c in chunks] == [300, 250, 250, 225]  # the 21st segment lasts 1 s


def test_a_forced_count_that_would_make_a_short_chunk_is_refused() -> None:
    with pytest.raises(ConfigError) as info:
        plan_chunks(20.0, 2, 2, PAL, ChunkPolicy(count=4))
    assert "shorter than 8" in info.value.message


def test_auto_never_makes_a_chunk_under_the_minimum() -> None:
    chunks = plan_chunks(310.0, 6, 2, PAL, ChunkPolicy(target_seconds=8, min_seconds=8))
    assert all(c.duration >= 8 for c in chunks)


def test_ntsc_split_is_shorter_than_the_segment_where_the_grid_needs_it() -> None:
    chunk = next(c for c in plan_chunks(72.0, 6, 2, NTSC_FILM, ChunkPolicy(count=2, preroll_segments=0))
                 if c.index == 1)
    assert chunk.start_frame == 864  # 6 × 144: the next boundary is 143 frames on (1007)
    assert keyframe_frames(chunk, 2, NTSC_FILM)[:4] == [0, 48, 96, 143]
    assert chunk.split_us < 6_000_000  # hls_time 6 would cut at 191 (a GOP late)
    assert muxer_cuts(keyframe_frames(chunk, 2, NTSC_FILM), chunk.frames, 6_000_000, NTSC_FILM)[1] != 143


def test_pre_roll_starts_one_segment_early_on_the_grid() -> None:
    chunk = next(c for c in plan_chunks(72.0, 6, 2, NTSC_FILM, ChunkPolicy(count=2)) if c.index == 1)
    assert (chunk.start_frame, chunk.encode_start_frame) == (864, 720)  # segment 6 (720) is the pre-roll
    assert (chunk.first_segment_number, chunk.encode_first_segment_number) == (7, 6)
    assert list(chunk.preroll_numbers) == [6]
    assert chunk.encode_frames == chunk.frames + 144
    assert keyframe_frames(chunk, 2, NTSC_FILM)[:5] == [0, 48, 96, 144, 192]  # 720, 768, 816, 864, 912


def test_policy_validation() -> None:
    with pytest.raises(ConfigError):
        ChunkPolicy(count=0)
    with pytest.raises(ConfigError):
        ChunkPolicy(preroll_segments=-1)
    with pytest.raises(ConfigError):
        ChunkPolicy(target_seconds=4)


def test_chunk_argv_seeks_pins_offsets_and_numbers(tiny_plan: EncodePlan) -> None:
    chunk = Chunk(index=1, start=10.0, end=18.0, first_segment_number=6, segment_count=4, start_frame=250,
                  end_frame=450, split_us=2_000_000)
    argv = chunk_argv(tiny_plan, chunk, ffmpeg="ffmpeg", source=Path("/m/ep.mp4"), out=Path("/c"))
    text = " ".join(argv)
    assert argv[argv.index("-ss") + 1] == "10.000000" and argv.index("-ss") < argv.index("-i")
    assert argv[argv.index("-t") + 1] == "9.000000"
    assert text.count("-frames:v 200") == len(tiny_plan.video)
    assert text.count("-output_ts_offset 10.000000") == len(tiny_plan.video)
    assert text.count("-start_number 6") == len(tiny_plan.video)
    assert text.count("fragment_index=6") == len(tiny_plan.video)
    assert "-force_key_frames 0.000000,2.000000,4.000000,6.000000" in text
    assert "-c:a" not in argv, "audio is encoded once for the title, not per chunk"
    first = Chunk(index=0, start=0.0, end=10.0, first_segment_number=1, segment_count=5, start_frame=0,
                  end_frame=250, split_us=2_000_000)
    argv0 = chunk_argv(tiny_plan, first, ffmpeg="ffmpeg", source=Path("/m/ep.mp4"), out=Path("/c"))
    assert "-output_ts_offset" not in argv0 and "frag_discont" not in " ".join(argv0)
    assert microseconds_text(5_997_658) == "5.997658"


@pytest.fixture
def tiny_plan() -> EncodePlan:
    info = SourceInfo(path="/m/ep.mp4", format_name="mov,mp4,m4a,3gp,3g2,mj2", size_bytes=1, duration=40.0,
                      video=VideoStream(0, "h264", 640, 360, fps=PAL, avg_fps=PAL),
                      audio=(AudioStream(1, "aac", 2, 48000, language="eng"),))
    return plan_encode(info, load_ladder("default"), PlanOptions(segment_seconds=2))
