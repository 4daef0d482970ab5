"""GET /events: Server-Sent Events (WHATWG HTML "Server-sent events") of the jobs under the caller's prefixes.

Each event is ``event: job``, ``id: <the job's updated time>``, ``data: <the job as GET /jobs/{id} returns it>``,
sent when a job's state, percent or ETA changes. A client that reconnects with ``Last-Event-ID`` first gets
every job updated at or after that time (so nothing is missed; one may come twice). Without it the stream
starts with the jobs as they are now. A comment line every 15 s keeps proxies from closing it. Authentication
is the Authorization header (the console reads the stream with fetch()), never a token in the URL.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from workers.api.jobview import job_out
from workers.api.schemas import ErrorBody
from workers.api.services import caller, services
from workers.api.tokens import Token
from workers.jobs.state import JobRecord

router = APIRouter(tags=["events"])
SCAN_LIMIT = 500
KEEPALIVE = 15.0


def event_id(record: JobRecord) -> str:
    return f"{record.updated:.6f}"


def frame(record: JobRecord) -> str:
    """One SSE event (pure)."""
    data = json.dumps(job_out(record).model_dump(mode="json"), separators=(",", ":"))
    return f"event: job\nid: {event_id(record)}\ndata: {data}\n\n"


@router.get("/events", responses={
    200: {"description": "text/event-stream of `job` events", "content": {"text/event-stream": {}}},
    401: {"model": ErrorBody, "description": "no token, or an unknown or revoked one"}})
async def events(request: Request, token: Annotated[Token, Depends(caller)],
                 last_event_id: Annotated[str | None, Header()] = None) -> StreamingResponse:
    """Job changes as they happen (resumable with Last-Event-ID)."""
    found = services(request)
    try:
        since = float(last_event_id) if last_event_id else None
    except ValueError:
        since = None

    def scan() -> list[JobRecord]:
        return [r for r in found.fleet.store.jobs(limit=SCAN_LIMIT) if token.covers(r.spec.output_prefix)]

    async def stream() -> AsyncIterator[str]:
        seen: dict[str, tuple[str, float | None, float | None, float]] = {}
        first = True
        quiet_since = time.monotonic()
        yield "retry: 2000\n\n"
        while not await request.is_disconnected():
            records = sorted(await run_in_threadpool(scan), key=lambda r: r.updated)
            for record in records:
                mark = (record.state.value, record.percent, record.eta, record.updated)
                fresh = seen.get(record.job_id) != mark
                seen[record.job_id] = mark
                if first and since is not None and record.updated < since:
                    continue
                if fresh:
                    quiet_since = time.monotonic()
                    yield frame(record)
            first = False
            if time.monotonic() - quiet_since > KEEPALIVE:
                quiet_since = time.monotonic()
                yield ": keep-alive\n\n"
            await asyncio.sleep(found.api.events_interval)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
