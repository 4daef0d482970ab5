"""botocore/s3transfer exceptions → the workers error tree (pure: an exception in, an error out).

    AccessDenied        403, AccessDenied, SignatureDoesNotMatch, InvalidAccessKeyId, missing credentials
    ObjectNotFound      404, NoSuchKey, NoSuchBucket, NoSuchUpload
    PreconditionFailed  412, PreconditionFailed, 409 ConditionalRequestConflict
    ChecksumMismatch    BadDigest, InvalidDigest, XAmzContentSHA256Mismatch, botocore checksum errors
    StorageUnavailable  connection errors, timeouts, 5xx, throttling (after botocore's bounded retries)
    StorageRejected     any other 4xx: the request itself is wrong, retrying cannot help
"""

from __future__ import annotations

from botocore import exceptions as bce
from s3transfer.exceptions import RetriesExceededError

from workers.errors import (
    AccessDenied,
    ChecksumMismatch,
    ObjectNotFound,
    PreconditionFailed,
    StorageError,
    StorageRejected,
    StorageUnavailable,
)

DENIED = frozenset({"403", "AccessDenied", "SignatureDoesNotMatch", "InvalidAccessKeyId", "InvalidToken",
                    "ExpiredToken", "TokenRefreshRequired", "AllAccessDisabled", "AccountProblem",
                    "InvalidSecurity", "Forbidden"})
MISSING = frozenset({"404", "NoSuchKey", "NotFound", "NoSuchBucket", "NoSuchUpload", "NoSuchVersion"})
PRECONDITION = frozenset({"412", "PreconditionFailed", "ConditionalRequestConflict"})
DAMAGED = frozenset({"BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch", "IncompleteBody"})
TRANSIENT = frozenset({"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "RequestTimeTooSkewed",
                       "InternalError", "ServiceUnavailable", "RequestLimitExceeded", "BandwidthLimitExceeded",
                       "OperationAborted", "EC2ThrottledException", "PriorRequestNotComplete"})
CREDENTIAL_HINT = ("check the access key and secret (VODFLEET_S3_ACCESS_KEY and VODFLEET_S3_SECRET_KEY, or "
                   "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) and the bucket policy")


_NETWORK: tuple[type[BaseException], ...] = (bce.ConnectionError, bce.HTTPClientError, bce.IncompleteReadError,
                                            ConnectionError, TimeoutError, RetriesExceededError)
_UNREACHABLE = "the server is down or the network is; retried with backoff"
_DAMAGED_HINT = "bytes were damaged in transit; retry"


def translate(exc: BaseException, *, operation: str, target: str) -> StorageError:
    """The workers error for a third-party exception raised while doing `operation` on `target`."""
    if isinstance(exc, RetriesExceededError) and exc.last_exception is not None:
        return translate(exc.last_exception, operation=operation, target=target)
    if isinstance(exc, bce.ClientError):
        return _from_client_error(exc, operation=operation, target=target)
    said = f"{operation} {target}: {type(exc).__name__}: {exc}"
    error: StorageError
    if isinstance(exc, bce.NoCredentialsError | bce.PartialCredentialsError | bce.CredentialRetrievalError):
        error = AccessDenied(f"{operation} {target}: no usable S3 credentials ({exc})", hint=CREDENTIAL_HINT)
    elif isinstance(exc, bce.FlexibleChecksumError | bce.ChecksumError):
        error = ChecksumMismatch(said, hint=_DAMAGED_HINT)
    elif isinstance(exc, bce.ParamValidationError):
        error = StorageRejected(said, hint="the request was refused as invalid; retrying cannot help")
    else:
        hint = _UNREACHABLE if isinstance(exc, _NETWORK) else ""
        error = StorageUnavailable(said, hint=hint)
    return error


_BY_CODE: tuple[tuple[frozenset[str], type[StorageError], str], ...] = (
    (DENIED, AccessDenied, CREDENTIAL_HINT),
    (MISSING, ObjectNotFound, ""),
    (PRECONDITION, PreconditionFailed, "another writer got there first"),
    (DAMAGED, ChecksumMismatch, _DAMAGED_HINT),
    (TRANSIENT, StorageUnavailable, "the server is overloaded or failing; retried with backoff"),
)
_BY_STATUS: dict[int, str] = {403: "403", 404: "404", 412: "412", 408: "RequestTimeout", 429: "SlowDown"}


def _from_client_error(exc: bce.ClientError, *, operation: str, target: str) -> StorageError:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    said = f"{operation} {target}: {code or status} {error.get('Message', '')}".rstrip()
    if code == "NoSuchBucket":
        return ObjectNotFound(said, hint="the bucket does not exist: create it or fix the storage URI")
    for codes, kind, hint in _BY_CODE:
        if code in codes or _BY_STATUS.get(status) in codes:
            return kind(said, hint=hint)
    if status >= 500:
        return StorageUnavailable(said, hint="the server is failing; retried with backoff")
    return StorageRejected(said, hint="the request was refused as invalid; retrying cannot help")
