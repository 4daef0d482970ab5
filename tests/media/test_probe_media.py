"""probe() on real files: generated sources, the committed sample, and every kind of bad upload."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import mediagen
import psutil
import pytest

from pipelines.errors import SourceRejected
from pipelines.probe import DEFAULT_PROBE_LIMITS, ProbeLimits, probe
from pipelines.source import SourceInfo
from pipelines.tools import Tools

pytestmark = pytest.mark.media


@pytest.fixture(scope="session")
def tools() -> Tools:
    return Tools.resolve()


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("probe_media")


@pytest.fixture(scope="session")
def source(media_dir: Path) -> Callable[[str], Path]:
    """Build a mediagen.FIXTURE_SOURCES entry once per session, on first use."""
    made: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in made:
            suffix = ".mkv" if name.endswith("_mkv") else ".mp4"
            made[name] = mediagen.make_source(media_dir / f"{name}{suffix}", **mediagen.FIXTURE_SOURCES[name])
        return made[name]

    return get


def probed(source: Callable[[str], Path], tools: Tools, name: str) -> SourceInfo:
    return probe(source(name), tools=tools)


def test_landscape(source: Callable[[str], Path], tools: Tools) -> None:
    info = probed(source, tools, "landscape")
    assert info.path == str(source("landscape"))
    assert info.size_bytes == source("landscape").stat().st_size
    assert info.duration == pytest.approx(3.0)
    assert (info.video.codec, info.video.width, info.video.height) == ("h264", 320, 180)
    assert (info.video.fps, info.video.vfr, info.video.rotation) == (Fraction(25), False, 0)
    audio = [(a.codec, a.channels, a.sample_rate, a.language) for a in info.audio]
    assert audio == [("aac", 2, 48000, "eng")]


@pytest.mark.parametrize(("name", "check"), [
    ("portrait", lambda i: i.video.display_size == (180, 320)),
    ("rotated90", lambda i: (i.video.rotation, i.video.display_size) == (90, (180, 320))),
    ("anamorphic", lambda i: (i.video.sar, i.video.display_size) == (Fraction(64, 45), (1024, 576))),
    ("interlaced", lambda i: (i.video.interlaced, i.video.field_order) == (True, "tt")),
    ("hdr10", lambda i: (i.video.hdr, i.video.bit_depth, i.video.codec) == (True, 10, "hevc")),
    ("vfr", lambda i: (i.video.vfr, i.video.fps) == (True, Fraction(50))),
    ("no_audio", lambda i: i.audio == ()),
    ("three_audio", lambda i: [a.language for a in i.audio] == ["eng", "fra", None]),
    ("surround51", lambda i: (i.audio[0].channels, i.audio[0].channel_layout) == (6, "5.1")),
    ("subtitles", lambda i: [(s.codec, s.language) for s in i.subtitles] == [("mov_text", "eng"),
                                                                          ("mov_text", "spa")]),
    ("titles_mkv", lambda i: [a.title for a in i.audio] == ["Audio eng", "Audio deu"]),
])
def test_generated_source(source: Callable[[str], Path], tools: Tools, name: str,
                          check: Callable[[SourceInfo], bool]) -> None:
    info = probed(source, tools, name)
    assert check(info), info


def test_rotation_matches_what_ffmpeg_autorotate_does(source: Callable[[str], Path], tools: Tools) -> None:
    """Ground truth for the sign convention: rotating the stored frame clockwise by `rotation` gives
    exactly what ffmpeg shows (autorotate applies the display matrix)."""
    path = source("rotated90")
    info = probe(path, tools=tools)

    def first_frame(*options: str) -> bytes:
        argv = [tools.ffmpeg, "-v", "error", *options, "-i", str(path), "-frames:v", "1", "-f", "rawvideo",
                "-pix_fmt", "gray", "-"]
        return subprocess.run(argv, check=True, capture_output=True).stdout

    stored, shown = first_frame("-noautorotate"), first_frame()
    width, height = info.video.width, info.video.height
    assert info.video.rotation == 90
    clockwise = bytes(stored[(height - 1 - col) * width + row]
                      for row in range(width) for col in range(height))  # output is height wide
    assert shown == clockwise


def test_sample_bigbuckbunny(sample_bbb: Path, tools: Tools) -> None:
    info = probe(sample_bbb, tools=tools)
    assert (info.video.codec, info.video.width, info.video.height, info.video.fps) == ("h264", 1280, 720, 25)
    assert info.video.frame_count == 132
    assert info.duration == pytest.approx(5.312)
    audio = [(a.codec, a.channels, a.channel_layout, a.language) for a in info.audio]
    assert audio == [("aac", 6, "5.1", None)]


def test_protocol_like_file_name_is_just_a_file(source: Callable[[str], Path], tools: Tools,
                                                 tmp_path: Path) -> None:
    odd = tmp_path / "concat:subfile,,start,0,end,1,,:x.mp4"
    odd.write_bytes(source("no_audio").read_bytes())
    assert probe(odd, tools=tools).video.codec == "h264"


# --- rejections ----------------------------------------------------------------------------------


def rejected(path: Path, tools: Tools, limits: ProbeLimits = DEFAULT_PROBE_LIMITS) -> SourceRejected:
    with pytest.raises(SourceRejected) as caught:
        probe(path, tools=tools, limits=limits)
    error = caught.value
    assert path.name in error.message
    assert error.hint
    return error


BadFile = Callable[[Path, Callable[[str], Path]], Path]
BAD_FILES: dict[str, tuple[BadFile, str]] = {
    "missing": (lambda d, s: d / "nope.mp4", "source_missing"),
    "directory": (lambda d, s: (d / "dir.mp4").mkdir() or d / "dir.mp4", "source_missing"),
    "empty": (lambda d, s: mediagen.make_text_file(d / "empty.mp4", ""), "source_empty"),
    "text": (lambda d, s: mediagen.make_text_file(d / "notes.mp4"), "source_not_media"),
    "random": (lambda d, s: mediagen.make_random_bytes(d / "noise.mp4"), "source_not_media"),
    "audio_only": (lambda d, s: mediagen.make_audio_only(d / "song.m4a"), "source_no_video"),
    "cover_art": (lambda d, s: mediagen.make_audio_only(d / "album.m4a", cover_art=True), "source_no_video"),
    "truncated_moov_last": (lambda d, s: mediagen.make_truncated_mp4(s("landscape"), d / "cut.mp4"),
                            "source_truncated"),
    "truncated_moov_first": (lambda d, s: mediagen.make_truncated_mp4(
        mediagen.make_faststart(s("landscape"), d / "fast.mp4"), d / "cut_fast.mp4"), "source_truncated"),
    "corrupt_start": (lambda d, s: mediagen.make_corrupt_start(s("landscape"), d / "garbled.mp4"),
                      "source_undecodable"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_bad_file_is_rejected(case: str, tmp_path: Path, source: Callable[[str], Path], tools: Tools) -> None:
    make, code = BAD_FILES[case]
    error = rejected(make(tmp_path, source), tools)
    assert error.code == code, error


def test_url_is_refused_before_anything_runs(tools: Tools) -> None:
    for url in ("http://example.com/a.mp4", "concat:a.mp4|b.mp4", "subfile,,start,0,end,9,,:/etc/hosts"):
        error = rejected(Path(url), tools)
        assert error.code == "source_not_local"


def test_probe_timeout_is_a_rejection_and_leaves_no_process(source: Callable[[str], Path],
                                                             tools: Tools) -> None:
    error = rejected(source("landscape"), tools, ProbeLimits(probe_timeout=0.0))
    assert error.code == "source_probe_timeout"
    leftovers = [p for p in psutil.Process().children(recursive=True) if p.name() in ("ffprobe", "ffmpeg")]
    assert leftovers == []


def test_oversized_probe_output_is_rejected(source: Callable[[str], Path], tools: Tools) -> None:
    assert rejected(source("landscape"), tools, ProbeLimits(max_probe_output=512)).code == (
        "source_too_many_streams")


def test_slideshow_at_half_a_frame_per_second_is_not_truncated(media_dir: Path, tools: Tools) -> None:
    path = mediagen.make_source(media_dir / "slideshow.mp4", fps="1/2", duration=6.0, audio=())
    info = probe(path, tools=tools)
    assert (info.video.fps, info.video.frame_count) == (Fraction(1, 2), 3)
