"""Captions: CEA-608 closed captions → WebVTT subtitle renditions for the deaf and hard of hearing.

    parse_scc(text)            SCC (Scenarist) sidecar → frame-exact 608 byte pairs (29.97 DF/NDF timecode)
    extract_captions(...)      A/53 caption data of an H.264/HEVC/MPEG-2 master → byte pairs per field
    decode_channel(...)        byte pairs of one caption channel → a SubtitleDocument (sdh=True)

The 608 decoding itself (pop-on, roll-up, paint-on, PACs, mid-row codes) is pycaption's SCC reader, the
same decoder for sidecars and embedded captions (ffmpeg only extracts the A/53 data); vodfleet parses the
SCC timecodes (drop-frame exactly: pycaption and ffmpeg's SCC demuxer read them as wall-clock), keeps one
channel, hands the decoder exact non-drop frame labels, and snaps decoded times to the video's frame grid.
Why not ffmpeg's cc_dec (5.1): it starts a paint-on caption at the previous screen change (seconds early),
and its SCC demuxer reads frames as 33 ms and a whole line at its first frame.
"""

from pipelines.captions.cc import CaptionTrack, extract_captions, load_scc
from pipelines.captions.scc import parse_scc
from pipelines.captions.timecode import frame_of

__all__ = ["CaptionTrack", "extract_captions", "frame_of", "load_scc", "parse_scc"]
