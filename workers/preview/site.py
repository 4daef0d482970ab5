"""What one preview serves: an output folder, the page's static files and the player libraries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from workers.preview.errors import NotAnOutput
from workers.preview.library import find_libraries

STATIC_DIR = Path(__file__).resolve().with_name("static")
MANIFESTS = ("master.m3u8", "manifest.mpd")


@dataclass(frozen=True)
class Site:
    output: Path  # absolute, symlinks resolved: nothing outside it is ever served
    static: Path
    libraries: Mapping[str, Path]


def open_site(output: Path, *, node_modules: Path | None = None) -> Site:
    """Check the folder and the libraries up front, so a bad setup fails before a port is opened."""
    if not output.is_dir():
        raise NotAnOutput(f"{output}: not a folder",
                          hint="pass the folder that `vodfleet transcode SOURCE -o OUT` wrote")
    if not any((output / name).is_file() for name in MANIFESTS):
        raise NotAnOutput(f"{output}: has neither {' nor '.join(MANIFESTS)}",
                          hint="pass the folder that `vodfleet transcode SOURCE -o OUT` wrote")
    return Site(output.resolve(), STATIC_DIR, find_libraries(node_modules))
