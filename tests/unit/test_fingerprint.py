"""workers.fingerprint: the fleet fingerprint, its override, the lock file and the differences it spells out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.encoder import EncoderIdentity
from pipelines.errors import ConfigError
from pipelines.tools import Tools
from workers import fingerprint as fp

IDENTITY = EncoderIdentity(ffmpeg_version="5.1.9-0+deb12u1", configuration="--enable-libx264 --enable-libx265",
                           libraries=(("libavcodec", "59.37.100"), ("libavutil", "57.28.100")),
                           x264="core 164 r3095 baee400")
PACKAGES = (("libx264-164", "2:0.164.3095+gitbaee400-3"), ("libx265-199", "3.5-2+b1"))
OTHER = "sha256:" + "ab" * 32
REPO = Path(__file__).resolve().parents[2]


def test_combine_is_stable_and_order_free() -> None:
    a = fp.combine(IDENTITY.fingerprint, PACKAGES)
    assert a == fp.combine(IDENTITY.fingerprint, tuple(reversed(PACKAGES)))
    assert a.startswith("sha256:") and len(a) == 71
    assert a != fp.combine(IDENTITY.fingerprint, ())
    assert a != fp.combine(IDENTITY.fingerprint, (("libx264-164", "2:0.164.3095+gitbaee400-4"), PACKAGES[1]))


@pytest.mark.parametrize(("text", "expected"), [
    ("libx264-164=2:0.164.3095+gitbaee400-3\nlibx265-199=3.5-2+b1\n", PACKAGES),
    ("libx265-199=3.5-2+b1\nlibx264-164=2:0.164.3095+gitbaee400-3\n", PACKAGES),
    ("libx264-163=\nlibx265-199=3.5-2+b1\n", (PACKAGES[1],)),  # known to dpkg, not installed
    ("", ()),
])
def test_parse_packages(text: str, expected: tuple[tuple[str, str], ...]) -> None:
    assert fp.parse_packages(text) == expected


def test_from_identity_keeps_the_readable_parts() -> None:
    f = fp.from_identity(IDENTITY, PACKAGES)
    assert f.identity == IDENTITY.fingerprint
    assert f.value == fp.combine(IDENTITY.fingerprint, PACKAGES)
    assert f.short == f.value[7:19]
    assert (f.ffmpeg_version, f.x264, f.packages) == ("5.1.9-0+deb12u1", "core 164 r3095 baee400", PACKAGES)


def test_lock_round_trip(tmp_path: Path) -> None:
    f = fp.from_identity(IDENTITY, PACKAGES)
    path = tmp_path / "encoder.lock"
    path.write_text(fp.lock_text(f))
    assert fp.read_lock(path) == f
    assert "overridden" not in json.loads(path.read_text())


@pytest.mark.parametrize("content", ["not json", "[]", '{"fingerprint": "md5:abc"}',
                                     json.dumps({"fingerprint": OTHER, "packages": ["x"]})])
def test_bad_lock_names_the_file_and_the_fix(tmp_path: Path, content: str) -> None:
    path = tmp_path / "encoder.lock"
    path.write_text(content)
    with pytest.raises(ConfigError) as info:
        fp.read_lock(path)
    assert str(path) in info.value.message and "--write-lock" in (info.value.hint or "")


def test_override_replaces_the_measured_value() -> None:
    tools = Tools(ffmpeg="/nonexistent/ffmpeg", ffprobe="/nonexistent/ffprobe")  # never run with an override
    f = fp.local(tools, {fp.OVERRIDE_ENV: OTHER})
    assert (f.value, f.overridden, f.short) == (OTHER, True, "ab" * 6)


@pytest.mark.parametrize("bad", ["abc", "sha256:ABC", "sha256:" + "a" * 63])
def test_override_must_look_like_a_fingerprint(bad: str) -> None:
    with pytest.raises(ConfigError, match=fp.OVERRIDE_ENV):
        fp.local(Tools(ffmpeg="ffmpeg", ffprobe="ffprobe"), {fp.OVERRIDE_ENV: bad})


def test_differences_spell_out_each_part() -> None:
    want = fp.from_identity(IDENTITY, PACKAGES)
    newer = EncoderIdentity(ffmpeg_version="5.1.10-0+deb12u1", configuration=IDENTITY.configuration,
                            libraries=(("libavcodec", "59.37.101"), ("libavutil", "57.28.100")), x264=IDENTITY.x264)
    got = fp.from_identity(newer, (PACKAGES[0],))
    lines = fp.differences(want, got)
    assert lines == [
        "ffmpeg version: expected 5.1.9-0+deb12u1, found 5.1.10-0+deb12u1",
        "library libavcodec: expected 59.37.100, found 59.37.101",
        "package libx265-199: expected 3.5-2+b1, found absent",
    ]
    assert fp.differences(want, want) == []


def test_differences_with_an_override_say_so() -> None:
    want = fp.from_identity(IDENTITY, PACKAGES)
    [line] = fp.differences(want, fp.Fingerprint(value=OTHER, overridden=True))
    assert fp.OVERRIDE_ENV in line and OTHER in line


def test_the_committed_lock_is_readable_and_consistent() -> None:
    lock = fp.read_lock(REPO / "docker" / "encoder.lock")
    assert lock.value == fp.combine(lock.identity, lock.packages, lock.measurement)
    assert lock.ffmpeg_version and lock.x264 and lock.packages
    assert {k for k, _ in lock.measurement} == {"vmaf_ffmpeg", "vmaf_ffmpeg_sha256"}  # the image's VMAF build


def test_the_vmaf_build_is_part_of_the_fingerprint() -> None:
    """A worker that would score VMAF (and so choose per-title rungs) with another build is another encoder."""
    tool = (("vmaf_ffmpeg", "n8.0-23-gd1f31a829d-20251022"), ("vmaf_ffmpeg_sha256", "sha256:" + "c4" * 32))
    other_binary = (tool[0], ("vmaf_ffmpeg_sha256", "sha256:" + "c5" * 32))
    other_version = (("vmaf_ffmpeg", "n8.0.1"), tool[1])
    with_tool = fp.from_identity(IDENTITY, PACKAGES, tool)
    assert with_tool.value != fp.from_identity(IDENTITY, PACKAGES).value
    assert with_tool.value != fp.from_identity(IDENTITY, PACKAGES, other_binary).value
    assert with_tool.value != fp.from_identity(IDENTITY, PACKAGES, other_version).value
    assert with_tool.value == fp.from_identity(IDENTITY, PACKAGES, tuple(reversed(tool))).value
    assert fp.Fingerprint.from_dict(with_tool.to_dict()) == with_tool
    assert fp.differences(with_tool, fp.from_identity(IDENTITY, PACKAGES, other_binary)) == [
        f"measuring tool vmaf_ffmpeg_sha256: expected {tool[1][1]}, found {other_binary[1][1]}"]


def test_this_hosts_fingerprint_names_the_vmaf_build() -> None:
    from pipelines.vmaf_tool import vmaf_tool

    measured = dict(fp.measurement_tools())
    tool = vmaf_tool()
    assert measured == {"vmaf_ffmpeg": tool.version, "vmaf_ffmpeg_sha256": tool.sha256}
    assert tool.version.startswith("n8.0")
