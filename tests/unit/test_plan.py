"""Planning over a table of sources (pure: no ffmpeg)."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import pytest

from pipelines.errors import ConfigError
from pipelines.ladder import load_ladder
from pipelines.options import PlanOptions
from pipelines.plan import fit_ladder, output_fps, plan_encode
from pipelines.source import AudioStream, SourceInfo, VideoStream

LADDER = load_ladder("default")


def source(width: int = 1920, height: int = 1080, *, audio: tuple[AudioStream, ...] | None = None,
           **video: object) -> SourceInfo:
    stream = VideoStream(index=0, codec="h264", width=width, height=height, **video)  # type: ignore[arg-type]
    if audio is None:
        audio = (AudioStream(index=1, codec="aac", channels=2, sample_rate=48000, language="eng"),)
    return SourceInfo(path="/m/ep.mp4", format_name="mov,mp4,m4a,3gp,3g2,mj2", size_bytes=1, duration=60.0,
                      video=stream, audio=audio)


def sizes(info: SourceInfo) -> list[tuple[int, int]]:
    return [(r.width, r.height) for r in plan_encode(info, LADDER).video]


FULL_HD = [(416, 234), (640, 360), (768, 432), (960, 540), (1280, 720), (1920, 1080)]

SIZE_TABLE = [
    pytest.param(source(1920, 1080), FULL_HD, id="landscape-1080p"),
    pytest.param(source(1080, 1920), [(h, w) for w, h in FULL_HD], id="portrait-1080x1920"),
    pytest.param(source(1920, 1080, rotation=90), [(h, w) for w, h in FULL_HD], id="rotated-90"),
    pytest.param(source(1440, 1080), [(312, 234), (480, 360), (576, 432), (720, 540), (960, 720),
                                      (1440, 1080)], id="4:3"),
    pytest.param(source(720, 576, sar=Fraction(16, 15)), [(312, 234), (480, 360), (576, 432), (720, 540)],
                 id="pal-anamorphic-4:3"),
    pytest.param(source(1920, 804), [(416, 174), (640, 268), (768, 322), (960, 402), (1280, 536),
                                     (1920, 804)], id="2.39:1"),
    pytest.param(source(1441, 811), [(416, 234), (640, 360), (768, 432), (960, 540), (1280, 720)],
                 id="odd-1441x811"),
    pytest.param(source(7680, 4320), FULL_HD, id="8K"),
    pytest.param(source(640, 360), [(416, 234), (640, 360)], id="360p"),
    pytest.param(source(320, 180), [(320, 180)], id="below-smallest-rung"),
    pytest.param(source(321, 181), [(320, 180)], id="tiny-odd"),
]


@pytest.mark.parametrize(("info", "expected"), SIZE_TABLE)
def test_rungs_fit_the_source_without_upscaling(info: SourceInfo, expected: list[tuple[int, int]]) -> None:
    got = sizes(info)
    assert got == expected
    assert all(w % 2 == 0 and h % 2 == 0 for w, h in got)
    display_w, display_h = info.video.display_size
    for w, h in got:
        assert abs(w / h - display_w / display_h) < 0.02, (w, h)


def test_smaller_boxes_get_fewer_bits() -> None:
    wide = {r.id: r.bitrate for r in plan_encode(source(1920, 804), LADDER).video}
    full = {r.id: r.bitrate for r in plan_encode(source(1920, 1080), LADDER).video}
    assert full["1080p"] == 7_800_000
    assert wide["1080p"] < full["1080p"]
    assert all(r.maxrate > r.bitrate and r.bufsize == 2 * r.bitrate for r in plan_encode(source(), LADDER).video)


@pytest.mark.parametrize(("fps", "avg", "vfr", "expected"), [
    (Fraction(25), Fraction(25), False, Fraction(25)),
    (Fraction(50), Fraction(50), False, Fraction(50)),
    (Fraction(24000, 1001), Fraction(24000, 1001), False, Fraction(24000, 1001)),
    (Fraction(60000, 1001), Fraction(60000, 1001), False, Fraction(60000, 1001)),
    (Fraction(120), Fraction(120), False, Fraction(60)),
    (Fraction(240), Fraction(240), False, Fraction(60)),
    (Fraction(90000), Fraction(2997, 100), True, Fraction(30000, 1001)),
    (Fraction(0), Fraction(0), True, Fraction(25)),
])
def test_output_frame_rate(fps: Fraction, avg: Fraction, vfr: bool, expected: Fraction) -> None:
    assert output_fps(fps, avg, vfr=vfr)[0] == expected


@pytest.mark.parametrize(("fps", "gop_frames"), [
    (Fraction(25), 50), (Fraction(50), 100), (Fraction(24000, 1001), 48), (Fraction(30000, 1001), 60),
])
def test_keyframe_interval_is_two_seconds(fps: Fraction, gop_frames: int) -> None:
    plan = plan_encode(source(fps=fps, avg_fps=fps), LADDER)
    assert plan.gop_seconds == 2
    assert plan.gop_frames == gop_frames
    assert plan.segment_seconds == 6


def test_interlaced_is_deinterlaced_and_hdr_tone_mapped() -> None:
    interlaced = plan_encode(source(interlaced=True, field_order="tt"), LADDER)
    assert interlaced.deinterlace and not interlaced.tonemap
    hdr = plan_encode(source(color_transfer="smpte2084", pix_fmt="yuv420p10le", bit_depth=10), LADDER)
    assert hdr.tonemap and not hdr.deinterlace
    assert any("tone-mapped" in n for n in hdr.notes)
    hlg = plan_encode(source(color_transfer="arib-std-b67"), LADDER)
    assert hlg.tonemap


def test_vfr_source_becomes_constant_rate() -> None:
    plan = plan_encode(source(fps=Fraction(90000), avg_fps=Fraction(2997, 100), vfr=True), LADDER)
    assert plan.fps == Fraction(30000, 1001)
    assert any("variable frame rate" in n for n in plan.notes)


def test_audio_tracks_each_become_a_rendition() -> None:
    three = (AudioStream(1, "aac", 2, 48000, language="eng"), AudioStream(2, "ac3", 6, 48000, language="spa"),
             AudioStream(3, "aac", 2, 44100, language="kor", title="Korean dub"))
    plan = plan_encode(source(audio=three), LADDER)
    assert [(a.id, a.language, a.stream_index, a.channels, a.sample_rate) for a in plan.audio] == [
        ("en", "en", 1, 2, 48000), ("es", "es", 2, 2, 48000), ("ko", "ko", 3, 2, 48000)]
    assert [a.default for a in plan.audio] == [True, False, False]
    assert plan.audio[2].name == "Korean dub"


def test_surround_is_downmixed_to_stereo() -> None:
    plan = plan_encode(source(audio=(AudioStream(1, "eac3", 6, 48000, channel_layout="5.1"),)), LADDER)
    assert plan.audio[0].channels == 2
    assert plan.audio[0].language == "und"


def test_no_audio_and_duplicate_languages() -> None:
    assert plan_encode(source(audio=()), LADDER).audio == ()
    twins = (AudioStream(1, "aac", 2, 48000, language="eng"), AudioStream(2, "aac", 2, 48000, language="eng"))
    assert [a.id for a in plan_encode(source(audio=twins), LADDER).audio] == ["en", "en-2"]


def test_audio_language_override() -> None:
    plan = plan_encode(source(), LADDER, PlanOptions(audio_languages=("pt-BR",)))
    assert plan.audio[0].language == "pt-BR"
    with pytest.raises(ConfigError, match="2 audio languages"):
        plan_encode(source(), LADDER, PlanOptions(audio_languages=("en", "es")))


@pytest.mark.parametrize("kwargs", [{"segment_seconds": 5}, {"segment_seconds": 1}, {"segment_seconds": 40},
                                    {"gop_seconds": 0}, {"profile": "turbo"}])
def test_bad_options_are_rejected_with_a_hint(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError) as info:
        PlanOptions(**kwargs)  # type: ignore[arg-type]
    assert info.value.hint


def test_fit_ladder_dedupes_equal_sizes() -> None:
    rungs = load_ladder("default").rungs
    squeezed = fit_ladder(rungs, 4000, 200)  # extreme ultra-wide: boxes collapse to the same width-bound
    assert len({(r.width, r.height) for r in squeezed}) == len(squeezed)


def test_plan_is_pure_and_deterministic() -> None:
    info = source()
    assert plan_encode(info, LADDER) == plan_encode(replace(info), LADDER)
