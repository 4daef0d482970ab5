"""Captions: CEA-608/708 closed captions → WebVTT subtitle renditions for the deaf and hard of hearing, and the
master's CEA-608/708 caption data kept in-band in the rungs.

    parse_scc(text)              SCC (Scenarist) sidecar → frame-exact 608 byte pairs (29.97 DF/NDF timecode)
    cc.scan_captions(...)        A/53 caption data of an H.264/HEVC/MPEG-2 master → its 608 channels (CC1-CC4),
                                 708 services, and each 608 channel and 708 service decoded to a
                                 SubtitleDocument (sdh=True)
    cc.load_scc(path, ...)       an SCC sidecar → SubtitleDocument
    service.CaptionOptions       WebVTT / in-band / both, languages per channel or service
    dtvcc.services(triplets)     the CEA-708 services named in DTVCC packets
    cea708.Cea708Decoder         DTVCC triplets → each 708 service's cues (vodfleet's own CTA-708-E decoder:
                                 no maintained 708 decoder exists for Python or in ffmpeg 5.1)

The 608 decoding itself (pop-on, roll-up, paint-on, PACs, mid-row codes) is pycaption's SCC reader, the
same decoder for sidecars and embedded captions (ffmpeg only extracts the A/53 data); vodfleet parses the
SCC timecodes (drop-frame exactly: pycaption and ffmpeg's SCC demuxer read them as wall-clock), keeps one
channel, hands the decoder exact non-drop frame labels, and snaps decoded times to the video's frame grid.
Why not ffmpeg's cc_dec (5.1): it starts a paint-on caption at the previous screen change (seconds early),
its SCC demuxer reads frames as 33 ms and a whole line at its first frame, and it decodes CC1/CC3 only.
In-band, the A/53 data goes through the encode untouched (libx264 ``-a53cc 1``): 608 and 708 are kept and
signalled.

The decoder (`cc`) loads pycaption and the subtitle loader: it is imported by name, not from this package, so
that planning (which reads `service.CaptionOptions`) stays light for producers such as ``vodfleet submit``.
"""

from pipelines.captions.scc import parse_scc
from pipelines.captions.service import CaptionOptions
from pipelines.captions.timecode import frame_of

__all__ = ["CaptionOptions", "frame_of", "parse_scc"]
