"""Which ffmpeg/ffprobe binaries to run: explicit path, else FFMPEG_PATH/FFPROBE_PATH, else PATH."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from pipelines.errors import ToolMissing

_INSTALL_HINT = "install ffmpeg (Debian: apt-get install -y ffmpeg) or set {var} to the binary's path"


@dataclass(frozen=True)
class Tools:
    ffmpeg: str
    ffprobe: str

    @classmethod
    def resolve(cls, ffmpeg: str | None = None, ffprobe: str | None = None) -> Tools:
        ff = _find("ffmpeg", ffmpeg or os.environ.get("FFMPEG_PATH"), "FFMPEG_PATH")
        probe_default = os.environ.get("FFPROBE_PATH")
        if not (ffprobe or probe_default) and os.sep in ff:
            sibling = Path(ff).with_name("ffprobe")
            probe_default = str(sibling) if os.access(sibling, os.X_OK) else None
        fp = _find("ffprobe", ffprobe or probe_default, "FFPROBE_PATH")
        return cls(ffmpeg=ff, ffprobe=fp)


def _find(name: str, explicit: str | None, var: str) -> str:
    if explicit:
        if Path(explicit).is_file() and os.access(explicit, os.X_OK):
            return explicit
        found = shutil.which(explicit)
        if found:
            return found
        raise ToolMissing(f"{name} not found at {explicit!r} (from {var} or configuration)",
                          hint=_INSTALL_HINT.format(var=var))
    found = shutil.which(name)
    if not found:
        raise ToolMissing(f"{name} is not on PATH", hint=_INSTALL_HINT.format(var=var))
    return found
