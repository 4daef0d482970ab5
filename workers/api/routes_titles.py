"""/titles/{title}: published versions and playback URLs; /play/{ticket}/...: one version's files for the player.

Under /play/, manifests and other small text (m3u8, mpd, vtt, json) are read from the storage and sent; media
segments and images are a 302 to a presigned S3 URL (the API carries no media bytes) or, on local fleet storage,
sent from there.
"""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse

from workers.api.problems import NotFound, ScopeDenied
from workers.api.schemas import ErrorBody, TitleOut
from workers.api.services import caller, services
from workers.api.titles import describe, read_ticket
from workers.api.tokens import Token
from workers.errors import KeyInvalid, ObjectNotFound
from workers.keys import validate_key

router = APIRouter(tags=["titles"])
TEXT = {"m3u8": "application/vnd.apple.mpegurl", "mpd": "application/dash+xml", "vtt": "text/vtt; charset=utf-8",
        "json": "application/json"}
MEDIA = {"m4s": "video/iso.segment", "mp4": "video/mp4", "jpg": "image/jpeg", "jpeg": "image/jpeg"}


@router.get("/titles/{title:path}", response_model=TitleOut,
            responses={status: {"model": ErrorBody, "description": what} for status, what in (
                (401, "no token, or an unknown or revoked one"), (403, "another team's title"),
                (404, "nothing published there yet"))})
def get_title(title: str, request: Request, token: Annotated[Token, Depends(caller)]) -> TitleOut:
    """A title's published versions (newest first), which one is live, each one's QC result and renditions,
    presigned URLs of its manifests and report, and a player page for it."""
    if not token.covers(title):
        raise ScopeDenied(f"title {title!r} is outside this token's prefixes ({', '.join(token.prefixes)})",
                          hint="use a token of the team that owns it")
    found = services(request)
    base = str(request.base_url).rstrip("/")
    return describe(found.fleet.storage, title, key=found.play_key, expires=found.api.presign_seconds, base_url=base)


@router.get("/play/{ticket}/{path:path}", include_in_schema=False)
def play(ticket: str, path: str, request: Request) -> Response:
    found = services(request)
    prefix = read_ticket(found.play_key, ticket, now=time.time())
    if prefix is None:
        raise NotFound("this play link is unknown or expired", hint="open the title again from the console")
    try:
        key = validate_key(f"{prefix}/{path}")
    except KeyInvalid as exc:
        raise NotFound(f"no file {path!r} in this version", hint="") from exc
    suffix = path.rsplit(".", 1)[-1].lower()
    storage = found.fleet.storage
    if suffix in MEDIA and getattr(storage, "client", None) is not None:
        return RedirectResponse(storage.presigned_url(key, expires=found.api.presign_seconds), status_code=302)
    if suffix not in TEXT and suffix not in MEDIA:
        raise NotFound(f"{path!r} is not a file a player reads", hint="")
    try:
        data = storage.get_bytes(key)
    except ObjectNotFound as exc:
        raise NotFound(f"no file {path!r} in this version", hint="") from exc
    return Response(data, media_type=TEXT.get(suffix) or MEDIA[suffix], headers={"Cache-Control": "no-cache"})
