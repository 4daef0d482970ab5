"""The publish plan (pure): which files of an output folder go up in which phase, and under which keys.

A player must never find a manifest that names an object not yet uploaded, so objects go up leaves first:

    1. media        init.mp4, seg_*.m4s (text ones too), seg_*.vtt, subtitles.vtt (opt-in), anything else a
                    manifest names (parallel)
    2. playlists    every .m3u8 below the top level: media, I-frame and subtitle playlists (parallel)
    3. masters      top-level master.m3u8, manifest.mpd and report.json (parallel, after 1 and 2 are complete)
    4. pointer      <prefix>/live.json names the version (written by `workers.publish.protocol`, never from the folder)

Each phase starts only when the previous one completed, so at every instant every uploaded manifest refers
only to uploaded objects. Versioned layout under a title prefix (see `workers.publish.protocol` for the protocol):

    <prefix>/v0007/...           the folder's files, at their relative paths
    <prefix>/claims/v0007.json   create-only claim of the version number by one attempt
    <prefix>/jobs/<job_id>.json  create-only commit record: the job's one published version
    <prefix>/live.json           the pointer readers resolve
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from workers.errors import KeyInvalid, OutputInvalid
from workers.keys import join_key, validate_key

VERSION_PATTERN = re.compile(r"v(\d{4,})")
MASTER_NAMES = frozenset({"master.m3u8", "manifest.mpd"})
TOP_LEVEL_LAST = frozenset({"master.m3u8", "manifest.mpd", "report.json"})
CONTENT_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".mpd": "application/dash+xml",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".vtt": "text/vtt; charset=utf-8",
    ".json": "application/json",
    ".jpg": "image/jpeg",  # poster.jpg, thumbnails/sprite_*.jpg
}


class Phase(Enum):
    MEDIA = "media"
    PLAYLISTS = "playlists"
    MASTERS = "masters"


@dataclass(frozen=True)
class Upload:
    relative: str  # path inside the output folder, POSIX ("video/720p/seg_00001.m4s")
    content_type: str


@dataclass(frozen=True)
class PhasePlan:
    phase: Phase
    uploads: tuple[Upload, ...]


def version_name(number: int) -> str:
    if number < 1:
        raise ValueError(f"version numbers start at 1, got {number}")
    return f"v{number:04d}"


def version_number(name: str) -> int | None:
    """``"v0007"`` → 7; anything else → None."""
    match = VERSION_PATTERN.fullmatch(name)
    return int(match.group(1)) if match else None


def next_version(claimed: Iterable[str]) -> int:
    """One past the highest claimed version name (claims are "v0007.json" or "v0007")."""
    numbers = [version_number(name.removesuffix(".json")) for name in claimed]
    return max((number for number in numbers if number is not None), default=0) + 1


def content_type(relative: str) -> str:
    name = relative.rpartition("/")[2]
    suffix = name[name.rfind("."):] if "." in name else ""
    if suffix == ".mp4" and relative.startswith("audio/"):
        return "audio/mp4"
    if suffix == ".mp4" and relative.startswith("subtitles/"):
        return "application/mp4"  # text in ISO-BMFF (RFC 4337; the MPD's text AdaptationSet mimeType)
    return CONTENT_TYPES.get(suffix, "application/octet-stream")


def phase_of(relative: str) -> Phase:
    if "/" not in relative and relative in TOP_LEVEL_LAST:
        return Phase.MASTERS
    if relative.endswith(".m3u8") or relative.endswith(".mpd"):
        return Phase.PLAYLISTS if "/" in relative else Phase.MASTERS
    return Phase.MEDIA


def plan_publish(files: Iterable[str]) -> tuple[PhasePlan, ...]:
    """The ordered phases for the folder's files (relative POSIX paths); each phase sorted by path.

    Raises `OutputInvalid` if a name cannot be a key or the folder has no master manifest.
    """
    relatives = sorted(set(files))
    for relative in relatives:
        try:
            validate_key(relative)
        except KeyInvalid as exc:
            raise OutputInvalid(f"output file {relative!r} cannot be published: {exc}",
                                hint="vodfleet outputs use safe names only; remove stray files") from exc
    if not MASTER_NAMES & set(relatives):
        raise OutputInvalid("output folder has neither master.m3u8 nor manifest.mpd at its top level",
                            hint="publish a finished vodfleet output folder")
    grouped: dict[Phase, list[Upload]] = {phase: [] for phase in Phase}
    for relative in relatives:
        grouped[phase_of(relative)].append(Upload(relative, content_type(relative)))
    return tuple(PhasePlan(phase, tuple(grouped[phase])) for phase in Phase if grouped[phase])


def version_key(prefix: str, version: str, relative: str = "") -> str:
    return join_key(prefix, version, relative)


def claim_key(prefix: str, version: str) -> str:
    return join_key(prefix, "claims", f"{version}.json")


def job_key(prefix: str, job_id: str) -> str:
    if "/" in validate_key(job_id):
        raise KeyInvalid(f"job id {job_id!r} contains '/'", hint="a job id is one key segment")
    return join_key(prefix, "jobs", f"{job_id}.json")


def live_key(prefix: str) -> str:
    return join_key(prefix, "live.json")
