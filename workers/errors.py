"""The one error tree of `workers`, split by what the caller must do (retry or give up).

    WorkerError                       base; ``code``, ``message``, ``hint``, ``retryable``
    ├── SettingsInvalid               permanent: a VODFLEET_* variable's value is refused (`workers.settings`)
    ├── KeyInvalid                    permanent: a user-supplied name cannot become an object key or path
    ├── StorageError                  storage failed; retryable unless a subclass says otherwise
    │   ├── StorageUnavailable        retryable: network, 5xx, throttling, timeouts
    │   ├── ObjectNotFound            permanent: the key does not exist
    │   ├── AccessDenied              permanent: wrong credentials or policy (never retried forever)
    │   ├── PreconditionFailed        permanent for this attempt: a conditional write lost a race
    │   ├── ChecksumMismatch          retryable: bytes were damaged or changed in transit
    │   └── StorageRejected           permanent: the server refused the request as malformed (other 4xx)
    ├── OutputInvalid                 permanent: a local output folder cannot be published as it is
    ├── OptionInvalid                 permanent: a command-line option's value is refused (exit 2)
    │   └── WebhookRefused            permanent: a webhook target resolves to an internal address
    │       └── WebhookUnresolvable   its host does not resolve (refused at submit; retried at send time)
    ├── BrokerUnavailable             retryable: the broker cannot be reached or read (queue depth, demand)
    ├── JobError                      a job cannot proceed (the job store's answers)
    │   ├── JobNotFound               permanent: no job with that id
    │   ├── IllegalTransition         permanent: a state change the state machine (`workers.jobs.state`) forbids
    │   ├── PartMismatch              permanent: this worker cuts a chunked job's title other than its chunk board
    │   ├── LeaseLost                 a write of an attempt that no longer holds its lease, refused (fenced)
    │   └── StoreUnavailable          retryable: the job store (SQLite, Redis) or the webhook outbox is unreachable
    ├── NotAnOutput                   permanent: `vodfleet preview` got no output folder (`workers.preview.errors`)
    └── LibrariesMissing              permanent: the preview's player libraries are not installed (same module)

Errors from `pipelines` (PipelineError) pass through unchanged; both trees share `pipelines.errors.CodedError`.
Third-party exceptions (botocore, kombu, redis, sqlite3, ...) are translated at the boundary with
``raise X(...) from exc``. Every code is in docs/errors.md with what to do, and in `workers.exitcodes` with its exit
code (tests/unit/test_error_codes.py keeps the three in step).
"""

from __future__ import annotations

from pipelines.errors import CodedError


class WorkerError(CodedError):
    code = "worker_error"


class SettingsInvalid(WorkerError):
    """The fleet's settings refused a value (a ``VODFLEET_*`` variable, or a keyword given in code); the message
    names each one, its value and the rule (`workers.settings.EnvironmentModel`)."""

    code = "settings_invalid"


class KeyInvalid(WorkerError):
    code = "key_invalid"


class StorageError(WorkerError):
    code = "storage_error"
    retryable = True


class StorageUnavailable(StorageError):
    code = "storage_unavailable"
    retryable = True


class ObjectNotFound(StorageError):
    code = "object_not_found"
    retryable = False


class AccessDenied(StorageError):
    code = "storage_access_denied"
    retryable = False


class PreconditionFailed(StorageError):
    code = "storage_precondition_failed"
    retryable = False


class ChecksumMismatch(StorageError):
    code = "storage_checksum_mismatch"
    retryable = True


class StorageRejected(StorageError):
    code = "storage_rejected"
    retryable = False


class OutputInvalid(WorkerError):
    code = "output_invalid"


class OptionInvalid(WorkerError):
    """A value given on the command line (or in a setting it stands for) is refused; the message names it."""

    code = "option_invalid"


class WebhookRefused(OptionInvalid):
    """A webhook URL's host resolves to an internal address: `workers.webhooks.target`."""

    code = "webhook_target_refused"


class WebhookUnresolvable(WebhookRefused):
    """A webhook URL's host does not resolve now (a typo at submit time; a DNS outage at send time)."""

    code = "webhook_target_unresolvable"


class BrokerUnavailable(WorkerError):
    """The broker cannot be reached or read now (a server restarting, a wrong URL); ask again later."""

    code = "broker_unavailable"
    retryable = True


class JobError(WorkerError):
    code = "job_error"


class JobNotFound(JobError):
    code = "job_not_found"


class IllegalTransition(JobError):
    code = "illegal_transition"


class PartMismatch(JobError):
    """This worker cuts the title differently from the coordinator (another probe result or build)."""

    code = "chunk_plan_mismatch"
    retryable = False


class LeaseLost(JobError):
    """A state write of an attempt whose lease is another's now (or lapsed) is refused by the store (the lease
    fence, `workers.store.base.Fence`); the delivery kernel drops that attempt: its state is the new owner's."""

    code = "lease_lost"
    retryable = False


class StoreUnavailable(JobError):
    """The job store (or the webhook outbox beside it) cannot be reached now; a task that meets it hands its
    message back to the broker, a lease keeper keeps trying until its lease would lapse."""

    code = "store_unavailable"
    retryable = True
