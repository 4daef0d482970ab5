"""`vodfleet preview`: serve an output folder on loopback with a page that plays it (hls.js and Shaka Player)."""

from __future__ import annotations

import argparse
import ipaddress
import sys
from pathlib import Path
from typing import Any

from workers.errors import WorkerError
from workers.exitcodes import EXIT_CONFIG, EXIT_OK, EXIT_USAGE
from workers.preview.errors import NotAnOutput
from workers.preview.library import ENV_VAR
from workers.preview.server import address, bind
from workers.preview.site import open_site


def add_parser(sub: Any) -> None:
    pv = sub.add_parser("preview", help="serve an output folder with a page that plays it in real players",
                        description="Serve OUT over HTTP on this machine, with a page (at /_vodfleet/) that plays "
                                    "its HLS with hls.js or Shaka Player and its DASH with Shaka Player, and shows "
                                    "report.json. The player libraries come from `npm ci` (node_modules).")
    pv.add_argument("output", type=Path, metavar="OUT", help="a folder written by `vodfleet transcode`")
    pv.add_argument("--port", type=int, default=8000, help="TCP port (default 8000; 0 picks a free one)")
    pv.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    pv.add_argument("--allow-host", action="append", default=[], metavar="NAME[:PORT]",
                    help="also answer requests for this host name (repeatable); by default only the bound "
                         "address, localhost, 127.0.0.1 and [::1] are answered (421 otherwise: DNS rebinding)")
    pv.add_argument("--node-modules", type=Path, default=None, metavar="DIR",
                    help=f"node_modules with hls.js and shaka-player (default: ${ENV_VAR}, else the checkout's)")
    pv.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        site = open_site(args.output, node_modules=args.node_modules)
    except WorkerError as exc:
        print(f"error [{exc.code}]: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"  what to do: {exc.hint}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, NotAnOutput) else EXIT_CONFIG
    try:
        server = bind(site, host=args.host, port=args.port, allow_hosts=args.allow_host)
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        print("  what to do: pick another port with --port (0 picks a free one)", file=sys.stderr)
        return EXIT_CONFIG
    where = address(server)
    if not _loopback(args.host):
        print(f"warning: listening on {args.host}: other machines can read {site.output}", file=sys.stderr)
    print(f"serving {site.output}", flush=True)
    print(f"player: {where.page}", flush=True)
    print(f"HLS:    {where.url}/master.m3u8   DASH: {where.url}/manifest.mpd   (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM (the CLI maps it) is how a preview ends
        print("stopped", file=sys.stderr)
    finally:
        server.server_close()
    return EXIT_OK


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
