"""PerTitle: what the analysis of one title found (probe points, curves, hull, chosen rungs) and its report.

Made by `pipelines.pertitle.analysis.analyse`; kept in a per-title job's record (`workers.jobs.board.ChunkBoard`), so
this module loads no planner and no encoder: the fleet's producers (``vodfleet submit``) read and write job records
without them.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.pertitle.curve import Curve, ProbePoint
from pipelines.pertitle.rungs import ChosenRung, PerTitleOptions
from pipelines.rendition import VideoRendition


def _point(p: ProbePoint) -> dict[str, object]:
    return {"width": p.width, "height": p.height, "crf": p.crf, "bitrate": p.bitrate, "vmaf": round(p.vmaf, 3)}


@dataclass(frozen=True)
class PerTitle:
    options: PerTitleOptions
    windows: tuple[tuple[float, float], ...]
    display: tuple[int, int]
    points: tuple[ProbePoint, ...]
    curves: tuple[Curve, ...]
    hull: tuple[ProbePoint, ...]
    rungs: tuple[ChosenRung, ...]
    fixed: tuple[VideoRendition, ...]  # the fixed ladder fitted to the source: candidates and caps
    seconds: float  # wall time of the analysis

    @property
    def video(self) -> tuple[VideoRendition, ...]:
        """The rungs to encode, smallest first (the plan's order)."""
        return tuple(sorted((r.rendition for r in self.rungs), key=lambda r: (r.width * r.height, r.bitrate)))

    def to_report(self, encode_seconds: float | None = None) -> dict[str, object]:
        """report.json's ``per_title``: the curves, the hull, the chosen rungs, and the planned bits saved
        against the fixed ladder (sum of target bitrates: what the CDN serves a viewer of every rung)."""
        fixed_total = sum(r.bitrate for r in self.fixed)
        chosen_total = sum(r.rendition.bitrate for r in self.rungs)
        return {
            "target_vmaf": self.options.target_vmaf, "quality_step": self.options.quality_step,
            "min_spacing": self.options.min_spacing, "max_over_fixed": self.options.max_over_fixed,
            "display": f"{self.display[0]}x{self.display[1]}", "probe_crfs": list(_probe_crfs()),
            "sampled": [{"start": s, "seconds": n} for s, n in self.windows],
            "curves": [{"width": c.width, "height": c.height, "points": [_point(p) for p in c.points]}
                       for c in self.curves],
            "hull": [_point(p) for p in self.hull],
            "rungs": [{"id": r.rendition.id, "width": r.rendition.width, "height": r.rendition.height,
                       "bitrate": r.rendition.bitrate, "maxrate": r.rendition.maxrate, "bufsize": r.rendition.bufsize,
                       "crf": r.rendition.crf,
                       "predicted_vmaf": r.predicted_vmaf, "aimed_vmaf": r.aimed_vmaf,
                       "fixed_bitrate": r.fixed_bitrate, "fixed_predicted_vmaf": r.fixed_vmaf, "rule": r.rule}
                      for r in self.rungs],
            "fixed": [{"id": r.id, "width": r.width, "height": r.height, "bitrate": r.bitrate} for r in self.fixed],
            "fixed_total_bitrate": fixed_total, "per_title_total_bitrate": chosen_total,
            "bits_saved": round(1 - chosen_total / fixed_total, 4) if fixed_total else None,
            "analysis_seconds": round(self.seconds, 3),
            "analysis_fraction_of_encode": round(self.seconds / encode_seconds, 3) if encode_seconds else None,
        }


def _probe_crfs() -> tuple[int, ...]:
    from pipelines.pertitle.probe import PROBE_CRFS  # noqa: PLC0415 - see _analyse

    return tuple(PROBE_CRFS)
