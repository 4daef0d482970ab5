"""ProbePoint and Curve: the rate–quality curve of one resolution, from constant-quality probe encodes (pure).

A probe point is one CRF encode of the title's sampled scenes at one size: its bitrate (bits/s of the video
stream) and its VMAF at the display size. Along one resolution's curve, quality is interpolated linearly in
log(bitrate) (x264's rate–quality curves are close to straight there over a few CRF steps); outside the
measured range `Curve.quality_at` extrapolates downwards only and `Curve.bitrate_for` both ways (clamped 0–100).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class ProbePoint:
    width: int
    height: int
    crf: int
    bitrate: int  # bits/s of the video stream over the sampled scenes
    vmaf: float  # pooled mean at the display size

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height


# How far under its cheapest probe a curve is trusted: not at all. x264's curves bend down there: a straight
# extrapolation overestimated a rung 2.3x under the cheapest probe by 9 VMAF (predicted 71.8, measured 62.8), and one
# only 4 % under it (CRF 41.7, the cheapest probe CRF 40, near-static content) by 4.3 (87.3, measured 83.0). Under
# the measured range another size's measured curve is used (`pipelines.pertitle.rungs.need_bitrate`).
TRUSTED_BELOW = 1.0  # bitrate ratio under the cheapest probe
TRUSTED_VMAF_BELOW = 0.0  # VMAF points under the cheapest probe's


@dataclass(frozen=True)
class Curve:
    """One resolution's probe points, by ascending bitrate, made monotone (a point that scores lower than a
    cheaper one is dropped: it would make quality fall as bits rise)."""

    width: int
    height: int
    points: tuple[ProbePoint, ...]

    @classmethod
    def of(cls, points: list[ProbePoint]) -> Curve:
        if not points:
            raise ValueError("a curve needs at least one probe point")
        width, height = points[0].size
        if any(p.size != (width, height) for p in points):
            raise ValueError("a curve's points must share one size")
        kept: list[ProbePoint] = []
        for point in sorted(points, key=lambda p: (p.bitrate, -p.vmaf)):
            if not kept or (point.vmaf > kept[-1].vmaf and point.bitrate > kept[-1].bitrate):
                kept.append(point)
        return cls(width, height, tuple(kept))

    @property
    def area(self) -> int:
        return self.width * self.height

    def quality_at(self, bitrate: float) -> float:
        """VMAF at `bitrate` (bits/s) on this curve: interpolated in log(bitrate), extrapolated below the cheapest
        point, and held at the best point's score above it (a resolution is not assumed to get better than its
        best measured encode: its upscale loss stays)."""
        if len(self.points) == 1 or bitrate >= self.top.bitrate:
            return self.top.vmaf
        low, high = self._bracket([p.bitrate for p in self.points], bitrate)
        a, b = self.points[low], self.points[high]
        t = (math.log(bitrate) - math.log(a.bitrate)) / (math.log(b.bitrate) - math.log(a.bitrate))
        return min(100.0, max(0.0, a.vmaf + t * (b.vmaf - a.vmaf)))

    def bitrate_for(self, vmaf: float) -> float:
        """The bitrate (bits/s) at which this curve reaches `vmaf`: the inverse of `quality_at`."""
        if len(self.points) == 1:
            return float(self.points[0].bitrate)
        low, high = self._bracket([p.vmaf for p in self.points], vmaf)
        a, b = self.points[low], self.points[high]
        t = (vmaf - a.vmaf) / (b.vmaf - a.vmaf)
        return math.exp(math.log(a.bitrate) + t * (math.log(b.bitrate) - math.log(a.bitrate)))

    def crf_at(self, bitrate: float) -> float:
        """The x264 CRF expected to average `bitrate` on this curve: CRF is close to linear in log(bitrate)
        (about 6 CRF per halving), interpolated between the probes and extrapolated outside, clamped to
        12–51, rounded to 0.1 (x264 takes fractional CRF)."""
        if len(self.points) == 1:
            return float(self.points[0].crf)
        low, high = self._bracket([p.bitrate for p in self.points], bitrate)
        a, b = self.points[low], self.points[high]
        t = (math.log(bitrate) - math.log(a.bitrate)) / (math.log(b.bitrate) - math.log(a.bitrate))
        return round(min(51.0, max(12.0, a.crf + t * (b.crf - a.crf))), 1)

    def trusted_at(self, bitrate: float) -> bool:
        """Whether `quality_at(bitrate)` is measured or a short extrapolation (`TRUSTED_BELOW`)."""
        return bitrate * TRUSTED_BELOW >= self.points[0].bitrate

    def trusted_for(self, vmaf: float) -> bool:
        """Whether `bitrate_for(vmaf)` is measured or a short extrapolation downwards (`TRUSTED_VMAF_BELOW`); never
        above the best probe (a straight line up from a small size's probes claimed 234p reaches VMAF 94 on grain
        at 3.1 Mb/s, where its best probe scored 48)."""
        return self.points[0].vmaf - TRUSTED_VMAF_BELOW <= vmaf <= self.top.vmaf

    @property
    def top(self) -> ProbePoint:
        return self.points[-1]

    @staticmethod
    def _bracket(values: list[float] | list[int], x: float) -> tuple[int, int]:
        """Indices of the two neighbouring points around x (the first or last two outside the range)."""
        for index in range(1, len(values)):
            if x <= values[index]:
                return index - 1, index
        return len(values) - 2, len(values) - 1


def curves_of(points: list[ProbePoint]) -> list[Curve]:
    """One curve per size, largest first."""
    sizes = sorted({p.size for p in points}, key=lambda s: s[0] * s[1], reverse=True)
    return [Curve.of([p for p in points if p.size == size]) for size in sizes]


def convex_hull(points: list[ProbePoint]) -> list[ProbePoint]:
    """The upper convex hull of every probe point in the (bitrate, VMAF) plane, by ascending bitrate (pure).

    The rate–quality operating points worth encoding at (Netflix, "Per-Title Encode Optimization", 2015;
    the dynamic optimizer's convex hull): a point under the hull is beaten at its bitrate by mixing two hull
    points, so no rung is placed there. Points dominated outright (more bits, no more quality) go first."""
    front: list[ProbePoint] = []
    for point in sorted(points, key=lambda p: (p.bitrate, -p.vmaf)):
        if not front or point.vmaf > front[-1].vmaf:
            front.append(point)
    hull: list[ProbePoint] = []
    for point in front:
        while len(hull) >= 2 and _cross(hull[-2], hull[-1], point) >= 0:
            hull.pop()
        hull.append(point)
    return hull


def _cross(o: ProbePoint, a: ProbePoint, b: ProbePoint) -> float:
    """> 0 when o→a→b turns left (a lies under the chord o–b: not on the upper hull)."""
    return (a.bitrate - o.bitrate) * (b.vmaf - o.vmaf) - (a.vmaf - o.vmaf) * (b.bitrate - o.bitrate)
