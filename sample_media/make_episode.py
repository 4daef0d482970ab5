"""Generate a deterministic test episode: moving synthetic video with grain, two tagged AAC tracks.

    python sample_media/make_episode.py OUT.mp4 [--duration 60] [--size 1920x1080] [--fps 25]
    python sample_media/make_episode.py OUT.mp4 --small        # 640x360, 8 s (what tests use)

Video: `testsrc2` (moving gradients, clock, colour bars) with a Game of Life board (`life`, fixed seed)
gliding over it, plus temporal film grain (`noise`, fixed seed), so the encoder has real motion and
noise to work on. H.264 High, CRF 20, preset veryfast, yuv420p, keyframe every 2 s, in MP4.
Audio: two AAC-LC stereo 48 kHz tracks, tagged and titled: eng (a repeating sine sweep over a
slowly swelling chord) and spa (a pulsing A-major triad with a beeping fifth).

Deterministic: the same command with the same ffmpeg build gives the same bytes (codec bitexact flags,
no copied metadata, no dates, fixed seeds, x264 thread count pinned — x264's output depends on it).
Track titles go in the MP4 handler name (ffprobe: tags.handler_name): ffmpeg 5.1's MP4 muxer writes
no per-track "title".
The command is a pure function returning argv, run without a shell. The graph is written by hand
rather than with ffmpeg-python: it needs source filters and two `-metadata:s:a:N` per stream.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

SMALL: tuple[float, tuple[int, int]] = (8.0, (640, 360))  # (duration, size) with --small
DEFAULTS: tuple[float, tuple[int, int]] = (60.0, (1920, 1080))
X264_THREADS = 4  # pinned: x264's bytes depend on its thread count, not on the machine's cores


@dataclass(frozen=True)
class EpisodeSpec:
    duration: float = 60.0
    width: int = 1920
    height: int = 1080
    fps: int = 25
    crf: int = 20
    preset: str = "veryfast"
    grain: int = 6  # noise strength (0-100); 20 makes a 1080p CRF-18 file ~110 Mb/s and 3x slower
    seed: int = 42


# (language, title, left expression, right expression); t is time in seconds.
# A sweep 200 → 1000 Hz every 8 s (phase = 200u + 50u², u = t mod 8) over a swelling C-major chord.
_SWEEP = "0.22*sin(2*PI*(200*mod(t,8)+50*mod(t,8)*mod(t,8)))"
_ENG = ("eng", "English",
        f"{_SWEEP}+0.10*sin(2*PI*261.63*t)*(0.6+0.4*sin(2*PI*0.25*t))+0.06*sin(2*PI*392*t)",
        f"{_SWEEP}+0.10*sin(2*PI*329.63*t)*(0.6+0.4*cos(2*PI*0.25*t))+0.06*sin(2*PI*523.25*t)")
# A-major triad pulsing at 2 Hz, a fifth that beeps every other half second.
_SPA = ("spa", "Español",
        "0.16*sin(2*PI*440*t)*(0.5+0.5*sin(2*PI*2*t))+0.10*sin(2*PI*554.37*t)"
        "+0.08*sin(2*PI*659.25*t)*gte(mod(t,1),0.5)",
        "0.16*sin(2*PI*440*t)*(0.5+0.5*cos(2*PI*2*t))+0.10*sin(2*PI*554.37*t)"
        "+0.08*sin(2*PI*329.63*t)*lt(mod(t,1),0.5)")
AUDIO_TRACKS = (_ENG, _SPA)
VIDEO_TITLE = "vodfleet test episode"


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def filter_graph(spec: EpisodeSpec) -> str:
    """The -filter_complex text: sources, overlay, grain → [v]; one aevalsrc per audio track → [aN]."""
    w, h, r = spec.width, spec.height, spec.fps
    board_w, board_h = _even(w / 3), _even(h / 3)
    video = (
        f"testsrc2=size={w}x{h}:rate={r}[bg];"
        f"life=size={board_w}x{board_h}:rate={r}:seed={spec.seed}:mold=10:ratio=0.12"
        ":life_color=#ffcc00:death_color=#202060:mold_color=#603030[board];"
        # The board wanders over the frame (a Lissajous path); quotes keep the commas inside the expressions.
        "[bg][board]overlay=x='(W-w)*(0.5+0.5*sin(0.7*t))':y='(H-h)*(0.5+0.5*cos(0.45*t))'"
        + (f",noise=alls={spec.grain}:allf=t+u:all_seed={spec.seed}" if spec.grain else "")
        + ",format=yuv420p[v]"
    )
    audio = [
        f"aevalsrc=exprs='{left}|{right}':sample_rate=48000:channel_layout=stereo:duration={spec.duration}[a{n}]"
        for n, (_lang, _title, left, right) in enumerate(AUDIO_TRACKS)
    ]
    return ";".join([video, *audio])


def episode_argv(spec: EpisodeSpec, out: Path, *, ffmpeg: str = "ffmpeg") -> list[str]:
    """The whole ffmpeg command (pure)."""
    argv = [ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", "error",
            "-filter_complex", filter_graph(spec), "-map", "[v]"]
    for n in range(len(AUDIO_TRACKS)):
        argv += ["-map", f"[a{n}]"]
    argv += [
        "-t", f"{spec.duration:g}",
        "-c:v", "libx264", "-profile:v", "high", "-preset", spec.preset, "-crf", str(spec.crf),
        "-pix_fmt", "yuv420p", "-g", str(2 * spec.fps), "-threads:v", str(X264_THREADS),
        "-c:a", "aac", "-b:a", "160k", "-ar", "48000", "-ac", "2",
        "-map_metadata", "-1", "-map_chapters", "-1",
        # Codec-level bitexact only: the muxer's "+bitexact" would also replace every track's handler
        # name (the only per-track title ffmpeg's MP4 muxer writes) with "SoundHandler". The muxer adds
        # no date and names only its own version, so the bytes are still fixed for one ffmpeg build.
        "-flags:v", "+bitexact", "-flags:a", "+bitexact",
    ]
    for n, (language, title, _left, _right) in enumerate(AUDIO_TRACKS):
        argv += [f"-metadata:s:a:{n}", f"language={language}", f"-metadata:s:a:{n}", f"title={title}",
                 f"-metadata:s:a:{n}", f"handler_name={title}"]
    argv += ["-metadata:s:v:0", f"handler_name={VIDEO_TITLE}", "-f", "mp4", str(out)]
    return argv


def summary(path: Path, *, ffprobe: str = "ffprobe") -> str:
    """A few lines describing the file, from ffprobe's JSON."""
    proc = subprocess.run(
        [ffprobe, "-v", "error", "-of", "json", "-show_entries",
         "format=duration,size,bit_rate:stream=index,codec_type,codec_name,profile,width,height,"
         "r_frame_rate,pix_fmt,channels,sample_rate:stream_tags=language,title,handler_name", str(path)],
        capture_output=True, text=True, check=True, timeout=60)
    info = json.loads(proc.stdout)
    fmt = info["format"]
    lines = [f"{path}: {float(fmt['duration']):.2f} s, {int(fmt['size']) / 1e6:.1f} MB, "
             f"{int(fmt['bit_rate']) / 1e6:.2f} Mb/s"]
    for s in info["streams"]:
        tags = s.get("tags", {})
        label = f"[{tags.get('language', 'und')}] {tags.get('title', tags.get('handler_name', ''))!r}"
        if s["codec_type"] == "video":
            detail = f"{s['width']}x{s['height']} {s['r_frame_rate']} fps {s.get('pix_fmt', '')}"
        else:
            detail = f"{s.get('channels')} ch {s.get('sample_rate')} Hz"
        lines.append(f"  #{s['index']} {s['codec_type']} {s['codec_name']} ({s.get('profile', '')}) "
                     f"{detail} {label}")
    return "\n".join(lines)


def _size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)x(\d+)", text)
    if not match or int(match[1]) % 2 or int(match[2]) % 2 or int(match[1]) < 64 or int(match[2]) < 64:
        raise argparse.ArgumentTypeError(f"{text!r} is not an even WIDTHxHEIGHT of at least 64x64")
    return int(match[1]), int(match[2])


def parse_args(argv: list[str] | None = None) -> tuple[EpisodeSpec, Path, bool]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="the .mp4 to write (its folder is created)")
    parser.add_argument("--duration", type=float, help="seconds (default 60; 8 with --small)")
    parser.add_argument("--size", type=_size, help="WIDTHxHEIGHT (default 1920x1080; 640x360 with --small)")
    parser.add_argument("--fps", type=int, default=25, choices=range(1, 121), metavar="FPS")
    parser.add_argument("--crf", type=int, default=EpisodeSpec.crf, choices=range(52), metavar="CRF")
    parser.add_argument("--preset", default=EpisodeSpec.preset)
    parser.add_argument("--grain", type=int, default=EpisodeSpec.grain, choices=range(101), metavar="0-100")
    parser.add_argument("--small", action="store_true", help="640x360, 8 s: the test-sized episode")
    parser.add_argument("--print-argv", action="store_true", help="print the ffmpeg command and exit")
    args = parser.parse_args(argv)
    base_duration, base_size = SMALL if args.small else DEFAULTS
    duration: float = args.duration if args.duration is not None else base_duration
    if not 0 < duration <= 3 * 3600:
        parser.error("--duration must be between 0 and 10800 seconds")
    width, height = args.size or base_size
    spec = EpisodeSpec(duration=duration, width=width, height=height, fps=args.fps, crf=args.crf,
                       preset=args.preset, grain=args.grain)
    return spec, args.output, args.print_argv


def main(argv: list[str] | None = None) -> int:
    spec, out, print_only = parse_args(argv)
    ffmpeg = os.environ.get("FFMPEG_PATH", "ffmpeg")
    ffprobe = os.environ.get("FFPROBE_PATH", "ffprobe")
    command = episode_argv(spec, out, ffmpeg=ffmpeg)
    if print_only:
        print(shlex.join(command))
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")  # never leave a truncated episode under the real name
    command[-1] = str(partial)
    started = time.monotonic()
    try:
        proc = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              check=False, timeout=120 + 30 * spec.duration)
    except FileNotFoundError:
        print(f"error: {ffmpeg} not found; install ffmpeg or set FFMPEG_PATH", file=sys.stderr)
        return 2
    except subprocess.TimeoutExpired:  # run() has already killed ffmpeg
        partial.unlink(missing_ok=True)
        print(f"error: ffmpeg ran too long and was killed\n{shlex.join(command)}", file=sys.stderr)
        return 1
    if proc.returncode != 0:
        partial.unlink(missing_ok=True)
        print(f"error: ffmpeg exited with {proc.returncode}\n{shlex.join(command)}\n{proc.stderr[-4000:]}",
              file=sys.stderr)
        return 1
    partial.replace(out)
    print(f"wrote {out} in {time.monotonic() - started:.1f} s")
    print(summary(out, ffprobe=ffprobe))
    return 0


if __name__ == "__main__":
    sys.exit(main())
