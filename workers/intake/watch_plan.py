"""The drop-folder plan: which masters in a listing become a job now (pure; `workers.intake.watch` does the effects).

    <name>.<ext>                 a master (ext in MASTER_EXTENSIONS)          → one job, once
    <name>.<lang>.<sub-ext>      a sidecar of <name> (lang: BCP-47, validated) → a subtitle of that job
                                 (.scc: CEA-608 captions, an SDH track)
    <name>.<lang>.forced.<sub-ext>, <name>.<lang>.sdh.<sub-ext>
                                 the same, as a forced-narrative / SDH track (pipelines.subtitles.flags)
    .vodfleet/<name>.<id>.json   the marker written after <name> (with that content) was submitted

A master is *ready* when it is in two consecutive listings with the same size and ETag (a file still
being uploaded changes between polls), it is not empty, every sidecar of it is stable too, and no marker
for this content exists. The marker names the content (size + ETag), so a master re-uploaded with other
bytes is a new job, and one re-listed after a restart is not. Names that are not valid keys, sidecars
without a language or with an invalid one, and other files are reported (never used).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from pipelines.errors import SubtitleRejected
from pipelines.language import normalize_language
from pipelines.subtitles.flags import FLAGS, track_suffix
from workers.errors import KeyInvalid
from workers.keys import validate_key

MASTER_EXTENSIONS = frozenset({"mp4", "m4v", "mov", "mkv", "webm", "mxf", "avi", "ts", "m2ts", "mts", "mpg",
                               "mpeg", "flv", "wmv", "asf", "ogv", "dv", "gxf", "nut"})
SUBTITLE_EXTENSIONS = frozenset({"srt", "vtt", "ass", "ssa", "ttml", "dfxp", "scc"})
MARKER_FOLDER = ".vodfleet"


@dataclass(frozen=True)
class Entry:
    """One object as listed: its key relative to the watched prefix (as found: maybe unsafe), size, ETag."""

    key: str
    size: int
    etag: str


@dataclass(frozen=True)
class SidecarFile:
    language: str
    key: str
    forced: bool = False
    sdh: bool = False

    @property
    def track(self) -> str:
        """The track this sidecar makes: "en", "en-forced", "en-sdh" (one sidecar per track)."""
        return self.language + track_suffix(self.forced, self.sdh)


@dataclass(frozen=True)
class Ready:
    name: str  # the master's key without its extension
    master: Entry
    sidecars: tuple[SidecarFile, ...]
    marker: str  # the key to create once the job is submitted


@dataclass(frozen=True)
class WatchPlan:
    ready: tuple[Ready, ...] = ()
    waiting: tuple[str, ...] = ()  # masters (or their sidecars) still changing, or seen once so far
    done: tuple[str, ...] = ()  # masters whose content already has a marker
    orphans: tuple[str, ...] = ()  # sidecars whose master is not there (yet)
    rejected: tuple[tuple[str, str], ...] = ()  # (key, why it is ignored)


def content_id(entry: Entry) -> str:
    """16 hex naming a master's content (size + ETag) (pure)."""
    return hashlib.sha256(f"{entry.size}|{entry.etag}".encode()).hexdigest()[:16]


def marker_key(name: str, entry: Entry) -> str:
    return f"{MARKER_FOLDER}/{name}.{content_id(entry)}.json"


@dataclass(frozen=True)
class _Kind:
    role: str  # master | sidecar | marker | rejected
    name: str = ""
    language: str = ""
    reason: str = ""
    flags: frozenset[str] = frozenset()


def classify(key: str) -> _Kind:
    """What one listed key is (pure)."""
    if key == MARKER_FOLDER or key.startswith(MARKER_FOLDER + "/"):
        return _Kind("marker")
    try:
        validate_key(key)
    except KeyInvalid as exc:
        return _Kind("rejected", reason=f"unsafe name: {exc.message}; {exc.hint}")
    folder, _, base = key.rpartition("/")
    stem, dot, ext = base.rpartition(".")
    ext = ext.lower()
    if not dot or not stem:
        return _Kind("rejected", reason="no extension: not a master or a subtitle sidecar")
    prefix = f"{folder}/" if folder else ""
    if ext in MASTER_EXTENSIONS:
        return _Kind("master", name=prefix + stem)
    if ext in SUBTITLE_EXTENSIONS:
        return _sidecar(prefix, stem, ext)
    return _Kind("rejected", reason=f"extension .{ext} is neither a master ({', '.join(sorted(MASTER_EXTENSIONS))}) "
                                    f"nor a sidecar ({', '.join(sorted(SUBTITLE_EXTENSIONS))})")


def _sidecar(prefix: str, stem: str, ext: str) -> _Kind:
    flags: set[str] = set()
    while (word := stem.rpartition(".")[2].lower()) in FLAGS and stem.count(".") >= 2:
        flags.add(word)
        stem = stem.rpartition(".")[0]
    name, dot, tag = stem.rpartition(".")
    if not dot or not name:
        return _Kind("rejected", reason=f"a sidecar needs a language: name it <master>.<lang>.{ext} "
                                        f"(e.g. {stem}.en.{ext})")
    try:
        language = normalize_language(tag)
    except SubtitleRejected as exc:
        return _Kind("rejected", reason=f"sidecar language: {exc.message}")
    return _Kind("sidecar", name=prefix + name, language=language, flags=frozenset(flags))


def _stable(entry: Entry, previous: Mapping[str, Entry] | None) -> bool:
    if previous is None:
        return False
    before = previous.get(entry.key)
    return before is not None and before.size == entry.size and before.etag == entry.etag


def plan(previous: Mapping[str, Entry] | None, current: Mapping[str, Entry]) -> WatchPlan:
    """Decide from two consecutive listings (key → Entry; `previous` None on the first poll) (pure)."""
    masters: dict[str, Entry] = {}
    sidecars: dict[str, list[tuple[SidecarFile, Entry]]] = {}
    rejected: list[tuple[str, str]] = []
    markers = set()
    for key in sorted(current):
        kind = classify(key)
        if kind.role == "marker":
            markers.add(key)
        elif kind.role == "rejected":
            rejected.append((key, kind.reason))
        elif kind.role == "master":
            if kind.name in masters:
                rejected.append((key, f"a second master named {kind.name!r} ({masters[kind.name].key} is used)"))
            else:
                masters[kind.name] = current[key]
        else:
            sidecars.setdefault(kind.name, []).append((SidecarFile(kind.language, key, "forced" in kind.flags,
                                                                   "sdh" in kind.flags), current[key]))
    ready, waiting, done = [], [], []
    for name, master in sorted(masters.items()):
        subs = sidecars.get(name, [])
        unique: dict[str, SidecarFile] = {}
        for sub, entry in subs:
            if sub.track in unique:
                rejected.append((entry.key, f"{unique[sub.track].key} is the {sub.track} sidecar of {name!r}; "
                                            "this one is not used"))
            else:
                unique[sub.track] = sub
        marker = marker_key(name, master)
        if marker in markers:
            done.append(master.key)
        elif master.size > 0 and _stable(master, previous) and all(_stable(e, previous) for _, e in subs):
            ready.append(Ready(name=name, master=master, marker=marker,
                               sidecars=tuple(sub for _, sub in sorted(unique.items()))))
        else:
            waiting.append(master.key)
    orphans = tuple(e.key for name, subs in sorted(sidecars.items()) if name not in masters for _, e in subs)
    return WatchPlan(ready=tuple(ready), waiting=tuple(waiting), done=tuple(done), orphans=orphans,
                     rejected=tuple(sorted(set(rejected))))
