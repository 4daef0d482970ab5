"""Decoder configuration records of HEVC (``hvcC``) and AV1 (``av1C``), and the RFC 6381 codec strings made
from them (pure: box payload bytes in, frozen data out).

- ``hvcC``: HEVCDecoderConfigurationRecord, ISO/IEC 14496-15 §8.3.3.1. Its first 13 bytes copy the SPS's
  profile_tier_level (general_profile_space, tier, profile_idc, the 32 compatibility flags, the 48 constraint
  flags, level_idc); then chroma format and bit depths. The codec string is ISO/IEC 14496-15 Annex E:
  ``hvc1.<space letter><profile_idc>.<compatibility flags, bit-reversed, hex>.<L|H><level_idc>[.<constraint
  byte hex>]…`` with trailing zero constraint bytes left out, e.g. ``hvc1.1.6.L93.B0`` (Main, level 3.1).
- ``av1C``: AV1CodecConfigurationRecord, AV1 Codec ISO Media File Format Binding §2.3.3 (marker, version,
  seq_profile, seq_level_idx_0, seq_tier_0, high_bitdepth, twelve_bit, monochrome, chroma subsampling and
  sample position, then the sequence header OBU). The codec string is that binding's §5 (Codecs Parameter
  String) short form: ``av01.<profile>.<level, 2 digits><M|H>.<bit depth, 2 digits>``, e.g. ``av01.0.04M.08``.

Errors: ``PipelineError(code="cmaf_malformed")`` for a record too short or without its marker (these are our
own encoder's output, so a bad one is our bug).
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.errors import PipelineError

HVCC_MIN = 23  # bytes before the parameter-set arrays
AV1C_MIN = 4


def _malformed(what: str) -> PipelineError:
    return PipelineError(f"malformed ISO-BMFF: {what}", code="cmaf_malformed",
                         hint="the packager wrote a bad CMAF file; re-run the package step and report the file")


@dataclass(frozen=True)
class HevcConfig:
    profile_space: int  # 0..3: "", A, B, C in the codec string
    tier: int  # 0 Main, 1 High
    profile_idc: int  # 1 Main, 2 Main 10, 3 Main Still Picture, 4 range extensions
    compatibility: int  # general_profile_compatibility_flags, as stored (flag j is bit 31 - j)
    constraints: bytes  # the 6 constraint indicator bytes (progressive, interlaced, non-packed, frame-only …)
    level_idc: int  # 30 × level: 93 = 3.1, 120 = 4
    chroma_format: int  # 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4
    bit_depth_luma: int
    bit_depth_chroma: int

    def codec_string(self, fourcc: str = "hvc1") -> str:
        """ISO/IEC 14496-15 Annex E: e.g. ``hvc1.1.6.L93.B0``, ``hvc1.2.4.L120.90`` (Main 10)."""
        reversed_flags = int(f"{self.compatibility:032b}"[::-1], 2)
        constraints = list(self.constraints)
        while constraints and constraints[-1] == 0:
            constraints.pop()
        space = ("", "A", "B", "C")[self.profile_space]
        parts = [fourcc, f"{space}{self.profile_idc}", f"{reversed_flags:X}", f"{'LH'[self.tier]}{self.level_idc}"]
        return ".".join(parts + [f"{c:X}" for c in constraints])


def parse_hvcc(payload: bytes) -> HevcConfig:
    """The fields of an ``hvcC`` box's payload (after its 8-byte header)."""
    if len(payload) < HVCC_MIN:
        raise _malformed(f"hvcC holds {len(payload)} bytes, fewer than its {HVCC_MIN}-byte header")
    if payload[0] != 1:
        raise _malformed(f"hvcC configurationVersion {payload[0]}, expected 1")
    ptl = payload[1]
    return HevcConfig(profile_space=ptl >> 6, tier=(ptl >> 5) & 1, profile_idc=ptl & 0x1F,
                      compatibility=int.from_bytes(payload[2:6], "big"), constraints=bytes(payload[6:12]),
                      level_idc=payload[12], chroma_format=payload[16] & 0x03,
                      bit_depth_luma=(payload[17] & 0x07) + 8, bit_depth_chroma=(payload[18] & 0x07) + 8)


@dataclass(frozen=True)
class Av1Config:
    profile: int  # seq_profile: 0 Main, 1 High, 2 Professional
    level_idx: int  # seq_level_idx_0: 0 = level 2.0, 4 = 3.0, 8 = 4.0 (2 + idx // 4 . idx % 4)
    tier: int  # seq_tier_0: 0 Main, 1 High
    bit_depth: int  # 8, 10 or 12
    monochrome: bool
    subsampling: tuple[int, int]  # (x, y): (1, 1) is 4:2:0

    def codec_string(self) -> str:
        """AV1 ISOBMFF binding §5, short form: e.g. ``av01.0.04M.08``, ``av01.0.08M.10``."""
        return f"av01.{self.profile}.{self.level_idx:02d}{'MH'[self.tier]}.{self.bit_depth:02d}"


def parse_av1c(payload: bytes) -> Av1Config:
    """The fields of an ``av1C`` box's payload (after its 8-byte header)."""
    if len(payload) < AV1C_MIN:
        raise _malformed(f"av1C holds {len(payload)} bytes, fewer than {AV1C_MIN}")
    if payload[0] & 0x80 == 0 or payload[0] & 0x7F != 1:
        raise _malformed(f"av1C starts {payload[0]:#04x}: expected marker 1 and version 1 (0x81)")
    flags = payload[2]
    high_bitdepth, twelve_bit = bool(flags & 0x40), bool(flags & 0x20)
    profile = payload[1] >> 5
    # AV1 spec 5.5.2 color_config: BitDepth is 12 only for profile 2 with twelve_bit; else 10 when high_bitdepth
    depth = (12 if profile == 2 and twelve_bit else 10) if high_bitdepth else 8
    return Av1Config(profile=profile, level_idx=payload[1] & 0x1F, tier=flags >> 7, bit_depth=depth,
                     monochrome=bool(flags & 0x10), subsampling=((flags >> 3) & 1, (flags >> 2) & 1))
