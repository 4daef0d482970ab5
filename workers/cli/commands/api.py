"""`vodfleet api`: serve the HTTP API and the web console (uvicorn) over the fleet the settings name."""

from __future__ import annotations

import argparse
from typing import Any

from workers.exitcodes import EXIT_OK


def add_parser(sub: Any) -> None:
    p = sub.add_parser("api", help="serve the HTTP API and the web console",
                       description="Serve the HTTP API (OpenAPI at /openapi.json) and the web console (/console/) "
                                   "over the job store, broker and storage of the VODFLEET_* settings. Stateless: "
                                   "run as many as needed behind a load balancer.")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; 0.0.0.0 in a container)")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    p.add_argument("--root-path", default="", help="path prefix when served behind a proxy under one")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn  # noqa: PLC0415 - the server loads with this command only

    from workers.api.settings import ApiSettings  # noqa: PLC0415
    from workers.settings import Settings  # noqa: PLC0415

    Settings()  # refuse bad settings before a port is opened (the factory reads them again per process)
    ApiSettings()
    uvicorn.run("workers.api.server:application", factory=True, host=args.host, port=args.port,
                workers=args.workers, root_path=args.root_path, proxy_headers=True, server_header=False,
                log_level="info")
    return EXIT_OK
