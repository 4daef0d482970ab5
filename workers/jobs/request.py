"""A job's spec → the pipeline's TranscodeRequest (pure): the one place that maps JobSpec fields to the pipeline.

    transcode_request(spec, source=…, output=…)   what `workers.delivery.job` transcodes, and what
                                                  `workers.delivery.part` re-plans a chunk from
"""

from __future__ import annotations

from pathlib import Path

from pipelines.options import PlanOptions
from pipelines.pertitle.result import PerTitle
from pipelines.pertitle.rungs import PerTitleOptions
from pipelines.transcode import Sidecar, TranscodeRequest
from workers.jobs.spec import JobSpec


def plan_options(spec: JobSpec) -> PlanOptions:
    """The planner's options of a job (segment length, profile, audio selection and mapping, loudness, codecs, 5.1,
    captions)."""
    return PlanOptions(segment_seconds=spec.segment_seconds, profile=spec.profile,
                       audio_languages=spec.audio_languages, audio_map=spec.audio_map_entries(),
                       loudness=spec.loudness, codecs=spec.codecs, surround=spec.surround,
                       captions=spec.caption_options())


def per_title_options(spec: JobSpec) -> PerTitleOptions:
    """The per-title rules of a job (``ladder per-title``): its target VMAF, or the default."""
    return PerTitleOptions() if spec.target_vmaf is None else PerTitleOptions(target_vmaf=spec.target_vmaf)


def transcode_request(spec: JobSpec, *, source: Path, output: Path, subtitles: tuple[Sidecar, ...] = (),
                      scratch_root: Path | None = None, fingerprint: str | None = None,
                      per_title: PerTitle | None = None) -> TranscodeRequest:
    """The request for `spec`'s master fetched to `source` (local scratch), output into `output`; `subtitles` are
    the fetched sidecars, `fingerprint` the encoder the job is pinned to (recorded in report.json), `per_title` the
    title's analysis made by the job's planning step (the chunk board's), adopted instead of measured again."""
    return TranscodeRequest(source=source, output=output, subtitles=subtitles, ladder=spec.ladder,
                            options=plan_options(spec), measure_quality=spec.measure_quality,
                            scratch_root=scratch_root, dash_vtt_sidecar=spec.dash_vtt_sidecar,
                            fingerprint=fingerprint, thumbnails=spec.thumbnails.options(),
                            per_title=per_title_options(spec), per_title_known=per_title)
