"""Clients: ffprobe opening master.m3u8 (hls demuxer) and manifest.mpd (dash demuxer) like a player would.

Only local protocols are whitelisted (file, crypto, data): a manifest that points anywhere else fails
to open instead of reaching the network. The path goes in as ``file:<absolute>`` (the dash demuxer
resolves relative segment URLs only against an absolute manifest path). The MPD must open with no other
option: its text is WebVTT in ISO-BMFF segments, which ffmpeg 5.1 lists as one *data* stream per text
AdaptationSet (it has no wvtt decoder). Only an opt-in whole-title ``.vtt`` sidecar, which the dash
demuxer refuses unless told, gets ``-allowed_extensions`` (exactly ours, never ``ALL``) and counts as a
subtitle stream. ffmpeg 5.1's hls demuxer ignores SUBTITLES renditions, so only the DASH client is held to
a text count.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from pipelines.errors import CheckResult
from pipelines.qc.verdict import verdict
from pipelines.runner import RunLimits, run
from pipelines.tools import Tools

LOCAL_PROTOCOLS = "file,crypto,data"
DASH_EXTENSIONS = "mp4,m4s,m4a,m4v,vtt"  # what our MPD addresses
CLIENT_TIMEOUT = 120.0


def client_argv(ffprobe: str, manifest: Path, *, sidecar: bool = False) -> list[str]:
    """``sidecar``: the MPD addresses a whole-title .vtt (opt-in), which needs -allowed_extensions."""
    dash = ["-allowed_extensions", DASH_EXTENSIONS] if manifest.suffix == ".mpd" and sidecar else []
    return [ffprobe, "-v", "error", "-hide_banner", *dash, "-protocol_whitelist", LOCAL_PROTOCOLS,
            "-show_entries", "stream=codec_type,codec_name,width,height", "-of", "json=c=1",
            f"file:{manifest.absolute()}"]


def parse_client_streams(text: str | bytes) -> list[tuple[str, int, int]]:
    """ffprobe JSON → (codec_type, width, height) per stream (0x0 for non-video). ValueError if not JSON."""
    doc = json.loads(text)
    streams = doc.get("streams", []) if isinstance(doc, dict) else []
    return [(str(s.get("codec_type", "")), int(s.get("width", 0) or 0), int(s.get("height", 0) or 0))
            for s in streams if isinstance(s, dict)]


def probe_client(manifest: Path, tools: Tools, *, cancel: threading.Event | None = None, sidecar: bool = False
                 ) -> list[tuple[str, int, int]]:
    result = run(client_argv(tools.ffprobe, manifest, sidecar=sidecar), limits=RunLimits(timeout=CLIENT_TIMEOUT),
                 cancel=cancel)
    return parse_client_streams(result.stdout)


def check_client(name: str, manifest: str, streams: Sequence[tuple[str, int, int]],
                 sizes: Sequence[tuple[int, int]], audio: int, subtitles: int | None = None,
                 data: int | None = None) -> CheckResult:
    """One video stream per rung (compared by resolution), one audio stream per audio rendition and,
    unless None, `subtitles` subtitle streams (sidecar text) and `data` data streams (text in ISO-BMFF)."""
    video = Counter((w, h) for kind, w, h in streams if kind == "video")
    audio_found = sum(kind == "audio" for kind, _, _ in streams)
    problems = []
    if video != Counter(sizes):
        problems.append(f"ffprobe opens {manifest} with video {sorted(video.elements())}, the rungs are "
                        f"{sorted(sizes)}")
    if audio_found != audio:
        problems.append(f"ffprobe opens {manifest} with {audio_found} audio stream(s), expected {audio}")
    subtitles_found = sum(kind == "subtitle" for kind, _, _ in streams)
    if subtitles is not None and subtitles_found != subtitles:
        problems.append(f"ffprobe opens {manifest} with {subtitles_found} subtitle stream(s), expected {subtitles}")
    data_found = sum(kind == "data" for kind, _, _ in streams)
    if data is not None and data_found != data:
        problems.append(f"ffprobe opens {manifest} with {data_found} data (text in ISO-BMFF) stream(s), "
                        f"expected {data}")
    return verdict(name, problems, f"{sum(video.values())} video, {audio_found} audio, {subtitles_found} subtitle, "
                                   f"{data_found} data streams")
