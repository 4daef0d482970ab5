"""choose_rungs: the per-title ladder from the measured rate–quality curves (pure: tables in, rungs out).

Every rung sits on the hull: for its bitrate, the candidate size (the fixed ladder's rungs fitted to the source)
that scores best; for its quality, the one that needs the fewest bits. Two rungs may share a size.

**Guarded (the default, `max_loss` = 1 VMAF point)**: as many rungs as the fixed ladder; rung i aims at the fixed
rung i's quality (on its curve) less `max_loss` plus a `margin` of 0.5 (the sample's prediction error), the top
rung at least at the target (``--target-vmaf``, 94) and at exactly the target when the fixed top misses it.
Bitrates are chosen from the bottom up: each the larger of what its aim needs on the hull and `min_spacing`
(1.5×: Apple's HLS authoring spec wants adjacent bitrates 1.5–2× apart) times the rung below; sizes from the
top down (the best at that bitrate, no larger than the rung above).
So no rung loses more than `max_loss` against the fixed ladder's rung at its position, every rung is spaced, and
the fewest bits doing both are spent. A top rung that must pass the fixed bitrate (hard content the fixed ladder
starves) takes at most `max_over_fixed` (2×) of it. A rung's bitrate is never above the fixed ladder's for its size
while that one reaches the rung's aim: when the spacing pushes it there, it is capped, and the rungs under it are
lowered to keep 1.5× (under their aim, if need be: the rule says so).

**Stepped (`max_loss` None: the target alone)**: the top rung at the target with the fewest bits; each next one
`quality_step` (6: about one just-noticeable difference in Netflix's VMAF studies) lower, at most 1/1.5 of the
bitrate above, capped at the fixed bitrate for its size when that reaches its quality (else up to 2× of it);
stop under `floor_vmaf` or `floor_bitrate`.

Each rung is encoded with capped CRF: x264 ``crf`` at the CRF its curve expects for the chosen bitrate (the probe
encodes' own rate control, so the measured quality holds), ``maxrate`` 1.5× and ``bufsize`` 2× the bitrate (the
fixed ladder's VBV: the player's buffer sees the same peaks).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pipelines.errors import ConfigError
from pipelines.pertitle.curve import Curve
from pipelines.rendition import VideoRendition

DEFAULT_TARGET_VMAF = 94.0


@dataclass(frozen=True)
class PerTitleOptions:
    target_vmaf: float = DEFAULT_TARGET_VMAF
    quality_step: float = 6.0  # VMAF points between adjacent rungs
    min_spacing: float = 1.5  # adjacent bitrates at least this ratio apart
    max_over_fixed: float = 2.0  # a rung whose fixed bitrate misses its quality may take up to this × the fixed
    max_loss: float | None = 1.0  # VMAF points a rung may lose against the fixed ladder's (None: target only)
    # aimed above that bound: the probes see sampled scenes, the rung the whole title (measured: within ±0.5)
    margin: float = 0.5
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
    fixed_q = [by_size[(r.width, r.height)].quality_at(r.bitrate) for r in ladder]
    if options.max_loss is None:
        return _stepped(by_size, ladder, fixed_q, options)
    return _guarded(by_size, ladder, fixed_q, options)


def need_bitrate(curves: list[Curve], vmaf: float) -> float:
    """The fewest bits (bits/s) that reach `vmaf` on the hull of `curves`, from measured ranges only: the curves that
    reach it within their probes (or a short extrapolation down); else, when it lies under every such range, the
    cheapest probe of a curve that scores at least that (measured, and better); else (above every curve's best) the
    best curve extrapolated upwards (the rules then cap it)."""
    trusted = [c for c in curves if c.trusted_for(vmaf)]
    if trusted:
        return min(c.bitrate_for(vmaf) for c in trusted)
    reaching = [c for c in curves if c.points[0].vmaf >= vmaf]
    if reaching:
        return float(min(c.points[0].bitrate for c in reaching))
    return max(curves, key=lambda c: c.top.vmaf).bitrate_for(vmaf)


def trusted_at(by_size: dict[tuple[int, int], Curve], rungs: list[VideoRendition],
               bitrate: float) -> list[VideoRendition]:
    """The sizes whose curves are measured near `bitrate`; all when none is."""
    return [r for r in rungs if by_size[(r.width, r.height)].trusted_at(bitrate)] or rungs


def _rung(curve: Curve, size_rung: VideoRendition, bitrate: float, taken: set[str], *, aim: float,
          fixed_vmaf: float, rule: str, floor: int) -> ChosenRung:
    rounded = max(floor, math.floor(bitrate / 1000) * 1000)  # floored: the spacing above stays >= 1.5x
    rid = size_rung.id if size_rung.id not in taken else next(f"{size_rung.id}-{n}" for n in range(2, 99)
                                                              if f"{size_rung.id}-{n}" not in taken)
    return ChosenRung(
        rendition=VideoRendition(id=rid, width=size_rung.width, height=size_rung.height, bitrate=rounded,
                                 maxrate=round(rounded * 1.5), bufsize=2 * rounded, profile=size_rung.profile,
                                 crf=curve.crf_at(rounded)),
        predicted_vmaf=round(curve.quality_at(rounded), 3), aimed_vmaf=round(aim, 3), fixed_bitrate=size_rung.bitrate,
        fixed_vmaf=round(fixed_vmaf, 3), rule=rule)


def _guarded(by_size: dict[tuple[int, int], Curve], ladder: list[VideoRendition], fixed_q: list[float],
             options: PerTitleOptions) -> tuple[ChosenRung, ...]:
    """One rung per fixed rung, each at least the fixed one's quality less `max_loss` (the top: the target when the
    fixed top misses it), with the fewest bits that also keep every rung 1.5x over the one below: bitrates are
    set from the bottom up (each the larger of what its quality needs on the hull and 1.5x the rung below), sizes
    from the top down (the best at that bitrate, no larger than the rung above)."""
    assert options.max_loss is not None
    count = len(ladder)
    aims = [q - options.max_loss + options.margin for q in fixed_q]
    if fixed_q[0] >= options.target_vmaf:
        aims[0] = max(aims[0], options.target_vmaf)
    else:
        aims[0] = options.target_vmaf  # the fixed ladder misses the target: the top rung may pass it
    curves = list(by_size.values())
    needs = [need_bitrate(curves, aim) for aim in aims]
    bitrates = [0.0] * count
    rules = [""] * count
    for position in reversed(range(count)):
        below = bitrates[position + 1] * options.min_spacing if position + 1 < count else 0.0
        need = max(needs[position], float(options.floor_bitrate))
        bitrates[position] = max(need, below)
        rules[position] = ("fixed-ladder quality less 1" if position else "target") if need >= below else (
            f"{options.min_spacing:g}x over the rung below")
    top_cap = ladder[0].bitrate * options.max_over_fixed
    if bitrates[0] > top_cap and (count == 1 or top_cap >= bitrates[1] * options.min_spacing):
        bitrates[0], rules[0] = top_cap, f"capped at {options.max_over_fixed:g}x the fixed"
    chosen: list[ChosenRung] = []
    area, ceiling = math.inf, math.inf
    for position in range(count):
        bitrate, rule = bitrates[position], rules[position]
        if bitrate > ceiling:  # a rung above was capped (or rounded down): keep the spacing under it
            bitrate = ceiling
            if bitrate < bitrates[position] - 1000:  # (not the rounding to whole kb/s)
                rule = f"{options.min_spacing:g}x under the rung above"
        candidates = trusted_at(by_size, [r for r in ladder if r.width * r.height <= area], bitrate)
        size_rung = max(candidates, key=lambda r: (round(by_size[(r.width, r.height)].quality_at(bitrate), 3),
                                                   r.width * r.height))
        curve = by_size[(size_rung.width, size_rung.height)]
        if bitrate > size_rung.bitrate and curve.quality_at(size_rung.bitrate) >= aims[position]:
            bitrate, rule = float(size_rung.bitrate), "capped at the fixed ladder (it reaches the quality)"
        if chosen and bitrate < options.floor_bitrate:
            break
        rung = _rung(curve, size_rung, bitrate, {c.rendition.id for c in chosen}, aim=aims[position],
                     fixed_vmaf=fixed_q[position], rule=rule, floor=options.floor_bitrate)
        chosen.append(rung)
        area, ceiling = size_rung.width * size_rung.height, rung.rendition.bitrate / options.min_spacing
    return tuple(chosen)


def _stepped(by_size: dict[tuple[int, int], Curve], ladder: list[VideoRendition], fixed_q: list[float],
             options: PerTitleOptions) -> tuple[ChosenRung, ...]:
    """Without the guard: the top at the target, then `quality_step` VMAF and 1.5x bits apart down the hull."""
    fixed_at = {(r.width, r.height): r for r in ladder}
    chosen: list[ChosenRung] = []
    ceiling, area = math.inf, math.inf
    for position in range(len(ladder)):
        candidates = [r for r in ladder if r.width * r.height <= area]
        aim = chosen[-1].predicted_vmaf - options.quality_step if chosen else options.target_vmaf
        wanted = need_bitrate([by_size[(r.width, r.height)] for r in candidates], aim)
        bitrate = min(wanted, ceiling)
        rule = ("quality step" if chosen else "target") if wanted <= ceiling else (
            f"{options.min_spacing:g}x under the rung above")
        rung = max(trusted_at(by_size, candidates, bitrate),
                   key=lambda r: (round(by_size[(r.width, r.height)].quality_at(bitrate), 3), r.width * r.height))
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
