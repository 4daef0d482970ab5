"""choose_rungs: the per-title ladder from the measured rate–quality curves (pure: tables in, rungs out).

Every rung is placed on the hull: at its quality, the resolution that needs the fewest bits (or, at a given
bitrate, the one that scores best), so two rungs may share a size. Rules, in order:

1. **Top rung at the target VMAF** (default 94; ``--target-vmaf``), with the fewest bits over every candidate
   size (the fixed ladder's rungs fitted to the source). When the fixed ladder's top rung scores above the target,
   the top rung keeps the fixed one's quality less `max_loss` (1 VMAF point; None: the target alone): per-title
   then spends fewer bits without a visible loss, and a rung never falls more than `max_loss` under the fixed
   ladder's rung at the same position where the spacing rule allows it.
2. **Never above the fixed ladder's bitrate for that resolution unless the fixed one misses the rung's quality**:
   then up to `max_over_fixed` × the fixed bitrate (hard content the fixed ladder starves).
3. **Lower rungs spaced by quality and by bits**: each aims `quality_step` VMAF under the rung above (6 points:
   about one just-noticeable difference in Netflix's VMAF studies; never under the fixed rung at that position less
   `max_loss`) and takes at most 1/`min_spacing` of its bitrate (1.5×: Apple's HLS authoring spec wants adjacent
   bitrates 1.5–2× apart), whichever is fewer bits, on a size no larger than the rung above.
4. At most as many rungs as the fixed ladder; stop when the quality would fall under `floor_vmaf` or the bitrate
   under `floor_bitrate`.

Each rung is encoded with capped CRF: x264 ``crf`` at the CRF its curve expects for the chosen bitrate (the probe
encodes' own rate control, so the measured quality holds), ``maxrate`` 1.5× and ``bufsize`` 2× the bitrate (the
fixed ladder's VBV: the player's buffer sees the same peaks).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pipelines.errors import ConfigError
from pipelines.pertitle.curve import Curve
from pipelines.plan import VideoRendition

DEFAULT_TARGET_VMAF = 94.0


@dataclass(frozen=True)
class PerTitleOptions:
    target_vmaf: float = DEFAULT_TARGET_VMAF
    quality_step: float = 6.0  # VMAF points between adjacent rungs
    min_spacing: float = 1.5  # adjacent bitrates at least this ratio apart
    max_over_fixed: float = 2.0  # a rung whose fixed bitrate misses its quality may take up to this × the fixed
    max_loss: float | None = 1.0  # VMAF points a rung may lose against the fixed ladder's (None: target only)
    floor_vmaf: float = 30.0  # no rung predicted under this
    floor_bitrate: int = 64_000  # bits/s: no rung under this

    def __post_init__(self) -> None:
        if not 50 <= self.target_vmaf <= 99:
            raise ConfigError(f"target VMAF {self.target_vmaf:g} is out of range",
                              hint="give --target-vmaf between 50 and 99 (93-95 is usual for the top rung)")
        if self.min_spacing < 1.1 or self.quality_step <= 0 or self.max_over_fixed < 1:
            raise ConfigError("per-title spacing options are out of range",
                              hint="min_spacing >= 1.1, quality_step > 0, max_over_fixed >= 1")


@dataclass(frozen=True)
class ChosenRung:
    rendition: VideoRendition  # the rung to encode (bitrate, maxrate, bufsize, crf chosen here)
    predicted_vmaf: float  # on its curve at its bitrate
    aimed_vmaf: float  # what the rules aimed for
    fixed_bitrate: int  # the fixed ladder's bitrate at this rung's size
    fixed_vmaf: float  # the fixed ladder's rung at the same position, on its curve
    rule: str  # which rule set the bitrate, in words


def choose_rungs(curves: list[Curve], fixed: tuple[VideoRendition, ...],
                 options: PerTitleOptions = PerTitleOptions()) -> tuple[ChosenRung, ...]:
    """The per-title rungs, largest first (pure). `fixed` is the fixed ladder fitted to the source; `curves` cover
    its sizes (sizes without a curve are not candidates)."""
    by_size = {(c.width, c.height): c for c in curves}
    ladder = sorted((r for r in fixed if (r.width, r.height) in by_size), key=lambda r: (r.width * r.height,
                                                                                          r.bitrate), reverse=True)
    if not ladder:
        raise ConfigError("per-title: no probe curve for any rung of the fixed ladder",
                          hint="the analysis measured no resolution of the ladder; check the probe encodes")
    fixed_at = {(r.width, r.height): r for r in ladder}
    fixed_q = [by_size[(r.width, r.height)].quality_at(r.bitrate) for r in ladder]
    chosen: list[ChosenRung] = []
    ceiling, area = math.inf, math.inf
    for position in range(len(ladder)):
        candidates = [r for r in ladder if r.width * r.height <= area]
        if not chosen:
            aim = options.target_vmaf
            if options.max_loss is not None and fixed_q[0] >= options.target_vmaf:
                aim = max(aim, fixed_q[0] - options.max_loss)
            rung = min(candidates, key=lambda r: by_size[(r.width, r.height)].bitrate_for(aim))
            bitrate, rule = by_size[(rung.width, rung.height)].bitrate_for(aim), "target"
        else:
            aim = chosen[-1].predicted_vmaf - options.quality_step
            if options.max_loss is not None:
                aim = max(aim, fixed_q[position] - options.max_loss)
            wanted = min(by_size[(r.width, r.height)].bitrate_for(aim) for r in candidates)
            bitrate = min(wanted, ceiling)
            rule = "quality step" if wanted <= ceiling else f"{options.min_spacing:g}x under the rung above"
            rung = max(candidates, key=lambda r: by_size[(r.width, r.height)].quality_at(bitrate))
        curve = by_size[(rung.width, rung.height)]
        own_fixed = fixed_at[(rung.width, rung.height)].bitrate
        if bitrate > own_fixed and curve.quality_at(own_fixed) >= min(aim, curve.quality_at(bitrate)):
            bitrate, rule = float(own_fixed), "capped at the fixed ladder (it reaches the quality)"
        elif bitrate > own_fixed * options.max_over_fixed:
            bitrate, rule = own_fixed * options.max_over_fixed, f"capped at {options.max_over_fixed:g}x the fixed"
        bitrate = min(bitrate, ceiling)
        predicted = curve.quality_at(bitrate)
        if chosen and (predicted < options.floor_vmaf or bitrate < options.floor_bitrate):
            break
        rounded = max(options.floor_bitrate, math.floor(bitrate / 1000) * 1000)  # floored: spacing stays >= 1.5x
        taken = {c.rendition.id for c in chosen}
        rid = rung.id if rung.id not in taken else next(f"{rung.id}-{n}" for n in range(2, 99)
                                                         if f"{rung.id}-{n}" not in taken)
        chosen.append(ChosenRung(
            rendition=VideoRendition(id=rid, width=rung.width, height=rung.height, bitrate=rounded,
                                     maxrate=round(rounded * 1.5), bufsize=2 * rounded, profile=rung.profile,
                                     crf=curve.crf_at(rounded)),
            predicted_vmaf=round(predicted, 3), aimed_vmaf=round(aim, 3), fixed_bitrate=own_fixed,
            fixed_vmaf=round(fixed_q[position], 3), rule=rule))
        ceiling, area = rounded / options.min_spacing, rung.width * rung.height
    return tuple(chosen)
