"""Real ffmpeg CMAF output -> measure -> HLS + DASH, every number checked against ffprobe.

One encode (the sample clip, one video rung + one audio track, ~1 s) is shared by every test in the module.
The lead's runner is not used on purpose: this test checks the measuring, so a plain argv subprocess will do.
"""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import m3u8
import pytest
from mpegdash.parser import MPEGDASHParser

from pipelines.dash import write_mpd
from pipelines.errors import PipelineError
from pipelines.hls import write_hls
from pipelines.isobmff import read_fragment, read_init
from pipelines.measure import measure_audio_track, measure_video_track
from pipelines.presentation import AudioTrack, Presentation, Segment, SubtitleTrack, VideoTrack
from pipelines.subtitles import Cue, wvtt

pytestmark = pytest.mark.media

SAMPLE = Path(__file__).resolve().parents[2] / "sample_media" / "bigbuckbunny.mp4"
H264_PROFILES = {"Constrained Baseline": 66, "Baseline": 66, "Main": 77, "High": 100}
AAC_PROFILES = {"LC": 2, "HE-AAC": 5, "HE-AACv2": 29}


def hls_output(folder: str, options: str) -> list[str]:
    return ["-f", "hls", "-hls_time", "2", "-hls_playlist_type", "vod", "-hls_segment_type", "fmp4",
            "-hls_segment_options", options, "-hls_fmp4_init_filename", "init.mp4",
            "-hls_segment_filename", f"{folder}/seg_%05d.m4s", "-start_number", "1", f"{folder}/ffmpeg.m3u8"]


def encode_argv(root: Path) -> list[str]:
    return ["ffmpeg", "-v", "error", "-y", "-i", str(SAMPLE),
            "-map", "0:v", "-vf", "scale=640:360", "-c:v", "libx264", "-preset", "veryfast", "-b:v", "800k",
            "-maxrate", "900k", "-bufsize", "1600k", "-g", "50", "-keyint_min", "50", "-sc_threshold", "0",
            "-bf", "2", "-force_key_frames", "expr:gte(t,n_forced*2)", "-an",
            *hls_output(f"{root}/video/360p", "movflags=+negative_cts_offsets:use_editlist=0"),
            "-map", "0:a", "-c:a", "aac", "-ac", "2", "-ar", "48000", "-b:a", "128k", "-vn",
            *hls_output(f"{root}/audio/en", "use_editlist=0")]


def ffprobe(*args: str, cwd: Path | None = None) -> dict[str, Any]:
    done = subprocess.run(["ffprobe", "-v", "error", "-of", "json", *args], capture_output=True, text=True,
                          check=True, timeout=60, cwd=cwd)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@dataclass(frozen=True)
class Encoded:
    root: Path
    video: VideoTrack
    audio: AudioTrack


@pytest.fixture(scope="module")
def encoded(tmp_path_factory: pytest.TempPathFactory) -> Encoded:
    if not (shutil.which("ffmpeg") and shutil.which("ffprobe")):
        pytest.skip("ffmpeg/ffprobe are not installed (apt-get install -y ffmpeg)")
    root = tmp_path_factory.mktemp("cmaf")
    for folder in ("video/360p", "audio/en"):
        (root / folder).mkdir(parents=True)
    subprocess.run(encode_argv(root), check=True, capture_output=True, timeout=120)
    video = measure_video_track(root, "video/360p", "360p", nominal_bitrate=800_000, frame_rate=Fraction(25))
    audio = measure_audio_track(root, "audio/en", "en", language="en", name="English", default=True)
    return Encoded(root, video, audio)


def probe_track(root: Path, track: VideoTrack | AudioTrack, scratch: Path) -> tuple[dict[str, Any], list[Any]]:
    """ffprobe's view of init + segments concatenated: (stream, packets)."""
    whole = scratch / f"{track.id}.mp4"
    folder = root / track.path
    whole.write_bytes(b"".join((folder / name).read_bytes() for name in [track.init,
                                                                         *(s.uri for s in track.segments)]))
    info = ffprobe("-show_streams", "-show_data", "-show_packets", "-select_streams", "0", str(whole))
    return info["streams"][0], info["packets"]


def extradata(stream: dict[str, Any]) -> bytes:
    """The first bytes of the codec configuration as ffmpeg read it (from `-show_data`'s hex dump)."""
    first = stream["extradata"].strip().splitlines()[0]
    return bytes.fromhex("".join(first.split(":", 1)[1][:40].split()))  # the hex columns, not the ASCII


def check_against_ffprobe(root: Path, track: VideoTrack | AudioTrack, scratch: Path) -> tuple[dict[str, Any],
                                                                                              list[Any]]:
    stream, packets = probe_track(root, track, scratch)
    assert stream["time_base"] == f"1/{track.timescale}"
    # Durations from consecutive dts: ffprobe reports N/A for the AAC priming packet's own duration.
    dts = [int(p["dts"]) for p in packets]
    steps = [b - a for a, b in itertools.pairwise(dts)] + [int(packets[-1]["duration"])]
    durations = dict(zip(dts, steps, strict=True))
    assert sum(durations.values()) == sum(s.duration_units for s in track.segments)
    by_dts = {int(p["dts"]): p for p in packets}
    init = read_init((root / track.path / track.init).read_bytes())
    for segment in track.segments:
        frag = read_fragment((root / track.path / segment.uri).read_bytes(), init)
        first = by_dts[segment.decode_time]  # the segment's first sample sits at its tfdt on ffmpeg's timeline
        assert "K" in first["flags"], f"{segment.uri} does not start with a keyframe"
        assert segment.starts_with_keyframe
        assert segment.start == pytest.approx(segment.decode_time / track.timescale)
        assert segment.size == (root / track.path / segment.uri).stat().st_size
        mine = [p for p in packets if segment.decode_time <= int(p["dts"]) < segment.decode_time
                + segment.duration_units]
        assert [int(p["size"]) for p in mine] == list(frag.sizes)
        assert [durations[int(p["dts"])] for p in mine] == list(frag.durations)
    return stream, packets


def test_video_track_matches_ffprobe(encoded: Encoded, tmp_path: Path) -> None:
    video = encoded.video
    stream, _ = check_against_ffprobe(encoded.root, video, tmp_path)
    assert (video.width, video.height) == (stream["width"], stream["height"]) == (640, 360)
    assert [s.uri for s in video.segments] == ["seg_00001.m4s", "seg_00002.m4s", "seg_00003.m4s"]
    assert video.duration == pytest.approx(5.28)  # 132 frames at 25 fps
    assert [s.duration for s in video.segments] == pytest.approx([2.0, 2.0, 1.28])
    config = extradata(stream)  # avcC: version, profile, constraint flags, level
    assert video.codecs == f"avc1.{config[1]:02x}{config[2]:02x}{config[3]:02x}"
    assert config[1] == H264_PROFILES[stream["profile"]]
    assert config[3] == stream["level"]


def test_iframe_ranges_hold_moof_and_exactly_the_keyframe(encoded: Encoded, tmp_path: Path) -> None:
    _, packets = probe_track(encoded.root, encoded.video, tmp_path)
    by_dts = {int(p["dts"]): p for p in packets}
    for segment in encoded.video.segments:
        data = (encoded.root / encoded.video.path / segment.uri).read_bytes()
        chunk = data[segment.iframe_offset : segment.iframe_offset + segment.iframe_length]
        assert chunk[4:8] == b"moof"
        moof_size = int.from_bytes(chunk[:4], "big")
        assert chunk[moof_size + 4 : moof_size + 8] == b"mdat"
        assert segment.iframe_length == moof_size + 8 + int(by_dts[segment.decode_time]["size"])


def test_audio_track_matches_ffprobe(encoded: Encoded, tmp_path: Path) -> None:
    audio = encoded.audio
    stream, _ = check_against_ffprobe(encoded.root, audio, tmp_path)
    assert (audio.channels, audio.sample_rate) == (stream["channels"], int(stream["sample_rate"])) == (2, 48000)
    assert audio.codecs == f"mp4a.40.{AAC_PROFILES[stream['profile']]}" == "mp4a.40.2"
    assert audio.codecs == f"mp4a.40.{extradata(stream)[0] >> 3}"  # AudioSpecificConfig's object type
    assert (audio.segments[0].iframe_offset, audio.segments[0].iframe_length) == (0, 0)


def subtitle_track(root: Path, video: VideoTrack) -> SubtitleTrack:
    """Tiny WebVTT files aligned with the video segments (the real writer is someone else's)."""
    folder = root / "subtitles" / "en"
    folder.mkdir(parents=True, exist_ok=True)
    segments = []
    for i, seg in enumerate(video.segments, start=1):
        text = (f"WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n\n"
                f"00:00:{seg.start + 0.5:06.3f} --> 00:00:{seg.start + 1.0:06.3f}\nCue {i}\n")
        (folder / f"seg_{i:05d}.vtt").write_text(text, encoding="utf-8")
        segments.append(Segment(uri=f"seg_{i:05d}.vtt", start=seg.start, duration=seg.duration,
                                size=len(text.encode())))
    # DASH: the same cues as WebVTT in ISO-BMFF, one fragment per video segment.
    cues = [Cue(s.start + 0.5, s.start + 1.0, f"Cue {i}") for i, s in enumerate(video.segments, start=1)]
    (folder / "init.mp4").write_bytes(wvtt.init_segment("eng"))
    fragments = []
    for i, seg in enumerate(video.segments, start=1):
        data = wvtt.media_segment(cues, seg.start, seg.start + seg.duration, i)
        (folder / f"seg_{i:05d}.m4s").write_bytes(data)
        low, high = round(seg.start * 1000), round((seg.start + seg.duration) * 1000)
        fragments.append(Segment(uri=f"seg_{i:05d}.m4s", start=low / 1000, duration=(high - low) / 1000,
                                 size=len(data), decode_time=low, duration_units=high - low))
    return SubtitleTrack(id="en", path="subtitles/en", language="en", name="English", vtt="",
                         segments=tuple(segments), init="init.mp4", fragments=tuple(fragments))


def test_manifests_are_read_back_by_ffprobe_and_parsers(encoded: Encoded) -> None:
    root, video, audio = encoded.root, encoded.video, encoded.audio
    p = Presentation(duration=max(video.duration, audio.duration), segment_seconds=2, video=(video,),
                     audio=(audio,), subtitles=(subtitle_track(root, video),), provenance=(("test", "media"),))
    written = [*write_hls(root, p), write_mpd(root, p)]
    assert written[-2:] == ["master.m3u8", "manifest.mpd"]

    master = m3u8.loads((root / "master.m3u8").read_text(encoding="utf-8"))
    (variant,) = master.playlists
    assert variant.stream_info.bandwidth == video.peak_bitrate + audio.peak_bitrate
    assert variant.stream_info.codecs == f"{video.codecs},{audio.codecs}"
    # ffmpeg's hls demuxer reads the master: one program whose streams are the video and the audio rendition.
    # (ffmpeg 5.1 cannot follow SUBTITLES renditions from a master; their playlist is probed on its own.)
    info = ffprobe("-protocol_whitelist", "file", "-show_programs", "-show_streams", "master.m3u8", cwd=root)
    kinds = sorted((s["codec_type"], s["codec_name"]) for s in info["streams"])
    assert kinds == [("audio", "aac"), ("video", "h264")]
    assert {s["tags"]["variant_bitrate"] for s in info["streams"]} == {str(variant.stream_info.bandwidth)}
    assert next(s for s in info["streams"] if s["codec_type"] == "audio")["tags"]["language"] == "en"
    subs = ffprobe("-protocol_whitelist", "file", "-show_streams", "subtitles/en/index.m3u8", cwd=root)
    assert [s["codec_name"] for s in subs["streams"]] == ["webvtt"]
    packets = ffprobe("-protocol_whitelist", "file", "-show_packets", "-select_streams", "v",
                      "video/360p/index.m3u8", cwd=root)["packets"]
    assert len(packets) == 132

    mpd = MPEGDASHParser.parse((root / "manifest.mpd").read_text(encoding="utf-8"))
    sets = mpd.periods[0].adaptation_sets
    assert [a.content_type for a in sets] == ["video", "audio", "text"]
    assert sets[0].representations[0].bandwidth == video.peak_bitrate
    # Every AdaptationSet opens with no option (the text in ISO-BMFF: a data stream, ffmpeg 5.1 has no wvtt decoder).
    dash = ffprobe("-show_streams", "manifest.mpd", cwd=root)
    assert sorted((s["codec_type"], s["codec_tag_string"]) for s in dash["streams"]) == [
        ("audio", "mp4a"), ("data", "wvtt"), ("video", "avc1")]


def test_measure_names_the_broken_file(encoded: Encoded, tmp_path: Path) -> None:
    shutil.copytree(encoded.root / "video", tmp_path / "video")
    folder = tmp_path / "video" / "360p"
    (folder / "seg_00003.m4s").write_bytes((folder / "seg_00003.m4s").read_bytes()[:-10])  # truncated mdat
    with pytest.raises(PipelineError) as caught:
        measure_video_track(tmp_path, "video/360p", "360p", nominal_bitrate=1, frame_rate=Fraction(25))
    assert caught.value.code == "cmaf_malformed"
    assert "seg_00003.m4s" in caught.value.message
    (folder / "seg_00002.m4s").unlink()  # a gap breaks DASH $Number$ addressing
    with pytest.raises(PipelineError, match=r"missing \[2\]"):
        measure_video_track(tmp_path, "video/360p", "360p", nominal_bitrate=1, frame_rate=Fraction(25))
    with pytest.raises(PipelineError) as caught:
        measure_audio_track(tmp_path, "video/360p", "en", language="en", name="", default=True)
    assert "expected 'soun'" in caught.value.message
    with pytest.raises(PipelineError) as caught:
        measure_audio_track(tmp_path, "audio/en", "en", language="en", name="", default=True)
    assert caught.value.code == "cmaf_missing"
