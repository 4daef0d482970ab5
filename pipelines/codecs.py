"""Video codecs of the ladder: H.264 (always), HEVC and AV1 (opt-in per job), and the picture each rung carries.

What is data here (pure, no I/O):

- ``CODECS``: the codecs a job may ask for, in the order their renditions are listed (``--codecs h264,hevc,av1``).
  H.264 is always part of a job: Apple's HLS authoring spec keeps an H.264 ladder for devices without HEVC,
  and HEVC/AV1 variants are listed beside it.
- ``Colour``: the colour signalling of a dynamic range, as ffmpeg's option names and as ITU-T H.273 (CICP) code
  points (what DASH's ``urn:mpeg:mpegB:cicp:*`` descriptors and the bitstreams' VUI / sequence header carry).
  SDR is BT.709; an HDR master (PQ or HLG) keeps its range in the HEVC Main10 and AV1 Main rungs (10-bit,
  BT.2020, PQ or HLG transfer) while the H.264 rungs are tone-mapped to SDR BT.709.
- ``rendition_suffix``: the rung id of another codec's rendition of a rung (``720p`` → ``720p-hevc``).
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.errors import ConfigError

CODECS = ("h264", "hevc", "av1")
DEFAULT_CODECS = ("h264",)
# ffprobe's codec_name of each codec's bitstream
PROBE_NAMES = {"h264": "h264", "hevc": "hevc", "av1": "av1"}
# RFC 6381 sample entry of each codec's CMAF track: HEVC as hvc1 (parameter sets in the sample entry only), the
# one Apple's HLS authoring spec accepts for HEVC in fMP4; AV1 per the AV1 ISOBMFF binding.
SAMPLE_ENTRIES = {"h264": "avc1", "hevc": "hvc1", "av1": "av01"}
DYNAMIC_RANGES = ("SDR", "PQ", "HLG")  # HLS VIDEO-RANGE values (RFC 8216bis §4.4.6.2)


@dataclass(frozen=True)
class Colour:
    """One dynamic range's colour signalling: ffmpeg option values and ITU-T H.273 code points."""

    primaries: str  # ffmpeg -color_primaries
    transfer: str  # ffmpeg -color_trc
    matrix: str  # ffmpeg -colorspace
    cicp_primaries: int
    cicp_transfer: int
    cicp_matrix: int


COLOURS = {
    "SDR": Colour("bt709", "bt709", "bt709", 1, 1, 1),
    "PQ": Colour("bt2020", "smpte2084", "bt2020nc", 9, 16, 9),  # SMPTE ST 2084
    "HLG": Colour("bt2020", "arib-std-b67", "bt2020nc", 9, 18, 9),  # ARIB STD-B67 / ITU-R BT.2100 HLG
}
# An HDR master's transfer (ffprobe's color_transfer) → the range its HEVC/AV1 rungs keep.
HDR_TRANSFERS = {"smpte2084": "PQ", "arib-std-b67": "HLG"}


def parse_codecs(text: str | tuple[str, ...] | list[str], *, source: str = "--codecs") -> tuple[str, ...]:
    """``"h264,hevc,av1"`` (or a sequence) → the codecs in ``CODECS`` order, without repeats.

    Raises ConfigError naming `source` when a name is unknown or H.264 is missing (Apple's HLS authoring spec:
    the H.264 ladder stays for devices that decode nothing else)."""
    names = [n.strip().lower() for n in (text.split(",") if isinstance(text, str) else text) if n.strip()]
    unknown = [n for n in names if n not in CODECS]
    if unknown:
        raise ConfigError(f"{source}: unknown codec(s) {', '.join(unknown)}",
                          hint=f"choose from {', '.join(CODECS)} (e.g. h264,hevc,av1)")
    if "h264" not in names:
        raise ConfigError(f"{source}: {','.join(names) or 'nothing'} leaves out h264",
                          hint="the H.264 ladder is always made (older devices play nothing else): "
                               "list h264 too, e.g. h264,av1")
    return tuple(c for c in CODECS if c in names)


def rendition_id(rung_id: str, codec: str) -> str:
    """The rung id of `codec`'s rendition of a ladder rung: the rung's own for H.264, else suffixed."""
    return rung_id if codec == "h264" else f"{rung_id}-{codec}"


def profile_for(codec: str, dynamic_range: str, h264_profile: str) -> str:
    """The profile a rung is encoded in: the ladder's for H.264; HEVC Main (8-bit SDR) or Main10 (HDR);
    AV1 Main (8- and 10-bit 4:2:0)."""
    if codec == "h264":
        return h264_profile
    if codec == "hevc":
        return "main" if dynamic_range == "SDR" else "main10"
    return "main"


def pix_fmt_for(codec: str, dynamic_range: str) -> str:
    """8-bit 4:2:0 for SDR; 10-bit 4:2:0 for an HDR rung (H.264 rungs are always SDR)."""
    return "yuv420p" if codec == "h264" or dynamic_range == "SDR" else "yuv420p10le"
