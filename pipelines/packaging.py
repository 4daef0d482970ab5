"""Packaging: measured CMAF tracks + WebVTT files → a Presentation, then HLS and DASH manifests over it."""

from __future__ import annotations

from pathlib import Path

from pipelines.dash import write_mpd
from pipelines.encoder import EncoderIdentity
from pipelines.ffmpeg import SCRATCH_PLAYLIST
from pipelines.hls import write_hls
from pipelines.language import language_name
from pipelines.measure import measure_audio_track, measure_video_track
from pipelines.plan import EncodePlan
from pipelines.presentation import Presentation, Segment, SubtitleTrack, VideoTrack
from pipelines.subtitles import SubtitleDocument, segment_webvtt, to_webvtt

SUBTITLE_FILE = "subtitles.vtt"


def build_presentation(root: Path, plan: EncodePlan, subtitles: tuple[tuple[str, SubtitleDocument], ...],
                       identity: EncoderIdentity) -> Presentation:
    video = tuple(
        measure_video_track(root, f"video/{r.id}", r.id, nominal_bitrate=r.bitrate, frame_rate=plan.fps)
        for r in plan.video)
    audio = tuple(
        measure_audio_track(root, f"audio/{a.id}", a.id, language=a.language, name=a.name, default=a.default,
                            role=a.role)
        for a in plan.audio)
    default_text = subtitle_default([lang for lang, _ in subtitles],
                                    next((a.language for a in plan.audio if a.default), None))
    texts = tuple(write_subtitle_track(root, language, doc, video[0], default=language == default_text)
                  for language, doc in subtitles)
    # The title lasts as long as its picture: audio is padded or trimmed to it at the encode, and a last AAC
    # frame that runs past it (by less than a frame) must not make the MPD longer than HLS (Shaka 5.2
    # stalls at the end of a title whose mediaPresentationDuration outlasts the picture).
    duration = max(t.duration for t in video)
    return Presentation(
        duration=duration, segment_seconds=plan.segment_seconds, video=video, audio=audio, subtitles=texts,
        provenance=(("encoder", identity.fingerprint), ("ffmpeg", identity.ffmpeg_version),
                    ("x264", identity.x264 or "unknown")))


def subtitle_default(languages: list[str], audio_language: str | None) -> str | None:
    """The one subtitle rendition marked DEFAULT: the default audio's language, else the first listed."""
    if not languages:
        return None
    return audio_language if audio_language in languages else languages[0]


def write_subtitle_track(root: Path, language: str, doc: SubtitleDocument, timeline: VideoTrack, *,
                         default: bool) -> SubtitleTrack:
    """WebVTT for DASH (one file) and for HLS (one file per media segment, same boundaries as video)."""
    folder = root / "subtitles" / language
    folder.mkdir(parents=True, exist_ok=True)
    (folder / SUBTITLE_FILE).write_text(to_webvtt(doc.cues), encoding="utf-8")
    bounds = [(s.start, s.duration) for s in timeline.segments]
    segments = []
    for number, ((start, duration), text) in enumerate(zip(bounds, segment_webvtt(doc.cues, bounds),
                                                            strict=True), start=1):
        name = f"seg_{number:05d}.vtt"
        data = text.encode("utf-8")
        (folder / name).write_bytes(data)
        segments.append(Segment(uri=name, start=start, duration=duration, size=len(data)))
    return SubtitleTrack(id=language, path=f"subtitles/{language}", language=language,
                         name=language_name(language), vtt=SUBTITLE_FILE, segments=tuple(segments),
                         default=default)


def write_manifests(root: Path, presentation: Presentation) -> list[str]:
    return [*write_hls(root, presentation), write_mpd(root, presentation)]


def remove_scratch_playlists(root: Path) -> None:
    """ffmpeg's own media playlists are working files: they must never be published."""
    for playlist in root.glob(f"*/*/{SCRATCH_PLAYLIST}"):
        playlist.unlink()
