"""The HTTP front door (`vodfleet api`): routes thin over the submission path, the job store and the storage.

    app.py          create_app(): the FastAPI application (routers, errors, CORS, metrics, the console)
    settings.py     ApiSettings (VODFLEET_API_*)
    problems.py     the API's own error codes and the error → HTTP status table
    tokens.py       API tokens: hashed at rest in the fleet storage, scoped to output prefixes and read|submit
    access.py       the caller behind a request (Authorization: Bearer), and what it may see or write
    ratelimit.py    a token bucket per API token, kept in the job store (shared by replicas)
    idempotency.py  Idempotency-Key records (create-only objects in the fleet storage)
    schemas.py      request and response bodies (the OpenAPI document is generated from them)
    intake.py       a job request → the CLI's JobSpec and `workers.intake.submit.submit` (one submission path)
    jobview.py      a JobRecord → the API's job body (pure)
    multipart.py    direct uploads: presigned S3 multipart URLs (checksum-signed parts), ListParts for resume,
                    completion, expiry of abandoned uploads
    titles.py       published versions of a title, the live one, its report summary, presigned playback URLs
    events.py       Server-Sent Events over the job store (Last-Event-ID resume)
    metrics.py      request metrics for Prometheus
    routes_*.py     the routers; console/ the web console's static files
"""
