"""Manifest rules (pure): HLS playlists and the DASH MPD, as re-read by independent parsers, against disk.

Disk facts arrive as plain mappings (root-relative path → size in bytes, or None when there is no such
file; folder → file names), gathered by `pipelines.qc` before these run.
"""

from __future__ import annotations

import math
import posixpath
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from pipelines.errors import CheckResult
from pipelines.qc.mpd import MPD_NAME, DashRepresentation, expand_timeline, segment_uris
from pipelines.qc.playlists import MASTER, Master, MediaPlaylist, Rendition, playlist_key, resolve
from pipelines.qc.verdict import verdict

_TEMPLATE_IDENTIFIER = re.compile(r"\$(?:RepresentationID|Number|Bandwidth|Time)(?:%0\d+d)?\$")


def referenced_paths(playlist: MediaPlaylist) -> list[str]:
    """Root-relative paths of every URI a media playlist names (unresolvable ones left out)."""
    uris = [*playlist.maps, *(e.uri for e in playlist.entries)]
    return [rel for uri in uris if (rel := resolve(playlist.path, uri)) is not None]


def master_paths(master: Master) -> list[str]:
    uris = [v.uri for v in (*master.variants, *master.iframe_variants)]
    uris += [r.uri for r in master.renditions if r.uri]
    return [rel for uri in uris if (rel := resolve(MASTER, uri)) is not None]


def _uri_problems(base: str, uris: Iterable[str], sizes: Mapping[str, int | None]) -> list[str]:
    problems = []
    for uri in dict.fromkeys(uris):
        rel = resolve(base, uri)
        if rel is None:
            problems.append(f"{base}: URI {uri!r} is not a relative path inside the output")
        elif sizes.get(rel) is None:
            problems.append(f"{base}: {uri} ({rel}) does not exist")
    return problems


def check_master_uris(master: Master, sizes: Mapping[str, int | None]) -> CheckResult:
    uris = [v.uri for v in (*master.variants, *master.iframe_variants)]
    uris += [r.uri for r in master.renditions if r.uri]
    return verdict("hls.master.uris", _uri_problems(MASTER, uris, sizes), f"{len(set(uris))} playlists exist")


def check_master_renditions(master: Master, sizes: Sequence[tuple[int, int]], audio: int,
                            subtitles: int, *, audio_groups: int = 1) -> CheckResult:
    """One variant per rung and audio group (Apple HLS authoring spec: every variant listed once per audio group)
    and one I-frame variant per rung (by RESOLUTION); `audio` AUDIO renditions (every group's members), one
    SUBTITLES rendition per subtitle track."""
    problems = []
    want = Counter(sizes)
    for what, variants, copies in (("variants", master.variants, max(1, audio_groups)),
                                   ("I-frame variants", master.iframe_variants, 1)):
        got = Counter(v.resolution for v in variants)
        if got != Counter({size: count * copies for size, count in want.items()}):
            problems.append(f"{what} have resolutions {sorted(got.elements(), key=str)}, "
                            f"the rungs {sorted(want.elements())}")
    counts = Counter(r.type for r in master.renditions)
    for kind, expected in (("AUDIO", audio), ("SUBTITLES", subtitles)):
        if counts[kind] != expected:
            problems.append(f"{counts[kind]} EXT-X-MEDIA TYPE={kind}, expected {expected}")
    return verdict("hls.master.renditions", problems,
                   f"{len(master.variants)} variants, {len(master.iframe_variants)} I-frame variants, "
                   f"{counts['AUDIO']} audio, {counts['SUBTITLES']} subtitle renditions")


def check_audio_groups(master: Master, channels: Mapping[str, int]) -> CheckResult:
    """``hls.master.audio_groups``: every audio group has the same members, corresponding members with identical
    LANGUAGE, NAME, DEFAULT and CHARACTERISTICS (only URI and CHANNELS may differ: RFC 8216 §4.3.4.1.1); each
    member's CHANNELS is the channel count measured in the rendition it names (`channels`: root-relative media
    playlist path → channels); every variant names an existing group, and each group is named by as many
    variants as the others (every variant duplicated once per group)."""
    groups: dict[str, list[Rendition]] = {}
    for rendition in master.renditions:
        if rendition.type == "AUDIO":
            groups.setdefault(rendition.group_id, []).append(rendition)
    problems = []
    members = {group: sorted((r.language or "", r.name or "", r.default or "NO", r.characteristics or "")
                             for r in renditions) for group, renditions in groups.items()}
    first = next(iter(members), None)
    for group, found in members.items():
        if first is not None and found != members[first]:
            problems.append(f"audio group {group!r} has members {found}, group {first!r} {members[first]} "
                            "(RFC 8216 §4.3.4.1.1: the same members, only URI and CHANNELS differ)")
    for group, renditions in groups.items():
        for rendition in renditions:
            rel = resolve(MASTER, rendition.uri or "")
            measured = channels.get(rel or "")
            if measured is not None and rendition.channels != str(measured):
                problems.append(f"{group}/{rendition.name}: CHANNELS={rendition.channels!r}, the rendition "
                                f"{rel} has {measured} channels")
    named = Counter(v.audio for v in master.variants if v.audio is not None)
    unknown = sorted(g for g in named if g not in groups)
    if unknown:
        problems.append(f"variants name audio groups {unknown} that no EXT-X-MEDIA defines")
    if len(set(named.values())) > 1:
        problems.append(f"variants per audio group differ: {dict(named)} (each variant is listed once per group)")
    return verdict("hls.master.audio_groups", problems,
                   f"{len(groups)} audio group(s) {sorted(groups)}, {dict(named)} variants each")


def check_playlist_uris(playlist: MediaPlaylist, sizes: Mapping[str, int | None]) -> CheckResult:
    """Every EXT-X-MAP and segment URI exists; every byte range lies inside its file."""
    problems = _uri_problems(playlist.path, [*playlist.maps, *(e.uri for e in playlist.entries)], sizes)
    for entry in playlist.entries:
        rel = resolve(playlist.path, entry.uri)
        size = sizes.get(rel) if rel is not None else None
        if entry.byterange is not None and size is not None:
            length, offset = entry.byterange
            if length <= 0 or offset + length > size:
                problems.append(f"{playlist.path}: byte range {length}@{offset} of {entry.uri} ends at "
                                f"{offset + length}, the file has {size} bytes")
    if not playlist.entries:
        problems.append(f"{playlist.path} lists no segments")
    if not playlist.endlist:
        problems.append(f"{playlist.path} has no EXT-X-ENDLIST (a VOD playlist must end)")
    ranges = sum(e.byterange is not None for e in playlist.entries)
    return verdict(f"hls.{playlist_key(playlist.path)}.uris", problems,
                   f"{len(playlist.entries)} segments, {len(playlist.maps)} init map(s), {ranges} byte ranges")


def check_target_duration(playlist: MediaPlaylist) -> CheckResult:
    """EXT-X-TARGETDURATION ≥ every EXTINF rounded to the nearest integer (RFC 8216 §4.3.3.1)."""
    name = f"hls.{playlist_key(playlist.path)}.target_duration"
    longest = max((e.duration for e in playlist.entries), default=0.0)
    needed = math.floor(longest + 0.5)
    if playlist.target_duration is None:
        return verdict(name, [f"{playlist.path} has no EXT-X-TARGETDURATION (longest EXTINF {longest:.6f})"], "")
    over = [e for e in playlist.entries if math.floor(e.duration + 0.5) > playlist.target_duration]
    problems = [f"{playlist.path}: EXTINF {e.duration:.6f} of {e.uri} rounds above "
                f"TARGETDURATION {playlist.target_duration}" for e in over]
    return verdict(name, problems, f"TARGETDURATION {playlist.target_duration}, longest EXTINF {longest:.6f} "
                                   f"(rounds to {needed})")


def template_pattern(media: str) -> re.Pattern[str]:
    """A SegmentTemplate@media file name as a regex matching every name it can expand to."""
    name = posixpath.basename(media)
    parts = _TEMPLATE_IDENTIFIER.split(name)
    return re.compile(r"[^/]+?".join(re.escape(part.replace("$$", "$")) for part in parts))


def template_folder(rep: DashRepresentation) -> str | None:
    """The root-relative folder a representation's media segments live in."""
    if rep.media is None:
        return None
    rel = resolve(rep.base_url or MPD_NAME, rep.media.replace("$", "_"))
    return posixpath.dirname(rel) if rel is not None else None


def check_dash_segments(name: str, rep: DashRepresentation, sizes: Mapping[str, int | None],
                        listing: Sequence[str]) -> CheckResult:
    """The SegmentTemplate/SegmentTimeline expands to exactly the segment files in the folder (`listing`:
    root-relative paths of files there matching the template), and the initialization exists."""
    if rep.media is None or not rep.timeline:
        return verdict(name, [f"representation {rep.id} has no SegmentTemplate with a SegmentTimeline"], "")
    problems = []
    try:
        expanded = segment_uris(rep)
        count = len(expand_timeline(rep.timeline, rep.start_number))
    except ValueError as exc:
        return verdict(name, [f"representation {rep.id}: {exc}"], "")
    if rep.initialization is not None:
        init = resolve(rep.base_url or MPD_NAME, rep.initialization)
        if init is None or sizes.get(init) is None:
            problems.append(f"initialization {rep.initialization} does not exist")
    escaping = [uri for uri in expanded if uri is None]
    if escaping:
        problems.append(f"{len(escaping)} segment URI(s) leave the output folder")
    addressed = {uri for uri in expanded if uri is not None}
    on_disk = set(listing)
    problems += [f"{uri} is addressed by the timeline but does not exist" for uri in sorted(addressed - on_disk)]
    problems += [f"{uri} is on disk but no S element addresses it" for uri in sorted(on_disk - addressed)]
    return verdict(name, problems, f"timeline expands to {count} segments, {len(on_disk)} on disk")


def check_dash_text(name: str, rep: DashRepresentation, sizes: Mapping[str, int | None]) -> CheckResult:
    rel = resolve(MPD_NAME, rep.base_url) if rep.base_url else None
    if rel is None:
        return verdict(name, [f"text representation {rep.id} has no usable BaseURL ({rep.base_url!r})"], "")
    problems = []
    if not rel.endswith(".vtt"):
        problems.append(f"text representation {rep.id} points at {rel}, not a .vtt file")
    size = sizes.get(rel)
    if not size:
        problems.append(f"{rel} does not exist or is empty")
    return verdict(name, problems, f"{rel}, {size} bytes")


def check_dash_representations(reps: Sequence[DashRepresentation], sizes: Sequence[tuple[int, int]],
                               audio: int, text: int) -> CheckResult:
    kinds = Counter(r.content_type for r in reps)
    got_sizes = Counter((r.width or 0, r.height or 0) for r in reps if r.content_type == "video")
    problems = []
    if got_sizes != Counter(sizes):
        problems.append(f"video representations {sorted(got_sizes.elements())}, the rungs {sorted(sizes)}")
    for kind, expected in (("audio", audio), ("text", text)):
        if kinds[kind] != expected:
            problems.append(f"{kinds[kind]} {kind} representations, expected {expected}")
    return verdict("dash.representations", problems,
                   f"{kinds['video']} video, {kinds['audio']} audio, {kinds['text']} text representations")


def check_languages(name: str, kind: str, hls: Sequence[str | None], dash: Sequence[str | None],
                    presentation: Sequence[str]) -> CheckResult:
    """The same languages (as multisets) in the HLS master, the MPD and the presentation."""
    h, d, p = (sorted(str(x) for x in values) for values in (hls, dash, presentation))
    problems = [] if h == d == p else [f"{kind} languages: HLS {h}, DASH {d}, presentation {p}"]
    return verdict(name, problems, f"{kind}: {p}")
