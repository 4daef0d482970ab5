"""Storyboard and poster, pure: tile geometry and count, the WebVTT thumbnails track, the HLS image playlist and
master line, the DASH image AdaptationSet, the poster's choice, ffmpeg metadata parsing, publish types."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import m3u8
import pytest
from mpegdash.parser import MPEGDASHParser
from test_dash import PRESENTATION

from pipelines.dash import render_mpd
from pipelines.errors import ConfigError
from pipelines.hls import render_image_playlist, render_master
from pipelines.poster import choose_poster
from pipelines.presentation import Segment, Storyboard
from pipelines.qc.thumbnails import check_dash
from pipelines.storyboard import (
    FrameStats,
    RungPicture,
    StoryboardOptions,
    expected_tiles,
    parse_frame_stats,
    plan_storyboard,
    render_thumbnails_vtt,
    tile_rect,
)
from workers.preview.mime import content_type as preview_type
from workers.publish.plan import Phase, content_type, phase_of

RUNGS = [RungPicture("1080p", "video/1080p", 1920, 1080), RungPicture("234p", "video/234p", 416, 234),
         RungPicture("144p", "video/144p", 256, 144), RungPicture("90p", "video/90p", 160, 90)]
# 205 s at one tile every 2 s: 103 tiles, 10x10 per sheet → 2 sheets, the second with 3 tiles
BOARD = Storyboard(path="thumbnails", interval=2.0, tile_width=160, tile_height=90, columns=10, rows=10, tiles=103,
                   sheets=(Segment("sprite_0001.jpg", 0.0, 200.0, 40_000), Segment("sprite_0002.jpg", 200.0, 5.0,
                                                                                    3_000)))


def test_plan_decodes_the_smallest_rung_at_least_a_tile_wide() -> None:
    plan = plan_storyboard(StoryboardOptions(), RUNGS, 205.0, 0.04)
    assert (plan.rung.id, plan.tile_width, plan.tile_height, plan.tiles, plan.sheets) == ("90p", 160, 90, 103, 2)
    wide = plan_storyboard(StoryboardOptions(tile_width=240), RUNGS, 205.0, 0.04)
    assert (wide.rung.id, wide.tile_width, wide.tile_height) == ("144p", 240, 136)  # 240 * 144/256 = 135 → even
    tiny = plan_storyboard(StoryboardOptions(tile_width=320), [RungPicture("a", "video/a", 240, 100)], 4.0, 0.04)
    assert (tiny.tile_width, tiny.tile_height) == (240, 100)  # never upscaled: the widest rung's width


@pytest.mark.parametrize(("duration", "interval", "tiles"), [
    (8.0, 2.0, 4), (8.04, 2.0, 5), (6.0, 1.0, 6), (0.04, 2.0, 1), (7.999, 2.0, 4), (10.0, 3.0, 4)])
def test_expected_tiles_one_per_interval_start_before_the_last_frame(duration: float, interval: float,
                                                                     tiles: int) -> None:
    assert expected_tiles(duration, interval, 0.04) == tiles


@pytest.mark.parametrize(("kwargs", "field"), [({"interval": 0}, "interval"), ({"tile_width": 8}, "width"),
                                               ({"columns": 0}, "grid"), ({"interval": float("nan")}, "interval")])
def test_bad_options_name_the_field(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        StoryboardOptions(**kwargs)  # type: ignore[arg-type]


def test_tiles_are_row_major_and_wrap_to_the_next_sheet() -> None:
    assert tile_rect(BOARD, 0) == (1, 0, 0, 160, 90)
    assert tile_rect(BOARD, 13) == (1, 480, 90, 160, 90)
    assert tile_rect(BOARD, 99) == (1, 1440, 810, 160, 90)
    assert tile_rect(BOARD, 100) == (2, 0, 0, 160, 90)


def test_thumbnails_vtt_has_one_cue_per_tile_to_the_end_of_the_title() -> None:
    text = render_thumbnails_vtt(BOARD, 205.0)
    blocks = text.split("\n\n")
    assert blocks[0] == "WEBVTT"
    assert blocks[1] == "00:00:00.000 --> 00:00:02.000\nsprite_0001.jpg#xywh=0,0,160,90"
    assert blocks[101] == "00:03:20.000 --> 00:03:22.000\nsprite_0002.jpg#xywh=0,0,160,90"
    assert blocks[103].strip() == "00:03:24.000 --> 00:03:25.000\nsprite_0002.jpg#xywh=320,0,160,90"


def test_image_playlist_re_read_by_m3u8() -> None:
    playlist = m3u8.loads(render_image_playlist(BOARD))
    assert playlist.is_images_only and playlist.is_endlist and playlist.target_duration == 200
    assert [(s.uri, s.duration) for s in playlist.segments] == [("sprite_0001.jpg", 200.0), ("sprite_0002.jpg", 5.0)]
    assert playlist.data["tiles"] == [{"resolution": "160x90", "layout": "10x10", "duration": 2.0}] * 2


def test_master_lists_the_image_stream_after_the_variants() -> None:
    text = render_master(replace(PRESENTATION, storyboard=BOARD))
    assert text.splitlines()[-1] == ('#EXT-X-IMAGE-STREAM-INF:BANDWIDTH=1600,RESOLUTION=160x90,CODECS="jpeg",'
                                     'URI="thumbnails/index.m3u8"')  # 40 000 bytes * 8 / 200 s
    master = m3u8.loads(text)
    assert [p.uri for p in master.image_playlists] == ["thumbnails/index.m3u8"]
    assert len(master.playlists) == len(PRESENTATION.video)
    assert "IMAGE" not in render_master(PRESENTATION)  # no storyboard, no line


def test_mpd_image_adaptation_set_per_dash_if() -> None:
    mpd = MPEGDASHParser.parse(render_mpd(replace(PRESENTATION, storyboard=BOARD)))
    image = [a for a in mpd.periods[0].adaptation_sets if a.content_type == "image"]
    assert len(image) == 1 and image[0].mime_type == "image/jpeg"
    template = image[0].segment_templates[0]
    assert (template.media, int(template.timescale), int(template.duration), int(template.start_number)) == (
        "thumbnails/sprite_$Number%04d$.jpg", 1000, 200_000, 1)
    rep = image[0].representations[0]
    assert (rep.id, rep.width, rep.height, rep.bandwidth) == ("thumbnails", 1600, 900, 1600)
    assert [(p.scheme_id_uri, p.value) for p in rep.essential_properties] == [
        ("http://dashif.org/thumbnail_tile", "10x10")]
    assert "image" not in render_mpd(PRESENTATION)


def stats(time: float, mean: float, spread: float, entropy: float) -> FrameStats:
    return FrameStats(time=time, luma_mean=mean, luma_spread=spread, entropy=entropy)


def test_poster_is_never_black_or_flat_when_the_title_has_better() -> None:
    fade = [stats(0, 16, 0, 0), stats(2, 20, 5, 1.0), stats(4, 120, 150, 4.5), stats(6, 118, 140, 4.7),
            stats(8, 30, 40, 5.0), stats(10, 120, 0, 0.1)]
    assert choose_poster(fade, 11.0) == fade[3]  # 8 s is dark (mean 30 < 32), 10 s is a flat card
    assert choose_poster([stats(0, 120, 150, 4.5), stats(2, 16, 0, 0)], 3.0) == stats(0, 120, 150, 4.5)  # edge ok
    assert choose_poster([stats(0, 16, 0, 0), stats(2, 16, 0, 0.2)], 4.0) == stats(2, 16, 0, 0.2)  # all black
    assert choose_poster([], 4.0) is None


def test_parse_frame_stats_of_metadata_print() -> None:
    text = ("frame:0    pts:0       pts_time:0\nlavfi.signalstats.YLOW=16\nlavfi.signalstats.YAVG=16.5\n"
            "lavfi.signalstats.YHIGH=17\nlavfi.entropy.entropy.normal.Y=0.100000\n"
            "lavfi.entropy.normalized_entropy.normal.Y=0.0125\n"
            "frame:1    pts:51200   pts_time:2\nlavfi.signalstats.YLOW=30\nlavfi.signalstats.YAVG=120\n"
            "lavfi.signalstats.YHIGH=220\nlavfi.entropy.entropy.normal.Y=4.5\n")
    assert parse_frame_stats(text) == [stats(0.0, 16.5, 1.0, 0.1), stats(2.0, 120.0, 190.0, 4.5)]


def test_published_and_previewed_as_jpeg() -> None:
    assert content_type("thumbnails/sprite_0001.jpg") == content_type("poster.jpg") == "image/jpeg"
    assert preview_type("poster.jpg") == "image/jpeg"
    assert phase_of("poster.jpg") is Phase.MEDIA and phase_of("thumbnails/thumbnails.vtt") is Phase.MEDIA
    assert phase_of("thumbnails/index.m3u8") is Phase.PLAYLISTS


def test_cli_flags_become_storyboard_options() -> None:
    from workers.cli.command import build_parser
    from workers.cli.commands.transcode import request_from

    parser = build_parser()
    args = parser.parse_args(["transcode", "x.mp4", "-o", "out", "--thumbnail-interval", "5",
                              "--thumbnail-width", "240", "--thumbnail-grid", "5x4"])
    assert request_from(args).thumbnails == StoryboardOptions(interval=5.0, tile_width=240, columns=5, rows=4)
    assert request_from(parser.parse_args(["transcode", "x.mp4", "-o", "out"])).thumbnails == StoryboardOptions()
    off = request_from(parser.parse_args(["transcode", "x.mp4", "-o", "out", "--no-thumbnails"]))
    assert not off.thumbnails.enabled
    with pytest.raises(SystemExit):
        parser.parse_args(["transcode", "x.mp4", "-o", "out", "--thumbnail-grid", "10"])


def test_dash_check_addresses_exactly_the_sheets_made(tmp_path: Path) -> None:
    one = replace(BOARD, tiles=100, sheets=BOARD.sheets[:1])
    (tmp_path / "thumbnails").mkdir()
    (tmp_path / "thumbnails" / "sprite_0001.jpg").write_bytes(b"\xff\xd8")
    # audio 20 ms longer than a 200 s picture: the Period crosses into a sheet no frame reaches
    (tmp_path / "manifest.mpd").write_text(render_mpd(replace(PRESENTATION, duration=200.02, storyboard=one)),
                                           encoding="utf-8")
    assert check_dash(tmp_path, one).passed
    # a title that really runs into the second sheet must have it
    (tmp_path / "manifest.mpd").write_text(render_mpd(replace(PRESENTATION, duration=205.0, storyboard=one)),
                                           encoding="utf-8")
    result = check_dash(tmp_path, one)
    assert not result.passed and "sprite_0002.jpg" in result.detail


def test_storyboard_argv_is_one_decode_two_outputs() -> None:
    from pipelines.poster import poster_argv
    from pipelines.storyboard import storyboard_argv

    plan = plan_storyboard(StoryboardOptions(), RUNGS, 8.0, 0.04)
    argv = storyboard_argv(plan, ffmpeg="ffmpeg", rung=Path("/s/video_90p.mp4"), out=Path("/o/thumbnails"),
                           stats=Path("/s/stats.txt"))
    assert argv == [
        "ffmpeg", "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-nostats", "-i", "file:/s/video_90p.mp4",
        "-filter_complex",
        "[0:v]select=isnan(prev_t)+gt(floor((t+0.001)/2.0)\\,floor((prev_t+0.001)/2.0))[s0];"
        "[s0]scale=flags=area:h=90:w=160[s1];[s1]setsar=1[s2];[s2]split=2[s3][s4];[s3]tile=layout=10x10[s5];"
        "[s4]signalstats[s6];[s6]entropy[s7];[s7]metadata=file=/s/stats.txt:mode=print[s8]",
        "-map", "[s5]", "-f", "image2", "-c:v", "mjpeg", "-fps_mode", "passthrough", "-pix_fmt", "yuvj420p",
        "-q:v", "5", "-start_number", "1", "/o/thumbnails/sprite_%04d.jpg",
        "-map", "[s8]", "-f", "null", "-fps_mode", "passthrough", "-"]
    assert poster_argv(ffmpeg="ffmpeg", segment=Path("/s/seg.mp4"), frame=12, width=1280, height=720,
                       out=Path("/o/poster.jpg")) == [
        "ffmpeg", "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-nostats", "-i", "file:/s/seg.mp4",
        "-map", "0:v:0", "-vf", "select=eq(n\\,12),scale=1280:720:flags=lanczos,setsar=1", "-frames:v", "1",
        "-fps_mode", "passthrough", "-pix_fmt", "yuvj420p", "-c:v", "mjpeg", "-q:v", "2", "-f", "image2",
        "-update", "1", "file:/o/poster.jpg"]
