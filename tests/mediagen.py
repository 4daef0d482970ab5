"""Tiny deterministic media for tests (test scaffolding: plain subprocess.run with argv lists).

Sources are lavfi ``testsrc2`` video and ``sine`` audio (one distinct frequency per language),
encoded with ``-preset ultrafast`` and ``+bitexact`` so reruns give the same bytes.

Regenerate the ffprobe fixtures with ``python tests/mediagen.py tests/fixtures/ffprobe``.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

FFMPEG = "ffmpeg"
FFPROBE = "ffprobe"
CUES = (("00:00:00,200", "00:00:01,000", "Hello"), ("00:00:01,200", "00:00:02,000", "World"))


def _ffmpeg(*args: str) -> None:
    subprocess.run([FFMPEG, "-v", "error", "-nostdin", "-y", *args], check=True)


def make_source(path: Path, *, width: int = 320, height: int = 180, duration: float = 3.0, fps: str = "25",
                rotate: int | None = None, interlaced: bool = False, hdr: bool = False, vfr: bool = False,
                audio: Sequence[str] = ("eng",), channels: int = 2, subtitle_langs: Sequence[str] = (),
                sar: str | None = None, codec: str = "libx264") -> Path:
    """An MP4 (or MKV by suffix) with one video stream, one sine audio per language, mov_text subs.

    `rotate` is clockwise degrees (what a player must do). `vfr` doubles the rate for the first
    second and then drops every other frame, so r_frame_rate != avg_frame_rate.
    """
    path = Path(path)
    rate = str(Fraction(fps) * 2) if vfr else fps
    args = ["-f", "lavfi", "-i", f"testsrc2=s={width}x{height}:r={rate}:d={duration}"]
    for number, _lang in enumerate(audio):
        args += ["-f", "lavfi", "-i", f"sine=frequency={440 + 220 * number}:sample_rate=48000:d={duration}"]
    with tempfile.TemporaryDirectory() as scratch:
        for lang in subtitle_langs:
            srt = Path(scratch) / f"{lang}.srt"
            srt.write_text("".join(f"{n}\n{a} --> {b}\n{text} ({lang})\n\n"
                                   for n, (a, b, text) in enumerate(CUES, 1)), encoding="utf-8")
            args += ["-i", str(srt)]
        args += ["-map", "0:v"]
        args += [arg for n in range(len(audio)) for arg in ("-map", f"{n + 1}:a")]
        args += [arg for n in range(len(subtitle_langs)) for arg in ("-map", f"{n + 1 + len(audio)}:s")]
        first_second = round(Fraction(rate)) if vfr else None
        args += _video_args(first_second=first_second, sar=sar, interlaced=interlaced, hdr=hdr, codec=codec)
        for n, lang in enumerate(audio):
            args += [f"-metadata:s:a:{n}", f"language={lang}", f"-metadata:s:a:{n}", f"title=Audio {lang}"]
        if audio:
            args += ["-c:a", "aac", "-b:a", "64k" if channels <= 2 else "192k", "-ac", str(channels)]
        for n, lang in enumerate(subtitle_langs):
            args += [f"-metadata:s:s:{n}", f"language={lang}", f"-metadata:s:s:{n}", f"title=Subs {lang}"]
        if subtitle_langs:
            args += ["-c:s", "mov_text" if path.suffix in (".mp4", ".mov", ".m4v") else "srt"]
        args += ["-fflags", "+bitexact", "-map_metadata", "-1"]
        if rotate is None:
            _ffmpeg(*args, str(path))
        else:
            plain = Path(scratch) / f"plain{path.suffix}"
            _ffmpeg(*args, str(plain))
            # ffmpeg 5.1 stores `-metadata rotate=N` as N degrees counter-clockwise (checked against
            # -autorotate), the opposite of the legacy clockwise tag; write the complement.
            _ffmpeg("-i", str(plain), "-map", "0", "-c", "copy", "-fflags", "+bitexact",
                    "-metadata:s:v:0", f"rotate={(360 - rotate) % 360}", str(path))
    return path


def _video_args(*, first_second: int | None, sar: str | None, interlaced: bool, hdr: bool,
                codec: str) -> list[str]:
    # VFR: keep every frame of the first second, then every other one
    filters = [f"select='lt(n\\,{first_second})+not(mod(n\\,2))'"] if first_second else []
    if sar:
        filters.append(f"setsar={sar.replace(':', '/')}")
    if interlaced:
        filters.append("setfield=tff")
    args = ["-vf", ",".join(filters)] if filters else []
    args += ["-vsync", "vfr"] if first_second else []
    flags = "+bitexact+ilme+ildct" if interlaced else "+bitexact"
    args += ["-c:v", codec, "-g", "25", "-flags:v", flags]
    if codec in ("libx264", "libx265"):
        args += ["-preset", "ultrafast"]
    if codec == "libx265":
        args += ["-x265-params", "log-level=error", "-tag:v", "hvc1"]
    if interlaced:
        args += ["-field_order", "tt"]
    if hdr:
        args += ["-pix_fmt", "yuv420p10le", "-color_primaries", "bt2020", "-color_trc", "smpte2084",
                 "-colorspace", "bt2020nc"]
    else:
        args += ["-pix_fmt", "yuv420p"]
    return args


SYNC_FPS = 25
BEEP_SECONDS = 0.04


def _sync_video(duration: float, marks: tuple[float, ...], size: str = "320x180") -> list[str]:
    """lavfi black picture at SYNC_FPS with one white frame at each mark (marks on the frame grid)."""
    frames = "+".join(f"eq(n\\,{round(t * SYNC_FPS)})" for t in marks)
    return ["-f", "lavfi", "-i",
            f"color=c=black:s={size}:r={SYNC_FPS}:d={duration},drawbox=c=white:t=fill:enable='{frames}'"]


def _sync_audio(duration: float, marks: tuple[float, ...], sample_rate: int) -> list[str]:
    """lavfi silence with a BEEP_SECONDS 1 kHz burst at each mark (local times of this input)."""
    gates = "+".join(f"between(t\\,{t}\\,{t + BEEP_SECONDS})" for t in marks)
    return ["-f", "lavfi", "-i",
            f"aevalsrc=exprs='0.7*sin(2*PI*1000*(t-{marks[0]}))*({gates})':s={sample_rate}:d={duration}"]


@dataclass(frozen=True)
class SyncMaster:
    """A master with sync marks: a white frame on black and a 1 kHz tone burst in silence at each mark."""

    path: Path
    marks: tuple[float, ...]  # where flash and beep are on the title's timeline (seconds from the first picture)


def make_sync_master(path: Path, *, video_seconds: float = 4.0, audio_seconds: float | None = None,
                     sample_rate: int = 48000, codec: str = "aac", audio_delay: float = 0.0,
                     marks: tuple[float, ...] = (1.0, 2.6)) -> SyncMaster:
    """A 320x180 SYNC_FPS H.264 master with sync marks. `codec` is the audio codec (aac; pcm_u8, pcm_s16le,
    pcm_s24le in a .mov); `audio_delay` > 0 starts the audio that late through the container (an MP4 edit
    list: `-itsoffset`); the suffix picks the container (.mp4, .mov, .ts: ffmpeg's MPEG-TS starts at 1.4 s).
    Marks sit on the frame grid and 1 kHz cycles (phase 0 at each burst)."""
    audio_seconds = video_seconds if audio_seconds is None else audio_seconds
    local = tuple(round(t - audio_delay, 6) for t in marks)
    args = _sync_video(video_seconds, marks)
    if audio_delay:
        args += ["-itsoffset", str(audio_delay)]
    args += _sync_audio(audio_seconds, local, sample_rate)
    args += ["-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "ultrafast", "-g", "25",
             "-pix_fmt", "yuv420p", "-c:a", codec, "-ar", str(sample_rate), "-ac", "2"]
    if codec == "aac":
        args += ["-b:a", "128k"]
    _ffmpeg(*args, "-fflags", "+bitexact", str(path))
    return SyncMaster(Path(path), marks)


def make_audio_only(path: Path, *, duration: float = 2.0, cover_art: bool = False) -> Path:
    """AAC in M4A; with `cover_art`, a PNG attached picture (a video stream that is not video)."""
    args = ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:d={duration}"]
    if cover_art:
        args += ["-f", "lavfi", "-i", "color=red:s=64x64:d=1", "-map", "0", "-map", "1", "-frames:v", "1",
                 "-c:v", "png", "-disposition:v:0", "attached_pic"]
    _ffmpeg(*args, "-c:a", "aac", "-b:a", "64k", "-fflags", "+bitexact", str(path))
    return Path(path)


def make_text_file(path: Path, text: str = "this is not a video\n" * 20) -> Path:
    Path(path).write_text(text, encoding="utf-8")
    return Path(path)


def make_random_bytes(path: Path, size: int = 64 * 1024, seed: int = 1234) -> Path:
    Path(path).write_bytes(random.Random(seed).randbytes(size))
    return Path(path)


def make_truncated_mp4(src: Path, dst: Path, *, keep: float = 0.5) -> Path:
    """The first `keep` of `src`'s bytes: an upload cut short."""
    data = Path(src).read_bytes()
    Path(dst).write_bytes(data[: int(len(data) * keep)])
    return Path(dst)


def make_faststart(src: Path, dst: Path) -> Path:
    """Remux with the index (moov) first: truncating this keeps the index and loses media data."""
    _ffmpeg("-i", str(src), "-map", "0", "-c", "copy", "-movflags", "+faststart", "-fflags", "+bitexact",
            str(dst))
    return Path(dst)


def make_corrupt_start(src: Path, dst: Path, *, length: int = 4000) -> Path:
    """`src` with its index first and the first `length` bytes of media data overwritten with junk."""
    make_faststart(src, dst)
    data = bytearray(Path(dst).read_bytes())
    start = data.index(b"mdat") + 4
    data[start:start + length] = b"Z" * length
    Path(dst).write_bytes(bytes(data))
    return Path(dst)


def make_colour_steps(path: Path, colours: Sequence[str], *, width: int = 320, height: int = 180,
                      fps: int = 25, seconds_each: float = 1.0) -> Path:
    """An H.264 MP4 (with a sine audio track) whose picture is one flat colour per
    `seconds_each`, in the order given (ffmpeg colour names or 0xRRGGBB): the right picture at any time is known."""
    parts = ";".join(f"color=c={c}:s={width}x{height}:r={fps}:d={seconds_each},format=yuv420p[c{n}]"
                     for n, c in enumerate(colours))
    joins = "".join(f"[c{n}]" for n in range(len(colours)))
    total = seconds_each * len(colours)
    _ffmpeg("-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:d={total}",
            "-filter_complex", f"{parts};{joins}concat=n={len(colours)}:v=1:a=0[v]",
            "-map", "[v]", "-map", "0:a", "-c:v", "libx264", "-preset", "ultrafast", "-g", str(fps),
            "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", "-fflags", "+bitexact", "-map_metadata", "-1",
            str(path))
    return Path(path)


def make_fade_in(path: Path, *, duration: float = 6.0, fade_seconds: float = 2.0, width: int = 320,
                 height: int = 180, fps: int = 25) -> Path:
    """testsrc2 fading in from black over its first `fade_seconds` (frame 0 is pure black), with sine audio."""
    _ffmpeg("-f", "lavfi", "-i", f"testsrc2=s={width}x{height}:r={fps}:d={duration}",
            "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:d={duration}",
            "-vf", f"fade=t=in:st=0:d={fade_seconds}", "-c:v", "libx264", "-preset", "ultrafast", "-g", str(fps),
            "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", "-fflags", "+bitexact", "-map_metadata", "-1",
            str(path))
    return Path(path)


def ffprobe_json(path: Path) -> dict[str, object]:
    argv = [FFPROBE, "-v", "error", "-hide_banner", "-show_format", "-show_streams", "-of", "json",
            "-i", f"file:{Path(path).absolute()}"]
    out = subprocess.run(argv, check=True, capture_output=True).stdout
    return dict(json.loads(out))


# name → make_source keyword arguments; the captured ffprobe JSON of each is a unit-test fixture.
FIXTURE_SOURCES: dict[str, dict[str, Any]] = {
    "landscape": {},
    "portrait": {"width": 180, "height": 320, "duration": 2.0},
    "rotated90": {"duration": 2.0, "rotate": 90},
    "anamorphic": {"width": 720, "height": 576, "duration": 2.0, "sar": "64:45"},
    "interlaced": {"duration": 2.0, "interlaced": True},
    "hdr10": {"duration": 2.0, "hdr": True, "codec": "libx265"},
    "vfr": {"duration": 3.0, "vfr": True},
    "no_audio": {"duration": 2.0, "audio": ()},
    "three_audio": {"duration": 2.0, "audio": ("eng", "fra", "und")},
    "surround51": {"duration": 2.0, "channels": 6},
    "subtitles": {"duration": 2.0, "subtitle_langs": ("eng", "spa")},
    "titles_mkv": {"duration": 2.0, "audio": ("eng", "deu"), "subtitle_langs": ("fra",)},  # MP4 drops titles
}


def capture_fixtures(dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        made = {name: make_source(Path(scratch) / f"{name}{'.mkv' if name.endswith('_mkv') else '.mp4'}",
                                  **kwargs) for name, kwargs in FIXTURE_SOURCES.items()}
        made["cover_art_only"] = make_audio_only(Path(scratch) / "cover_art_only.m4a", cover_art=True)
        made["bigbuckbunny"] = Path(__file__).parents[1] / "sample_media" / "bigbuckbunny.mp4"
        for name, media in made.items():
            doc = ffprobe_json(media)
            doc["format"]["filename"] = media.name  # type: ignore[index]  # no temp paths in fixtures
            (dest / f"{name}.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    capture_fixtures(Path(sys.argv[1]))


def make_captioned_source(path: Path, *, field1: dict[int, int], field2: dict[int, int] | None = None,
                          duration: float = 6.0, width: int = 320, height: int = 180,
                          audio: Sequence[str] = ("eng",), mpeg2: bool = False, hevc: bool = False,
                          dtvcc: dict[int, list[tuple[int, int, int]]] | None = None) -> Path:
    """An MP4 (H.264, 29.97 fps, no B-frames) whose pictures carry CEA-608 captions as ATSC A/53 SEI
    (`field1`/`field2`: {frame: 608 word} from tests.cea608gen), with one sine audio per language; with
    `mpeg2`, an MPEG-TS whose MPEG-2 video carries the same captions as A/53 user data (ffmpeg's
    mpeg2video encoder copies the decoded captions: ``-a53cc`` is on by default); with `hevc`, HEVC with the
    captions in prefix SEI NAL units (ffmpeg 5.1's libx265 wrapper cannot write them itself); `dtvcc`:
    {picture: CEA-708 cc_data triplets} (`cea608gen.dtvcc_packets`) sent beside the 608 pairs.

    Route: x264 (``aud=1``, ``-bf 0``) or x265 (``aud=1:bframes=0``) → Annex B → `cea608gen.insert_a53` →
    ``-c:v copy`` into MP4.
    """
    from cea608gen import insert_a53

    path = Path(path)
    with tempfile.TemporaryDirectory() as scratch:
        kind = "hevc" if hevc else "h264"
        raw = Path(scratch) / f"raw.{kind}"
        encoder = (["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "aud=1:bframes=0:log-level=error"]
                   if hevc else ["-c:v", "libx264", "-preset", "ultrafast", "-bf", "0", "-x264-params", "aud=1"])
        _ffmpeg("-f", "lavfi", "-i", f"testsrc2=s={width}x{height}:r=30000/1001:d={duration}", *encoder,
                "-g", "60", "-pix_fmt", "yuv420p", "-fflags", "+bitexact", "-f", kind, str(raw))
        captioned = Path(scratch) / f"cc.{kind}"
        captioned.write_bytes(insert_a53(raw.read_bytes(), field1, field2 or {}, hevc=hevc, dtvcc=dtvcc))
        args = ["-r", "30000/1001", "-f", kind, "-i", str(captioned)]
        for number, _lang in enumerate(audio):
            args += ["-f", "lavfi", "-i", f"sine=frequency={440 + 220 * number}:sample_rate=48000:d={duration}"]
        args += ["-map", "0:v", *[arg for n in range(len(audio)) for arg in ("-map", f"{n + 1}:a")]]
        args += ["-c:v", "mpeg2video", "-q:v", "4"] if mpeg2 else ["-c:v", "copy"]
        for n, lang in enumerate(audio):
            args += [f"-metadata:s:a:{n}", f"language={lang}"]
        if audio:
            args += ["-c:a", "aac", "-b:a", "64k"]
        _ffmpeg(*args, "-fflags", "+bitexact", "-map_metadata", "-1", str(path))
    return path


def _integrated_lufs(path: Path) -> float:
    out = subprocess.run([FFMPEG, "-nostdin", "-hide_banner", "-nostats", "-i", str(path), "-af",
                          "ebur128=framelog=verbose", "-f", "null", "-"], capture_output=True, text=True, check=True)
    return float(out.stderr.rsplit("I:", 1)[1].split()[0])


def make_loudness_master(path: Path, *, lufs: float | None, duration: float = 4.0,
                         transient_at: float | None = None) -> Path:
    """A .mov master: testsrc2 320x180 and stereo 16-bit PCM at `lufs` integrated (BS.1770, ±0.5 LU; a
    level whose peaks pass 0 dBFS is hard-clipped by the 16-bit samples, as a hot master is), or digital
    silence when `lufs` is None. The sound is pink noise plus a 1 kHz tone, amplitude-modulated so its
    loudness range is not zero (a programme, not a test tone). `transient_at`: a 2 ms 1 kHz burst at −0.5 dBFS
    at that second, added after the level is set (a peak that a linear gain to a louder target would clip)."""
    path = Path(path)
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch) / "base.wav"
        if lufs is None:
            _ffmpeg("-f", "lavfi", "-i", f"anullsrc=r=48000:cl=stereo:d={duration}", "-t", str(duration),
                    "-c:a", "pcm_f32le", str(base))
            gain = 0.0
        else:
            _ffmpeg("-f", "lavfi", "-i", f"anoisesrc=color=brown:amplitude=0.5:r=48000:d={duration}:seed=7",
                    "-f", "lavfi", "-i", f"sine=frequency=1000:sample_rate=48000:d={duration}",
                    "-filter_complex", "[0][1]amix=inputs=2,volume='0.55+0.45*sin(2*PI*t/1.6)':eval=frame,"
                    "aformat=channel_layouts=stereo", "-c:a", "pcm_f32le", str(base))
            gain = lufs - _integrated_lufs(base)
        _ffmpeg("-f", "lavfi", "-i", f"testsrc2=s=320x180:r=25:d={duration}", "-i", str(base),
                "-map", "0:v", *_video_args(first_second=None, sar=None, interlaced=False, hdr=False, codec="libx264"),
                "-filter_complex", f"[1:a]volume={gain:.2f}dB" + ("[a]" if transient_at is None else (
                    f"[q];aevalsrc='if(between(t,{transient_at},{transient_at + 0.002}),0.95*sin(2*PI*1000*t),0)':"
                    f"s=48000:d={duration}:c=stereo[b];[q][b]amix=inputs=2:normalize=0[a]")),
                "-map", "[a]", "-c:a", "pcm_s16le", "-metadata:s:a:0", "language=eng",
                "-fflags", "+bitexact", "-map_metadata", "-1", str(path))
    return path


# ffmpeg's 5.1 order (FL FR FC LFE BL BR) and a tone per channel; the LFE's is under AAC's LFE band (≤ 120 Hz)
SURROUND_TONES = {"FL": 300, "FR": 400, "FC": 500, "LFE": 60, "BL": 700, "BR": 800}


def make_51_master(path: Path, *, seconds: int = 4, amplitude: float = 0.2) -> Path:
    """A .mov master: testsrc2 320x180 25 fps and 16-bit PCM 5.1 (tagged "5.1", language eng) carrying
    SURROUND_TONES[channel] at `amplitude` on each channel, all the time."""
    exprs = "|".join(f"{amplitude}*sin(2*PI*{hz}*t)" for hz in SURROUND_TONES.values())
    _ffmpeg("-f", "lavfi", "-i", f"testsrc2=s=320x180:r=25:d={seconds}", "-f", "lavfi", "-i",
            f"aevalsrc=exprs='{exprs}':c=5.1:s=48000:d={seconds}", "-map", "0:v", "-map", "1:a",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "pcm_s16le",
            "-metadata:s:a:0", "language=eng", str(path))
    return Path(path)
