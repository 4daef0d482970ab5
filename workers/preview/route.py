"""A request target → what to send: a file, a redirect, or a refusal.

    /                          → redirect to the page
    /_vodfleet/                → the page (static/index.html); /_vodfleet/<file> → static/<file>
    /_vodfleet/lib/<name>      → a player library from node_modules (a fixed table, nothing else)
    /<anything else>           → that file under OUT

Refused: ``..`` segments, hidden names (``.x``), backslashes, NUL, undecodable escapes (403), and anything whose
real path (symlinks resolved) is outside its folder (403); directories are never listed (404).
`request_path` is pure; `resolve` only asks the filesystem where a name really points.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from workers.preview.site import Site

PAGE_PREFIX = "_vodfleet"
PAGE_URL = f"/{PAGE_PREFIX}/"
INDEX = "index.html"


@dataclass(frozen=True)
class SendFile:
    path: Path


@dataclass(frozen=True)
class Redirect:
    location: str


@dataclass(frozen=True)
class Refuse:
    status: int
    reason: str


Route = SendFile | Redirect | Refuse


@dataclass(frozen=True)
class RequestPath:
    parts: tuple[str, ...]
    trailing_slash: bool


def request_path(target: str) -> RequestPath | Refuse:
    """The decoded path segments of a request target (query and fragment dropped), or why it is refused."""
    # origin-form ("/path?query"; "//x" is a path there, not a host) or absolute-form ("http://host/path")
    path = target.partition("?")[0].partition("#")[0] if target.startswith("/") else urlsplit(target).path
    if not path.startswith("/"):
        return Refuse(400, "the path must start with /")
    try:
        decoded = unquote(path, errors="strict")
    except UnicodeDecodeError:
        return Refuse(400, "the path is not UTF-8")
    if "\x00" in decoded or "\\" in decoded:
        return Refuse(403, "NUL or backslash in the path")
    parts = tuple(part for part in decoded.split("/") if part not in ("", "."))
    if any(part == ".." for part in parts):
        return Refuse(403, "'..' in the path")
    if any(part.startswith(".") for part in parts):
        return Refuse(403, "hidden names are not served")
    return RequestPath(parts, trailing_slash=decoded.endswith("/"))


def resolve(target: str, site: Site) -> Route:
    request = request_path(target)
    if isinstance(request, Refuse):
        return request
    parts = request.parts
    if not parts:
        return Redirect(PAGE_URL)
    if parts[0] != PAGE_PREFIX:
        return contained(site.output, parts)
    rest = parts[1:]
    if not rest:
        return SendFile(site.static / INDEX) if request.trailing_slash else Redirect(PAGE_URL)
    if rest[0] == "lib":
        library = site.libraries.get("/".join(rest[1:]))
        return SendFile(library) if library else Refuse(404, "no such player library")
    return contained(site.static, rest)


def contained(base: Path, parts: tuple[str, ...]) -> Route:
    """`base/parts` if it is a regular file whose real path stays inside `base` (which is already resolved)."""
    try:
        real = base.joinpath(*parts).resolve(strict=True)
    except (OSError, RuntimeError):  # missing, unreadable, or a symlink loop
        return Refuse(404, "no such file")
    if not real.is_relative_to(base):
        return Refuse(403, "outside the served folder")
    if not real.is_file():
        return Refuse(404, "not a file (folders are not listed)")
    return SendFile(real)
