"""VideoRendition and AudioRendition: one output stream of the plan, as the encoder and manifests see it (data).

`pipelines.plan` makes them (`plan_encode`); they are their own module so that what stores a plan's rungs (a
per-title job's analysis in its record, `pipelines.pertitle.result`) needs no planner.
"""

from __future__ import annotations

from dataclasses import dataclass

# Samples the AAC-LC encoder (ffmpeg's native `aac`: its initial_padding) emits before the first input
# sample; compensated by trimming that many samples of the title's start off the encoder's input, so the
# decoded track lines up with the picture from tfdt 0 (see pipelines.ffmpeg.prepared_audio).
AAC_PRIMING_SAMPLES = 1024


@dataclass(frozen=True)
class VideoRendition:
    id: str
    width: int
    height: int
    bitrate: int
    maxrate: int
    bufsize: int
    profile: str
    codec: str = "h264"  # pipelines.codecs.CODECS
    dynamic_range: str = "SDR"  # SDR, PQ or HLG (pipelines.codecs.COLOURS): the picture this rung carries
    pix_fmt: str = "yuv420p"  # yuv420p, or yuv420p10le for an HDR rung
    rung: str = ""  # the ladder rung it renders ("720p" for 720p-hevc); "" = its own id

    @property
    def hdr(self) -> bool:
        return self.dynamic_range != "SDR"
    # capped CRF (x264 crf with maxrate/bufsize) instead of one-pass ABR at `bitrate`: per-title rungs
    # (pipelines.pertitle), encoded with the rate control their probe encodes were measured with
    crf: float | None = None


@dataclass(frozen=True)
class AudioRendition:
    id: str  # path-safe, unique: the language tag, suffixed when two streams share one
    stream_index: int  # absolute index in the source
    language: str  # BCP-47 ("und" when unknown)
    name: str
    bitrate: int
    channels: int = 2
    sample_rate: int = 48000
    default: bool = False
    priming: int = AAC_PRIMING_SAMPLES  # encoder delay in samples at `sample_rate`, compensated at the encode
    source_layout: str = ""  # the master stream's channel layout as it arrived ("5.1", "mono", "4 channels")
    layout_rule: str = ""  # what makes it stereo, in words (pipelines.layout)
    downmix: str | None = None  # the ffmpeg pan expression of that rule; None: kept, or swresample's default
    pair_index: int | None = None  # a broadcast pair: the mono stream carrying the right channel (left: stream_index)
    role: str = "main"  # pipelines.audiomap.ROLES: main, alternate, description (AD), commentary
    # --audio-map: (stream index, channel) for the left and right channel (one pair: mono on both sides)
    channel_sources: tuple[tuple[int, int], ...] = ()
    surround_of: str = ""  # a 5.1 rendition: the id of the stereo rendition of the same stream ("" for stereo)
