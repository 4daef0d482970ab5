"""/uploads: direct uploads to the fleet's S3 bucket through presigned multipart URLs; /subtitles/check."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from workers.api.problems import RequestInvalid
from workers.api.schemas import (
    CompleteRequest,
    ErrorBody,
    PartsRequest,
    SignedParts,
    SubtitleCheck,
    UploadOut,
    UploadRequest,
)
from workers.api.services import services, submitter
from workers.api.tokens import Token

ERRORS: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorBody, "description": what} for status, what in (
        (401, "no token, or an unknown or revoked one"), (403, "the token may not upload"),
        (404, "no such upload for this token"), (410, "the upload expired (VODFLEET_API_UPLOAD_TTL) and was aborted"),
        (422, "a refused field"),
        (501, "the fleet storage is not S3"))}
router = APIRouter(tags=["uploads"], responses=ERRORS)
MAX_SUBTITLE_BYTES = 10 * 1024 * 1024


@router.post("/uploads", status_code=201, response_model=UploadOut)
def start_upload(body: UploadRequest, request: Request, token: Annotated[Token, Depends(submitter)]) -> UploadOut:
    """Start a multipart upload: one presigned PUT URL per part (PUT the byte range `offset`..`offset+size`, keep
    each response's ETag header). The bytes go straight to S3. Complete it within VODFLEET_API_UPLOAD_TTL (24 h):
    later it is aborted and answers 410 upload_expired."""
    book = services(request).fleet.uploads
    book.sweep_if_due()
    return book.describe(book.start(token.token_id, body.filename, body.size, body.content_type))


@router.get("/uploads/{upload_id}", response_model=UploadOut)
def resume_upload(upload_id: str, request: Request, token: Annotated[Token, Depends(submitter)]) -> UploadOut:
    """Resume: the parts S3 already holds (ListParts) and fresh URLs for the others."""
    book = services(request).fleet.uploads
    return book.describe(book.get(upload_id, token.token_id))


@router.post("/uploads/{upload_id}/parts", response_model=SignedParts)
def sign_parts(upload_id: str, body: PartsRequest, request: Request,
               token: Annotated[Token, Depends(submitter)]) -> SignedParts:
    """Part URLs signed with each part's SHA-256 (base64): PUT the part with the returned header
    ``x-amz-checksum-sha256``; S3 refuses a body that does not hash to it (400 BadDigest), so a part corrupted in
    transit never lands. The console does this for every part (Web Crypto)."""
    book = services(request).fleet.uploads
    return SignedParts(parts=book.sign_parts(book.get(upload_id, token.token_id), body.parts))


@router.post("/uploads/{upload_id}/complete", response_model=UploadOut)
def complete_upload(upload_id: str, body: CompleteRequest, request: Request,
                    token: Annotated[Token, Depends(submitter)]) -> UploadOut:
    """Assemble the parts (every one present, sized as planned, ETags as the uploader saw them); the upload is
    then a source for POST /jobs: ``upload:<upload_id>``."""
    book = services(request).fleet.uploads
    return book.describe(book.complete(book.get(upload_id, token.token_id), body.parts))


@router.post("/subtitles/check", response_model=SubtitleCheck,
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}})
async def check_subtitle(request: Request, _token: Annotated[Token, Depends(submitter)],
                         language: Annotated[str, Query(description="BCP-47 tag of the sidecar")],
                         filename: Annotated[str, Query(description="its name (the extension helps: .srt .vtt "
                                                                    ".ass .ttml .scc)")] = "") -> SubtitleCheck:
    """Read a subtitle sidecar as the worker will (language tag, charset, format, cues) before it is uploaded:
    the same refusals, with the same codes (subtitle_charset_unknown, language_invalid, ...)."""
    from pipelines.subtitles.load import document_from_bytes  # noqa: PLC0415 - the parsers load on first use

    data = await request.body()
    if len(data) > MAX_SUBTITLE_BYTES:
        raise RequestInvalid(f"{len(data)} bytes: a subtitle sidecar is at most {MAX_SUBTITLE_BYTES}",
                             hint="check that this is a subtitle file", field="body")
    suffix = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    document = await run_in_threadpool(lambda: document_from_bytes(data, language, source=filename or "subtitle",
                                                                   suffix=suffix))
    return SubtitleCheck(language=document.language, format=document.source_format, charset=document.charset,
                         charset_reason=document.charset_reason, cues=len(document.cues))
