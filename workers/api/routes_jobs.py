"""/jobs: submit (idempotent), list, read, cancel, retry. Thin: the work is in intake, jobview and the store."""

from __future__ import annotations

import base64
import time
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from workers.api import idempotency
from workers.api.intake import retry, submit_request
from workers.api.jobview import job_out
from workers.api.problems import RateLimited, RequestInvalid
from workers.api.schemas import ErrorBody, JobOut, JobPage, JobRequest, TokenOut
from workers.api.services import caller, services, submitter, visible_job
from workers.api.tokens import Token
from workers.jobs.state import TERMINAL, JobRecord, JobState
from workers.store.ops import request_cancel

ERRORS: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorBody, "description": what} for status, what in (
        (401, "no token, or an unknown or revoked one"), (403, "the token may not do this"),
        (404, "no such job under the token's prefixes"), (422, "a refused field (error.field names it)"))}
router = APIRouter(tags=["jobs"], responses=ERRORS)
SCAN_LIMIT = 5000  # jobs read per listing (the store lists newest first)


def _spend(request: Request, token: Token) -> None:
    wait = services(request).buckets.take(token.token_id, time.monotonic())
    if wait > 0:
        raise RateLimited(f"token {token.token_id} submitted more than its rate allows",
                          hint=f"retry in {wait:.1f} s (VODFLEET_API_SUBMIT_RATE per minute, "
                               "VODFLEET_API_SUBMIT_BURST at once)", retry_after=wait)


@router.post("/jobs", status_code=201, response_model=JobOut,
             responses={200: {"model": JobOut, "description": "the same job existed (same inputs and spec, or a "
                                                              "replayed Idempotency-Key)"},
                        409: {"model": ErrorBody, "description": "Idempotency-Key reused with another body"},
                        429: {"model": ErrorBody, "description": "submission rate limit (Retry-After)"}})
def create_job(body: JobRequest, request: Request, response: Response, token: Annotated[Token, Depends(submitter)],
               idempotency_key: Annotated[str | None, Header(description="same key + same body → the same job; "
                                                                         "another body → 409")] = None) -> JobOut:
    """Queue a master for the fleet, with the CLI's validation and job id rules (`vodfleet submit`)."""
    fleet = services(request).fleet
    created_now: dict[str, bool] = {}

    def run() -> str:
        _spend(request, token)
        record, created = submit_request(body, token, fleet)
        created_now["created"] = created
        return record.job_id

    if idempotency_key is None:
        job_id, replayed = run(), False
    else:
        outcome = idempotency.once(fleet.storage, token.token_id, idempotency_key, body.model_dump(mode="json"), run)
        job_id, replayed = outcome.job_id, outcome.replayed
        if replayed:
            response.headers["Idempotent-Replayed"] = "true"
    created = created_now.get("created", False) and not replayed
    response.status_code = 201 if created else 200
    response.headers["Location"] = f"/jobs/{job_id}"
    return job_out(visible_job(request, token, job_id), created=created)


def _cursor(created: float, job_id: str) -> str:
    return base64.urlsafe_b64encode(f"{created!r}|{job_id}".encode()).decode()


def _uncursor(text: str) -> tuple[float, str]:
    try:
        created, _, job_id = base64.urlsafe_b64decode(text.encode()).decode().partition("|")
        return float(created), job_id
    except ValueError as exc:
        raise RequestInvalid("cursor is not one this API returned", hint="pass next_cursor as it came",
                             field="query.cursor") from exc


@router.get("/jobs", response_model=JobPage)
def list_jobs(request: Request, token: Annotated[Token, Depends(caller)],
              state: Annotated[JobState | None, Query()] = None,
              prefix: Annotated[str | None, Query(description="only jobs whose output prefix starts here")] = None,
              since: Annotated[float | None, Query(description="updated at or after (Unix s)")] = None,
              until: Annotated[float | None, Query(description="updated before (Unix s)")] = None,
              limit: Annotated[int, Query(ge=1, le=200)] = 50,
              cursor: Annotated[str | None, Query()] = None) -> JobPage:
    """Jobs under the token's prefixes, newest first, `limit` per page."""
    after = _uncursor(cursor) if cursor else None
    wanted = prefix.strip("/") if prefix else None
    page: list[JobRecord] = []
    more = False
    for record in services(request).fleet.store.jobs(state=state, limit=SCAN_LIMIT):
        out = record.spec.output_prefix
        if not token.covers(out) or (wanted and not (out == wanted or out.startswith(wanted + "/"))):
            continue
        if (since is not None and record.updated < since) or (until is not None and record.updated >= until):
            continue
        if after is not None and (record.created, record.job_id) >= after:
            continue
        if len(page) == limit:
            more = True
            break
        page.append(record)
    return JobPage(jobs=[job_out(r) for r in page],
                   next_cursor=_cursor(page[-1].created, page[-1].job_id) if more and page else None)


@router.get("/token", response_model=TokenOut, tags=["tokens"])
def who_am_i(token: Annotated[Token, Depends(caller)]) -> TokenOut:
    """The calling token: its id (not its secret), prefixes and scope (the console shows them after sign-in)."""
    return TokenOut(token_id=token.token_id, prefixes=list(token.prefixes), scope=token.scope, label=token.label)


@router.get("/jobs/{job_id}", response_model=JobOut)
def get_job(job_id: str, request: Request, token: Annotated[Token, Depends(caller)]) -> JobOut:
    """State, percent, ETA, chunks, history; on failure code, message and what to do; where it is published."""
    return job_out(visible_job(request, token, job_id))


@router.post("/jobs/{job_id}/cancel", response_model=JobOut)
def cancel_job(job_id: str, request: Request, token: Annotated[Token, Depends(submitter)]) -> JobOut:
    """Cancel: a queued job at once, a running one within a second (its worker stops ffmpeg). A finished job is
    returned as it is."""
    record = visible_job(request, token, job_id)
    if record.state not in TERMINAL:
        record = request_cancel(services(request).fleet.store, job_id)
    return job_out(record)


@router.post("/jobs/{job_id}/retry", status_code=201, response_model=JobOut,
             responses={429: {"model": ErrorBody, "description": "submission rate limit"}})
def retry_job(job_id: str, request: Request, token: Annotated[Token, Depends(submitter)]) -> JobOut:
    """A failed or cancelled job again, as a new revision (the inputs read again); the new job is returned."""
    record = visible_job(request, token, job_id)
    if record.state not in (JobState.FAILED, JobState.CANCELLED):
        raise RequestInvalid(f"job {job_id} is {record.state}: only failed or cancelled jobs are retried",
                             hint="wait for it to finish, or cancel it first", field="path.job_id")
    _spend(request, token)
    again, created = retry(record, services(request).fleet)
    return job_out(again, created=created)
