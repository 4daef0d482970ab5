"""isobmff: hand-built init and fragment bytes (struct), the values read back, and malformed input."""

from __future__ import annotations

import random
import struct
from collections.abc import Callable
from functools import partial

import pytest

from pipelines.errors import PipelineError
from pipelines.isobmff import InitInfo, iter_boxes, read_fragment, read_init

SYNC = 0x02000000  # sample_depends_on = 2 (an I-frame)
NON_SYNC = 0x01010000  # depends_on = 1, is_non_sync_sample


def box(kind: bytes, *payload: bytes) -> bytes:
    body = b"".join(payload)
    return struct.pack(">I4s", 8 + len(body), kind) + body


def full(kind: bytes, version: int, flags: int, *payload: bytes) -> bytes:
    return box(kind, bytes([version]) + flags.to_bytes(3, "big"), *payload)


def visual_entry(fourcc: bytes, width: int, height: int, config: bytes) -> bytes:
    # SampleEntry (6 reserved + data_reference_index) + VisualSampleEntry fields: 78 bytes, then children.
    fields = bytes(6) + struct.pack(">H", 1) + bytes(16) + struct.pack(">HHIIIH", width, height, 0x480000,
                                                                       0x480000, 0, 1)
    fields += bytes(32) + struct.pack(">Hh", 0x18, -1)
    assert len(fields) == 78
    return box(fourcc, fields, config)


def audio_entry(fourcc: bytes, channels: int, rate: int, config: bytes) -> bytes:
    fields = bytes(6) + struct.pack(">H", 1) + bytes(8)
    fields += struct.pack(">HHHHI", channels, 16, 0, 0, rate << 16)
    return box(fourcc, fields, config)


def descriptor(tag: int, body: bytes) -> bytes:
    # ffmpeg writes every size as four 7-bit bytes; the reader must take that form as well as one byte.
    return bytes([tag, 0x80, 0x80, 0x80, len(body)]) + body


def esds(oti: int = 0x40, asc: bytes = b"\x11\x90") -> bytes:
    config = descriptor(0x04, bytes([oti, 0x15]) + bytes(3) + struct.pack(">II", 128000, 128000)
                        + descriptor(0x05, asc))
    es = descriptor(0x03, struct.pack(">HB", 1, 0) + config + descriptor(0x06, b"\x02"))
    return full(b"esds", 0, 0, es)


AVCC = box(b"avcC", bytes([1, 0x64, 0x00, 0x1F, 0xFF, 0xE0, 0x00]))


def init_segment(entry: bytes, *, handler: bytes = b"vide", timescale: int = 12800, track_id: int = 1,
                 trex: tuple[int, int, int] = (512, 0, NON_SYNC), traks: int = 1) -> bytes:
    tkhd = full(b"tkhd", 0, 3, struct.pack(">III", 0, 0, track_id), bytes(68))
    mdhd = full(b"mdhd", 0, 0, struct.pack(">IIII", 0, 0, timescale, 0), b"\x55\xc4\x00\x00")
    hdlr = full(b"hdlr", 0, 0, bytes(4), handler, bytes(12), b"VideoHandler\x00")
    stsd = full(b"stsd", 0, 0, struct.pack(">I", 1), entry)
    stbl = box(b"stbl", stsd, full(b"stts", 0, 0, bytes(4)), full(b"stsz", 0, 0, bytes(8)))
    trak = box(b"trak", tkhd, box(b"mdia", mdhd, hdlr, box(b"minf", stbl)))
    trex_box = full(b"trex", 0, 0, struct.pack(">IIIII", track_id, 1, *trex))
    moov = box(b"moov", full(b"mvhd", 0, 0, bytes(96)), trak * traks, box(b"mvex", trex_box))
    return box(b"ftyp", b"iso6", bytes(4), b"iso6mp41") + moov


def video_init(*, timescale: int = 12800, traks: int = 1) -> bytes:
    return init_segment(visual_entry(b"avc1", 640, 360, AVCC), timescale=timescale, traks=traks)


def fragment(samples: list[tuple[int, int, int, int]], *, decode_time: int = 25600, track_id: int = 1,
             first_flags: int | None = None, tfhd_defaults: bool = False, sequence: int = 7) -> bytes:
    """styp + sidx + moof(mfhd, traf(tfhd, tfdt, trun v1)) + mdat; samples: (duration, size, flags, cto)."""
    tfhd = full(b"tfhd", 0, 0x020000, struct.pack(">I", track_id))  # default-base-is-moof, trex defaults
    tfdt = full(b"tfdt", 1, 0, struct.pack(">Q", decode_time))
    tr_flags = 0x01 | 0x100 | 0x200 | 0x800 | (0x400 if first_flags is None else 0x04)

    def moof(data_offset: int) -> bytes:
        rows = b"".join(struct.pack(">II", d, s) + (struct.pack(">I", f) if first_flags is None else b"")
                        + struct.pack(">i", c) for d, s, f, c in samples)
        head = struct.pack(">Ii", len(samples), data_offset)
        head += struct.pack(">I", first_flags) if first_flags is not None else b""
        trun = full(b"trun", 1, tr_flags, head, rows)
        return box(b"moof", full(b"mfhd", 0, 0, struct.pack(">I", sequence)), box(b"traf", tfhd, tfdt, trun))

    size = len(moof(0))
    payload = bytes(i % 251 for i in range(sum(s for _, s, _, _ in samples)))
    prefix = box(b"styp", b"msdh", bytes(4), b"msdhmsix") + full(b"sidx", 1, 0, bytes(32))
    return prefix + moof(size + 8) + box(b"mdat", payload)


SAMPLES = [(512, 3000, SYNC, 0), (512, 400, NON_SYNC, 1024), (512, 300, NON_SYNC, -512),
           (512, 200, NON_SYNC, -512)]


def test_video_init_reads_timescale_size_codec_and_trex() -> None:
    info = read_init(video_init())
    assert info == InitInfo(track_id=1, timescale=12800, handler="vide", codec="avc1.64001f", width=640,
                            height=360, default_sample_duration=512, default_sample_size=0,
                            default_sample_flags=NON_SYNC)


def test_audio_init_reads_aac_object_type_channels_and_rate() -> None:
    info = read_init(init_segment(audio_entry(b"mp4a", 2, 48000, esds()), handler=b"soun", timescale=48000))
    assert (info.handler, info.codec, info.channels, info.sample_rate, info.timescale) == (
        "soun", "mp4a.40.2", 2, 48000, 48000)


# hvcC after level_idc: segmentation, parallelism, 4:2:0, 8-bit luma/chroma, frame rate, flags, no arrays
HVCC_TAIL = bytes.fromhex("f000fcfdf8f800000f00")


@pytest.mark.parametrize(("entry", "codec"), [
    # HEVC Main, Main compat flag bit 1 and 2 (0x60000000 -> reversed 0x6), level 93, constraints B0 00 ...
    (visual_entry(b"hvc1", 1280, 720, box(b"hvcC", bytes([1, 0x01]) + bytes.fromhex("60000000")
                                          + bytes.fromhex("b00000000000") + bytes([93]) + HVCC_TAIL)),
     "hvc1.1.6.L93.B0"),
    (visual_entry(b"hev1", 1280, 720, box(b"hvcC", bytes([1, 0x22]) + bytes.fromhex("20000000")
                                          + bytes(6) + bytes([120]) + HVCC_TAIL)), "hev1.2.4.H120"),
    (visual_entry(b"avc3", 320, 180, box(b"avcC", bytes([1, 0x42, 0xC0, 0x15]))), "avc3.42c015"),
    (visual_entry(b"av01", 1920, 1080, box(b"av1C", bytes([0x81, 0x08, 0x4C, 0x00]))), "av01.0.08M.10"),
])
def test_video_codec_strings(entry: bytes, codec: str) -> None:
    assert read_init(init_segment(entry)).codec == codec


@pytest.mark.parametrize(("entry", "codec"), [
    (audio_entry(b"mp4a", 2, 48000, esds(asc=b"\x29\x90")), "mp4a.40.5"),  # HE-AAC (SBR)
    (audio_entry(b"mp4a", 2, 48000, esds(asc=b"\xf9\x40\x00")), "mp4a.40.42"),  # escape: 31 + 6 bits (USAC)
    (audio_entry(b"mp4a", 2, 44100, esds(oti=0x6B)), "mp4a.6b"),  # MP3
    (audio_entry(b"ec-3", 6, 48000, box(b"dec3", bytes(5))), "ec-3"),
])
def test_audio_codec_strings(entry: bytes, codec: str) -> None:
    assert read_init(init_segment(entry, handler=b"soun", timescale=48000)).codec == codec


def test_fragment_reads_tfdt_samples_and_iframe_range() -> None:
    data = fragment(SAMPLES)
    info = read_fragment(data, read_init(video_init()))
    moof_at = 24 + 44  # after styp (24) and sidx (44)
    assert data[moof_at + 4 : moof_at + 8] == b"moof"
    assert info.sequence_number == 7
    assert info.decode_time == 25600
    assert info.durations == (512, 512, 512, 512)
    assert info.sizes == (3000, 400, 300, 200)
    assert info.composition_offsets == (0, 1024, -512, -512)
    assert info.duration == 2048
    assert info.starts_with_sync
    assert info.earliest_presentation_time == 25600
    first_sample_at = data.index(b"mdat") + 4
    assert (info.iframe_offset, info.iframe_length) == (moof_at, first_sample_at + 3000 - moof_at)
    assert data[first_sample_at : first_sample_at + 3] == bytes([0, 1, 2])


def test_first_sample_flags_and_trex_defaults_apply() -> None:
    data = fragment(SAMPLES, first_flags=SYNC)  # per-sample flags absent: first-sample flags, then trex's
    info = read_fragment(data, read_init(video_init()))
    assert info.flags == (SYNC, NON_SYNC, NON_SYNC, NON_SYNC)
    assert info.starts_with_sync


def test_non_sync_first_sample_is_reported() -> None:
    info = read_fragment(fragment([(512, 10, NON_SYNC, 0), *SAMPLES[1:]]), read_init(video_init()))
    assert not info.starts_with_sync


def test_tfhd_defaults_override_trex() -> None:
    # A trun that carries only a count and offset: every value comes from tfhd (1024, 100, SYNC).
    init = read_init(video_init())
    tfhd = full(b"tfhd", 0, 0x020038, struct.pack(">IIII", 1, 1024, 100, SYNC))
    traf_head = tfhd + full(b"tfdt", 0, 0, struct.pack(">I", 99))
    moof_len = 8 + 16 + 8 + len(traf_head) + 20
    trun = full(b"trun", 0, 0x01, struct.pack(">Ii", 2, moof_len + 8))
    moof = box(b"moof", full(b"mfhd", 0, 0, struct.pack(">I", 1)), box(b"traf", traf_head, trun))
    assert len(moof) == moof_len
    info = read_fragment(moof + box(b"mdat", bytes(200)), init)
    assert (info.decode_time, info.durations, info.sizes, info.flags) == (99, (1024, 1024), (100, 100),
                                                                         (SYNC, SYNC))


def test_largesize_boxes_are_read() -> None:
    data = struct.pack(">I4sQ", 1, b"free", 16 + 3) + b"abc" + box(b"skip", b"x")
    assert [(b.type, b.body, b.end) for b in iter_boxes(data)] == [("free", 16, 19), ("skip", 27, 28)]


def test_size_zero_box_runs_to_the_end() -> None:
    data = box(b"free", b"") + struct.pack(">I4s", 0, b"mdat") + b"tail"
    assert [(b.type, b.end) for b in iter_boxes(data)] == [("free", 8), ("mdat", 20)]


def _rejected(call: Callable[[], object], code: str = "cmaf_malformed") -> PipelineError:
    with pytest.raises(PipelineError) as caught:
        call()
    assert caught.value.code == code
    assert caught.value.hint
    return caught.value


@pytest.mark.parametrize(("data", "words"), [
    (b"\x00\x00\x00\x08mo", "stray byte"),
    (struct.pack(">I4s", 4, b"moov"), "claims 4 bytes"),
    (struct.pack(">I4s", 64, b"moov") + bytes(8), "claims 64 bytes"),
    (struct.pack(">I4s", 8, b"\x00\x01\x02\x03"), "garbage box type"),
    (box(b"ftyp", b"iso6"), "no 'moov' box"),
])
def test_malformed_boxes_raise_clear_errors(data: bytes, words: str) -> None:
    assert words in _rejected(lambda: read_init(data)).message


def test_every_truncation_of_init_and_fragment_is_rejected() -> None:
    init_bytes, frag = video_init(), fragment(SAMPLES)
    init = read_init(init_bytes)
    for cut in range(len(init_bytes)):
        _rejected(partial(read_init, init_bytes[:cut]))
    for cut in range(len(frag)):
        _rejected(partial(read_fragment, frag[:cut], init))


def test_random_corruption_never_escapes_as_another_exception() -> None:
    frag, rng, codes = fragment(SAMPLES), random.Random(6381), set()
    init = read_init(video_init())
    for _ in range(500):
        corrupt = bytearray(frag)
        for _ in range(rng.randint(1, 4)):
            corrupt[rng.randrange(len(corrupt))] = rng.randrange(256)
        try:
            read_fragment(bytes(corrupt), init)
        except PipelineError as exc:
            codes.add(exc.code)
    assert codes <= {"cmaf_malformed"}


def test_semantic_errors() -> None:
    init = read_init(video_init())
    assert "track 2" in _rejected(lambda: read_fragment(fragment(SAMPLES, track_id=2), init)).message
    assert "exactly one track" in _rejected(lambda: read_init(video_init(traks=2))).message
    assert "no 'moof'" in _rejected(lambda: read_fragment(video_init(), init)).message
    shifted = fragment(SAMPLES).replace(b"\x00\x00\x0b\xb8", b"\x00\x00\xff\xb8")  # first size 3000 -> 65464
    assert "outside every mdat" in _rejected(lambda: read_fragment(shifted, init)).message
    no_config = init_segment(visual_entry(b"avc1", 640, 360, b""))
    assert "no 'avcC'" in _rejected(lambda: read_init(no_config)).message
    assert "timescale is 0" in _rejected(lambda: read_init(video_init(timescale=0))).message


def test_unsupported_entries_say_so() -> None:
    _rejected(lambda: read_init(init_segment(visual_entry(b"mp4v", 8, 8, b""))), "cmaf_unsupported")
    _rejected(lambda: read_init(init_segment(visual_entry(b"avc1", 8, 8, AVCC), handler=b"subt")),
              "cmaf_unsupported")
