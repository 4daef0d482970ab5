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
