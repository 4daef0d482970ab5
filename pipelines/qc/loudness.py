"""Loudness QC rules (pure): each published audio rendition at the target within ±1 LU, under the ceiling.

    audio.<id>.loudness   integrated loudness of the rendition as published (decoded from its CMAF segments)
                          within QC_TOLERANCE_LU of the preset's target, true peak at or under its ceiling
                          (EBU R128; ITU-R BS.1770-4 meter: ffmpeg's ebur128). No check when the preset is off.
"""

from __future__ import annotations

from pipelines.errors import CheckResult
from pipelines.loudness import QC_TOLERANCE_LU, Loudness, LoudnessTarget


def loudness_check(rendition_id: str, measured: Loudness, target: LoudnessTarget) -> CheckResult:
    name = f"audio.{rendition_id}.loudness"
    i, tp = measured.integrated, measured.true_peak
    figures = (f"integrated {'silent' if i is None else f'{i:.1f} LUFS'}, true peak "
               f"{'-inf' if tp is None else f'{tp:.1f}'} dBTP; target {target.name} {target.integrated:g} LUFS "
               f"± {QC_TOLERANCE_LU:g} LU, ceiling {target.true_peak:g} dBTP")
    problems = []
    if i is None or abs(i - target.integrated) > QC_TOLERANCE_LU:
        problems.append("integrated loudness off target")
    if tp is not None and tp > target.true_peak:
        problems.append("true peak over the ceiling")
    return CheckResult(name, not problems, f"{'; '.join(problems)}: {figures}" if problems else figures)
