"""The API's own errors (stable codes, docs/errors.md "The HTTP API") and the one error → HTTP status table.

    WorkerError (workers.errors)
    └── ApiError                  base of the HTTP API's refusals
        ├── TokenMissing          401: no ``Authorization: Bearer`` header
        ├── TokenInvalid          401: unknown or revoked token
        ├── ScopeDenied           403: the token may not do this (read-only, or another team's prefix)
        ├── RateLimited           429: too many submissions from this token (``retry_after`` seconds)
        ├── IdempotencyConflict   409: an Idempotency-Key reused with another body
        ├── RequestInvalid        422: a field of the request is refused (``field`` names it)
        ├── NotFound              404: no such job, title or upload (or not visible to this token)
        ├── UploadExpired         410: an upload left incomplete past VODFLEET_API_UPLOAD_TTL (aborted)
        └── UploadsUnavailable    501: direct uploads need S3 fleet storage

Every error leaves the API as ``{"error": {"code", "message", "hint", "retryable", "field"?}}``: the same code
and words the CLI prints (docs/errors.md).
"""

from __future__ import annotations

from pipelines.errors import CodedError, ConfigError, InputRejected
from workers.errors import KeyInvalid, ObjectNotFound, OptionInvalid, StorageUnavailable, WorkerError


class ApiError(WorkerError):
    """``field``: the request field that caused the refusal (``body.output_prefix``), when one did."""

    code = "api_error"
    status = 400

    def __init__(self, message: str, *, hint: str = "", field: str | None = None, code: str | None = None) -> None:
        super().__init__(message, hint=hint, code=code)
        self.field = field


class TokenMissing(ApiError):
    code = "token_missing"
    status = 401


class TokenInvalid(ApiError):
    code = "token_invalid"
    status = 401


class ScopeDenied(ApiError):
    code = "token_scope_denied"
    status = 403


class RateLimited(ApiError):
    code = "rate_limited"
    status = 429
    retryable = True

    def __init__(self, message: str, *, hint: str = "", retry_after: float) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


class IdempotencyConflict(ApiError):
    code = "idempotency_conflict"
    status = 409


class RequestInvalid(ApiError):
    code = "request_invalid"
    status = 422


class NotFound(ApiError):
    code = "not_found"
    status = 404


class UploadExpired(ApiError):
    code = "upload_expired"
    status = 410


class UploadsUnavailable(ApiError):
    code = "uploads_unavailable"
    status = 501


# First match wins (more specific first): errors raised below the API by the submission path and the store.
_STATUS: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], int], ...] = (
    (ObjectNotFound, 422),  # a source or sidecar named in the request does not exist
    ((OptionInvalid, KeyInvalid, InputRejected, ConfigError), 422),
    (StorageUnavailable, 503),
)


def status_for(error: CodedError) -> int:
    """The HTTP status of an error (pure): an ApiError's own, else the table, else 404 for an unknown job,
    503 for a retryable error, 500 otherwise."""
    if isinstance(error, ApiError):
        return error.status
    if error.code == "job_not_found":
        return 404
    if error.code == "store_unavailable":
        return 503
    found = next((status for kinds, status in _STATUS if isinstance(error, kinds)), None)
    if found is not None:
        return found
    return 503 if error.retryable else 500


def body_for(error: CodedError) -> dict[str, object]:
    """``{"error": {...}}`` (pure): the CLI's `to_dict` plus the refused field when one is known."""
    data: dict[str, object] = {"code": error.code, "message": error.message, "hint": error.hint,
                               "retryable": error.retryable}
    field = getattr(error, "field", None)
    if field:
        data["field"] = field
    return {"error": data}
