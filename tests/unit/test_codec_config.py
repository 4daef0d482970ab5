"""pipelines.codec_config on hvcC/av1C bytes captured from real x265/SVT-AV1 encodes (tests/fixtures/codecs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.codec_config import parse_av1c, parse_hvcc
from pipelines.errors import PipelineError
from pipelines.isobmff import read_init

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "codecs"


def test_x265_main_sdr() -> None:
    config = parse_hvcc((FIXTURES / "x265_main_320x180.hvcC").read_bytes())
    assert (config.profile_space, config.tier, config.profile_idc, config.level_idc) == (0, 0, 1, 60)
    # Main: compatibility flags 1 and 2 set (stored as bits 30 and 29) → "6" once bit-reversed
    assert config.compatibility == 0x60000000
    assert config.constraints == bytes.fromhex("900000000000")  # progressive_source + frame_only_constraint
    assert (config.chroma_format, config.bit_depth_luma, config.bit_depth_chroma) == (1, 8, 8)
    assert config.codec_string() == "hvc1.1.6.L60.90"


def test_x265_main10_pq() -> None:
    config = parse_hvcc((FIXTURES / "x265_main10_pq_320x180.hvcC").read_bytes())
    assert (config.profile_idc, config.compatibility, config.bit_depth_luma, config.chroma_format) == (
        2, 0x20000000, 10, 1)
    assert config.codec_string() == "hvc1.2.4.L60.90"
    assert config.codec_string("hev1") == "hev1.2.4.L60.90"


def test_svtav1_8_and_10_bit() -> None:
    sdr = parse_av1c((FIXTURES / "svtav1_8bit_320x180.av1C").read_bytes())
    assert (sdr.profile, sdr.level_idx, sdr.tier, sdr.bit_depth, sdr.monochrome, sdr.subsampling) == (
        0, 0, 0, 8, False, (1, 1))
    assert sdr.codec_string() == "av01.0.00M.08"
    hdr = parse_av1c((FIXTURES / "svtav1_10bit_pq_320x180.av1C").read_bytes())
    assert (hdr.bit_depth, hdr.codec_string()) == (10, "av01.0.00M.10")


@pytest.mark.parametrize(("name", "codec", "size"), [
    ("svtav1_640x360_init.mp4", "av01.0.01M.08", (640, 360)),
    ("x265_640x360_init.mp4", "hvc1.1.6.L63.90", (640, 360)),
])
def test_init_segments_name_their_codec(name: str, codec: str, size: tuple[int, int]) -> None:
    info = read_init((FIXTURES / name).read_bytes())
    assert (info.codec, (info.width, info.height)) == (codec, size)


def test_av1_twelve_bit_only_in_the_professional_profile() -> None:
    # high_bitdepth + twelve_bit: 12-bit in profile 2, 10-bit otherwise (twelve_bit is then not coded)
    assert parse_av1c(bytes([0x81, 0x48, 0x60, 0x00])).bit_depth == 12
    assert parse_av1c(bytes([0x81, 0x08, 0x60, 0x00])).bit_depth == 10
    assert parse_av1c(bytes([0x81, 0x08, 0xCC, 0x00])).codec_string() == "av01.0.08H.10"


@pytest.mark.parametrize(("parse", "payload", "fragment"), [
    (parse_hvcc, (FIXTURES / "x265_main_320x180.hvcC").read_bytes()[:22], "fewer than its 23-byte header"),
    (parse_hvcc, b"\x02" + bytes(22), "configurationVersion 2"),
    (parse_av1c, b"\x81\x00", "fewer than 4"),
    (parse_av1c, b"\x01\x00\x0d\x00", "expected marker 1 and version 1"),
])
def test_malformed_records(parse: object, payload: bytes, fragment: str) -> None:
    assert callable(parse)
    with pytest.raises(PipelineError, match=fragment) as caught:
        parse(payload)
    assert caught.value.code == "cmaf_malformed"
