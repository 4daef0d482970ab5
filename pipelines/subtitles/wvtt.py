"""WebVTT in ISO-BMFF (ISO/IEC 14496-30 "wvtt"): text as CMAF-style fragments, for DASH text AdaptationSets.

DASH-IF IOP carries subtitles as ISO-BMFF segments (WebVTT ``wvtt`` or IMSC1 ``stpp``) aligned with the media
segments, which every DASH player and TV stack reads, instead of a sidecar ``.vtt`` that ffmpeg-based clients
refuse. Pure: cues and segment boundaries in, bytes out.

    init_segment(language, header)            ftyp + moov (one 'text' track, sample entry 'wvtt' + 'vttC')
    media_segment(cues, start, end, number)   styp + moof (mfhd, traf: tfhd, tfdt, trun) + mdat

Timing follows 14496-30 §5: a segment's time is cut at every cue start and end into samples; a sample with
no cue is one empty-cue box ``vtte``; a sample with cues holds one ``vttc`` per active cue (overlapping cues
are simply several ``vttc`` in one sample), each with ``sttg`` (its settings) and ``payl`` (its payload).
A cue crossing a segment boundary is written in both segments (as in the HLS WebVTT segments). The WebVTT
header (REGION and STYLE blocks) goes into ``vttC``. Times are in milliseconds (timescale 1000).
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Sequence

from pipelines.subtitles.cue import Cue
from pipelines.subtitles.timestamp import to_millis

TIMESCALE = 1000
TRACK_ID = 1


def _box(kind: str, *payload: bytes) -> bytes:
    body = b"".join(payload)
    return struct.pack(">I4s", 8 + len(body), kind.encode("ascii")) + body


def _full(kind: str, version: int, flags: int, *payload: bytes) -> bytes:
    return _box(kind, struct.pack(">I", (version << 24) | flags), *payload)


def _language(code: str) -> int:
    """mdhd's packed ISO 639-2/T code (three letters, each minus 0x60 in 5 bits); "und" when unknown."""
    letters = code if len(code) == 3 and code.isalpha() and code.islower() else "und"
    return sum((ord(c) - 0x60) << shift for c, shift in zip(letters, (10, 5, 0), strict=True))


_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def init_segment(language3: str = "und", header: str = "WEBVTT") -> bytes:
    """The init segment; ``language3`` is an ISO 639-2/T code for mdhd ("eng"; the MPD carries BCP-47),
    ``header`` the WebVTT file header up to the first cue ("WEBVTT" plus REGION/STYLE blocks)."""
    mvhd = _full("mvhd", 0, 0, struct.pack(">IIII", 0, 0, TIMESCALE, 0), struct.pack(">IH", 0x10000, 0x100),
                 bytes(10), _MATRIX, bytes(24), struct.pack(">I", TRACK_ID + 1))
    tkhd = _full("tkhd", 0, 3, struct.pack(">IIIII", 0, 0, TRACK_ID, 0, 0), bytes(8),
                 struct.pack(">hhhH", 0, 0, 0, 0), _MATRIX, struct.pack(">II", 0, 0))
    mdhd = _full("mdhd", 0, 0, struct.pack(">IIII", 0, 0, TIMESCALE, 0), struct.pack(">HH", _language(language3), 0))
    hdlr = _full("hdlr", 0, 0, struct.pack(">I4s", 0, b"text"), bytes(12), b"vodfleet WebVTT\x00")
    wvtt = _box("wvtt", bytes(6), struct.pack(">H", 1), _box("vttC", header.encode("utf-8")),
                _box("vlab", b"vodfleet"))
    stbl = _box("stbl", _full("stsd", 0, 0, struct.pack(">I", 1), wvtt), _full("stts", 0, 0, bytes(4)),
                _full("stsc", 0, 0, bytes(4)), _full("stsz", 0, 0, bytes(8)), _full("stco", 0, 0, bytes(4)))
    dinf = _box("dinf", _full("dref", 0, 0, struct.pack(">I", 1), _full("url ", 0, 1)))
    minf = _box("minf", _full("nmhd", 0, 0), dinf, stbl)
    trak = _box("trak", tkhd, _box("mdia", mdhd, hdlr, minf))
    mvex = _box("mvex", _full("trex", 0, 0, struct.pack(">IIIII", TRACK_ID, 1, 0, 0, 0)))
    ftyp = _box("ftyp", b"iso6", struct.pack(">I", 0), b"iso6cmfcdash")
    return ftyp + _box("moov", mvhd, trak, mvex)


def samples(cues: Sequence[Cue], start_ms: int, end_ms: int) -> list[tuple[int, bytes]]:
    """(duration ms, sample bytes) covering [start_ms, end_ms) exactly, cut at every cue start and end."""
    timed = [(max(to_millis(c.start), start_ms), min(to_millis(c.end), end_ms), c) for c in cues]
    timed = [(s, e, c) for s, e, c in timed if s < e]
    cuts = sorted({start_ms, end_ms, *(s for s, _, _ in timed), *(e for _, e, _ in timed)})
    out = []
    for low, high in itertools.pairwise(cuts):
        active = [c for s, e, c in timed if s <= low and e >= high]
        body = b"".join(_vttc(c) for c in active) if active else _box("vtte")
        out.append((high - low, body))
    return out


def _vttc(cue: Cue) -> bytes:
    settings = cue.placement.settings()
    return _box("vttc", *([_box("sttg", settings.encode("utf-8"))] if settings else []),
                _box("payl", cue.text.encode("utf-8")))


def media_segment(cues: Sequence[Cue], start: float, end: float, number: int) -> bytes:
    """One fragment for [start, end) seconds (the media segment's boundaries); ``number`` is its
    1-based sequence number (mfhd)."""
    start_ms, end_ms = to_millis(start), to_millis(end)
    rows = samples(cues, start_ms, end_ms) if end_ms > start_ms else []
    data = b"".join(body for _, body in rows)

    def moof(data_offset: int) -> bytes:
        # trun flags: data-offset, sample-duration and sample-size present; tfhd: default-base-is-moof.
        trun = _full("trun", 0, 0x000301, struct.pack(">Ii", len(rows), data_offset),
                     b"".join(struct.pack(">II", duration, len(body)) for duration, body in rows))
        traf = _box("traf", _full("tfhd", 0, 0x020000, struct.pack(">I", TRACK_ID)),
                    _full("tfdt", 1, 0, struct.pack(">Q", start_ms)), trun)
        return _box("moof", _full("mfhd", 0, 0, struct.pack(">I", number)), traf)

    fragment = moof(len(moof(0)) + 8)  # samples start after the moof and the mdat header
    styp = _box("styp", b"msdh", struct.pack(">I", 0), b"msdhmsixcmfs")
    return styp + fragment + _box("mdat", data)
