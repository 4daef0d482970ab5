"""Channel layouts (pure): what layout a master's audio stream arrives in, and the rule that makes it a stereo
rendition, as an ffmpeg ``pan`` expression with named coefficients.

Rules (named in report.json's plan, per audio rendition):

- ``mono → stereo``: the one channel on both sides, unchanged in level;
- ``stereo kept``;
- ``5.1 → stereo (ITU-R BS.775)`` and ``7.1 → stereo (ITU-R BS.775)``: Lo = L + 0.7071·C + 0.7071·Ls (+ 0.7071·Lb for
  7.1), Ro likewise; the LFE is dropped (ITU-R BS.775-3, Table 2: centre and surrounds at −3 dB). Written with ``=``
  in ``pan``, so ffmpeg does not renormalise the matrix (``-ac 2`` would scale every coefficient down by 1/(1 +
  0.7071 + 0.7071), 7.7 dB quieter than the standard downmix);
- anything else (an untagged 4-channel track, 6 discrete channels, an unknown layout): ``N channels → stereo (ffmpeg
  default matrix)``, swresample's own downmix, as before.

The opt-in 5.1 rendition (`surround_rule`, ``--surround``) is made only from a master stream tagged 5.1, 5.1(side) or
7.1, as ffmpeg's AAC encoder's 5.1 layout (FL FR FC LFE BL BR, ISO/IEC 14496-3 channelConfiguration 6):

- ``5.1 kept``;
- ``5.1(side) → 5.1``: the side surrounds carried as the surrounds (SL → BL, SR → BR, unchanged in level: the
  same loudspeakers, ITU-R BS.775's Ls/Rs, only ffmpeg's names differ);
- ``7.1 → 5.1``: each side surround summed with its back surround at −3 dB each (Ls = 0.7071·SL + 0.7071·BL), the
  front channels and the LFE kept (the 3/4 → 3/2 step of ITU-R BS.775-3 Table 2's family).

Untagged 6- or 8-channel streams (discrete channels whose order nobody stated) and stereo or mono masters get none:
`surround_rule` returns None with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

MINUS_3_DB = "0.7071"  # 10^(-3/20), as BS.775 writes it (1/√2)


@dataclass(frozen=True)
class LayoutRule:
    layout: str  # what arrived: "mono", "stereo", "5.1", "5.1(side)", "7.1", "4 channels", ...
    rule: str  # what was done, in words (report.json)
    pan: str | None  # the ffmpeg pan filter's argument, or None: nothing to do / swresample's default


def _sum(side: str, surrounds: tuple[str, ...]) -> str:
    terms = [side, f"{MINUS_3_DB}*FC", *(f"{MINUS_3_DB}*{s}" for s in surrounds)]
    return "+".join(terms)


def stereo_rule(channels: int, channel_layout: str) -> LayoutRule:
    """The rule for one source stream (ffprobe's channel count and channel_layout, "" when untagged)."""
    tagged = channel_layout.strip().replace("unknown", "")  # MXF and WAV tracks often say "unknown"
    layout = tagged or ("mono" if channels == 1 else "stereo" if channels == 2 else "")
    if channels == 1:
        return LayoutRule(layout or "mono", "mono → stereo (the channel on both sides)", "stereo|FL=c0|FR=c0")
    if channels == 2:
        return LayoutRule(layout, "stereo kept", None)
    surrounds = {"5.1": ("BL", "BR"), "5.1(side)": ("SL", "SR"), "7.1": ("SL", "BL", "SR", "BR")}.get(layout)
    if channels in (6, 8) and surrounds is not None and (channels == 8) == (layout == "7.1"):
        left = tuple(s for s in surrounds if s.endswith("L"))
        right = tuple(s for s in surrounds if s.endswith("R"))
        name = "7.1" if channels == 8 else "5.1"
        return LayoutRule(layout, f"{name} → stereo (ITU-R BS.775: C and surrounds at −3 dB, LFE dropped)",
                          f"stereo|FL={_sum('FL', left)}|FR={_sum('FR', right)}")
    return LayoutRule(layout or f"{channels} channels", f"{channels} channels → stereo (ffmpeg's default matrix)", None)


SURROUND_LAYOUT = "5.1"  # ffmpeg's name of FL FR FC LFE BL BR: what its native AAC encoder codes as 6 channels


def surround_rule(channels: int, channel_layout: str) -> tuple[LayoutRule | None, str]:
    """The rule that makes a 5.1 rendition of one source stream, or (None, why not) for a stream that is not
    a tagged 5.1/7.1 programme (ffprobe's channel count and channel_layout, "" when untagged)."""
    tagged = channel_layout.strip().replace("unknown", "")
    if channels <= 2:
        return None, f"a {tagged or ('mono' if channels == 1 else 'stereo')} stream has no surround channels"
    if channels == 6 and tagged == "5.1":
        return LayoutRule("5.1", "5.1 kept", None), ""
    if channels == 6 and tagged == "5.1(side)":
        return LayoutRule("5.1(side)", "5.1(side) → 5.1 (side surrounds as the surrounds)",
                          "5.1|FL=FL|FR=FR|FC=FC|LFE=LFE|BL=SL|BR=SR"), ""
    if channels == 8 and tagged == "7.1":
        return LayoutRule("7.1", "7.1 → 5.1 (side and back surrounds summed at −3 dB each)",
                          f"5.1|FL=FL|FR=FR|FC=FC|LFE=LFE|BL={MINUS_3_DB}*SL+{MINUS_3_DB}*BL"
                          f"|BR={MINUS_3_DB}*SR+{MINUS_3_DB}*BR"), ""
    what = tagged or "untagged"
    return None, (f"{channels} channels ({what}) are not a 5.1 or 7.1 layout: the channel order is unknown, "
                  "so no 5.1 rendition is made (tag the stream's layout in the master)")
