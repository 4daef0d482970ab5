"""The delivery kernel's decisions (pure), on tables: an error → a Failure, (failure, attempt, budget) → retry or
give up, a stop reason → what the attempt becomes, and when a delivery is past its budget."""

from __future__ import annotations

import pytest

from pipelines.errors import Cancelled, FFmpegFailed, ScratchError, SourceRejected
from workers.delivery.attempt import (
    GiveUp,
    Retry,
    StopAction,
    after_stop,
    decide,
    exhausted,
    failure_of,
    stopped_by,
)
from workers.delivery.lease import StopReason
from workers.errors import AccessDenied, ObjectNotFound, StorageUnavailable, StoreUnavailable
from workers.jobs.state import Failure


@pytest.mark.parametrize(("error", "code", "retryable", "exit_code"), [
    (SourceRejected("a.mp4", "is truncated", hint="h", code="source_truncated"), "source_truncated", False, 3),
    (FFmpegFailed(["ffmpeg"], 1, "boom"), "ffmpeg_failed", True, 4),
    (ScratchError("disk full"), "scratch_unavailable", True, 6),
    (ObjectNotFound("gone"), "object_not_found", False, 3),
    (AccessDenied("no"), "storage_access_denied", False, 6),
    (StorageUnavailable("later"), "storage_unavailable", True, 4),
    (StoreUnavailable("down"), "store_unavailable", True, 6),
    (RuntimeError("a bug"), "internal_error", True, 4),
])
def test_an_error_becomes_a_failure_with_its_code_and_exit(error: Exception, code: str, retryable: bool,
                                                          exit_code: int) -> None:
    failure = failure_of(error)
    assert (failure.code, failure.retryable, failure.exit_code) == (code, retryable, exit_code)


def _failure(retryable: bool) -> Failure:
    return Failure(code="x", retryable=retryable, message="m")


@pytest.mark.parametrize(("retryable", "attempt", "budget", "expected"), [
    (True, 1, 3, Retry(5.0, _failure(True))),  # attempts left: retried after retry_delay(1)
    (True, 2, 3, Retry(20.0, _failure(True))),
    (True, 3, 3, GiveUp(Failure(code="x", retryable=True, message="m (after 3 attempts)"))),  # the last one
    (True, 5, 3, GiveUp(Failure(code="x", retryable=True, message="m (after 5 attempts)"))),
    (False, 1, 3, GiveUp(_failure(False))),  # permanent: never retried, the message as it is
    (False, 3, 3, GiveUp(_failure(False))),
])
def test_retry_or_give_up(retryable: bool, attempt: int, budget: int, expected: Retry | GiveUp) -> None:
    assert decide(_failure(retryable), attempt, budget) == expected


@pytest.mark.parametrize(("attempt", "budget", "expected"), [(1, 2, False), (2, 2, False), (3, 2, True)])
def test_a_delivery_past_its_budget_is_exhausted(attempt: int, budget: int, expected: bool) -> None:
    assert exhausted(attempt, budget) is expected


@pytest.mark.parametrize(("reason", "expected"), [
    (StopReason.SHUTDOWN, StopAction.HAND_BACK),
    (StopReason.CANCELLED, StopAction.CANCEL),
    (StopReason.LEASE_LOST, StopAction.LOST),
])
def test_a_stop_reason_becomes_an_action(reason: StopReason, expected: StopAction) -> None:
    assert after_stop(reason, Cancelled("stopped"), what="the job", hint="h") is expected


def test_a_time_limit_is_a_retryable_failure_naming_the_unit() -> None:
    action = after_stop(StopReason.TIMEOUT, Cancelled("600 s"), what="chunk 2", hint="raise it")
    assert isinstance(action, Failure)
    assert (action.code, action.retryable, action.hint, action.exit_code) == ("time_limit", True, "raise it", 4)
    assert action.message == "chunk 2 ran past its hard time limit (600 s)"


def test_a_cancel_without_a_reason_is_a_permanent_failure() -> None:
    action = after_stop(None, Cancelled("stopped"), what="the job", hint="h")
    assert isinstance(action, Failure)
    assert (action.code, action.retryable, action.exit_code) == ("cancelled", False, 130)


@pytest.mark.parametrize(("error", "reason", "expected"), [
    (Cancelled("x"), None, True),  # the runner's cancel is always a stop
    (FFmpegFailed(["ffmpeg"], -9, ""), StopReason.SHUTDOWN, True),  # ffmpeg killed because the keeper stopped it
    (FFmpegFailed(["ffmpeg"], 1, ""), None, False),  # a real failure
    (RuntimeError("bug"), StopReason.SHUTDOWN, False),  # a bug stays a bug
])
def test_stopped_by(error: Exception, reason: StopReason | None, expected: bool) -> None:
    assert stopped_by(error, reason) is expected
