"""Chunk encodes: the effects of split-and-stitch. One ffmpeg per chunk (every video rung), one for the audio.

    encode_chunk(plan, chunk, source=, out=, tools=)   → ChunkRun    "encode chunk i": a fleet task's whole body
    encode_audio(plan, source=, out=, tools=)           → ChunkRun   the title's audio + embedded subtitles, once
    encode_chunks(plan, chunks, ..., jobs=N)           → [ChunkRun]  all of them locally, N ffmpegs at a time
    adopt_audio(root, staging, scratch)                            the audio's output into the rendition folders

The layout of a chunked encode's root folder is the same locally and in the fleet (where each task
uploads its folder and the stitch task downloads them all into one root):

    root/chunk_0003/video/<rung>/init.mp4, seg_<n>.m4s   numbered from the chunk's first whole-file segment
    root/audio/audio/<id>/init.mp4, seg_<n>.m4s          the whole title's audio renditions
    root/audio/subtitles/embedded_<stream>.vtt           embedded text subtitles, whole title

`pipelines.stitch` gathers the chunk folders into one rendition folder per rung. Everything a task
needs is a path and an index: the plan and the chunks are pure functions of the probed source and the
options, so a worker re-derives them (same ffmpeg build) instead of receiving them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from pipelines.chunk import Chunk
from pipelines.ffmpeg import audio_argv, chunk_argv, segment_name
from pipelines.limits import MAX_FILE_BYTES, OUTPUT_ALLOWANCE, OUTPUT_SLACK, encode_memory_bytes
from pipelines.plan import EncodePlan
from pipelines.runner import RunLimits, run
from pipelines.stitch import X264_NOTE, x264_settings
from pipelines.tools import Tools

AUDIO = -1  # ChunkRun.index of the audio encode
AUDIO_FOLDER = "audio"  # root/audio: where the audio encode writes (see the layout above)


@dataclass(frozen=True)
class ChunkRun:
    index: int  # chunk index, or AUDIO
    start: float  # seconds of the title it covers
    end: float
    seconds: float  # wall time of its ffmpeg


def chunk_timeout(seconds: float, codecs: int = 1) -> float:
    """The same budget as the whole-file encode, for the chunk's own length: 120 s + 30 s per second per codec
    of the ladder (HEVC and AV1 rungs cost several times H.264's CPU: bench/bench_codecs.py)."""
    return 120 + 30 * seconds * codecs


def _limits(plan: EncodePlan, seconds: float, folders: tuple[Path, ...], *, audio: bool,
            timeout: float | None, memory: int | None) -> RunLimits:
    rate = sum(a.bitrate for a in plan.audio) if audio else sum(r.maxrate for r in plan.video)
    budget = int(OUTPUT_SLACK * rate / 8 * max(seconds, 1.0)) + OUTPUT_ALLOWANCE
    codecs = 1 if audio else len(plan.codecs)
    return RunLimits(timeout=timeout if timeout is not None else chunk_timeout(seconds, codecs),
                     memory_bytes=memory if memory is not None else encode_memory_bytes(plan=plan),
                     max_file_bytes=MAX_FILE_BYTES, max_output_bytes=budget, output_dirs=folders)


def encode_chunk(plan: EncodePlan, chunk: Chunk, *, source: Path, out: Path, tools: Tools,
                 timeout: float | None = None, memory: int | None = None,
                 cancel: threading.Event | None = None) -> ChunkRun:
    """Encode every video rung of `chunk` into out/video/<rung>/ (created here; must not hold other files)."""
    for rung in plan.video:
        (out / "video" / rung.id).mkdir(parents=True, exist_ok=True)
    argv = chunk_argv(plan, chunk, ffmpeg=tools.ffmpeg, source=source, out=out)
    seconds = chunk.encode_frames / plan.fps
    result = run(argv, limits=_limits(plan, float(seconds), (out,), audio=False, timeout=timeout, memory=memory),
                 cancel=cancel)
    for rung in plan.video:  # the pre-roll only warmed the encoder up: its segments belong to the chunk before
        folder = out / "video" / rung.id
        for n, number in enumerate(chunk.preroll_numbers):
            segment = folder / segment_name(number)
            if n == 0 and segment.is_file():  # x264 writes its build and options once, into the first frame
                (folder / X264_NOTE).write_text(x264_settings(segment.read_bytes()), encoding="latin-1")
            segment.unlink(missing_ok=True)
    return ChunkRun(chunk.index, chunk.start, chunk.end, round(result.elapsed, 3))


def encode_audio(plan: EncodePlan, *, source: Path, out: Path, tools: Tools,
                 timeout: float | None = None, memory: int | None = None,
                 cancel: threading.Event | None = None) -> ChunkRun:
    """Every audio rendition into out/audio/<id>/ and embedded subtitles into out/subtitles/, whole title."""
    for rendition in plan.audio:
        (out / "audio" / rendition.id).mkdir(parents=True, exist_ok=True)
    scratch = out / "subtitles"
    scratch.mkdir(parents=True, exist_ok=True)
    argv = audio_argv(plan, ffmpeg=tools.ffmpeg, source=source, out=out, scratch=scratch)
    duration = plan.source.duration
    result = run(argv, limits=_limits(plan, duration, (out, scratch), audio=True, timeout=timeout, memory=memory),
                 cancel=cancel)
    return ChunkRun(AUDIO, 0.0, duration, round(result.elapsed, 3))


def chunk_folder(root: Path, chunk: Chunk) -> Path:
    """Where chunk `chunk`'s output waits for the stitch: root/chunk_<index>."""
    return root / chunk_folder_name(chunk.index)


def chunk_folder_name(index: int) -> str:
    return AUDIO_FOLDER if index == AUDIO else f"chunk_{index:04d}"


def adopt_audio(root: Path, staging: Path, scratch: Path) -> None:
    """Move the audio encode's output (root/audio/) into place: renditions under staging/audio/, embedded
    subtitles (embedded_<stream>.vtt) into scratch/ where packaging looks for them."""
    folder = root / AUDIO_FOLDER
    (staging / "audio").mkdir(parents=True, exist_ok=True)
    for rendition in sorted((folder / "audio").iterdir()) if (folder / "audio").is_dir() else []:
        rendition.rename(staging / "audio" / rendition.name)
    for vtt in sorted((folder / "subtitles").glob("embedded_*.vtt")):
        vtt.rename(scratch / vtt.name)


def encode_chunks(plan: EncodePlan, chunks: Sequence[Chunk], *, source: Path, root: Path, tools: Tools, jobs: int = 1,
                  plan_for: Callable[[Chunk], EncodePlan] | None = None,
                  on_done: Callable[[ChunkRun], None] | None = None,
                  cancel: threading.Event | None = None) -> list[ChunkRun]:
    """Every chunk (into chunk_folder(root, chunk)) and the audio (into root/audio), `jobs` ffmpegs at a time.

    Each job is its own ffmpeg process, so threads are enough. The first failure stops the others
    (their ffmpegs are killed by the runner) and is raised; so is a cancel. `plan_for` gives the plan
    of one chunk (default: `plan` for all): a seam for encoding a chunk some other way, e.g. to check
    that the stitch refuses it.
    """
    stop = threading.Event()
    runs: list[ChunkRun] = []
    lock = threading.Lock()

    def finished(item: ChunkRun) -> ChunkRun:
        with lock:
            runs.append(item)
        if on_done is not None:
            on_done(item)
        return item

    def watch_cancel() -> None:
        while not stop.is_set():
            if cancel is not None and cancel.wait(0.1):
                stop.set()
                return
            if cancel is None:
                return

    def chunk_job(chunk: Chunk, chunk_plan: EncodePlan) -> ChunkRun:
        return finished(encode_chunk(chunk_plan, chunk, source=source, out=chunk_folder(root, chunk), tools=tools,
                                     cancel=stop))

    def audio_job() -> ChunkRun:
        return finished(encode_audio(plan, source=source, out=root / AUDIO_FOLDER, tools=tools, cancel=stop))

    watcher = threading.Thread(target=watch_cancel, daemon=True)
    watcher.start()
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="chunk") as pool:
            futures: list[Future[ChunkRun]] = [pool.submit(audio_job)]
            futures += [pool.submit(chunk_job, chunk, plan_for(chunk) if plan_for is not None else plan)
                        for chunk in chunks]
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            errors = [error for f in done if (error := f.exception()) is not None]
            if errors:
                stop.set()
                wait(futures)
                raise errors[0]
    finally:
        stop.set()
        watcher.join(timeout=1)
    return sorted(runs, key=lambda r: r.index)
