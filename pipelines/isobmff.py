"""ISO-BMFF (MP4/CMAF) box reading: bytes in, frozen data out. Pure, no I/O.

It reads only what manifests and QC need from one CMAF track: from the init segment the timescale,
handler, sample entry (size, channels, RFC 6381 codec string) and the trex defaults; from a media
segment the tfdt and every trun sample. Every read is bounds-checked, so a truncated or garbage file
raises ``PipelineError(code="cmaf_malformed")``, never IndexError or struct.error. These files are our
own output, so a bad one is our bug, not bad input. A codec we can't name raises ``code="cmaf_unsupported"``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pipelines.codec_config import parse_av1c, parse_hvcc
from pipelines.errors import PipelineError

_HINT = "the packager wrote a bad CMAF file; re-run the package step and report the file if it repeats"
# Sample entries whose RFC 6381 string is fixed (no configuration box to read).
_FIXED_CODECS = {"ac-3": "ac-3", "ec-3": "ec-3", "Opus": "opus", "fLaC": "flac"}


def _malformed(what: str) -> PipelineError:
    return PipelineError(f"malformed ISO-BMFF: {what}", hint=_HINT, code="cmaf_malformed")


@dataclass(frozen=True)
class Box:
    type: str
    start: int  # offset of the box header in the buffer
    body: int  # offset of the payload (after the 8- or 16-byte header)
    end: int  # offset one past the box


class _Cursor:
    """Big-endian field reader confined to [pos, end)."""

    def __init__(self, data: bytes, pos: int, end: int) -> None:
        self.data, self.pos, self.end = data, pos, end

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > self.end:
            raise _malformed(f"field of {n} byte(s) at offset {self.pos} runs past its box (ends {self.end})")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def u(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big")

    def s32(self) -> int:
        return int.from_bytes(self.take(4), "big", signed=True)


def iter_boxes(data: bytes, start: int = 0, end: int | None = None) -> Iterator[Box]:
    """Yield the boxes laid end to end in data[start:end] (32- or 64-bit sizes; size 0 = to the end)."""
    end = len(data) if end is None else end
    pos = start
    while pos < end:
        head = _Cursor(data, pos, end)
        if end - pos < 8:
            raise _malformed(f"{end - pos} stray byte(s) at offset {pos}, too few for a box header")
        size, raw = head.u(4), head.take(4)
        if size == 1:
            size = head.u(8)
        elif size == 0:
            size = end - pos
        # A box type is four printable characters (0xA9 starts iTunes metadata names); else: garbage.
        if not all(0x20 <= c < 0x7F or c == 0xA9 for c in raw):
            raise _malformed(f"garbage box type {raw!r} at offset {pos}")
        if size < head.pos - pos or pos + size > end:
            raise _malformed(f"box {raw.decode('latin-1')!r} at offset {pos} claims {size} bytes, "
                             f"{end - pos} available")
        yield Box(raw.decode("latin-1"), pos, head.pos, pos + size)
        pos += size


def _children(data: bytes, box: Box, skip: int = 0) -> list[Box]:
    return list(iter_boxes(data, box.body + skip, box.end))


def _find(data: bytes, box: Box, *path: str) -> Box:
    for name in path:
        found = [b for b in _children(data, box) if b.type == name]
        if not found:
            raise _malformed(f"no {name!r} box inside {box.type!r} at offset {box.start}")
        box = found[0]
    return box


def _full(data: bytes, box: Box) -> tuple[int, int, _Cursor]:
    """A FullBox: (version, flags, cursor after them)."""
    cur = _Cursor(data, box.body, box.end)
    return cur.u(1), cur.u(3), cur


@dataclass(frozen=True)
class InitInfo:
    track_id: int
    timescale: int  # mdhd: units per second of every time in the fragments
    handler: str  # "vide" or "soun"
    codec: str  # RFC 6381, e.g. "avc1.64001f", "mp4a.40.2"
    width: int = 0  # coded size from the visual sample entry
    height: int = 0
    channels: int = 0
    sample_rate: int = 0
    default_sample_duration: int = 0  # trex defaults, used when tfhd/trun do not say
    default_sample_size: int = 0
    default_sample_flags: int = 0


def read_init(data: bytes) -> InitInfo:
    """Read a CMAF init segment (ftyp + moov with exactly one trak and an mvex/trex)."""
    tops = [b for b in iter_boxes(data) if b.type == "moov"]
    if not tops:
        raise _malformed("no 'moov' box: not an init segment")
    moov = tops[0]
    traks = [b for b in _children(data, moov) if b.type == "trak"]
    if len(traks) != 1:
        raise _malformed(f"a CMAF init segment holds exactly one track, found {len(traks)}")
    version, _, cur = _full(data, _find(data, traks[0], "tkhd"))
    cur.take(16 if version == 1 else 8)  # creation + modification times
    track_id = cur.u(4)
    mdia = _find(data, traks[0], "mdia")
    version, _, cur = _full(data, _find(data, mdia, "mdhd"))
    cur.take(16 if version == 1 else 8)
    timescale = cur.u(4)
    if timescale == 0:
        raise _malformed("mdhd timescale is 0")
    _, _, cur = _full(data, _find(data, mdia, "hdlr"))
    cur.take(4)  # pre_defined
    handler = cur.take(4).decode("latin-1")
    stsd = _find(data, mdia, "minf", "stbl", "stsd")
    entries = _children(data, stsd, skip=8)  # version/flags + entry_count
    if not entries:
        raise _malformed("stsd holds no sample entry")
    entry = entries[0]
    trexes = [b for b in _children(data, _find(data, moov, "mvex")) if b.type == "trex"]
    defaults = (0, 0, 0)
    for trex in trexes:
        _, _, cur = _full(data, trex)
        if cur.u(4) == track_id:
            cur.take(4)  # default_sample_description_index
            defaults = (cur.u(4), cur.u(4), cur.u(4))
    fields = {"default_sample_duration": defaults[0], "default_sample_size": defaults[1],
              "default_sample_flags": defaults[2]}
    cur = _Cursor(data, entry.body, entry.end)
    if handler == "vide":
        cur.take(24)  # reserved, data_reference_index, pre_defined/reserved
        width, height = cur.u(2), cur.u(2)
        codec = _codec(data, entry, 78)  # VisualSampleEntry is 78 bytes before its child boxes
        return InitInfo(track_id, timescale, handler, codec, width=width, height=height, **fields)
    if handler == "soun":
        cur.take(8)
        qt_version = cur.u(2)  # QuickTime sound v1/v2 entries carry 16/36 extra bytes
        cur.take(6)
        channels = cur.u(2)
        cur.take(6)
        rate = cur.u(4) >> 16
        header = 28 + {1: 16, 2: 36}.get(qt_version, 0)
        codec = _codec(data, entry, header)
        channels = _aac_channels(data, entry, header) or channels
        return InitInfo(track_id, timescale, handler, codec, channels=channels,
                        sample_rate=rate or timescale, **fields)
    raise PipelineError(f"unsupported track handler {handler!r}",
                        hint="only vide and soun tracks are packaged", code="cmaf_unsupported")


def _codec(data: bytes, entry: Box, header: int) -> str:
    """The RFC 6381 codec string, from the sample entry's configuration box."""
    kids = {b.type: b for b in _children(data, entry, skip=header)}
    fourcc = entry.type
    if fourcc in _FIXED_CODECS:
        return _FIXED_CODECS[fourcc]
    config = {"avc1": "avcC", "avc3": "avcC", "hvc1": "hvcC", "hev1": "hvcC", "av01": "av1C",
              "mp4a": "esds"}.get(fourcc)
    if config is None:
        raise PipelineError(f"no RFC 6381 codec string for sample entry {fourcc!r}",
                            hint="supported: avc1/avc3, hvc1/hev1, av01, mp4a, ac-3, ec-3, Opus, fLaC",
                            code="cmaf_unsupported")
    if config not in kids:
        raise _malformed(f"sample entry {fourcc!r} has no {config!r} box")
    box = kids[config]
    cur = _Cursor(data, box.body, box.end)
    if config == "avcC":  # configurationVersion, then profile, constraint flags, level straight from the SPS
        cur.take(1)
        return f"{fourcc}.{cur.u(1):02x}{cur.u(1):02x}{cur.u(1):02x}"
    if config == "hvcC":  # ISO/IEC 14496-15 Annex E (pipelines.codec_config)
        return parse_hvcc(data[box.body:box.end]).codec_string(fourcc)
    if config == "av1C":  # AV1 ISOBMFF binding §5: av01.P.LLT.DD
        return parse_av1c(data[box.body:box.end]).codec_string()
    return _mp4a(cur)


def _descriptor(cur: _Cursor, tag: int) -> None:
    """Enter an MPEG-4 descriptor of the expected tag (size: 1-4 bytes of 7 bits)."""
    found = cur.u(1)
    if found != tag:
        raise _malformed(f"esds: expected descriptor tag {tag}, found {found}")
    for _ in range(4):
        if not cur.u(1) & 0x80:
            return


def _mp4a(cur: _Cursor) -> str:
    return _mp4a_config(cur)[0]


# ISO/IEC 14496-3 Table 1.19: channelConfiguration → channels (7 is 7.1: 8 channels); 0: given in a PCE
_AAC_CHANNELS = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 8}


def _aac_channels(data: bytes, entry: Box, header: int) -> int | None:
    """The channel count an mp4a sample entry's AudioSpecificConfig states (channelConfiguration), or None when
    it says none (0, a program config element) or the entry is not MPEG-4 Audio. ffmpeg's mp4 muxer writes 2 in
    the sample entry's channelcount whatever the layout (ISO/IEC 14496-14: that field is not used), so a 5.1
    rendition is 6 channels only here."""
    kids = {b.type: b for b in _children(data, entry, skip=header)}
    if entry.type != "mp4a" or "esds" not in kids:
        return None
    return _mp4a_config(_Cursor(data, kids["esds"].body, kids["esds"].end))[1]


def _mp4a_config(cur: _Cursor) -> tuple[str, int | None]:
    """(RFC 6381 codec string, channels from channelConfiguration or None) of an esds box."""
    cur.take(4)  # esds is a FullBox
    _descriptor(cur, 0x03)  # ES_Descriptor
    cur.take(2)
    flags = cur.u(1)
    cur.take(2 if flags & 0x80 else 0)  # dependsOn_ES_ID
    if flags & 0x40:
        cur.take(cur.u(1))  # URL
    cur.take(2 if flags & 0x20 else 0)  # OCR_ES_ID
    _descriptor(cur, 0x04)  # DecoderConfigDescriptor
    oti = cur.u(1)
    cur.take(12)
    if oti != 0x40:  # not MPEG-4 Audio: the object type alone names it (e.g. mp4a.6b for MP3)
        return f"mp4a.{oti:02x}", None
    _descriptor(cur, 0x05)  # DecoderSpecificInfo = AudioSpecificConfig
    head = cur.u(2)
    aot = head >> 11
    codec = f"mp4a.40.{32 + ((head >> 5) & 0x3F) if aot == 31 else aot}"
    if aot == 31 or (head >> 7) & 0xF == 0xF:  # escaped object type or explicit rate: not read here
        return codec, None
    return codec, _AAC_CHANNELS.get((head >> 3) & 0xF)


def is_sync(flags: int) -> bool:
    """Sync per the sample flags: not marked non-sync and not marked as depending on other samples."""
    return not (flags >> 16) & 1 and (flags >> 24) & 3 != 1


@dataclass(frozen=True)
class FragmentInfo:
    sequence_number: int  # mfhd of the first moof
    decode_time: int  # tfdt baseMediaDecodeTime of the first sample, timescale units
    durations: tuple[int, ...]  # per sample, timescale units
    sizes: tuple[int, ...]
    flags: tuple[int, ...]
    composition_offsets: tuple[int, ...]  # signed (trun v1)
    # From the start of the first moof box through the last byte of sample 0 in its mdat: the byte range
    # an I-frame playlist points at (the styp/sidx before the moof are not needed to decode it).
    iframe_offset: int
    iframe_length: int

    @property
    def duration(self) -> int:
        return sum(self.durations)

    @property
    def starts_with_sync(self) -> bool:
        return is_sync(self.flags[0])

    @property
    def earliest_presentation_time(self) -> int:
        dts = self.decode_time
        earliest = dts + self.composition_offsets[0]
        for duration, offset in zip(self.durations, self.composition_offsets, strict=True):
            earliest = min(earliest, dts + offset)
            dts += duration
        return earliest


def read_fragment(data: bytes, init: InitInfo) -> FragmentInfo:
    """Read a CMAF media segment: every moof/traf of init's track, with tfhd then trex defaults applied."""
    tops = list(iter_boxes(data))
    moofs = [b for b in tops if b.type == "moof"]
    if not moofs:
        raise _malformed("no 'moof' box: not a media segment")
    payloads = [(b.body, b.end) for b in tops if b.type == "mdat"]
    _, _, cur = _full(data, _find(data, moofs[0], "mfhd"))
    sequence = cur.u(4)
    decode_time: int | None = None
    rows: list[tuple[int, int, int, int, int]] = []  # duration, size, flags, cto, offset
    for moof in moofs:
        for traf in (b for b in _children(data, moof) if b.type == "traf"):
            _, tf_flags, cur = _full(data, _find(data, traf, "tfhd"))
            if (track := cur.u(4)) != init.track_id:
                raise _malformed(f"fragment of track {track}, init describes track {init.track_id}")
            base = cur.u(8) if tf_flags & 0x01 else moof.start  # else default-base-is-moof (CMAF)
            cur.take(4 if tf_flags & 0x02 else 0)  # sample_description_index
            dur = cur.u(4) if tf_flags & 0x08 else init.default_sample_duration
            size = cur.u(4) if tf_flags & 0x10 else init.default_sample_size
            sflags = cur.u(4) if tf_flags & 0x20 else init.default_sample_flags
            version, _, cur = _full(data, _find(data, traf, "tfdt"))
            if decode_time is None:
                decode_time = cur.u(8 if version == 1 else 4)
            pos = base
            for trun in (b for b in _children(data, traf) if b.type == "trun"):
                version, tr_flags, cur = _full(data, trun)
                count = cur.u(4)
                pos = base + cur.s32() if tr_flags & 0x01 else pos
                first_flags = cur.u(4) if tr_flags & 0x04 else None
                for i in range(count):
                    d = cur.u(4) if tr_flags & 0x100 else dur
                    n = cur.u(4) if tr_flags & 0x200 else size
                    f = first_flags if i == 0 and first_flags is not None else sflags
                    f = cur.u(4) if tr_flags & 0x400 else f
                    c = (cur.s32() if version else cur.u(4)) if tr_flags & 0x800 else 0
                    rows.append((d, n, f, c, pos))
                    pos += n
    if not rows or decode_time is None:
        raise _malformed("media segment holds no samples")
    for _, n, _, _, offset in rows:  # every sample's bytes must lie inside an mdat payload
        if not any(lo <= offset and offset + n <= hi for lo, hi in payloads):
            raise _malformed(f"sample data [{offset}, {offset + n}) lies outside every mdat")
    durations, sizes, flags, ctos, offsets = zip(*rows, strict=True)
    return FragmentInfo(sequence, decode_time, durations, sizes, flags, ctos,
                        iframe_offset=moofs[0].start, iframe_length=offsets[0] + sizes[0] - moofs[0].start)
