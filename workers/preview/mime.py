"""Content types for what vodfleet publishes and for the preview page's own assets (pure)."""

from __future__ import annotations

from pathlib import PurePath

# Streaming types follow the HLS (RFC 8216), DASH (ISO/IEC 23009-1) and CMAF registrations; text types carry
# their charset because subtitles are UTF-8 in every language.
MIME_TYPES: dict[str, str] = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".mpd": "application/dash+xml",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".m4a": "audio/mp4",
    ".vtt": "text/vtt; charset=utf-8",
    ".json": "application/json",
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".jpg": "image/jpeg",  # poster.jpg, thumbnails/sprite_*.jpg
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
}
DEFAULT_TYPE = "application/octet-stream"


def content_type(name: str | PurePath) -> str:
    """The Content-Type for a file name (case-insensitive suffix); unknown suffixes are opaque bytes."""
    return MIME_TYPES.get(PurePath(name).suffix.lower(), DEFAULT_TYPE)
