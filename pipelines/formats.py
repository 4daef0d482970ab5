"""Formats: which input demuxers a master may use, and the options that pin every ffmpeg input to them.

A master is an untrusted file, and its *content*, not its name, picks ffmpeg's demuxer. Some demuxers
open other files or URLs named inside the data (``hls``, ``dash``, ``concat``/ffconcat, ``image2``
patterns, ``tty``, ``subfile`` tricks): an "AVI" that is really an HLS playlist would make ffmpeg
fetch ``http://10.0.0.1/...`` or read ``file:///etc/passwd``. So every ffmpeg/ffprobe call that
reads a master passes ``-format_whitelist`` (ffmpeg refuses any other demuxer before it reads a
header, and copies the list to nested demuxers) and ``-protocol_whitelist`` (local files only), and
`check_demuxer` refuses the probed format in pure code as a second line.

Pure: constants and a check; no I/O.
"""

from __future__ import annotations

from pipelines.errors import SourceRejected

# Real single-file containers a mezzanine arrives in. Each is the first name of an ffmpeg demuxer
# (ffprobe's format_name "mov,mp4,m4a,3gp,3g2,mj2" is the mov demuxer). Nothing here follows a
# reference to another file: hls, dash, concat, image2, *_pipe, tty, lavfi, rawvideo are left out.
ALLOWED_DEMUXERS: tuple[str, ...] = (
    "mov",        # MP4, MOV, M4V, 3GP (also CMAF/fragmented MP4)
    "matroska",   # MKV, WebM
    "mxf",        # MXF OP1a / OP-Atom (broadcast masters)
    "avi",
    "mpegts",     # TS, M2TS
    "mpeg",       # MPEG-PS, VOB
    "flv",
    "asf",        # WMV
    "ogg",
    "dv",
    "gxf",
    "nut",
)
FORMAT_WHITELIST = ",".join(ALLOWED_DEMUXERS)
# Protocols an input may use: a local file (``file:<absolute path>``); ``pipe`` only for ffprobe's
# own output. No http/tcp/udp/rtmp, no concat/subfile/crypto/data wrappers.
PROBE_PROTOCOLS = "file,pipe"
INPUT_PROTOCOLS = "file"
# How much of a master ffprobe may read and analyse to find its streams: enough for a TS or MXF
# whose audio starts late, bounded so a crafted file cannot make the probe read gigabytes.
PROBE_SIZE_BYTES = 32 << 20
ANALYZE_DURATION_US = 15_000_000

REFUSED_HINT = ("submit the master as a single video file (MP4, MOV, MKV, MXF, TS); playlists, "
                 "image sequences and text files are not accepted, whatever their extension")


def input_options(*, probe: bool = False) -> list[str]:
    """Options placed before ``-i`` of every ffmpeg/ffprobe that reads a master."""
    return ["-protocol_whitelist", PROBE_PROTOCOLS if probe else INPUT_PROTOCOLS,
            "-format_whitelist", FORMAT_WHITELIST,
            "-probesize", str(PROBE_SIZE_BYTES), "-analyzeduration", str(ANALYZE_DURATION_US)]


def demuxer_name(format_name: str) -> str:
    """ffprobe's format_name ("mov,mp4,m4a,...") → the demuxer ("mov")."""
    return format_name.split(",", 1)[0].strip()


def check_demuxer(format_name: str, *, path: str) -> str:
    """The demuxer to pin for decoding, or SourceRejected(code="source_format_refused")."""
    name = demuxer_name(format_name)
    if name not in ALLOWED_DEMUXERS:
        shown = repr(name[:40]) if name else "an unknown format"
        raise SourceRejected(path, f"is {shown}, not an accepted container format", hint=REFUSED_HINT,
                             code="source_format_refused")
    return name

