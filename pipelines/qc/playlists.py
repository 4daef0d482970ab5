"""Playlists: the written HLS files re-read with the `m3u8` package into plain data (an independent parser).

``parse_master``/``parse_media``/``resolve`` are pure; ``read_master``/``read_media``/``file_sizes`` read
disk. Every URI is resolved relative to the playlist that names it, as a POSIX path under the output
root; an absolute URI, a scheme or a ``..`` that leaves the root resolves to None (a package must be
self-contained).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import m3u8

from pipelines.errors import PipelineError

MASTER = "master.m3u8"


@dataclass(frozen=True)
class Entry:
    uri: str  # as written
    duration: float  # EXTINF seconds
    byterange: tuple[int, int] | None = None  # (length, offset)


@dataclass(frozen=True)
class MediaPlaylist:
    path: str  # relative to the root
    target_duration: int | None
    maps: tuple[str, ...]  # EXT-X-MAP URIs
    entries: tuple[Entry, ...]
    iframes_only: bool = False
    endlist: bool = True


@dataclass(frozen=True)
class Variant:
    uri: str
    bandwidth: int | None
    average_bandwidth: int | None
    codecs: str | None
    resolution: tuple[int, int] | None
    audio: str | None = None
    subtitles: str | None = None


@dataclass(frozen=True)
class Rendition:
    type: str  # AUDIO | SUBTITLES | CLOSED-CAPTIONS | VIDEO
    group_id: str
    language: str | None
    name: str | None
    uri: str | None
    channels: str | None = None  # CHANNELS as written ("2", "6")
    default: str | None = None  # DEFAULT: "YES" | "NO" | None
    characteristics: str | None = None


@dataclass(frozen=True)
class Master:
    variants: tuple[Variant, ...]
    renditions: tuple[Rendition, ...]
    iframe_variants: tuple[Variant, ...]


def playlist_key(rel: str) -> str:
    """'video/720p/index.m3u8' → 'video.720p.index' (for check names)."""
    return rel.removesuffix(".m3u8").replace("/", ".")


def resolve(base: str, uri: str) -> str | None:
    """`uri` as written in the playlist at `base` (both relative to the root) → a root-relative path."""
    if not uri or "://" in uri or uri.startswith(("/", "\\")) or ":" in uri.split("/", 1)[0]:
        return None
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(base), uri))
    return None if joined == ".." or joined.startswith("../") else joined


def _resolution(value: object) -> tuple[int, int] | None:
    if isinstance(value, tuple) and len(value) == 2:
        return int(value[0]), int(value[1])
    return None


def _int(value: object) -> int | None:
    return int(str(value)) if value is not None else None


def parse_master(text: str) -> Master:
    parsed = m3u8.loads(text)
    if not parsed.is_variant:
        raise ValueError("not a multivariant playlist (no EXT-X-STREAM-INF)")
    variants = tuple(Variant(
        uri=str(p.uri), bandwidth=_int(p.stream_info.bandwidth),
        average_bandwidth=_int(p.stream_info.average_bandwidth), codecs=p.stream_info.codecs,
        resolution=_resolution(p.stream_info.resolution), audio=p.stream_info.audio,
        subtitles=p.stream_info.subtitles) for p in parsed.playlists)
    iframes = tuple(Variant(
        uri=str(p.uri), bandwidth=_int(p.iframe_stream_info.bandwidth),
        average_bandwidth=_int(p.iframe_stream_info.average_bandwidth), codecs=p.iframe_stream_info.codecs,
        resolution=_resolution(p.iframe_stream_info.resolution)) for p in parsed.iframe_playlists)
    renditions = tuple(Rendition(type=str(m.type), group_id=str(m.group_id), language=m.language, name=m.name,
                                 uri=m.uri, channels=m.channels, default=m.default,
                                 characteristics=m.characteristics) for m in parsed.media)
    return Master(variants, renditions, iframes)


def _byterange(text: str | None, previous_end: int) -> tuple[int, int] | None:
    """'length[@offset]' (RFC 8216 §4.3.2.2); without an offset the range follows the previous one."""
    if not text:
        return None
    length, _, offset = str(text).partition("@")
    return int(length), int(offset) if offset else previous_end


def parse_media(path: str, text: str) -> MediaPlaylist:
    parsed = m3u8.loads(text)
    if parsed.is_variant:
        raise ValueError("a multivariant playlist where a media playlist was expected")
    entries = []
    ends: dict[str, int] = {}
    for segment in parsed.segments:
        uri = str(segment.uri)
        byterange = _byterange(segment.byterange, ends.get(uri, 0))
        if byterange is not None:
            ends[uri] = byterange[0] + byterange[1]
        entries.append(Entry(uri=uri, duration=float(segment.duration or 0.0), byterange=byterange))
    maps = tuple(dict.fromkeys(str(m.uri) for m in parsed.segment_map if m.uri))
    return MediaPlaylist(path=path, target_duration=_int(parsed.target_duration), maps=maps,
                         entries=tuple(entries), iframes_only=bool(parsed.is_i_frames_only),
                         endlist=bool(parsed.is_endlist))


def _read(root: Path, rel: str) -> str:
    try:
        return (root / rel).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PipelineError(f"{rel}: cannot read: {exc}", code="qc_manifest_unreadable",
                            hint="the package step did not write this playlist") from exc


def read_master(root: Path) -> Master:
    text = _read(root, MASTER)
    try:
        return parse_master(text)
    except (ValueError, m3u8.ParseError) as exc:
        raise PipelineError(f"{MASTER}: m3u8 cannot parse it: {exc}", code="qc_manifest_unreadable",
                            hint="the HLS writer produced an invalid playlist") from exc


def read_media(root: Path, rel: str) -> MediaPlaylist:
    text = _read(root, rel)
    try:
        return parse_media(rel, text)
    except (ValueError, m3u8.ParseError) as exc:
        raise PipelineError(f"{rel}: m3u8 cannot parse it: {exc}", code="qc_manifest_unreadable",
                            hint="the HLS writer produced an invalid playlist") from exc


def file_sizes(root: Path, rels: Iterable[str]) -> dict[str, int | None]:
    """Size in bytes of each root-relative path that is a regular file, else None."""
    sizes: dict[str, int | None] = {}
    for rel in rels:
        path = root / rel
        sizes[rel] = path.stat().st_size if path.is_file() else None
    return sizes
