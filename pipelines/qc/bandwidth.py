"""Bandwidth rules (pure): declared BANDWIDTH / AVERAGE-BANDWIDTH / CODECS against measured numbers.

Measured rates come from segment file sizes on disk over their EXTINF durations (never from the
Presentation the manifests were written from). A variant's measured peak is its video peak plus the
highest audio peak in its group; its average likewise with averages.

Rounding is allowed for, and nothing more: EXTINF is written with six decimals, so a segment's true
duration may be up to half a microsecond longer than written (``EXTINF_QUANTUM``; on a 21 ms audio tail
segment that is 2 bits/s of 200 kbit/s): the lower bound uses the longest duration each EXTINF allows.
The writer also rounds each track's rate to whole bits/s (``ROUNDING_BITS``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pipelines.errors import CheckResult
from pipelines.qc.verdict import verdict

HEADROOM = 0.10  # declared ≤ measured × 1.1
ROUNDING_BITS = 2.0
EXTINF_QUANTUM = 1e-6  # hls.py writes EXTINF with six decimals
# ffprobe's H.264 profile names → profile_idc (ITU-T H.264 Annex A).
AVC_PROFILE_IDC = {
    "Baseline": 66, "Constrained Baseline": 66, "Main": 77, "Extended": 88, "High": 100,
    "Constrained High": 100, "Progressive High": 100, "High 10": 110, "High 10 Intra": 110,
    "High 4:2:2": 122, "High 4:2:2 Intra": 122, "High 4:4:4 Predictive": 244, "High 4:4:4 Intra": 244,
}
CONSTRAINT_SET1 = 0x40  # Constrained Baseline sets constraint_set1_flag
# ffprobe's AAC profile names → RFC 6381 object types.
AAC_CODECS = {"LC": "mp4a.40.2", "HE-AAC": "mp4a.40.5", "HE-AACv2": "mp4a.40.29", "Main": "mp4a.40.1"}
_AVC1 = re.compile(r"avc[13]\.([0-9A-Fa-f]{2})([0-9A-Fa-f]{2})([0-9A-Fa-f]{2})")
# ISO/IEC 14496-15 Annex E: hvc1.[A-C]?<profile_idc>.<compat hex>.<L|H><level_idc>[.<constraint byte>]*
_HVC1 = re.compile(r"(?:hvc1|hev1)\.([ABC]?)(\d+)\.([0-9A-Fa-f]{1,8})\.([LH])(\d+)((?:\.[0-9A-Fa-f]{1,2}){0,6})")
# AV1 codec ISOBMFF binding §5 (Codecs Parameter String): av01.<profile>.<level><tier>.<bit depth>[...]
_AV01 = re.compile(r"av01\.(\d)\.(\d{2})([MH])\.(\d{2})(?:\..*)?")
# ffprobe's HEVC profile names → general_profile_idc (ITU-T H.265 Annex A); AV1 names → seq_profile
HEVC_PROFILE_IDC = {"Main": 1, "Main 10": 2, "Main Still Picture": 3, "Rext": 4}
AV1_PROFILES = {"Main": 0, "High": 1, "Professional": 2}


@dataclass(frozen=True)
class Rate:
    peak: float  # bits/s of the densest segment
    average: float  # bits/s over the whole track
    peak_low: float = 0.0  # the same with every duration at the longest its EXTINF allows
    average_low: float = 0.0

    def __add__(self, other: Rate) -> Rate:
        return Rate(self.peak + other.peak, self.average + other.average, self.peak_low + other.peak_low,
                    self.average_low + other.average_low)


def _peak_average(sizes: Sequence[int], durations: Sequence[float]) -> tuple[float, float]:
    peak = max((size * 8 / duration for size, duration in zip(sizes, durations, strict=True)), default=0.0)
    total = sum(durations)
    return peak, sum(sizes) * 8 / total if total > 0 else 0.0


def segment_rates(sizes: Sequence[int], durations: Sequence[float], quantum: float = EXTINF_QUANTUM) -> Rate:
    """Peak and average bits/s of segments of `sizes` bytes lasting `durations` (EXTINF) seconds, and their
    lower bounds given EXTINF's `quantum`. Zero-length segments are ignored."""
    pairs = [(size, duration) for size, duration in zip(sizes, durations, strict=True) if duration > 0]
    kept = [size for size, _ in pairs]
    peak, average = _peak_average(kept, [d for _, d in pairs])
    peak_low, average_low = _peak_average(kept, [d + quantum / 2 for _, d in pairs])
    return Rate(peak, average, peak_low, average_low)


def check_declared(name: str, attribute: str, declared: int | None, measured: float,
                   lowest: float | None = None, headroom: float = HEADROOM) -> CheckResult:
    """measured ≤ declared ≤ measured × (1 + headroom); `lowest` is the measured value at EXTINF's
    rounding limit (default: measured), and the writer's whole-bit rounding is allowed on both sides."""
    low = (measured if lowest is None else min(lowest, measured)) - ROUNDING_BITS
    high = measured * (1 + headroom) + ROUNDING_BITS
    summary = f"{attribute}={declared}, measured {measured:.0f} bit/s, allowed {low:.0f}..{high:.0f}"
    if declared is None:
        return verdict(name, [f"{attribute} is missing; measured {measured:.0f} bit/s"], "")
    problems = []
    if declared < low:
        problems.append(f"{attribute}={declared} is below the measured {measured:.0f} bit/s "
                        f"({declared / measured - 1:+.1%})" if measured else f"{attribute}={declared} < 0")
    elif declared > high:
        problems.append(f"{attribute}={declared} is more than {1 + headroom:.2f}x the measured "
                        f"{measured:.0f} bit/s ({declared / measured - 1:+.1%})" if measured
                        else f"{attribute}={declared} but nothing was measured")
    return verdict(name, problems, summary)


def avc1_expectation(profile: str, level: int | None) -> tuple[int, int] | None:
    """(profile_idc, level_idc) ffprobe reports, or None for a profile we cannot name."""
    idc = AVC_PROFILE_IDC.get(profile)
    return (idc, level) if idc is not None and level is not None and level > 0 else None


def avc1_matches(codec: str, profile: str, level: int | None) -> bool:
    """Does an RFC 6381 avc1 string name this profile and level (constraint byte checked for CB only)?"""
    expected = avc1_expectation(profile, level)
    match = _AVC1.fullmatch(codec.strip())
    if expected is None or match is None:
        return False
    idc, constraints, level_idc = (int(group, 16) for group in match.groups())
    if profile == "Constrained Baseline" and not constraints & CONSTRAINT_SET1:
        return False
    return (idc, level_idc) == expected


def describe_avc1(profile: str, level: int | None) -> str:
    expected = avc1_expectation(profile, level)
    if expected is None:
        return f"an avc1 string for {profile!r} level {level}"
    idc, level_idc = expected
    return f"avc1.{idc:02x}xx{level_idc:02x} ({profile}@{level_idc / 10:g})"


def hvc1_matches(codec: str, profile: str, level: int | None) -> bool:
    """Does an hvc1/hev1 string (ISO/IEC 14496-15 Annex E) name this ffprobe profile and general_level_idc?"""
    match = _HVC1.fullmatch(codec.strip())
    idc = HEVC_PROFILE_IDC.get(profile)
    if match is None or idc is None or level is None:
        return False
    return match[1] == "" and int(match[2]) == idc and int(match[5]) == level


def av01_matches(codec: str, profile: str, level: int | None, bit_depth: int) -> bool:
    """Does an av01 string (AV1 ISOBMFF binding §5) name this ffprobe profile, seq_level_idx and bit depth?"""
    match = _AV01.fullmatch(codec.strip())
    seq_profile = AV1_PROFILES.get(profile)
    if match is None or seq_profile is None or level is None:
        return False
    return (int(match[1]), int(match[2]), int(match[4])) == (seq_profile, level, bit_depth)


def describe_video(codec: str, profile: str, level: int | None, bit_depth: int = 8) -> str:
    if codec == "hevc":
        return f"an hvc1 string for {profile!r} (profile_idc {HEVC_PROFILE_IDC.get(profile)}) level_idc {level}"
    if codec == "av1":
        return f"av01.{AV1_PROFILES.get(profile, '?')}.{level or 0:02d}?.{bit_depth:02d} ({profile})"
    return describe_avc1(profile, level)


def video_matches(codec: str, entry: str, profile: str, level: int | None, bit_depth: int = 8) -> bool:
    """`entry` names the stream ffprobe measured: codec family, profile, level (and AV1's bit depth)."""
    if codec == "hevc":
        return hvc1_matches(entry, profile, level)
    if codec == "av1":
        return av01_matches(entry, profile, level, bit_depth)
    return avc1_matches(entry, profile, level)


VIDEO_ENTRIES = ("avc1.", "avc3.", "hvc1.", "hev1.", "av01.")


def check_codecs(name: str, declared: str | None, video: tuple[str, int | None] | None,
                 audio: Sequence[str], *, codec: str = "h264", bit_depth: int = 8) -> CheckResult:
    """CODECS names the video profile/level ffprobe measured (video = (profile, level) of a `codec` stream,
    `bit_depth` from its pix_fmt) and every audio codec of the group (RFC 6381 strings derived from ffprobe's
    AAC profile), and nothing else. HEVC: ISO/IEC 14496-15 Annex E; AV1: the AV1 ISOBMFF binding §5."""
    entries = [c.strip() for c in (declared or "").split(",") if c.strip()]
    problems = []
    video_entries = [c for c in entries if c.startswith(VIDEO_ENTRIES)]
    others = [c for c in entries if c not in video_entries]
    if video is not None:
        profile, level = video
        if not any(video_matches(codec, c, profile, level, bit_depth) for c in video_entries):
            problems.append(f"CODECS={declared!r} does not name {describe_video(codec, profile, level, bit_depth)}")
        if len(video_entries) > 1:
            problems.append(f"CODECS={declared!r} lists {len(video_entries)} video codecs")
    missing = [a for a in dict.fromkeys(audio) if a not in others]
    extra = [c for c in others if c not in audio]
    if missing:
        problems.append(f"CODECS={declared!r} lacks {', '.join(missing)}")
    if extra:
        problems.append(f"CODECS={declared!r} names {', '.join(extra)}, not measured in any rendition")
    video_text = describe_video(codec, *video, bit_depth) if video else "no video"
    return verdict(name, problems, f"CODECS={declared!r}; measured {video_text}, audio {list(audio)}")


def aac_codec(profile: str) -> str:
    """RFC 6381 string of an AAC profile name as ffprobe prints it ("LC" → "mp4a.40.2")."""
    return AAC_CODECS.get(profile, f"mp4a.?({profile})")
