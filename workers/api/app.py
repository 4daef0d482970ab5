"""The FastAPI application of `vodfleet api`: routers, the JSON error shape, CORS, request metrics, the console.

FastAPI (MIT) on Starlette (BSD-3), served by uvicorn (BSD-3): request and response bodies are the pydantic
models of `workers.api.schemas` (the project's own validation library), and the OpenAPI 3.1 document is generated
from them (checked in as docs/openapi.json; a test keeps the two equal).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException

from pipelines.errors import CodedError
from workers.api import routes_events, routes_jobs, routes_titles, routes_uploads
from workers.api.metrics import RequestMetrics
from workers.api.problems import RateLimited, body_for, status_for
from workers.api.services import Services

CONSOLE_DIR = Path(__file__).resolve().with_name("console")
PREVIEW_DIR = Path(__file__).resolve().parents[1] / "preview" / "static"
VERSION = "1"
DESCRIPTION = """The content team's front door to the vodfleet fleet: submit masters (uploaded directly to S3
through presigned multipart URLs), follow jobs (also as Server-Sent Events), read published titles.
Every call but /healthz and /metrics needs `Authorization: Bearer <token>` (`vodfleet token create`).
Errors are `{"error": {"code", "message", "hint", "retryable", "field"}}` with the stable codes of docs/errors.md."""


def _error(error: CodedError) -> JSONResponse:
    headers = {"Retry-After": str(max(1, round(error.retry_after)))} if isinstance(error, RateLimited) else None
    return JSONResponse(body_for(error), status_code=status_for(error), headers=headers)


async def coded(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CodedError)
    return _error(exc)


async def invalid(_request: Request, exc: Exception) -> Response:
    """pydantic's report → one request_invalid error naming the first refused field (``body.subtitles.0.language``)."""
    assert isinstance(exc, RequestValidationError)
    problems = list(exc.errors())
    first = problems[0] if problems else {"loc": (), "msg": "invalid request"}
    field = ".".join(str(p) for p in first.get("loc", ()))
    message = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}" for e in problems[:5])
    if first.get("type") == "json_invalid":  # FastAPI's loc is ("body", <byte offset>): the body is the field
        loc = tuple(first.get("loc", ()))
        offset = loc[1] if len(loc) > 1 else "?"
        ctx = first.get("ctx")
        reason = ctx.get("error", "") if isinstance(ctx, dict) else ""
        field = "body"
        message = f"the request body is malformed JSON at offset {offset}" + (f": {reason}" if reason else "")
    body = {"error": {"code": "request_invalid", "message": message or "invalid request", "retryable": False,
                      "hint": "fix the named field (the OpenAPI document at /openapi.json describes every one)",
                      "field": field or None}}
    return JSONResponse(body, status_code=422)


async def http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    body = {"error": {"code": code, "message": str(exc.detail), "hint": "see /openapi.json for the API's paths",
                      "retryable": False}}
    return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))


def create_app(services: Services | None, *, origins: list[str] | None = None,
               node_modules: Path | None = None) -> FastAPI:
    """The application; `services` None builds it for its OpenAPI document only (no fleet behind it)."""
    app = FastAPI(title="vodfleet API", version=VERSION, description=DESCRIPTION, docs_url="/docs",
                  redoc_url=None)
    app.state.services = services
    metrics = RequestMetrics()
    app.state.metrics = metrics
    app.middleware("http")(metrics.middleware)
    if origins:
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_credentials=False,
                           allow_methods=["GET", "POST"], allow_headers=["Authorization", "Content-Type",
                                                                        "Idempotency-Key", "Last-Event-ID"],
                           expose_headers=["Location", "Retry-After", "Idempotent-Replayed"], max_age=600)
    app.add_exception_handler(CodedError, coded)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, http_error)
    for module in (routes_jobs, routes_uploads, routes_titles, routes_events):
        app.include_router(module.router)

    @app.get("/healthz", tags=["service"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/metrics", tags=["service"], response_class=Response,
             responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format"}})
    def metrics_text() -> Response:
        """Request counts and latencies (Prometheus text format)."""
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/", include_in_schema=False)
    def home() -> Response:
        return RedirectResponse("/console/")

    _mount_static(app, node_modules)
    return app


def _mount_static(app: FastAPI, node_modules: Path | None) -> None:
    """The console (/console/) and the preview page with its player libraries (/_vodfleet/), both offline."""
    from workers.preview.errors import LibrariesMissing  # noqa: PLC0415 - the preview's table of libraries
    from workers.preview.library import find_libraries  # noqa: PLC0415

    if CONSOLE_DIR.is_dir():
        app.mount("/console", StaticFiles(directory=CONSOLE_DIR, html=True), name="console")
    try:
        libraries = find_libraries(node_modules)
    except LibrariesMissing:
        libraries = {}

    @app.get("/_vodfleet/lib/{name}", include_in_schema=False)
    def library(name: str) -> Response:
        from fastapi.responses import FileResponse  # noqa: PLC0415

        path = libraries.get(name)
        if path is None:
            raise StarletteHTTPException(404, "player library not installed (npm ci)")
        return FileResponse(path, media_type="text/javascript")

    app.mount("/_vodfleet", StaticFiles(directory=PREVIEW_DIR, html=True), name="preview")


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document (pure: no fleet, no I/O beyond reading the app's definition)."""
    return create_app(None).openapi()
