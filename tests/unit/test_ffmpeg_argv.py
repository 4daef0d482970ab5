"""argv tables: the exact commands vodfleet runs, built from named pieces."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from pipelines.ffmpeg import demuxer_for, encode_argv, quality_argv
from pipelines.ladder import load_ladder
from pipelines.plan import plan_encode
from pipelines.source import AudioStream, SourceInfo, SubtitleStream, VideoStream

GLOBAL = ["-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-nostats", "-progress", "pipe:1"]
FORMATS = "mov,matroska,mxf,avi,mpegts,mpeg,flv,asf,ogg,dv,gxf,nut"
INPUT = ["-f", "mov", "-analyzeduration", "15000000", "-format_whitelist", FORMATS, "-probesize", "33554432",
         "-protocol_whitelist", "file", "-i", "file:/m/ep.mp4"]
KEYFRAMES_25 = ["-force_key_frames", "expr:gte(t,n_forced*2)", "-g", "50"]
COLOUR = ["-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709"]
NO_METADATA = ["-map_chapters", "-1", "-map_metadata", "-1", "-max_muxing_queue_size", "4096"]


def hls(folder: str, *, video: bool) -> dict[str, list[str]]:
    flags = "movflags=+negative_cts_offsets:use_editlist=0" if video else "use_editlist=0"
    return {
        "head": ["-hls_fmp4_init_filename", "init.mp4", "-hls_playlist_type", "vod",
                 "-hls_segment_filename", f"{folder}/seg_%05d.m4s", "-hls_segment_options", flags,
                 "-hls_segment_type", "fmp4", "-hls_time", "6"],
        "tail": ["-start_number", "1"],
    }


def video_output(rung: str, bitrate: int, profile: str) -> list[str]:
    folder = f"/o/video/{rung}"
    h = hls(folder, video=True)
    return ["-f", "hls", "-a53cc", "0", "-b:v", str(bitrate), "-bufsize", str(2 * bitrate), "-c:v", "libx264",
            *COLOUR,
            *KEYFRAMES_25, *h["head"], "-keyint_min", "50", *NO_METADATA, "-maxrate", str(round(bitrate * 1.5)),
            "-preset", "veryfast", "-profile:v", profile, "-sc_threshold", "0", *h["tail"],
            "-x264-params", "open-gop=0:scenecut=0", f"{folder}/ffmpeg.m3u8"]


def audio_output(lang: str) -> list[str]:
    folder = f"/o/audio/{lang}"
    h = hls(folder, video=False)
    return ["-f", "hls", "-ac", "2", "-ar", "48000", "-b:a", "128000", "-c:a", "aac", *h["head"], *NO_METADATA,
            "-profile:a", "aac_low", *h["tail"], f"{folder}/ffmpeg.m3u8"]


def source(**video: object) -> SourceInfo:
    return SourceInfo(
        path="/m/ep.mp4", format_name="mov,mp4,m4a,3gp,3g2,mj2", size_bytes=1, duration=10.0,
        video=VideoStream(0, "h264", 640, 360, **video),  # type: ignore[arg-type]
        audio=(AudioStream(1, "aac", 6, 48000, language="eng"),),
        subtitles=(SubtitleStream(2, "mov_text", "spa"), SubtitleStream(3, "hdmv_pgs_subtitle", "fre")))


def argv(info: SourceInfo) -> list[str]:
    plan = plan_encode(info, load_ladder("default"))
    return encode_argv(plan, ffmpeg="ffmpeg", source=Path("/m/ep.mp4"), out=Path("/o"), scratch=Path("/s"))


def test_one_decode_feeds_every_rung_audio_and_subtitles() -> None:
    graph = ("[0:0]fps=fps=25:start_time=0[s0];[s0]format=pix_fmts=yuv420p[s1];[s1]split=2[s2][s3];"
             "[s2]scale=416:234:flags=bicubic[s4];[s4]setsar=1[s5];"
             "[s3]scale=640:360:flags=bicubic[s6];[s6]setsar=1[s7];"
             "[0:1]aresample=48000:async=1:first_pts=0[s8];[s8]atrim=start_sample=1024[s9];"
             "[s9]apad=whole_len=478976[s10];[s10]atrim=end_sample=478976[s11];[s11]asetpts=PTS-STARTPTS[s12]")
    assert argv(source()) == [
        "ffmpeg", *GLOBAL, *INPUT, "-filter_complex", graph,
        "-map", "[s5]", *video_output("234p", 145_000, "main"),
        "-map", "[s7]", *video_output("360p", 365_000, "main"),
        "-map", "[s12]", *audio_output("en"),
        # only text subtitles are extracted (PGS bitmaps are not)
        "-map", "0:2", "-f", "webvtt", "-c:s", "webvtt", "/s/embedded_2.vtt",
    ]
    assert argv(source()).count("-i") == 1


def test_interlaced_hdr_ntsc_prepare_once_before_the_split() -> None:
    got = argv(source(interlaced=True, field_order="tt", color_transfer="smpte2084",
                      fps=Fraction(30000, 1001), avg_fps=Fraction(30000, 1001)))
    graph = got[got.index("-filter_complex") + 1]
    prepare = graph.split("split=")[0]
    assert prepare.startswith(
        "[0:0]bwdif=deint=all:mode=send_frame:parity=auto[s0];[s0]fps=fps=30000/1001:start_time=0[s1];")
    assert "tonemap=desat=0:tonemap=hable" in prepare
    order = [prepare.index(name) for name in ("bwdif", "fps=", "tonemap", "format=pix_fmts=yuv420p")]
    assert order == sorted(order)
    assert got[got.index("-g") + 1] == "60"


def test_demuxer_is_pinned_from_the_probe() -> None:
    assert demuxer_for("mov,mp4,m4a,3gp,3g2,mj2") == "mov"
    assert demuxer_for("matroska,webm") == "matroska"


def test_quality_measures_every_rung_in_one_decode() -> None:
    plan = plan_encode(source(), load_ladder("default"))
    got = quality_argv(plan, ffmpeg="ffmpeg", source=Path("/m/ep.mp4"),
                       renditions={"234p": Path("/q/234p.mp4"), "360p": Path("/q/360p.mp4")}, stats=Path("/q"))
    assert got[:6] == ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-nostats"]
    assert got.count("-i") == 3
    graph = got[got.index("-filter_complex") + 1]
    assert graph.count("psnr=stats_file=") == 2 and graph.count("ssim=stats_file=") == 2
    assert "/q/psnr_360p.log" in graph
    assert got.count("null") == 4
