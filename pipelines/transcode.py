"""transcode: one master → a checked CMAF ladder with HLS + DASH + WebVTT, renamed into place at the end.

    probe → load subtitles (reject early) → plan → encode (one ffmpeg) → package → QC → quality → report

With a `ChunkPolicy` that cuts the title into more than one chunk, the encode step becomes split-and-stitch:
every chunk's video rungs (`chunk_encode.encode_chunk`, `jobs` at a time) and the audio once, then
`stitch.gather` into the rung folders and the stitch checks (a failed one publishes nothing); package,
QC, quality and report then run unchanged on the stitched folders. With `encoded` set, the chunks
were encoded elsewhere (the fleet's chunk tasks) into that folder, in `pipelines.chunk_encode`'s layout:
the same stitch, package, QC and publish-by-rename follow, the encode step is skipped.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from pipelines.captions.cc import load_scc, scan_captions
from pipelines.captions.scc import is_scc_file
from pipelines.chunk import Chunk, ChunkPolicy, plan_chunks
from pipelines.chunk_encode import ChunkRun, adopt_audio, chunk_folder, encode_chunks
from pipelines.encoder import encoder_identity
from pipelines.errors import CheckResult, ConfigError, QCFailed, SubtitleRejected
from pipelines.ffmpeg import encode_argv, output_folders
from pipelines.ladder import PER_TITLE, load_ladder
from pipelines.language import language_name, normalize_language
from pipelines.limits import MAX_FILE_BYTES, encode_memory_bytes, output_budget_bytes
from pipelines.loudness_measure import loudness_report, measure_plan, measure_renditions
from pipelines.measure import measure_video_track
from pipelines.options import PlanOptions
from pipelines.packaging import build_presentation, remove_scratch_playlists, write_manifests
from pipelines.pertitle.analysis import adopt, analyse
from pipelines.pertitle.result import PerTitle
from pipelines.pertitle.rungs import PerTitleOptions
from pipelines.plan import EncodePlan, plan_encode
from pipelines.poster import usable
from pipelines.presentation import ClosedCaptions
from pipelines.probe import ProbeLimits, probe
from pipelines.progress import Progress
from pipelines.qc import run_qc
from pipelines.qc.loudness import loudness_check
from pipelines.qc.thumbnails import check_thumbnails
from pipelines.quality import measure_quality
from pipelines.report import build_report, write_report
from pipelines.runner import RunLimits, run
from pipelines.source import SourceInfo
from pipelines.stitch import check_decode, check_timeline, decode_rung, gather, track_frames
from pipelines.storyboard_options import StoryboardOptions
from pipelines.subtitles import SubtitleDocument, load_sidecar
from pipelines.subtitles.flags import track_suffix
from pipelines.thumbnails import Thumbnails, make_thumbnails, thumbnails_report
from pipelines.tools import Tools
from pipelines.vmaf import measure_vmaf
from pipelines.vmaf import method as vmaf_method
from pipelines.vmaf_tool import vmaf_tool
from pipelines.workspace import Workspace, workspace

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sidecar:
    language: str  # BCP-47 as given by the user; validated
    path: Path
    forced: bool = False  # a forced-narrative track (pipelines.subtitles.flags)
    sdh: bool = False  # subtitles for the deaf and hard of hearing


@dataclass(frozen=True)
class TranscodeRequest:
    source: Path
    output: Path
    subtitles: tuple[Sidecar, ...] = ()
    ladder: str = "default"
    options: PlanOptions = PlanOptions()
    measure_quality: bool = True
    overwrite: bool = False
    # DASH text as a whole-title subtitles.vtt per track (opt-in) instead of WebVTT-in-ISO-BMFF segments.
    dash_vtt_sidecar: bool = False
    probe_limits: ProbeLimits = ProbeLimits()
    # Encode time budget in seconds; None: 120 s plus 30 s per second of source per codec of the ladder (the slowest
    # profile on 2 cores stays far inside that; a hung ffmpeg does not).
    encode_timeout: float | None = None
    memory_bytes: int | None = None  # RLIMIT_AS of the encode; None: pipelines.limits.encode_memory_bytes()
    scratch_root: Path | None = None
    # Split-and-stitch: None (default) is the whole-file encode; a policy that yields one chunk is too.
    chunks: ChunkPolicy | None = None
    jobs: int = 1  # chunk ffmpegs at a time (each is its own process; threads drive them)
    # Chunk and audio outputs already encoded elsewhere (fleet chunk tasks), in chunk_encode's layout; needs
    # a `chunks` policy cutting the title the same way. Its contents are moved into the output.
    encoded: Path | None = None
    encoded_runs: tuple[ChunkRun, ...] = ()  # their ffmpeg wall times, for report.json
    encoded_wall: float | None = None  # wall seconds the chunks took elsewhere (first sent → last done): the speed
    # The caller's fleet fingerprint of this encoder ("sha256:…", workers.fingerprint), recorded beside the
    # identity in report.json and the manifests; None: only the identity is recorded.
    fingerprint: str | None = None
    thumbnails: StoryboardOptions = StoryboardOptions()  # storyboard sheets + poster (enabled=False: none)
    per_title: PerTitleOptions = PerTitleOptions()  # `ladder="per-title"`: the target VMAF and the spacing rules
    # `ladder="per-title"`: the title's analysis made earlier (the fleet job's planning step keeps it in the job
    # record); planning adopts its rungs instead of measuring again (`pipelines.pertitle.analysis.adopt`)
    per_title_known: PerTitle | None = None


@dataclass(frozen=True)
class Event:
    phase: str  # probing | encoding | packaging | qc | quality | publishing | done
    progress: Progress | None = None


@dataclass(frozen=True)
class Planned:
    source: SourceInfo
    plan: EncodePlan
    argv: list[str]
    subtitles: tuple[tuple[str, SubtitleDocument], ...]  # (track id: language + flag suffix, parsed document)
    per_title: PerTitle | None = None  # `--ladder per-title`: the analysis that chose the plan's rungs


@dataclass(frozen=True)
class TranscodeResult:
    output: Path
    report: dict[str, object]
    timings: dict[str, float] = field(default_factory=dict)


def plan_transcode(request: TranscodeRequest, *, tools: Tools | None = None,
                   out: Path | None = None, scratch: Path | None = None, loudness: bool = True) -> Planned:
    """Probe, load sidecars and plan; no encode. `argv` writes into `out` (default: the request output).

    With `loudness` (default), pass 1 of the loudness normalisation measures every source audio stream
    (SilentAudio when one is silent and a preset is asked for); without it the plan normalises nothing (for
    callers that encode no audio: the fleet's video chunk parts)."""
    tools = tools or Tools.resolve()
    source = probe(request.source, tools=tools, limits=request.probe_limits)
    subtitles = load_subtitles(request.subtitles, source.media_duration)
    plan = plan_encode(source, load_ladder(request.ladder), request.options)
    if loudness:
        plan = measure_plan(plan, request.source, tools=tools)  # SilentAudio before any encode
    per_title = None
    if request.per_title_known is not None and plan.ladder != PER_TITLE:
        raise ConfigError(f"a per-title analysis was given for ladder {request.ladder!r}",
                          hint=f"per_title_known goes with ladder {PER_TITLE!r} only")
    if plan.ladder == PER_TITLE and request.per_title_known is not None:  # analysed once, by the job's planning
        per_title = adopt(plan.video, request.per_title_known, request.per_title)
        plan = dataclasses.replace(plan, video=per_title.video)
    elif plan.ladder == PER_TITLE:  # once per title, before any chunk is cut: every chunk gets these rungs
        per_title = analyse(plan, request.source, tools=tools, vmaf=vmaf_tool(), options=request.per_title,
                            scratch=scratch)
        plan = dataclasses.replace(plan, video=per_title.video)
    out = out or request.output.absolute()
    argv = encode_argv(plan, ffmpeg=tools.ffmpeg, source=request.source, out=out, scratch=scratch or out)
    return Planned(source, plan, argv, subtitles, per_title)


def chunks_for(request: TranscodeRequest, plan: EncodePlan) -> tuple[Chunk, ...]:
    """The chunks of a chunked encode, or () for the whole-file path (no policy, or only one chunk)."""
    if request.chunks is None:
        return ()
    chunks = plan_chunks(plan.source.media_duration, plan.segment_seconds, plan.gop_seconds, plan.fps,
                         request.chunks)
    return chunks if len(chunks) > 1 else ()


def load_subtitles(sidecars: tuple[Sidecar, ...], duration: float) -> tuple[tuple[str, SubtitleDocument], ...]:
    """(track id, document) per sidecar; ids are the language plus "-forced"/"-sdh", unique ("-2" ...).
    SCC sidecars are closed captions (`pipelines.captions`), always SDH."""
    docs: list[tuple[str, SubtitleDocument]] = []
    for sidecar in sidecars:
        language = normalize_language(sidecar.language, source=str(sidecar.path))
        scc = is_scc_file(sidecar.path)
        loaded = (load_scc if scc else load_sidecar)(sidecar.path, language, duration=duration)
        sdh = sidecar.sdh or scc
        doc = replace(loaded, forced=sidecar.forced, sdh=sdh)
        docs.append((unique_id(language + track_suffix(sidecar.forced, sdh), {i for i, _ in docs}), doc))
    return tuple(docs)


def unique_id(wanted: str, taken: set[str]) -> str:
    number, candidate = 1, wanted
    while candidate in taken:
        number += 1
        candidate = f"{wanted}-{number}"
    return candidate


def transcode(request: TranscodeRequest, *, tools: Tools | None = None,
              on_event: Callable[[Event], None] | None = None,
              cancel: threading.Event | None = None,
              chunk_plan: Callable[[Chunk], EncodePlan] | None = None) -> TranscodeResult:
    """Run the whole job; `chunk_plan` (chunked encodes only) plans one chunk differently from the title,
    e.g. to prove that the stitch refuses a chunk from other settings."""
    tools = tools or Tools.resolve()
    emit = on_event or (lambda _event: None)
    timings: dict[str, float] = {}
    clock = time.monotonic()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.monotonic()
        timings[name] = round(now - clock, 3)
        clock = now

    with workspace(request.output, scratch_root=request.scratch_root, replace=request.overwrite) as ws:
        emit(Event("probing"))
        planned = plan_transcode(request, tools=tools, out=ws.staging, scratch=ws.scratch)
        identity = encoder_identity(tools)  # after the probe: a rejected master costs one ffprobe, no more
        measuring = vmaf_tool() if request.measure_quality else None  # ToolMissing before any encode
        lap("probe_plan")
        chunks = chunks_for(request, planned.plan)
        runs: list[ChunkRun] = list(request.encoded_runs)
        stitch_checks: list[CheckResult] = []
        if request.encoded is not None and not chunks:
            raise ConfigError(f"{request.encoded}: chunk outputs given, but the chunk policy cuts no chunks",
                              hint="pass the policy the chunks were encoded with")
        if chunks:
            root = request.encoded or ws.scratch / "chunks"
            if request.encoded is None:
                runs = _encode_chunked(request, planned, chunks, root, tools, emit, cancel, chunk_plan)
            adopt_audio(root, ws.staging, ws.scratch)
            ws.check_space()
            lap("encode")
            if request.encoded is not None and request.encoded_wall:
                timings["encode"] = round(request.encoded_wall, 3)
            stitch_checks = _stitch(request, planned, chunks, root, ws, tools, cancel)
            lap("stitch")
        else:
            _encode(request, planned, ws, emit, cancel)
            ws.check_space()  # ffmpeg can exit 0 on a full disk, leaving truncated segments
            lap("encode")
        emit(Event("packaging"))
        caption_docs, in_band = _embedded_captions(request, planned, ws, tools, cancel)
        subtitles = planned.subtitles + _embedded_subtitles(planned, ws) + caption_docs
        presentation = build_presentation(ws.staging, planned.plan, subtitles, identity,
                                          fingerprint=request.fingerprint, dash_sidecar=request.dash_vtt_sidecar)
        presentation = dataclasses.replace(presentation, closed_captions=in_band)
        remove_scratch_playlists(ws.staging)
        thumbs: Thumbnails | None = None
        if request.thumbnails.enabled and presentation.video:
            thumbs = make_thumbnails(ws.staging, presentation, request.thumbnails, tools=tools,
                                     scratch=ws.scratch, cancel=cancel)
            presentation = dataclasses.replace(presentation, storyboard=thumbs.storyboard)
            timings["thumbnails"] = thumbs.seconds
        write_manifests(ws.staging, presentation)
        lap("package")
        emit(Event("qc"))
        checks = stitch_checks + run_qc(ws.staging, presentation, planned.plan, dict(subtitles), tools=tools,
                                        scratch=ws.scratch, cancel=cancel)
        loudness = measure_renditions(ws.staging, presentation, tools=tools, scratch=ws.scratch, cancel=cancel)
        target = planned.plan.loudness.target
        if target is not None:
            checks += [loudness_check(track_id, measured, target) for track_id, measured in loudness.items()]
        if thumbs is not None:
            checks += check_thumbnails(ws.staging, thumbs.storyboard, presentation.video[0].duration,
                                       thumbs.expected_tiles, any(usable(c) for c in thumbs.candidates),
                                       tools=tools)
        lap("qc")
        quality = {}
        if request.measure_quality:
            emit(Event("quality"))
            quality = measure_quality(planned.plan, request.source, ws.staging, presentation,
                                      tools=tools, scratch=ws.scratch, cancel=cancel)
            lap("quality")
        vmaf_report: dict[str, object] | None = None
        if measuring is not None and presentation.video:
            scores = measure_vmaf(planned.plan, request.source, ws.staging, presentation, tool=measuring,
                                  scratch=ws.scratch, cancel=cancel)
            quality = {rung: {**quality.get(rung, {}), **score.to_dict()} for rung, score in scores.items()}
            vmaf_report = vmaf_method(planned.plan, measuring, next(iter(scores.values())).libvmaf)
            lap("vmaf")
        report = build_report(planned.source, planned.plan, presentation, subtitles, checks, quality, identity, timings,
                              fingerprint=request.fingerprint)
        report["loudness"] = loudness_report(planned.plan, presentation, loudness)
        if vmaf_report is not None:
            report["quality_method"] = {"vmaf": vmaf_report}
        if chunks:
            report["chunks"] = chunk_report(chunks, runs, request.jobs)
        if planned.per_title is not None:
            report["per_title"] = planned.per_title.to_report(timings.get("encode"))
        if thumbs is not None:
            report["thumbnails"] = thumbnails_report(thumbs, timings.get("encode"))
            report["outputs"] = {**report["outputs"], "poster": "poster.jpg",
                                 "thumbnails": f"{thumbs.storyboard.path}/{thumbs.storyboard.vtt}"}
        write_report(ws.staging, report)
        failures = [c for c in checks if not c.passed]
        if failures:
            raise QCFailed(failures)
        emit(Event("publishing"))
        output = ws.commit(replace=request.overwrite)
    emit(Event("done"))
    return TranscodeResult(output, report, timings)


def _encode(request: TranscodeRequest, planned: Planned, ws: Workspace,
            emit: Callable[[Event], None], cancel: threading.Event | None) -> None:
    for folder in output_folders(planned.plan, ws.staging):
        folder.mkdir(parents=True)
    duration = planned.source.duration
    codecs = len(planned.plan.codecs)  # HEVC/AV1 rungs cost several times H.264's CPU (bench/bench_codecs.py)
    timeout = request.encode_timeout if request.encode_timeout is not None else 120 + 30 * duration * codecs
    memory = request.memory_bytes if request.memory_bytes is not None else encode_memory_bytes(plan=planned.plan)
    limits = RunLimits(timeout=timeout, memory_bytes=memory, max_file_bytes=MAX_FILE_BYTES,
                       max_output_bytes=output_budget_bytes(planned.plan), output_dirs=(ws.staging, ws.scratch))
    emit(Event("encoding", None))
    run(planned.argv, limits=limits, duration=duration, cancel=cancel,
        on_progress=lambda p: emit(Event("encoding", p)))


def chunk_report(chunks: tuple[Chunk, ...], runs: list[ChunkRun], jobs: int) -> dict[str, object]:
    """report.json's `chunks` section: the plan of every chunk and its ffmpeg's wall time."""
    seconds = {r.index: r.seconds for r in runs}
    return {
        "count": len(chunks), "jobs": jobs, "audio_seconds": seconds.get(-1),
        "chunks": [{"index": c.index, "start": round(c.start, 6), "end": round(c.end, 6), "frames": c.frames,
                    "first_segment": c.first_segment_number, "segments": c.segment_count,
                    "seconds": seconds.get(c.index)} for c in chunks],
    }


def _encode_chunked(request: TranscodeRequest, planned: Planned, chunks: tuple[Chunk, ...], root: Path,
                    tools: Tools, emit: Callable[[Event], None], cancel: threading.Event | None,
                    chunk_plan: Callable[[Chunk], EncodePlan] | None) -> list[ChunkRun]:
    total = chunks[-1].end
    covered = 0.0
    lock = threading.Lock()

    def on_done(item: ChunkRun) -> None:
        nonlocal covered
        if item.index < 0:
            return
        with lock:
            covered += item.end - item.start
            percent = min(100.0, covered / total * 100)
        emit(Event("encoding", Progress(out_time=covered, frame=None, speed=None, percent=percent, eta=None,
                                        done=percent >= 100.0)))

    emit(Event("encoding", None))
    return encode_chunks(planned.plan, chunks, source=request.source, root=root, tools=tools, jobs=request.jobs,
                         plan_for=chunk_plan, on_done=on_done, cancel=cancel)


def _stitch(request: TranscodeRequest, planned: Planned, chunks: tuple[Chunk, ...], root: Path, ws: Workspace,
            tools: Tools, cancel: threading.Event | None) -> list[CheckResult]:
    """Gather the chunks into the rung folders and check the result; QCFailed (nothing published) if not whole."""
    plan = planned.plan
    folders = [chunk_folder(root, c) for c in chunks]
    checks = gather(plan, chunks, folders, ws.staging)
    if all(c.passed for c in checks):
        tracks = [measure_video_track(ws.staging, f"video/{r.id}", r.id, nominal_bitrate=r.bitrate, frame_rate=plan.fps)
                  for r in plan.video]
        for track in tracks:
            checks += check_timeline(chunks, plan.segment_seconds, plan.fps, track)
        with ThreadPoolExecutor(max_workers=max(1, request.jobs), thread_name_prefix="stitch-decode") as pool:
            decodes = list(pool.map(lambda t: decode_rung(ws.staging, t, tools=tools, scratch=ws.scratch,
                                                          seconds=chunks[-1].end, cancel=cancel), tracks))
        checks += [check_decode(t.id, track_frames(t, plan.fps), decoded, error)
                   for t, (decoded, error) in zip(tracks, decodes, strict=True)]
    failures = [c for c in checks if not c.passed]
    if failures:
        raise QCFailed(failures)
    return checks


def _embedded_subtitles(planned: Planned, ws: Workspace) -> tuple[tuple[str, SubtitleDocument], ...]:
    docs = []
    taken = {lang for lang, _ in planned.subtitles}
    languages = {doc.language for _, doc in planned.subtitles if not doc.forced}
    for sub in planned.plan.embedded_subtitles:
        if sub.language in taken or sub.language in languages:
            continue  # a sidecar in the same language wins over the embedded track
        path = ws.scratch / f"embedded_{sub.stream_index}.vtt"
        try:
            doc = load_sidecar(path, sub.language, duration=planned.source.media_duration)
        except SubtitleRejected as exc:
            # An empty or broken embedded track is not worth rejecting the master for: it is left out.
            log.warning("embedded subtitle stream %d (%s) left out: %s", sub.stream_index, sub.language, exc)
            continue
        if doc.cues:
            docs.append((sub.language, doc))
            taken.add(sub.language)
    return tuple(docs)



def _embedded_captions(request: TranscodeRequest, planned: Planned, ws: Workspace, tools: Tools,
                       cancel: threading.Event | None
                       ) -> tuple[tuple[tuple[str, SubtitleDocument], ...], tuple[ClosedCaptions, ...]]:
    """The master's closed captions as published (`pipelines.captions.service`): with WebVTT, each CEA-608 channel
    that decodes as an SDH subtitle rendition ("<lang>-cc1" .. "<lang>-cc4"), and each CEA-708 service with text
    ("<lang>-svc1" .. "<lang>-svc63", `pipelines.captions.cea708`); in-band (the rungs kept the A/53
    SEI: `EncodePlan.a53cc`), every 608 channel and 708 service the master carries, for both manifests."""
    source, plan = planned.source, planned.plan
    options = request.options.captions
    if not (options.webvtt or plan.a53cc):
        return (), ()
    audio = sorted(plan.audio, key=lambda a: not a.default)
    languages = list(dict.fromkeys(a.language for a in audio))
    scan = scan_captions(request.source, format_name=source.format_name, video_codec=source.video.codec,
                         video_start=source.start_time, fps=plan.fps, languages=languages,
                         declared=dict(options.languages), decode=options.webvtt,
                         duration=source.media_duration, tools=tools, scratch=ws.scratch, cancel=cancel)
    taken = {track_id for track_id, _ in planned.subtitles}
    docs = []
    for track in scan.tracks:
        suffix = track.channel.lower().replace("service", "svc")
        track_id = unique_id(f"{track.document.language}-{suffix}", taken)
        taken.add(track_id)
        docs.append((track_id, dataclasses.replace(track.document, channel=track.channel)))
    in_band: list[ClosedCaptions] = []
    if plan.a53cc:
        named = [*scan.channels, *((f"SERVICE{n}", lang) for n, lang in scan.services)]
        in_band = [ClosedCaptions(ident, lang, f"{language_name(lang)} ({ident})") for ident, lang in named]
    return tuple(docs), tuple(in_band)
