"""EncoderIdentity: what decides the encoded bytes (ffmpeg build, its libraries, libx264), and its hash.

Names (README "One encoder from laptop to fleet"): this hash is the encoder's *identity* (report.json's
``encoder.identity``, the manifests' ``vodfleet-encoder-identity`` comment). The fleet's *fingerprint*
(`workers.fingerprint`: the identity plus the codec packages) names queues, image tags and labels; a caller that
knows it passes it as ``TranscodeRequest.fingerprint`` (``encoder.fingerprint``, ``vodfleet-encoder-fingerprint``).
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass

from pipelines.runner import RunLimits, run
from pipelines.tools import Tools

_LIB_LINE = re.compile(r"^(lib\w+)\s+(\d+)\.\s*(\d+)\.\s*(\d+)", re.MULTILINE)
_X264 = re.compile(rb"x264 - core (\d+)(?: r(\d+) ([0-9a-f]+))?")


@dataclass(frozen=True)
class EncoderIdentity:
    ffmpeg_version: str
    configuration: str
    libraries: tuple[tuple[str, str], ...]
    x264: str

    @property
    def fingerprint(self) -> str:
        """sha256 over every field, in a fixed order; stable across hosts with the same build."""
        text = "\n".join([self.ffmpeg_version, self.configuration,
                          *(f"{k}={v}" for k, v in self.libraries), f"x264={self.x264}"])
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()

    def to_dict(self) -> dict[str, object]:
        return {"identity": self.fingerprint, "ffmpeg_version": self.ffmpeg_version,
                "x264": self.x264, "libraries": dict(self.libraries),
                "configuration_sha256": hashlib.sha256(self.configuration.encode()).hexdigest()}


def parse_version(text: str) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """`ffmpeg -version` text → (version, configuration, ((lib, "x.y.z"), ...)) (pure)."""
    first = text.splitlines()[0] if text else ""
    version = first.split(" Copyright")[0].removeprefix("ffmpeg version ").strip()
    config = next((ln.removeprefix("configuration:").strip() for ln in text.splitlines()
                   if ln.startswith("configuration:")), "")
    libs = tuple((m[1], f"{int(m[2])}.{int(m[3])}.{int(m[4])}") for m in _LIB_LINE.finditer(text))
    return version, config, libs


def parse_x264(stream: bytes) -> str:
    """The x264 build named in the SEI of an encoded stream ("core 164 r3095 baee400"), or ""."""
    match = _X264.search(stream)
    if not match:
        return ""
    return " ".join(p.decode() for p in (b"core", match[1], b"r" + match[2] if match[2] else b"",
                                         match[3] or b"") if p)


@functools.cache
def encoder_identity(tools: Tools) -> EncoderIdentity:
    version = run([tools.ffmpeg, "-hide_banner", "-version"], limits=RunLimits(timeout=30))
    # Encode one tiny frame to learn the libx264 build actually linked (it names itself in an SEI).
    probe = run([tools.ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "lavfi",
                 "-i", "color=c=black:s=64x64:d=0.04", "-frames:v", "1", "-c:v", "libx264",
                 "-f", "h264", "pipe:1"], limits=RunLimits(timeout=30))
    name, config, libs = parse_version(version.stdout.decode("utf-8", "replace"))
    return EncoderIdentity(name, config, libs, parse_x264(probe.stdout))
