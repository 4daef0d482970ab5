"""QC: measure what was made before anything is final. A failed check fails the job; nothing is published.

    run_qc(root, presentation, plan, subtitles, tools=, scratch=)  → [CheckResult(name, passed, detail)]

Every check has a stable dotted name and a detail carrying expected vs measured numbers:

    renditions.video.count · renditions.audio.count
    video.<id>.files · .streams · .codec · .profile · .size · .pix_fmt · .colour · .frame_rate · .start ·
        .keyframes (one at every segment start) · .gop (on the GOP grid, none extra) · .segments · .duration
    video.keyframes.aligned (every rendition of every codec: HEVC/AV1 rungs on the H.264 rungs' keyframes)
    audio.<id>.files · .streams · .codec · .channels · .sample_rate · .start · .segments · .duration · .sync ·
        .offset (A/V offset against the master's, measured from decoded sound)
    hls.master.uris · hls.master.renditions · hls.master.audio_groups (RFC 8216 §4.3.4.1.1 members, CHANNELS) ·
        hls.<playlist>.uris · hls.<playlist>.target_duration
        (<playlist> is its path with dots: video.720p.index, video.720p.iframes, subtitles.ko.index)
    hls.variant.<id>.bandwidth · .average_bandwidth · .codecs · hls.iframes.<id>.bandwidth
    dash.representations · dash.<kind>.<id>.segments (text too) · dash.text.<id>.file (opt-in sidecar)
    languages.audio · languages.subtitles · client.hls · client.dash · client.dash.text (wvtt via the MPD)
    subtitles.<id>.cues (the wvtt fragments' cues, or the sidecar via ffprobe) · subtitles.<id>.fragments
    (wvtt timing against the media segments) · subtitles.<id>.segments (HLS WebVTT segments)
    thumbnails.tiles · .sheets · .vtt · .hls · .dash · .poster (pipelines.qc.thumbnails; transcode runs them after
        run_qc when a storyboard was made; image AdaptationSets are skipped by the dash.* checks here)

Module map: `streams` (ffprobe a joined rendition), `timing` (keyframe/segment/duration rules),
`playlists` + `mpd` (HLS/DASH re-read with m3u8/mpegdash), `manifests` (their rules), `bandwidth`,
`clients` (ffprobe as a player), `captions`, `sync` (decoded sound against the master's); rules are pure,
this module gathers the evidence.

Where a number comes from: segment starts and durations are the Presentation's (tfdt/trun of the files
as packaged); keyframes, stream properties and total durations are ffprobe's, one probe per rendition
file (init + segments joined), all probes run concurrently. Expected video duration is the source video
stream's (the container's if unknown) within one frame. Audio renditions are held to the title (the
picture: the encode pads or trims audio to it and compensates the AAC priming) within one AAC frame, and
`.sync` compares each one's start and end with the measured picture's, within one AAC frame.
"""

from __future__ import annotations

import functools
import posixpath
import shutil
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar, cast

from pipelines.captions.cc import in_band_ids
from pipelines.errors import Cancelled, CheckResult, FFmpegFailed, PipelineError
from pipelines.hls import AUDIO_GROUP, MEDIA, audio_groups
from pipelines.plan import EncodePlan
from pipelines.presentation import AudioTrack, Presentation, SubtitleTrack, Track, VideoTrack
from pipelines.qc import bandwidth, captions, clients, manifests, streams, sync, timing
from pipelines.qc.mpd import MPD_NAME, DashRepresentation, read_mpd
from pipelines.qc.playlists import (
    MASTER,
    Master,
    MediaPlaylist,
    file_sizes,
    playlist_key,
    read_master,
    read_media,
    resolve,
)
from pipelines.qc.verdict import failed, verdict
from pipelines.rendition import AudioRendition, VideoRendition
from pipelines.subtitles import SubtitleDocument, wvtt
from pipelines.tools import Tools
from pipelines.tracks import join_track, segment_paths

__all__ = ["run_qc"]

PARALLEL_PROBES = 4  # ffprobe processes at once: mostly I/O on small files, fine on 2 cores
AAC_FRAME = 1024  # samples
T = TypeVar("T")


def run_qc(root: Path, presentation: Presentation, plan: EncodePlan, subtitles: dict[str, SubtitleDocument], *,
           tools: Tools, scratch: Path, cancel: threading.Event | None = None) -> list[CheckResult]:
    """Every check over the packaged output under `root`; join files go to `scratch`/qc.

    Raises only what QC cannot judge: Cancelled, ToolMissing, ScratchError. A probe that fails or a
    manifest that does not parse is a failed check with the evidence in its detail.
    """
    work = scratch / "qc"
    work.mkdir(parents=True, exist_ok=True)
    results = _counts(presentation, plan)
    videos = {t.id: t for t in presentation.video}
    audios = {t.id: t for t in presentation.audio}
    complete: list[Track] = []  # every file present (maybe not at its measured size): worth probing
    for track in (*presentation.video, *presentation.audio):
        check, present = _files_check(root, track)
        results.append(check)
        if present:
            complete.append(track)
    _stop_if_cancelled(cancel)

    jobs: dict[str, Callable[[], object]] = {}
    for track in complete:
        jobs[track.path] = _probe_job(root, track, work, tools, cancel)
    jobs["client.hls"] = lambda: clients.probe_client(root / MASTER, tools, cancel=cancel)
    sidecars = [sub for sub in presentation.subtitles if sub.vtt]
    in_segments = [sub for sub in presentation.subtitles if not sub.vtt]
    jobs["client.dash"] = lambda: clients.probe_client(root / MPD_NAME, tools, cancel=cancel,
                                                       sidecar=bool(sidecars))
    if in_segments:
        jobs["client.dash.text"] = lambda: captions.probe_text_packets(root / MPD_NAME, tools, len(in_segments),
                                                                       cancel=cancel)
    for track in presentation.audio:
        rendition = next((a for a in plan.audio if a.id == track.id), None)
        if rendition is not None and track in complete:
            jobs[f"sync:{track.path}"] = _sync_job(root, track, rendition, plan, work, tools, cancel)
    for sub in sidecars:
        jobs[f"{sub.path}/{sub.vtt}"] = functools.partial(captions.probe_vtt, root / sub.path / sub.vtt, tools,
                                                          cancel=cancel)
    lowest = min((t for t in presentation.video if t in complete), key=lambda t: t.peak_bitrate, default=None)
    if presentation.closed_captions and lowest is not None:
        jobs["captions.in_band"] = functools.partial(_in_band_job, root, lowest, work, tools, cancel)
    outcomes = _run_parallel(jobs)

    probes: dict[str, streams.Probe] = {}
    for rung in plan.video:
        video = videos.get(rung.id)
        if video is None:
            continue
        probe = _probe_outcome(outcomes, video, results)
        if probe is not None:
            probes[video.path] = probe
            results += _video_checks(rung, video, probe, plan)
    video_keyframes = {t.id: probes[t.path].keyframes for t in presentation.video if t.path in probes}
    results.append(timing.check_keyframes_aligned("video.keyframes.aligned", video_keyframes, plan.fps))
    for rendition in plan.audio:
        audio = audios.get(rendition.id)
        if audio is None:
            continue
        probe = _probe_outcome(outcomes, audio, results)
        if probe is not None:
            probes[audio.path] = probe
            picture = next((probes[t.path] for t in presentation.video if t.path in probes), None)
            results += _audio_checks(rendition, audio, probe, plan, picture)
        results.append(_offset_check(rendition, audio, plan, outcomes.get(f"sync:{audio.path}")))
    _stop_if_cancelled(cancel)

    master = _read(results, "hls.master.uris", lambda: read_master(root))
    if master is not None:
        results += _hls_checks(root, master, presentation, plan, probes)
    reps = _dash_checks(root, presentation, plan, results)
    results += _language_checks(master, presentation, reps)
    sizes = [(r.width, r.height) for r in plan.video]
    groups = audio_groups(presentation)
    # ffmpeg's hls demuxer opens every variant (each rung once per audio group) and every EXT-X-MEDIA
    hls_sizes = sizes * max(1, len(groups))
    hls_audio = sum(len(members) for _, members in groups)
    for name, manifest, rungs, audio_count, texts, data in (
            ("client.hls", MASTER, hls_sizes, hls_audio, None, None),
            ("client.dash", MPD_NAME, sizes, len(plan.audio), len(sidecars), len(in_segments))):
        found = outcomes[name]
        results.append(failed(name, f"ffprobe cannot open {manifest}: {_describe(found)}")
                       if isinstance(found, Exception) else
                       clients.check_client(name, manifest, _client_streams(found), rungs, audio_count, texts, data))
    if in_segments:
        results.append(_client_text_check(outcomes["client.dash.text"], in_segments, subtitles, presentation, plan))
    for sub in presentation.subtitles:
        results += _caption_checks(root, sub, subtitles, outcomes.get(f"{sub.path}/{sub.vtt}"), plan,
                                   presentation)
    if "captions.in_band" in outcomes and lowest is not None:
        found = outcomes["captions.in_band"]
        declared = [c.instream_id for c in presentation.closed_captions]
        results.append(failed("captions.in_band", f"cannot read the A/53 captions of {lowest.path}: "
                                                  f"{_describe(found)}") if isinstance(found, Exception) else
                       captions.check_in_band("captions.in_band", declared, list(cast("tuple[str, ...]", found)),
                                              lowest.path))
    return results


def _in_band_job(root: Path, track: Track, work: Path, tools: Tools,
                 cancel: threading.Event | None) -> tuple[str, ...]:
    """The INSTREAM-IDs the lowest rung's SEI carries (one decode of it)."""
    folder = work / "in_band"
    folder.mkdir(exist_ok=True)
    return in_band_ids(join_track(root, track, folder), tools=tools, scratch=folder, duration=track.duration,
                       cancel=cancel)


# --- evidence ---------------------------------------------------------------------------------------


def _stop_if_cancelled(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled("QC was cancelled", hint="nothing was published; submit again to restart")


def _probe_job(root: Path, track: Track, work: Path, tools: Tools,
               cancel: threading.Event | None) -> Callable[[], streams.Probe]:
    def job() -> streams.Probe:
        joined = join_track(root, track, work)
        probe = streams.probe_file(joined, tools, media_seconds=track.duration, cancel=cancel)
        if not track.segments:
            return probe
        folder = root / track.path
        shift = streams.ffmpeg_pts_shift((folder / track.init).read_bytes(),
                                         ((folder / segment.uri).read_bytes() for segment in track.segments))
        return probe.shifted(-shift)

    return job


def _sync_job(root: Path, track: AudioTrack, rendition: AudioRendition, plan: EncodePlan, work: Path, tools: Tools,
              cancel: threading.Event | None) -> Callable[[], sync.Lag]:
    def job() -> sync.Lag:
        folder = work / f"sync-{track.id}"  # its own copy: the probe job joins the same track concurrently
        folder.mkdir(exist_ok=True)
        try:
            joined = join_track(root, track, folder)
            return sync.measure_lag(tools, Path(plan.source.path), plan.source.format_name, rendition.stream_index,
                                    joined, title_seconds=float(plan.title_duration), cancel=cancel)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    return job


def _offset_check(rendition: AudioRendition, track: AudioTrack, plan: EncodePlan, found: object) -> CheckResult:
    name = f"audio.{track.id}.offset"
    if isinstance(found, Exception):
        return failed(name, f"cannot decode {track.path} or the master's audio to compare: {_describe(found)}")
    if not isinstance(found, sync.Lag):
        return failed(name, f"{track.path} was not measured (its files are missing)")
    # a quarter of an AAC frame (5.3 ms at 48 kHz): inside the 5 ms at the 1 ms resolution of the envelopes
    return sync.check_offset(name, found, float(plan.picture_shift), AAC_FRAME / rendition.sample_rate / 4)


def _run_parallel(jobs: Mapping[str, Callable[[], object]]) -> dict[str, object]:
    """Run every job; a job's result or the exception it raised (FFmpegFailed, PipelineError, ValueError).

    Cancelled and anything QC cannot judge propagate after all jobs have stopped.
    """
    outcomes: dict[str, object] = {}
    with ThreadPoolExecutor(max_workers=PARALLEL_PROBES, thread_name_prefix="qc-probe") as pool:
        futures: dict[str, Future[object]] = {key: pool.submit(job) for key, job in jobs.items()}
        for key, future in futures.items():
            error = future.exception()
            if error is None:
                outcomes[key] = future.result()
            elif isinstance(error, FFmpegFailed | ValueError) or (
                    isinstance(error, PipelineError) and error.code.startswith(("qc_", "cmaf_"))):
                outcomes[key] = error
            else:
                pool.shutdown(wait=True, cancel_futures=True)
                raise error
    return outcomes


def _describe(error: Exception) -> str:
    if isinstance(error, FFmpegFailed):
        tail = " | ".join(error.stderr_tail.strip().splitlines()[-3:]) or "(no stderr)"
        return f"{error.message}; stderr: {tail}"
    return str(error)


def _probe_outcome(outcomes: Mapping[str, object], track: Track, results: list[CheckResult]
                   ) -> streams.Probe | None:
    kind = track.path.split("/", 1)[0]
    found = outcomes.get(track.path)
    if isinstance(found, streams.Probe):
        return found
    if isinstance(found, Exception):
        results.append(failed(f"{kind}.{track.id}.probe", f"ffprobe of {track.path} failed: {_describe(found)}"))
    return None  # no outcome: the files check already failed


def _counts(presentation: Presentation, plan: EncodePlan) -> list[CheckResult]:
    out = []
    for kind, made, planned in (("video", [t.id for t in presentation.video], [r.id for r in plan.video]),
                                ("audio", [t.id for t in presentation.audio], [a.id for a in plan.audio])):
        problems = [] if sorted(made) == sorted(planned) else [
            f"{len(made)} {kind} rendition(s) {sorted(made)}, the plan has {len(planned)} {sorted(planned)}"]
        out.append(verdict(f"renditions.{kind}.count", problems, f"{len(made)} {kind} renditions as planned"))
    return out


def _files_check(root: Path, track: Track) -> tuple[CheckResult, bool]:
    """init and every segment exist with the size measured at packaging (catches loss and truncation);
    and whether every file is at least present."""
    kind = track.path.split("/", 1)[0]
    measured = [track.init_size or None, *(s.size for s in track.segments)]
    problems = []
    for path, size in zip(segment_paths(root, track), measured, strict=True):
        rel = path.relative_to(root).as_posix()
        if not path.is_file():
            problems.append(f"{rel} is missing")
        elif size is not None and path.stat().st_size != size:
            problems.append(f"{rel} has {path.stat().st_size} bytes, {size} were measured at packaging")
    present = not any(p.endswith("is missing") for p in problems)
    return verdict(f"{kind}.{track.id}.files", problems,
                   f"init + {len(track.segments)} segments, {sum(s.size for s in track.segments)} bytes"), present


# --- renditions -------------------------------------------------------------------------------------


def _source_video_duration(plan: EncodePlan) -> tuple[float, str]:
    source = plan.source
    if source.video.duration is not None and source.video.duration > 0:
        offset = source.offset(source.video.start_time)
        basis = "source video stream duration" + (f" + {offset:.3f} s start offset" if offset else "")
        return source.media_duration, basis
    return source.duration, "source container duration (no video stream duration)"


def _video_checks(rung: VideoRendition, track: VideoTrack, probe: streams.Probe,
                  plan: EncodePlan) -> list[CheckResult]:
    prefix = f"video.{track.id}"
    frame = timing.frame_seconds(plan.fps)
    expected, basis = _source_video_duration(plan)
    return [
        *streams.video_stream_checks(rung, probe, plan.fps),
        timing.check_timeline_start(f"{prefix}.start", probe.start, frame / 2),
        timing.check_keyframes_at_starts(f"{prefix}.keyframes", [(s.uri, s.start) for s in track.segments],
                                         probe.keyframes, plan.fps),
        timing.check_keyframe_grid(f"{prefix}.gop", probe.keyframes, plan.gop_seconds, plan.fps, probe.end),
        timing.check_video_segments(f"{prefix}.segments", [(s.uri, s.duration) for s in track.segments],
                                    plan.segment_seconds, plan.fps),
        timing.check_duration(f"{prefix}.duration", probe.duration, expected, frame, f"{basis}, one frame"),
    ]


def _audio_checks(rendition: AudioRendition, track: AudioTrack, probe: streams.Probe, plan: EncodePlan,
                  picture: streams.Probe | None) -> list[CheckResult]:
    """The audio rendition on the title's timeline: it starts at 0 and lasts the title (the picture's duration),
    and against the measured picture it starts and ends together; tolerances in its own frame durations (an
    AAC frame: 1024 samples), so a 44.1 kHz master or an edit list rounded to the millisecond passes."""
    prefix = f"audio.{track.id}"
    frame = AAC_FRAME / rendition.sample_rate
    title = float(plan.title_duration)
    results = [
        *streams.audio_stream_checks(rendition, probe),
        timing.check_timeline_start(f"{prefix}.start", probe.start, frame / 2),
        timing.check_audio_segments(f"{prefix}.segments", [(s.uri, s.duration) for s in track.segments],
                                    plan.segment_seconds),
        timing.check_duration(f"{prefix}.duration", probe.duration, title, frame,
                              f"the title's duration ({plan.title_frames} frames at {plan.fps} fps), one AAC frame"),
    ]
    if picture is not None:
        results.append(timing.check_sync(f"{prefix}.sync", (probe.start, probe.end), (picture.start, picture.end),
                                         frame, "AAC frame"))
    return results


# --- HLS --------------------------------------------------------------------------------------------


def _read(results: list[CheckResult], name: str, read: Callable[[], T]) -> T | None:
    try:
        return read()
    except PipelineError as exc:
        results.append(failed(name, exc.message))
        return None


def _track_for(uri: str, tracks: Sequence[Track]) -> Track | None:
    rel = resolve(MASTER, uri)
    folder = posixpath.dirname(rel) if rel else None
    return next((t for t in tracks if t.path == folder), None)


def _hls_checks(root: Path, master: Master, presentation: Presentation, plan: EncodePlan,
                probes: Mapping[str, streams.Probe]) -> list[CheckResult]:
    results: list[CheckResult] = []
    results.append(manifests.check_master_uris(master, file_sizes(root, manifests.master_paths(master))))
    groups = audio_groups(presentation)
    results.append(manifests.check_master_renditions(master, [(r.width, r.height) for r in plan.video],
                                                     sum(len(members) for _, members in groups),
                                                     len(presentation.subtitles), audio_groups=len(groups)))
    results.append(manifests.check_audio_groups(master, {f"{a.path}/{MEDIA}": a.channels for a in presentation.audio}))
    playlists: dict[str, MediaPlaylist] = {}
    for rel in dict.fromkeys(manifests.master_paths(master)):
        if not (root / rel).is_file():
            continue  # reported by hls.master.uris
        playlist = _read(results, f"hls.{playlist_key(rel)}.uris", functools.partial(read_media, root, rel))
        if playlist is None:
            continue
        playlists[rel] = playlist
        sizes = file_sizes(root, manifests.referenced_paths(playlist))
        results += [manifests.check_playlist_uris(playlist, sizes), manifests.check_target_duration(playlist)]
    results += _bandwidth_checks(root, master, playlists, presentation, probes)
    return results


def _rate(root: Path, playlist: MediaPlaylist, *, iframes: bool = False) -> bandwidth.Rate | str:
    """Measured rate of a media playlist from the files on disk (or byte ranges) and EXTINF; or a problem."""
    sizes_by_rel = file_sizes(root, manifests.referenced_paths(playlist))
    sizes, durations = [], []
    for entry in playlist.entries:
        rel = resolve(playlist.path, entry.uri)
        size = sizes_by_rel.get(rel) if rel is not None else None
        if size is None:
            return f"cannot measure {playlist.path}: {entry.uri} is missing"
        sizes.append(entry.byterange[0] if iframes and entry.byterange else size)
        durations.append(entry.duration)
    return bandwidth.segment_rates(sizes, durations)


def _bandwidth_checks(root: Path, master: Master, playlists: Mapping[str, MediaPlaylist],
                      presentation: Presentation, probes: Mapping[str, streams.Probe]) -> list[CheckResult]:
    results: list[CheckResult] = []
    for variant in master.variants:
        track = _track_for(variant.uri, presentation.video)
        key = track.id if track else variant.uri
        if variant.audio not in (None, AUDIO_GROUP):  # the same rung again with another audio group
            key = f"{key}-{variant.audio}"
        names = [f"hls.variant.{key}.{what}" for what in ("bandwidth", "average_bandwidth", "codecs")]
        playlist = playlists.get(resolve(MASTER, variant.uri) or "")
        group = [r for r in master.renditions if r.type == "AUDIO" and r.group_id == variant.audio and r.uri]
        audio_lists = [playlists.get(resolve(MASTER, r.uri or "") or "") for r in group]
        if playlist is None or any(p is None for p in audio_lists):
            results += [failed(n, f"variant {variant.uri}: a media playlist of it is missing or unreadable")
                        for n in names]
            continue
        rates = [_rate(root, p) for p in [playlist, *audio_lists] if p is not None]
        problem = next((r for r in rates if isinstance(r, str)), None)
        if problem is not None:
            results += [failed(n, problem) for n in names]
            continue
        video_rate, *audio_rates = (r for r in rates if isinstance(r, bandwidth.Rate))
        peak = video_rate + max(audio_rates, key=lambda r: r.peak, default=bandwidth.Rate(0.0, 0.0))
        average = video_rate + max(audio_rates, key=lambda r: r.average, default=bandwidth.Rate(0.0, 0.0))
        results.append(bandwidth.check_declared(names[0], "BANDWIDTH", variant.bandwidth, peak.peak,
                                                peak.peak_low))
        results.append(bandwidth.check_declared(names[1], "AVERAGE-BANDWIDTH", variant.average_bandwidth,
                                                average.average, average.average_low))
        played = [t for r in group if (t := _track_for(r.uri or "", presentation.audio)) is not None]
        results.append(_codecs_check(names[2], variant.codecs, track, played, probes))
    for iframe in master.iframe_variants:
        track = _track_for(iframe.uri, presentation.video)
        name = f"hls.iframes.{track.id if track else iframe.uri}.bandwidth"
        playlist = playlists.get(resolve(MASTER, iframe.uri) or "")
        rate = _rate(root, playlist, iframes=True) if playlist else f"{iframe.uri} is missing or unreadable"
        results.append(failed(name, rate) if isinstance(rate, str)
                       else bandwidth.check_declared(name, "BANDWIDTH", iframe.bandwidth, rate.peak, rate.peak_low))
    return results


def _codecs_check(name: str, declared: str | None, track: Track | None, group: Sequence[Track],
                  probes: Mapping[str, streams.Probe]) -> CheckResult:
    """The variant's CODECS against ffprobe's video and the audio of the renditions its group plays."""
    probe = probes.get(track.path) if track else None
    if probe is None or not probe.streams:
        return failed(name, f"CODECS={declared!r}: no ffprobe result for the variant's video to compare with")
    video = probe.streams[0]
    audio = [bandwidth.aac_codec(probes[a.path].streams[0].profile) for a in group
             if a.path in probes and probes[a.path].streams]
    if group and len(audio) < len(group):
        return failed(name, f"CODECS={declared!r}: an audio rendition was not probed")
    rung = track if isinstance(track, VideoTrack) else None
    return bandwidth.check_codecs(name, declared, (video.profile, video.level), audio if group else [],
                                  codec=rung.codec if rung else "h264", bit_depth=streams.bit_depth(video.pix_fmt))


# --- DASH -------------------------------------------------------------------------------------------


def _dash_checks(root: Path, presentation: Presentation, plan: EncodePlan, results: list[CheckResult]
                 ) -> tuple[DashRepresentation, ...] | None:
    reps = _read(results, "dash.representations", lambda: read_mpd(root))
    if reps is None:
        return None
    results.append(manifests.check_dash_representations(reps, [(r.width, r.height) for r in plan.video],
                                                        len(plan.audio), len(presentation.subtitles)))
    for rep in reps:
        if rep.content_type == "image":
            continue  # thumbnail tiles: pipelines.qc.thumbnails checks them
        if rep.content_type == "text" and rep.media is None:  # the opt-in sidecar
            rel = resolve(MPD_NAME, rep.base_url) if rep.base_url else None
            results.append(manifests.check_dash_text(f"dash.text.{rep.lang or rep.id}.file", rep,
                                                     file_sizes(root, [rel] if rel else [])))
            continue
        folder = manifests.template_folder(rep)
        listing: list[str] = []
        if folder is not None and rep.media is not None and (root / folder).is_dir():
            pattern = manifests.template_pattern(rep.media)
            listing = sorted(f"{folder}/{p.name}" for p in (root / folder).iterdir() if pattern.fullmatch(p.name))
        init = resolve(rep.base_url or MPD_NAME, rep.initialization) if rep.initialization else None
        ident = rep.id.removeprefix(f"{rep.content_type}-")
        results.append(manifests.check_dash_segments(f"dash.{rep.content_type}.{ident}.segments", rep,
                                                     file_sizes(root, [init] if init else []), listing))
    return reps


def _language_checks(master: Master | None, presentation: Presentation,
                     reps: Sequence[DashRepresentation] | None) -> list[CheckResult]:
    if master is None or reps is None:
        why = "master.m3u8" if master is None else MPD_NAME
        return [failed(f"languages.{k}", f"{why} could not be read") for k in ("audio", "subtitles")]
    out = []
    # HLS audio: the stereo group, plus each 5.1 member of the 5.1 group (its other members are the stereo renditions
    # again), so every published rendition is counted once, as in the MPD
    surround = {f"{a.path}/{MEDIA}" for a in presentation.audio if a.surround_of}
    hls_audio = [r.language for r in master.renditions if r.type == "AUDIO" and (
        r.group_id == AUDIO_GROUP or resolve(MASTER, r.uri or "") in surround)]
    for kind, hls, dash_type, made in (
            ("audio", hls_audio, "audio", [a.language for a in presentation.audio]),
            ("subtitles", [r.language for r in master.renditions if r.type == "SUBTITLES"], "text",
             [s.language for s in presentation.subtitles])):
        out.append(manifests.check_languages(
            f"languages.{kind}", kind, hls, [r.lang for r in reps if r.content_type == dash_type], made))
    return out


def _client_streams(found: object) -> list[tuple[str, int, int]]:
    return list(found) if isinstance(found, list) else []


# --- captions ---------------------------------------------------------------------------------------


def _document(documents: Mapping[str, SubtitleDocument], sub: SubtitleTrack) -> SubtitleDocument | None:
    return documents.get(sub.id) or documents.get(sub.language)


def _text_end(presentation: Presentation) -> float:
    """Where the text timeline ends: the end of the last video segment (the fragments follow the video)."""
    last = presentation.video[0].segments[-1] if presentation.video and presentation.video[0].segments else None
    return last.start + last.duration if last else presentation.duration


def _client_text_check(found: object, tracks: Sequence[SubtitleTrack], documents: Mapping[str, SubtitleDocument],
                       presentation: Presentation, plan: EncodePlan) -> CheckResult:
    name = "client.dash.text"
    if isinstance(found, Exception):
        return failed(name, f"ffprobe cannot read the text streams of {MPD_NAME}: {_describe(found)}")
    docs = [_document(documents, sub) for sub in tracks]
    if any(doc is None for doc in docs):
        return failed(name, "a text track has no SubtitleDocument to compare with")
    packets = list(found) if isinstance(found, list) else []
    return captions.check_client_text(name, MPD_NAME, packets, [doc.cues for doc in docs if doc is not None],
                                      _text_end(presentation), timing.frame_seconds(plan.fps) / 2)


def _fragment_checks(root: Path, sub: SubtitleTrack, doc: SubtitleDocument,
                     presentation: Presentation) -> list[CheckResult]:
    prefix = f"subtitles.{sub.id}"
    read: list[tuple[str, wvtt.FragmentCues | str]] = []
    for segment in sub.fragments:
        rel = f"{sub.path}/{segment.uri}"
        try:
            read.append((rel, wvtt.read_fragment_cues((root / rel).read_bytes())))
        except OSError as exc:
            read.append((rel, f"cannot be read ({exc.strerror or exc})"))
        except (PipelineError, UnicodeDecodeError) as exc:
            read.append((rel, str(exc)))
    # Each text fragment ends where the next media segment starts (the writer's rule), the last where it ends.
    video = presentation.video[0].segments if presentation.video else ()
    ends = [*(s.start for s in video[1:]), *(s.start + s.duration for s in video[-1:])]
    media = [(s.start, end - s.start) for s, end in zip(video, ends, strict=True)]
    fragments = [r for _, r in read if not isinstance(r, str)]
    end_ms = round(_text_end(presentation) * 1000)
    return [captions.check_text_fragments(f"{prefix}.fragments", read, media),
            captions.check_fragment_cues(f"{prefix}.cues", wvtt.join_cues(fragments), doc.cues, end_ms)]


def _caption_checks(root: Path, sub: SubtitleTrack, documents: Mapping[str, SubtitleDocument],
                    probed: object, plan: EncodePlan, presentation: Presentation) -> list[CheckResult]:
    prefix = f"subtitles.{sub.id}"
    doc = _document(documents, sub)
    if doc is None:
        return [failed(f"{prefix}.cues", f"no SubtitleDocument for {sub.language!r} to compare with")]
    frame = timing.frame_seconds(plan.fps)
    vtt = f"{sub.path}/{sub.vtt}"
    dash: list[CheckResult]
    if not sub.vtt:  # DASH text in ISO-BMFF
        dash = _fragment_checks(root, sub, doc, presentation)
    elif isinstance(probed, Exception):
        dash = [failed(f"{prefix}.cues", f"ffprobe cannot read {vtt}: {_describe(probed)}")]
    else:
        dash = [captions.check_cue_times(f"{prefix}.cues", vtt, list(probed) if isinstance(probed, list) else [],
                                         doc.cues, frame)]
    files: list[tuple[str, str | None]] = []
    for segment in sub.segments:
        path = root / sub.path / segment.uri
        try:
            files.append((f"{sub.path}/{segment.uri}", path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError):
            files.append((f"{sub.path}/{segment.uri}", None))
    return [*dash, captions.check_segment_files(f"{prefix}.segments", files, doc.cues)]
