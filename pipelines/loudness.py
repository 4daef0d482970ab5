"""Loudness (pure): targets, what ffmpeg measured, and the two-pass loudnorm settings that reach a target.

Rules: ITU-R BS.1770-4 (K-weighted, gated integrated loudness in LUFS, true peak in dBTP from 4× oversampling)
and EBU R128 / EBU Tech 3342 (loudness range, LU). Presets: EBU R128 (−23 LUFS, −1 dBTP), ATSC A/85
(−24 LKFS, −2 dBTP), a streaming target (−16 LUFS, −1 dBTP), and ``off``.

Two passes: pass 1 measures each rendition's source audio (ffmpeg ``ebur128=peak=true``: integrated, its
relative gate, LRA, true peak); pass 2 runs ``loudnorm`` with those figures and ``linear=true``.
ffmpeg (libavfilter/af_loudnorm.c, ``config_input``) then applies one linear gain, target − measured I,
when the measured true peak plus that gain stays at or under the ceiling and the measured LRA is within the
target LRA; otherwise it falls back to its dynamic mode (a 3 s gain window plus a true-peak limiter).
`loudnorm_mode` reproduces that rule.

Dynamic mode misses the target on short or spiky programmes: its gain follows the short-term loudness of a 3 s
window (the first gain is the first window's), so a window holding a loud transient is turned down for seconds, and
on a title of a few seconds the first window is most of it; its limiter then takes the transient's own energy out
of the programme, which the gain had counted on. Measured on a −35 LUFS programme with one 2 ms burst at −0.5 dBFS
(tests/media/test_loudness.py): 4 s → −26.7 LUFS (QC fails, target −23 ± 1), 20 s → −23.9. So when only the
ceiling stands in the way of one gain (the LRA allows it), vodfleet does not let loudnorm go dynamic: mode
``limited`` is the linear gain followed by a true-peak limiter (`limiter_options`: ffmpeg ``alimiter`` at 4×
oversampling, 192 kHz as BS.1770's true-peak meter, its lookahead delay compensated), and because the limiter
removes loudness the gain had counted on, the chain is measured again on the source (`MAX_CORRECTIONS` passes,
audio only) and the gain raised by what is missing until it lands within `CORRECTION_LU`. Dynamic mode remains for
what one gain cannot do (a source wider than loudnorm's 20 LU range, or too quiet to be gated). Published renditions
are measured again with the same meter for QC. One meter for both: loudnorm's own meter reads up to 1 LU lower
than ebur128 on sparse material (tone bursts: −17.1 against −16.3 LUFS), which would push a linear correction
off target by that much as QC reads it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from pipelines.errors import ConfigError


@dataclass(frozen=True)
class LoudnessTarget:
    """A named target: integrated loudness (LUFS) and a true-peak ceiling (dBTP)."""

    name: str
    integrated: float  # LUFS (= LKFS)
    true_peak: float  # dBTP ceiling
    lra: float = 7.0  # loudnorm's target loudness range (LU); raised to the source's so the gain stays linear


PRESETS: dict[str, LoudnessTarget | None] = {
    "ebu-r128": LoudnessTarget("ebu-r128", -23.0, -1.0),  # EBU R128 (2020)
    "atsc-a85": LoudnessTarget("atsc-a85", -24.0, -2.0),  # ATSC A/85:2013
    "streaming": LoudnessTarget("streaming", -16.0, -1.0),  # common mobile/streaming platform level
    "off": None,
}
# EBU R128 by default: a master is a programme for delivery, and at −23 LUFS with a −1 dBTP ceiling a
# programme keeps 22 dB of peak-to-loudness headroom, so nearly every master is corrected by one linear gain
# (its dynamics untouched); the −16 target leaves 15 dB and sends dynamic material through the limiter.
DEFAULT_PRESET = "ebu-r128"
QC_TOLERANCE_LU = 1.0  # published integrated loudness within ±1 LU of the target (EBU R128 s1 tolerance)
LOUDNORM_MAX_LRA = 20.0  # loudnorm's LRA option range in ffmpeg 5.1 is 1–20 LU
# Dynamic mode limits the true peak at 192 kHz before AAC; the codec then overshoots brief peaks (measured: a
# 2 ms burst limited to −1 dBTP decoded at 0.0 dBTP), so the limiter aims this far under the ceiling.
CODEC_PEAK_MARGIN_DB = 1.5
MAX_CORRECTIONS = 3  # measured correction passes of a limited rendition (each decodes its audio once)
CORRECTION_LU = 0.2  # a limited rendition's chain within this of the target stops the corrections
LIMITER_ATTACK_MS = 5.0  # alimiter's lookahead (its default), compensated (latency=1): the A/V offset is kept
LIMITER_RELEASE_MS = 50.0
TRUE_PEAK_RATE = 192_000  # 4× oversampling of 48 kHz: where BS.1770-4 Annex 2 estimates the true peak
SILENCE_LUFS = -70.0  # BS.1770 absolute gate: a track with nothing above it has no integrated loudness


def target_for(preset: str) -> LoudnessTarget | None:
    """The preset's target; None for ``off``. ConfigError naming the presets when unknown."""
    if preset not in PRESETS:
        raise ConfigError(f"unknown loudness preset {preset!r}", hint=f"choose one of {', '.join(PRESETS)}")
    return PRESETS[preset]


@dataclass(frozen=True)
class Loudness:
    """One measurement: integrated (LUFS; None when silent), range (LU), true peak (dBTP; None when silent),
    relative gate threshold (LUFS)."""

    integrated: float | None
    lra: float
    true_peak: float | None
    threshold: float

    @property
    def silent(self) -> bool:
        return self.integrated is None or self.integrated <= SILENCE_LUFS

    def to_dict(self) -> dict[str, float | None]:
        return {"integrated_lufs": self.integrated, "lra_lu": self.lra, "true_peak_dbtp": self.true_peak,
                "threshold_lufs": self.threshold}


@dataclass(frozen=True)
class TrackLoudness:
    """A rendition's pass-1 measurement (its source audio as the encoder gets it) and what pass 2 does with it."""

    rendition: str  # AudioRendition.id
    source: Loudness
    mode: str  # "linear" | "limited" | "dynamic" | "off"
    gain_db: float | None  # the linear gain (linear and limited modes); None otherwise
    # limited: the limiter's ceiling (dBTP) and the integrated loudness (LUFS) of the chain measured after each pass
    limiter_dbtp: float | None = None
    passes: tuple[float, ...] = ()


@dataclass(frozen=True)
class LoudnessPlan:
    """The job's preset and, once measured (pipelines.loudness_measure), every audio rendition's source figures."""

    preset: str = "off"
    tracks: tuple[TrackLoudness, ...] = ()

    @property
    def target(self) -> LoudnessTarget | None:
        return target_for(self.preset)

    def track(self, rendition: str) -> TrackLoudness | None:
        return next((t for t in self.tracks if t.rendition == rendition), None)


def _number(text: str) -> float | None:
    """ffmpeg's "%.2f" of a level: "-inf" (silence) → None."""
    value = float(text)
    return value if math.isfinite(value) else None


_SUMMARY = re.compile(
    r"Integrated loudness:\s+I:\s+(?P<i>\S+) LUFS\s+Threshold:\s+(?P<thresh>\S+) LUFS\s+"
    r"Loudness range:\s+LRA:\s+(?P<lra>\S+) LU.*?True peak:\s+Peak:\s+(?P<tp>\S+) dBFS", re.S)


def parse_ebur128_summary(stderr: str) -> Loudness:
    """The last ``ebur128=peak=true`` summary in ffmpeg's stderr. "Peak" there is the true peak (4×
    oversampled) in dBFS, i.e. dBTP. An integrated −70 LUFS (ebur128's floor) is reported as silence (None).

    ValueError when there is no summary with a true peak."""
    matches = list(_SUMMARY.finditer(stderr))
    if not matches:
        raise ValueError("no ebur128 summary with a true peak in ffmpeg's output")
    m = matches[-1]
    integrated = _number(m["i"])
    return Loudness(integrated=None if integrated is None or integrated <= SILENCE_LUFS else integrated,
                    lra=float(m["lra"]), true_peak=_number(m["tp"]), threshold=float(m["thresh"]))


_INTEGRATED = re.compile(r"Integrated loudness:\s+I:\s+(\S+) LUFS")


def parse_integrated(stderr: str) -> float | None:
    """The integrated loudness (LUFS) of the last ebur128 summary in ffmpeg's stderr (with or without a true
    peak); None for silence (−70 LUFS, the meter's floor, or -inf). ValueError when there is no summary."""
    found = _INTEGRATED.findall(stderr)
    if not found:
        raise ValueError("no ebur128 summary in ffmpeg's output")
    value = _number(found[-1])
    return None if value is None or value <= SILENCE_LUFS else value


def target_lra(measured: Loudness, target: LoudnessTarget) -> float:
    """loudnorm's LRA option: the preset's, raised to the source's own range (R128 sets no LRA limit for
    programmes; we correct the level, not the dynamics), within loudnorm's 1–20 LU."""
    return round(min(LOUDNORM_MAX_LRA, max(target.lra, math.ceil(measured.lra * 10) / 10)), 1)


def loudnorm_mode(measured: Loudness, target: LoudnessTarget) -> str:
    """"linear" or "dynamic": af_loudnorm.c's choice for pass 2 with ``linear=true`` and these figures."""
    # loudnorm reads measured_thresh -70 (the gate floor: a source quieter than -60 LUFS) as "not measured"
    if measured.integrated is None or measured.true_peak is None or measured.threshold <= SILENCE_LUFS:
        return "dynamic"
    gain = target.integrated - measured.integrated
    if measured.true_peak + gain <= target.true_peak and measured.lra <= target_lra(measured, target):
        return "linear"
    return "dynamic"


def plan_track(rendition: str, measured: Loudness, target: LoudnessTarget | None) -> TrackLoudness:
    """The mode for one rendition: ``linear`` (one gain; loudnorm), ``limited`` (one gain and a true-peak limiter:
    the gain would put the true peak over the ceiling, the range allows one gain), ``dynamic`` (loudnorm's own
    mode: a range wider than loudnorm's, or no gated measurement), or ``off``."""
    if target is None:
        return TrackLoudness(rendition, measured, "off", None)
    mode = loudnorm_mode(measured, target)
    if mode == "linear" and measured.integrated is not None:
        return TrackLoudness(rendition, measured, mode, round(target.integrated - measured.integrated, 2))
    if (measured.integrated is not None and measured.true_peak is not None and measured.threshold > SILENCE_LUFS
            and measured.lra <= target_lra(measured, target)):
        return TrackLoudness(rendition, measured, "limited", round(target.integrated - measured.integrated, 2),
                             limiter_dbtp=target.true_peak - CODEC_PEAK_MARGIN_DB)
    return TrackLoudness(rendition, measured, "dynamic", None)


def limiter_options(track: TrackLoudness) -> dict[str, str]:
    """ffmpeg ``alimiter`` options of a limited rendition (run at TRUE_PEAK_RATE): the ceiling less the codec's
    overshoot margin as a linear limit, no auto-level (it would undo the gain), lookahead delay compensated."""
    assert track.limiter_dbtp is not None
    return {"limit": f"{10 ** (track.limiter_dbtp / 20):.6f}", "attack": f"{LIMITER_ATTACK_MS:g}",
            "release": f"{LIMITER_RELEASE_MS:g}", "level": "0", "latency": "1"}


def loudnorm_options(track: TrackLoudness, target: LoudnessTarget) -> dict[str, str]:
    """Pass 2's loudnorm options. measured_LRA is at least 0.01: loudnorm reads 0 as "not measured" and
    would refuse linear mode for a source whose range rounds to 0.00 (a steady tone)."""
    m = track.source
    assert m.integrated is not None  # silent tracks are rejected before pass 2
    assert m.true_peak is not None
    # linear: the ceiling itself (loudnorm then picks linear, as `loudnorm_mode` said); dynamic: the limiter's
    # threshold under the ceiling by the codec's overshoot (a stricter TP keeps loudnorm in dynamic mode)
    peak = target.true_peak if track.mode == "linear" else target.true_peak - CODEC_PEAK_MARGIN_DB
    return {
        "I": f"{target.integrated:g}", "TP": f"{peak:g}", "LRA": f"{target_lra(m, target):g}",
        "measured_I": f"{m.integrated:.2f}", "measured_LRA": f"{max(m.lra, 0.01):.2f}",
        "measured_TP": f"{m.true_peak:.2f}", "measured_thresh": f"{m.threshold:.2f}",
        "linear": "true", "print_format": "none",
    }
