"""The fleet's encoder fingerprint: one stable hash of what decides the encoded bytes, and its lock file.

    fleet fingerprint = sha256( pipelines.encoder identity fingerprint   (ffmpeg build, configuration,
                                                                         lib* versions, linked x264 core)
                                + "libx264-NNN=<deb version>" / "libx265-NNN=<deb version>" /
                                  "libsvtav1encN=<deb version>" lines
                                + "measure:vmaf_ffmpeg=<version>" / "measure:vmaf_ffmpeg_sha256=<sha256>" )

libx264, libx265 (HEVC rungs) and SVT-AV1 (AV1 rungs, `libsvtav1enc1`) are the encoders whose builds decide the
bytes of a rung; they come with Debian's ffmpeg package as shared libraries, so their package versions count.
The last two name the build that measures VMAF (`pipelines.vmaf_tool`): it encodes nothing, but the scores in
report.json and the per-title ladder (chosen from measured VMAF) depend on it, so workers that would score or
plan differently are different encoders to the fleet.

The codec packages are read with ``dpkg-query`` when the host is Debian-like (the worker image is); elsewhere
they are absent from the hash (and shown as "not detectable"). ``docker/encoder.lock`` (JSON) holds the value
the fleet expects plus the human-readable parts, so a difference can be spelled out.

``VODFLEET_FINGERPRINT_OVERRIDE`` (a ``sha256:<64 hex>`` value) replaces the measured fingerprint of this
process. It is a test/ops override, read only here: tests start a worker that claims another encoder;
operators can drain a queue of a retired encoder with a worker that says so. Never set it on a real fleet
worker: its output would be filed under an encoder that did not make it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.errors import ConfigError, ToolMissing
from pipelines.tools import Tools
from pipelines.vmaf_tool import find_vmaf_ffmpeg, vmaf_tool

if TYPE_CHECKING:  # measuring loads the encoder probe; a producer reading its cached fingerprint does not
    from pipelines.encoder import EncoderIdentity

OVERRIDE_ENV = "VODFLEET_FINGERPRINT_OVERRIDE"
LOCK_ENV = "VODFLEET_ENCODER_LOCK"
SHORT_LENGTH = 12
CODEC_PACKAGES = ("libx264-*", "libx265-*", "libsvtav1enc*")
_VALUE = re.compile(r"sha256:[0-9a-f]{64}")
_PACKAGE_LINE = re.compile(r"^(\S+)=(\S+)$", re.MULTILINE)


@dataclass(frozen=True)
class Fingerprint:
    """The fleet fingerprint of one encoder, with the parts a person reads to see what differs."""

    value: str  # "sha256:<64 hex>"
    identity: str = ""  # pipelines.encoder fingerprint (what report.json's encoder.fingerprint says)
    ffmpeg_version: str = ""
    x264: str = ""
    libraries: tuple[tuple[str, str], ...] = ()
    packages: tuple[tuple[str, str], ...] = ()
    configuration_sha256: str = ""
    measurement: tuple[tuple[str, str], ...] = ()  # the VMAF build: vmaf_ffmpeg, vmaf_ffmpeg_sha256
    overridden: bool = field(default=False, compare=False)

    @property
    def short(self) -> str:
        """The first 12 hex digits: what queue names and logs show."""
        return short(self.value)

    def to_dict(self) -> dict[str, object]:
        return {"fingerprint": self.value, "identity": self.identity, "ffmpeg_version": self.ffmpeg_version,
                "x264": self.x264, "libraries": dict(self.libraries), "packages": dict(self.packages),
                "configuration_sha256": self.configuration_sha256, "measurement": dict(self.measurement),
                "overridden": self.overridden}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Fingerprint:
        """Inverse of `to_dict` (and the lock file's reader); raises ValueError naming what is wrong."""
        value = validate(str(data.get("fingerprint", "")), "fingerprint")

        def pairs(key: str) -> tuple[tuple[str, str], ...]:
            raw = data.get(key) or {}
            if not isinstance(raw, dict):
                raise ValueError(f"{key}: expected an object of name → version")  # noqa: TRY004 - a value error
            return tuple(sorted((str(k), str(v)) for k, v in raw.items()))

        return cls(value=value, identity=str(data.get("identity", "")),
                   ffmpeg_version=str(data.get("ffmpeg_version", "")), x264=str(data.get("x264", "")),
                   libraries=pairs("libraries"), packages=pairs("packages"),
                   configuration_sha256=str(data.get("configuration_sha256", "")),
                   measurement=pairs("measurement"), overridden=bool(data.get("overridden", False)))


def validate(value: str, name: str) -> str:
    if not _VALUE.fullmatch(value):
        raise ValueError(f"{name}={value!r}: expected 'sha256:' followed by 64 lowercase hex digits")
    return value


def short(value: str) -> str:
    """``sha256:abcdef…`` → ``abcdef012345`` (pure)."""
    return value.removeprefix("sha256:")[:SHORT_LENGTH]


def combine(identity: str, packages: tuple[tuple[str, str], ...],
            measurement: tuple[tuple[str, str], ...] = ()) -> str:
    """The fleet fingerprint from the identity fingerprint, the codec packages and the VMAF build (pure,
    order-free)."""
    text = "\n".join([identity, *(f"{k}={v}" for k, v in sorted(packages)),
                      *(f"measure:{k}={v}" for k, v in sorted(measurement))])
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def parse_packages(text: str) -> tuple[tuple[str, str], ...]:
    """``dpkg-query -W -f '${Package}=${Version}\\n'`` output → sorted ((package, version), ...) (pure).

    Packages dpkg knows but has not installed print an empty version; they are left out."""
    return tuple(sorted((m[1], m[2]) for m in _PACKAGE_LINE.finditer(text)))


def codec_packages() -> tuple[tuple[str, str], ...]:
    """Installed libx264/libx265/libsvtav1enc Debian packages, or () when dpkg is not there."""
    dpkg = shutil.which("dpkg-query")
    if dpkg is None:
        return ()
    from pipelines.runner import RunLimits, run  # noqa: PLC0415 - see TYPE_CHECKING above

    result = run([dpkg, "-W", "-f", "${Package}=${Version}\\n", *CODEC_PACKAGES],
                 limits=RunLimits(timeout=30), check=False)  # exit 1 when a pattern matches nothing
    return parse_packages(result.stdout.decode("utf-8", "replace"))


def from_identity(identity: EncoderIdentity, packages: tuple[tuple[str, str], ...],
                  measurement: tuple[tuple[str, str], ...] = ()) -> Fingerprint:
    """(pure)"""
    parts = identity.to_dict()
    return Fingerprint(value=combine(identity.fingerprint, packages, measurement), identity=identity.fingerprint,
                       ffmpeg_version=identity.ffmpeg_version, x264=identity.x264, libraries=identity.libraries,
                       packages=packages, configuration_sha256=str(parts["configuration_sha256"]),
                       measurement=tuple(sorted(measurement)))


def measurement_tools() -> tuple[tuple[str, str], ...]:
    """The VMAF build's identity as (name, value) pairs, or () when this host has none (`pipelines.vmaf_tool`)."""
    try:
        tool = vmaf_tool()
    except ToolMissing:
        return ()
    return (("vmaf_ffmpeg", tool.version), ("vmaf_ffmpeg_sha256", tool.sha256))


def measure(tools: Tools) -> Fingerprint:
    """This host's encoder, measured (ffmpeg -version, one tiny encode, dpkg, the VMAF build): never the
    override."""
    from pipelines.encoder import encoder_identity  # noqa: PLC0415 - see TYPE_CHECKING above

    return from_identity(encoder_identity(tools), codec_packages(), measurement_tools())


def local(tools: Tools, environ: dict[str, str] | None = None) -> Fingerprint:
    """This process's fingerprint: the measured one, or the override (see the module docstring)."""
    env = os.environ if environ is None else environ
    override = env.get(OVERRIDE_ENV, "").strip()
    if override:
        try:
            return Fingerprint(value=validate(override, OVERRIDE_ENV), overridden=True)
        except ValueError as exc:
            raise ConfigError(str(exc), hint=f"unset {OVERRIDE_ENV} (a test/ops override)") from exc
    return measure(tools)


# Files whose change can change the measured fingerprint without a new ffmpeg binary: the dynamic linker's
# cache (rewritten by ldconfig whenever a shared library such as libx264 is installed or upgraded) and the
# Debian package database (the codec packages `codec_packages` reads).
LINKED_STATE = ("/etc/ld.so.cache", "/var/lib/dpkg/status")


def _stat_key(path: str) -> str:
    try:
        st = os.stat(path)  # noqa: PTH116 - one syscall, no Path object per file
    except OSError:
        return f"{path}:absent"
    return f"{path}:{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"


def cache_key(tools: Tools) -> str:
    """What the measured fingerprint depends on, as file identities (device, inode, size, mtime) of the ffmpeg
    binary (links resolved), the VMAF build's binary and `LINKED_STATE`: a changed build, library, codec package
    or measuring tool changes the key."""
    try:
        measuring = os.path.realpath(find_vmaf_ffmpeg())
    except ToolMissing:
        measuring = "vmaf-ffmpeg"  # (absent: its _stat_key says so)
    return "|".join(_stat_key(p) for p in (os.path.realpath(tools.ffmpeg), measuring, *LINKED_STATE))


def local_cached(tools: Tools, cache: Path, environ: dict[str, str] | None = None) -> Fingerprint:
    """`local`, remembered in `cache` (a JSON file) under `cache_key`: a producer (`vodfleet submit`) measures
    its encoder once per ffmpeg build instead of running ffmpeg twice and dpkg-query once per call. Workers
    measure at start (`local`). An unreadable or foreign cache is measured again and rewritten."""
    if (os.environ if environ is None else environ).get(OVERRIDE_ENV, "").strip():
        return local(tools, environ)
    key = cache_key(tools)
    try:
        data = json.loads(cache.read_text(encoding="utf-8"))
        if isinstance(data, dict) and data.get("key") == key:
            return Fingerprint.from_dict(data["fingerprint"])
    except (OSError, ValueError, KeyError, TypeError):
        pass  # absent, torn or from another layout: measure
    found = measure(tools)
    temp = cache.with_name(f".{cache.name}.{os.getpid()}")
    try:
        temp.write_text(json.dumps({"key": key, "fingerprint": found.to_dict()}), encoding="utf-8")
        temp.replace(cache)
    except OSError:
        temp.unlink(missing_ok=True)  # a read-only state folder: measure next time too
    return found


# --- the lock file -----------------------------------------------------------------------------------------


def default_lock_path() -> Path | None:
    """``$VODFLEET_ENCODER_LOCK``, else ``docker/encoder.lock`` of a source checkout, else None."""
    env = os.environ.get(LOCK_ENV)
    if env:
        return Path(env)
    candidate = Path(__file__).resolve().parent.parent / "docker" / "encoder.lock"
    return candidate if candidate.is_file() else None


def read_lock(path: Path) -> Fingerprint:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")  # noqa: TRY004, TRY301 - one message for every shape error
        return Fingerprint.from_dict(data)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"encoder lock {path}: {exc}",
                          hint="regenerate it with `vodfleet doctor --local --write-lock PATH`") from exc


def lock_text(fingerprint: Fingerprint) -> str:
    """The lock file's content (pure): stable key order, one trailing newline."""
    data = fingerprint.to_dict()
    data.pop("overridden")
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def differences(expected: Fingerprint, actual: Fingerprint) -> list[str]:
    """Each human-readable part that differs, as one line (pure); [] when the fingerprints match."""
    if expected.value == actual.value:
        return []
    if expected.overridden or actual.overridden:
        return [f"fingerprint {expected.value} ≠ {actual.value} (set by {OVERRIDE_ENV}; no parts to compare)"]
    lines = []
    for name, want, got in (("ffmpeg version", expected.ffmpeg_version, actual.ffmpeg_version),
                            ("x264 build", expected.x264, actual.x264),
                            ("ffmpeg configuration (sha256)", expected.configuration_sha256,
                             actual.configuration_sha256)):
        if want != got:
            lines.append(f"{name}: expected {want or '-'}, found {got or '-'}")
    for kind, want_pairs, got_pairs in (("library", expected.libraries, actual.libraries),
                                        ("package", expected.packages, actual.packages),
                                        ("measuring tool", expected.measurement, actual.measurement)):
        want_map, got_map = dict(want_pairs), dict(got_pairs)
        for key in sorted(set(want_map) | set(got_map)):
            if want_map.get(key) != got_map.get(key):
                lines.append(f"{kind} {key}: expected {want_map.get(key, 'absent')}, "
                             f"found {got_map.get(key, 'absent')}")
    return lines or [f"fingerprint {expected.value} ≠ {actual.value} (parts not recorded)"]
