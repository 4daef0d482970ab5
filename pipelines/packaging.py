"""Packaging: measured CMAF tracks + WebVTT files → a Presentation, then HLS and DASH manifests over it."""

from __future__ import annotations

from pathlib import Path

from pipelines.dash import write_mpd
from pipelines.encoder import EncoderIdentity
from pipelines.ffmpeg import SCRATCH_PLAYLIST
from pipelines.hls import write_hls
from pipelines.language import iso639_2t, language_name
from pipelines.measure import measure_audio_track, measure_video_track
from pipelines.plan import EncodePlan
from pipelines.presentation import Presentation, Segment, SubtitleTrack, VideoTrack
from pipelines.subtitles import SubtitleDocument, segment_webvtt, to_webvtt, wvtt
from pipelines.subtitles.timestamp import to_millis
from pipelines.subtitles.webvtt import webvtt_header

SUBTITLE_FILE = "subtitles.vtt"
TEXT_INIT = "init.mp4"


def build_presentation(root: Path, plan: EncodePlan, subtitles: tuple[tuple[str, SubtitleDocument], ...],
                       identity: EncoderIdentity, *, fingerprint: str | None = None,
                       dash_sidecar: bool = False) -> Presentation:
    """Measure the encoded tracks under ``root`` and write the text tracks there; ``dash_sidecar``: DASH
    addresses a whole-title ``subtitles.vtt`` per track instead of ISO-BMFF text segments (opt-in)."""
    video = tuple(
        measure_video_track(root, f"video/{r.id}", r.id, nominal_bitrate=r.bitrate, frame_rate=plan.fps,
                            codec=r.codec, video_range=r.dynamic_range)
        for r in plan.video)
    audio = tuple(
        measure_audio_track(root, f"audio/{a.id}", a.id, language=a.language, name=a.name, default=a.default,
                            role=a.role, surround_of=a.surround_of)
        for a in plan.audio)
    default_text = subtitle_default([(track_id, doc.language, doc.forced) for track_id, doc in subtitles],
                                    next((a.language for a in plan.audio if a.default), None))
    names = subtitle_names([doc for _, doc in subtitles])
    texts = tuple(write_subtitle_track(root, track_id, doc, video[0], default=track_id == default_text, name=name,
                                       dash_sidecar=dash_sidecar)
                  for (track_id, doc), name in zip(subtitles, names, strict=True))
    # The title lasts as long as its picture: audio is padded or trimmed to it at the encode, and a last AAC
    # frame that runs past it (by less than a frame) must not make the MPD longer than HLS (Shaka 5.2
    # stalls at the end of a title whose mediaPresentationDuration outlasts the picture).
    duration = max(t.duration for t in video)
    return Presentation(
        duration=duration, segment_seconds=plan.segment_seconds, video=video, audio=audio, subtitles=texts,
        provenance=(("encoder-identity", identity.fingerprint),
                    *((("encoder-fingerprint", fingerprint),) if fingerprint else ()),
                    ("ffmpeg", identity.ffmpeg_version), ("x264", identity.x264 or "unknown")))


def subtitle_default(tracks: list[tuple[str, str, bool]], audio_language: str | None) -> str | None:
    """The id of the one subtitle rendition marked DEFAULT, from (id, language, forced) in order: a forced
    track in the default audio's language (what a viewer who asked for no subtitles must still see), else
    the first full track in that language, else the first full track, else the first."""
    if not tracks:
        return None
    for wanted in ((True, audio_language), (False, audio_language), (False, None)):
        for track_id, language, forced in tracks:
            if forced == wanted[0] and wanted[1] in (None, language):
                return track_id
    return tracks[0][0]


def subtitle_names(docs: list[SubtitleDocument]) -> list[str]:
    """Player labels, unique within the subtitle group (RFC 8216 §4.3.4.1.1): "English", "English (forced)",
    "English (SDH)", "English (CC1)" / "English (SERVICE1)" for closed captions (the channel says more than
    SDH), and "English 2" for a second track of the same kind."""
    names: list[str] = []
    for doc in docs:
        kinds = [doc.channel] if doc.channel else [
            kind for kind, flag in (("forced", doc.forced), ("SDH", doc.sdh)) if flag]
        base = language_name(doc.language) + (f" ({', '.join(kinds)})" if kinds else "")
        name, number = base, 1
        while name in names:
            number += 1
            name = f"{base} {number}"
        names.append(name)
    return names


def write_subtitle_track(root: Path, track_id: str, doc: SubtitleDocument, timeline: VideoTrack, *,
                         default: bool, name: str | None = None, dash_sidecar: bool = False) -> SubtitleTrack:
    """HLS: WebVTT, one file per media segment (same boundaries as the video). DASH: WebVTT in ISO-BMFF
    (``init.mp4`` + ``seg_NNNNN.m4s``, the same boundaries; DASH-IF IOP text in ISO-BMFF), or with
    ``dash_sidecar`` one whole-title ``subtitles.vtt`` instead."""
    folder = root / "subtitles" / track_id
    folder.mkdir(parents=True, exist_ok=True)
    bounds = [(s.start, s.duration) for s in timeline.segments]
    vtt, init, fragments = "", "", tuple[Segment, ...]()
    if dash_sidecar:
        # What ffmpeg-based clients read of a sidecar: no REGION/STYLE blocks (to_webvtt).
        (folder / SUBTITLE_FILE).write_text(to_webvtt(doc, head=False), encoding="utf-8")
        vtt = SUBTITLE_FILE
    else:
        init, fragments = TEXT_INIT, write_text_fragments(folder, doc, timeline)
        (folder / init).write_bytes(wvtt.init_segment(iso639_2t(doc.language), webvtt_header(doc)))
    segments = []
    for number, ((start, duration), text) in enumerate(zip(bounds, segment_webvtt(doc, bounds),
                                                            strict=True), start=1):
        uri = f"seg_{number:05d}.vtt"
        data = text.encode("utf-8")
        (folder / uri).write_bytes(data)
        segments.append(Segment(uri=uri, start=start, duration=duration, size=len(data)))
    return SubtitleTrack(id=track_id, path=f"subtitles/{track_id}", language=doc.language,
                         name=name or language_name(doc.language), vtt=vtt, segments=tuple(segments),
                         default=default, forced=doc.forced, sdh=doc.sdh, init=init, fragments=fragments,
                         init_size=(folder / init).stat().st_size if init else 0, timescale=wvtt.TIMESCALE)


def write_text_fragments(folder: Path, doc: SubtitleDocument, timeline: VideoTrack) -> tuple[Segment, ...]:
    """One wvtt fragment ``seg_NNNNN.m4s`` per media segment of ``timeline``, cut at the same instants (to the
    millisecond: each fragment ends where the next media segment starts, so the text timeline has no gap)."""
    starts = [s.start for s in timeline.segments]
    ends = [*starts[1:], timeline.segments[-1].start + timeline.segments[-1].duration] if starts else []
    out = []
    for number, (start, end) in enumerate(zip(starts, ends, strict=True), start=1):
        uri = f"seg_{number:05d}.m4s"
        data = wvtt.media_segment(doc.cues, start, end, number)
        (folder / uri).write_bytes(data)
        low, high = to_millis(start), to_millis(end)
        out.append(Segment(uri=uri, start=low / wvtt.TIMESCALE, duration=(high - low) / wvtt.TIMESCALE,
                           size=len(data), decode_time=low, duration_units=high - low))
    return tuple(out)


def write_manifests(root: Path, presentation: Presentation) -> list[str]:
    return [*write_hls(root, presentation), write_mpd(root, presentation)]


def remove_scratch_playlists(root: Path) -> None:
    """ffmpeg's own media playlists are working files: they must never be published."""
    for playlist in root.glob(f"*/*/{SCRATCH_PLAYLIST}"):
        playlist.unlink()
