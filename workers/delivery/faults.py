"""TEST-ONLY fault injection: make a worker die or misbehave the way a crashing master or a foreign build would.

    VODFLEET_FAULT_KILL_WORKER_AT=encoding    the worker process exits (os._exit, no cleanup, exit status
                                              `EXIT_STATUS`) as soon as a job it runs records that phase
    VODFLEET_FAULT_KILL_WORKER_AT=chunk2      … or as soon as it takes chunk 2 of a chunked job
    VODFLEET_FAULT_KILL_WORKER_AT=taken       … or as soon as it has taken a message off the broker, before it
                                              takes the lease (the message/lease boundary; SIGKILL, `taken`)
    VODFLEET_FAULT_KILL_WORKER_AT=taken-part  … the same for a chunk part's message
    VODFLEET_FAULT_STOP_WORKER_AT=publishing  the worker process stops itself (SIGSTOP, every thread, the lease
                                              keeper too) as soon as a job it runs records that phase; a test
                                              sends SIGCONT once its lease was taken over

    VODFLEET_FAULT_KILL_WORKER_AT=published-media   … or once a publish has uploaded its media phase (a partial
                                              version left in storage)
    VODFLEET_FAULT_FAIL_PUBLISH=1            the first publish of this worker process fails at once with
                                              `storage_unavailable` (after the encode)

    VODFLEET_FAULT_CHUNK_SETTINGS=2          chunk 2 of every chunked job is encoded with other x264 settings
                                              (the H.264 profile flipped), as a worker of another build would

This is how tests/queue/test_failures.py proves that a job which kills its worker every time ends
``failed`` with ``attempts_exhausted`` in the dead-letter queue instead of looping forever, and
tests/queue/test_delivery_faults.py places a SIGKILL, a SIGTERM and a SIGSTOP at the edges of a delivery. Nothing else
reads these variables; unset (always, outside those tests) `reached` and `chunk_plan` do nothing. Never set
them in production.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import signal

from pipelines.plan import EncodePlan
from workers.errors import StorageUnavailable

log = logging.getLogger(__name__)

KILL_WORKER_AT = "VODFLEET_FAULT_KILL_WORKER_AT"
STOP_WORKER_AT = "VODFLEET_FAULT_STOP_WORKER_AT"
CHUNK_SETTINGS = "VODFLEET_FAULT_CHUNK_SETTINGS"
FAIL_PUBLISH = "VODFLEET_FAULT_FAIL_PUBLISH"
_publishes = [0]  # publishes this process started
EXIT_STATUS = 86


def reached(phase: str) -> None:
    """Called when a job enters `phase` (`workers.delivery.job`) or a chunk task starts chunk N (``chunkN``,
    `workers.delivery.part`): exit the process if a test asked for it."""
    if os.environ.get(KILL_WORKER_AT) == phase:
        log.error("%s=%s: test fault, the worker process exits now", KILL_WORKER_AT, phase)
        os._exit(EXIT_STATUS)
    if os.environ.get(STOP_WORKER_AT) == phase:
        log.error("%s=%s: test fault, the worker process stops itself now (SIGSTOP)", STOP_WORKER_AT, phase)
        os.kill(os.getpid(), signal.SIGSTOP)


def taken(kind: str) -> None:
    """Called as soon as a task has a message (``taken`` for a job, ``taken-part`` for a part) and before
    anything else: the worker is SIGKILLed if a test asked for it (the window between the message and the lease)."""
    if os.environ.get(KILL_WORKER_AT) == kind:
        log.error("%s=%s: test fault, the worker is SIGKILLed now", KILL_WORKER_AT, kind)
        os.kill(os.getpid(), signal.SIGKILL)


def publish_starts() -> None:
    """Called as a job's publish starts: raise `StorageUnavailable` if a test asked this publish to fail."""
    _publishes[0] += 1
    failing = os.environ.get(FAIL_PUBLISH, "")
    if failing.isdigit() and _publishes[0] <= int(failing):
        log.error("%s=%s: test fault, publish %d fails", FAIL_PUBLISH, failing, _publishes[0])
        raise StorageUnavailable(f"test fault: publish {_publishes[0]} of this worker fails ({FAIL_PUBLISH})")


def chunk_plan(plan: EncodePlan, index: int) -> EncodePlan:
    """The plan chunk `index` is encoded with: `plan`, unless a test asked for other settings for it."""
    if os.environ.get(CHUNK_SETTINGS) != str(index):
        return plan
    log.error("%s=%d: test fault, this chunk is encoded with other settings", CHUNK_SETTINGS, index)
    return dataclasses.replace(plan, video=tuple(
        dataclasses.replace(r, profile="main" if r.profile == "high" else "high") for r in plan.video))
