"""hls: a hand-built Presentation -> golden playlists (exact), then re-read by the m3u8 package.

Regenerate the golden files after an intended change with ``VODFLEET_REGEN_GOLDEN=1 pytest tests/unit``.
"""

from __future__ import annotations

import os
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import m3u8
import pytest

from pipelines.hls import render_iframes, render_master, render_media, render_subtitle_media, write_hls
from pipelines.presentation import AudioTrack, Presentation, Segment, SubtitleTrack, VideoTrack

GOLDEN = Path(__file__).parent.parent / "fixtures" / "golden" / "hls"


def assert_golden(rel: str, text: str) -> None:
    path = GOLDEN / rel
    if os.environ.get("VODFLEET_REGEN_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
    assert path.is_file(), f"no golden file {path}; write it with VODFLEET_REGEN_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"{rel} differs from its golden file"


def segs(units: list[int], timescale: int, sizes: list[int], *, iframes: list[int] | None = None,
         ext: str = "m4s") -> tuple[Segment, ...]:
    out, t = [], 0
    for i, (d, size) in enumerate(zip(units, sizes, strict=True)):
        out.append(Segment(uri=f"seg_{i + 1:05d}.{ext}", start=t / timescale, duration=d / timescale,
                           size=size, decode_time=t, duration_units=d, iframe_offset=76 if iframes else 0,
                           iframe_length=iframes[i] if iframes else 0))
        t += d
    return tuple(out)


def video(track_id: str, width: int, height: int, codecs: str, rate: Fraction, units: list[int],
          timescale: int, sizes: list[int], iframes: list[int]) -> VideoTrack:
    return VideoTrack(id=track_id, path=f"video/{track_id}", init="init.mp4", codecs=codecs,
                      timescale=timescale, segments=segs(units, timescale, sizes, iframes=iframes),
                      init_size=800, width=width, height=height, frame_rate=rate, nominal_bitrate=800_000)


def audio(track_id: str, name: str, sizes: list[int], *, default: bool) -> AudioTrack:
    return AudioTrack(id=track_id, path=f"audio/{track_id}", init="init.mp4", codecs="mp4a.40.2",
                      timescale=48000, segments=segs([96256, 96256, 63488], 48000, sizes), language=track_id,
                      name=name, default=default)


def subtitle(track_id: str, name: str, *, default: bool = False, forced: bool = False) -> SubtitleTrack:
    return SubtitleTrack(id=track_id, path=f"subtitles/{track_id}", language=track_id, name=name,
                         vtt="subtitles.vtt",
                         segments=segs([2000, 2000, 1280], 1000, [120, 80, 40], ext="vtt"),
                         default=default, forced=forced)


V720 = video("720p", 1280, 720, "avc1.64001f", Fraction(30000, 1001), [60060, 60060, 30030], 30000,
             [500_000, 450_000, 200_000], [60_000, 61_000, 40_000])
V360 = video("360p", 640, 360, "avc1.64001e", Fraction(25), [25600, 25600, 16384], 12800,
             [200_000, 180_000, 100_000], [36_606, 48_346, 58_536])
PRESENTATION = Presentation(
    duration=5.338667, segment_seconds=2,
    video=(V720, V360),  # listed out of order on purpose: the master sorts by bandwidth
    audio=(audio("en", "English", [33828, 32810, 22758], default=False),
           audio("es", 'Español "castellano"', [34000, 33000, 23000], default=True)),
    subtitles=(subtitle("en", "English"), subtitle("ko", "한국어", default=True)),
    provenance=(("encoder", "x264-0.164 preset=veryfast"), ("ffmpeg", "5.1.6\n#EXT-X-ENDLIST")),
)


def test_write_hls_matches_golden_files_and_writes_master_last(tmp_path: Path) -> None:
    written = write_hls(tmp_path, PRESENTATION)
    assert written == ["video/720p/index.m3u8", "video/720p/iframes.m3u8", "video/360p/index.m3u8",
                       "video/360p/iframes.m3u8", "audio/en/index.m3u8", "audio/es/index.m3u8",
                       "subtitles/en/index.m3u8", "subtitles/ko/index.m3u8", "master.m3u8"]
    for rel in written:
        assert_golden(rel, (tmp_path / rel).read_text(encoding="utf-8"))
    assert not list(tmp_path.rglob("*.tmp"))


def test_master_reparses_with_every_rendition() -> None:
    text = render_master(PRESENTATION)
    master = m3u8.loads(text)
    assert master.is_variant
    audio_peak = max(a.peak_bitrate for a in PRESENTATION.audio)
    audio_average = max(a.average_bitrate for a in PRESENTATION.audio)
    assert audio_peak == 139_113  # es, its short last segment: 23000 B over 1.322667 s
    variants = [(p.uri, p.stream_info.bandwidth, p.stream_info.average_bandwidth) for p in master.playlists]
    assert variants == [
        ("video/360p/index.m3u8", 800_000 + audio_peak, V360.average_bitrate + audio_average),
        ("video/720p/index.m3u8", 1_998_002 + audio_peak, V720.average_bitrate + audio_average)]
    for playlist, track in zip(master.playlists, (V360, V720), strict=True):
        info = playlist.stream_info
        assert info.codecs == f"{track.codecs},mp4a.40.2"
        assert info.resolution == (track.width, track.height)
        assert (info.audio, info.subtitles, info.closed_captions) == ("audio", "subs", "NONE")
    assert [p.stream_info.frame_rate for p in master.playlists] == [25.0, 29.97]
    audios = [m for m in master.media if m.type == "AUDIO"]
    assert [(m.language, m.default, m.autoselect, m.channels, m.uri) for m in audios] == [
        ("en", "NO", "YES", "2", "audio/en/index.m3u8"), ("es", "YES", "YES", "2", "audio/es/index.m3u8")]
    assert audios[1].name == "Español 'castellano'"  # '"' cannot appear inside a quoted-string
    subs = [m for m in master.media if m.type == "SUBTITLES"]
    assert [(m.language, m.name, m.default, m.forced, m.group_id) for m in subs] == [
        ("en", "English", "NO", "NO", "subs"), ("ko", "한국어", "YES", "NO", "subs")]
    iframes = master.iframe_playlists
    assert [p.uri for p in iframes] == ["video/360p/iframes.m3u8", "video/720p/iframes.m3u8"]
    assert iframes[0].iframe_stream_info.bandwidth == round(58_536 * 8 / 1.28)
    assert iframes[0].iframe_stream_info.codecs == "avc1.64001e"
    assert iframes[1].iframe_stream_info.resolution == (1280, 720)


def test_master_header_and_provenance_comments() -> None:
    lines = render_master(PRESENTATION).splitlines()
    assert lines[:3] == ["#EXTM3U", "#EXT-X-VERSION:6", "#EXT-X-INDEPENDENT-SEGMENTS"]
    comments = [line for line in lines if line.startswith("#") and not line.startswith("#EXT")]
    # The newline in the value is flattened, so it cannot smuggle a tag onto a line of its own.
    assert comments == ["# vodfleet-encoder: x264-0.164 preset=veryfast",
                        "# vodfleet-ffmpeg: 5.1.6 #EXT-X-ENDLIST"]
    assert "#EXT-X-ENDLIST" not in lines


def test_media_playlist_reparses() -> None:
    playlist = m3u8.loads(render_media(V720))
    assert (playlist.version, playlist.target_duration, playlist.playlist_type) == (6, 2, "vod")
    assert playlist.is_endlist
    assert playlist.is_independent_segments
    assert playlist.segment_map[0].uri == "init.mp4"
    assert [(s.uri, s.duration) for s in playlist.segments] == [
        ("seg_00001.m4s", 2.002), ("seg_00002.m4s", 2.002), ("seg_00003.m4s", 1.001)]
    assert "#EXTINF:2.002000," in render_media(V720)


def test_iframe_playlist_reparses() -> None:
    playlist = m3u8.loads(render_iframes(V360))
    assert playlist.is_i_frames_only
    assert playlist.version == 5
    assert playlist.segment_map[0].uri == "init.mp4"
    assert [(s.uri, s.byterange, s.duration) for s in playlist.segments] == [
        ("seg_00001.m4s", "36606@76", 2.0), ("seg_00002.m4s", "48346@76", 2.0),
        ("seg_00003.m4s", "58536@76", 1.28)]


def test_subtitle_playlist_takes_the_video_target_and_no_map() -> None:
    text = render_subtitle_media(PRESENTATION.subtitles[0], 4)
    playlist = m3u8.loads(text)
    assert (playlist.version, playlist.target_duration) == (3, 4)
    assert "#EXT-X-MAP" not in text
    assert [s.uri for s in playlist.segments] == ["seg_00001.vtt", "seg_00002.vtt", "seg_00003.vtt"]


@pytest.mark.parametrize(("seconds", "target"), [
    ([2.0, 2.0], 2), ([2.4, 1.0], 2), ([2.5, 1.0], 3), ([2.4999999, 1.0], 3), ([0.2], 1), ([6.006], 6)])
def test_target_duration_is_the_longest_written_extinf_rounded_half_up(seconds: list[float],
                                                                       target: int) -> None:
    # 2.4999999 is written as 2.500000, which a client rounds to 3: the target follows the written text.
    units = [round(s * 10_000_000) for s in seconds]
    track = replace(V360, timescale=10_000_000, segments=segs(units, 10_000_000, [1000] * len(units)))
    assert m3u8.loads(render_media(track)).target_duration == target


def test_segment_without_keyframe_joins_the_previous_iframe() -> None:
    middle = replace(V360.segments[1], starts_with_keyframe=False)
    track = replace(V360, segments=(V360.segments[0], middle, V360.segments[2]))
    playlist = m3u8.loads(render_iframes(track))
    entries = [(s.uri, s.duration) for s in playlist.segments]
    assert entries == [("seg_00001.m4s", 4.0), ("seg_00003.m4s", 1.28)]


def test_defaults_fall_back_and_groups_are_optional() -> None:
    no_default = replace(PRESENTATION, audio=tuple(replace(a, default=False) for a in PRESENTATION.audio),
                         subtitles=(subtitle("en", "English", forced=True),))
    media = m3u8.loads(render_master(no_default)).media
    assert [m.default for m in media if m.type == "AUDIO"] == ["YES", "NO"]  # exactly one: the first
    assert [(m.default, m.forced) for m in media if m.type == "SUBTITLES"] == [("NO", "YES")]
    video_only = m3u8.loads(render_master(replace(PRESENTATION, audio=(), subtitles=())))
    assert video_only.media == []
    info = video_only.playlists[0].stream_info
    assert (info.codecs, info.bandwidth, info.audio, info.subtitles) == ("avc1.64001e", 800_000, None, None)
