"""The analysis of one title (sampled scenes → probe points → curves → hull → rungs) into a `PerTitle`, and
`adopt`, which takes one made earlier.

`analyse` runs the effects (`pipelines.pertitle.probe`) then the pure planning (`curve`, `rungs`); the
transcode's planning step calls it once per title, before chunks are cut (`pipelines.transcode.plan_transcode`),
so a chunked encode uses one ladder for every chunk. In the fleet the job's planning step keeps the result in the
job record and every chunk part and the stitch plan from it (`adopt`: pure, no probe encode), so the title is
analysed once however many workers take part (the stitch's x264-options check would refuse a chunk encoded at
other bitrates).
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from pathlib import Path

from pipelines.errors import ConfigError
from pipelines.pertitle.curve import convex_hull, curves_of
from pipelines.pertitle.result import PerTitle
from pipelines.pertitle.rungs import PerTitleOptions, choose_rungs
from pipelines.plan import EncodePlan
from pipelines.rendition import VideoRendition
from pipelines.tools import Tools
from pipelines.vmaf_tool import VmafTool

log = logging.getLogger(__name__)


_MEMORY: dict[tuple[object, ...], PerTitle] = {}
_MEMORY_LOCK = threading.Lock()
_MEMORY_SIZE = 4


def _memory_key(plan: EncodePlan, source: Path, tools: Tools, vmaf: VmafTool,
                options: PerTitleOptions) -> tuple[object, ...]:
    """What an analysis depends on: the master file as it is on disk, the plan's candidates and encoding settings,
    the options and both builds."""
    stat = source.stat()
    return (str(source.resolve()), stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, plan.video, plan.fps,
            plan.gop_frames, plan.encoder, plan.deinterlace, plan.tonemap, plan.segment_seconds, options,
            tools.ffmpeg, vmaf.sha256)


def analyse(plan: EncodePlan, source: Path, *, tools: Tools, vmaf: VmafTool, options: PerTitleOptions,
            scratch: Path | None = None, cancel: threading.Event | None = None, remember: bool = True) -> PerTitle:
    """Measure the title and choose its rungs. `plan` is the fixed ladder's plan (its rungs: the candidates).

    Remembered per process for the last few masters (`_memory_key`; `remember=False` measures again): a fleet
    worker that plans the job, encodes some of its parts and stitches it analyses its cached master once, not once
    per task."""
    key = _memory_key(plan, source, tools, vmaf, options)
    with _MEMORY_LOCK:
        known = _MEMORY.get(key) if remember else None
    if known is not None:
        return known
    result = _analyse(plan, source, tools=tools, vmaf=vmaf, options=options, scratch=scratch, cancel=cancel)
    with _MEMORY_LOCK:
        _MEMORY[key] = result
        while len(_MEMORY) > _MEMORY_SIZE:
            _MEMORY.pop(next(iter(_MEMORY)))
    return result


def adopt(candidates: tuple[VideoRendition, ...], known: PerTitle, options: PerTitleOptions) -> PerTitle:
    """A title's analysis made earlier (the fleet job's planning step, kept in its record) as this plan's (pure).

    `candidates` are the fixed ladder's rungs fitted to the source as re-derived here (`EncodePlan.video` before the
    per-title rungs replace them); ConfigError when the analysis was made for other candidate
    rungs or other per-title options (the job's spec or the planner changed since: plan again from scratch)."""
    if known.options != options:
        raise ConfigError(f"the stored per-title analysis was made with target VMAF {known.options.target_vmaf:g} "
                          f"and other options than this plan's ({options.target_vmaf:g})",
                          hint="re-submit the job (--force) so that its planning step analyses the title again")
    if known.fixed != candidates:
        raise ConfigError(f"the stored per-title analysis chose among rungs {[r.id for r in known.fixed]}, this "
                          f"plan offers {[r.id for r in candidates]}",
                          hint="the master or the planner changed since the job was planned; re-submit it (--force)")
    return known


def _analyse(plan: EncodePlan, source: Path, *, tools: Tools, vmaf: VmafTool, options: PerTitleOptions,
             scratch: Path | None, cancel: threading.Event | None) -> PerTitle:
    # the probe encodes and VMAF load ffmpeg-python: only here, so that a job record holding a PerTitle (the chunk
    # board) stays light to import (`vodfleet submit` loads no pipeline code: tests/media/test_submit_startup.py)
    from pipelines.pertitle.probe import measure_points, sample_windows  # noqa: PLC0415
    from pipelines.vmaf import display_size  # noqa: PLC0415

    started = time.monotonic()
    windows = sample_windows(plan.duration)
    display = display_size(plan)
    with tempfile.TemporaryDirectory(prefix="pertitle-", dir=scratch) as folder:
        points = measure_points(plan, source, tools=tools, vmaf=vmaf, scratch=Path(folder), display=display,
                                windows=windows, cancel=cancel)
    curves = curves_of(points)
    rungs = choose_rungs(curves, plan.video, options)
    seconds = time.monotonic() - started
    log.info("per-title analysis of %s: %d probe points, rungs %s, %.1f s", source.name, len(points),
             ", ".join(f"{r.rendition.id}@{r.rendition.bitrate}" for r in rungs), seconds)
    return PerTitle(options=options, windows=windows, display=display, points=tuple(points), curves=tuple(curves),
                    hull=tuple(convex_hull(points)), rungs=rungs, fixed=plan.video, seconds=seconds)
