"""The preview's HTTP server: stdlib ThreadingHTTPServer, GET and HEAD, single byte ranges (206), no listings.

Only requests whose ``Host`` names this server are answered (421 otherwise: `workers.preview.host`).
`bind` opens the socket; `running` serves on a background thread for as long as a ``with`` block lasts
(tests, and anything embedding a preview); the CLI calls `bind` then ``serve_forever``.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BufferedIOBase

from workers.preview.byterange import RangeNotSatisfiable, parse_range
from workers.preview.host import host_allowed, own_hosts
from workers.preview.mime import content_type
from workers.preview.route import PAGE_URL, Redirect, Refuse, SendFile, resolve
from workers.preview.site import Site

log = logging.getLogger(__name__)
CHUNK = 64 * 1024


class PreviewHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    site: Site
    hosts: frozenset[str]  # the Host values it answers (`workers.preview.host`)

    def handle_error(self, request: object, client_address: object) -> None:
        # A player aborting a request (seek, rendition switch) resets the connection; that is not an error.
        log.debug("request from %s ended early", client_address, exc_info=True)


class PreviewHTTPServer6(PreviewHTTPServer):
    address_family = socket.AF_INET6


class PreviewHandler(BaseHTTPRequestHandler):
    server: PreviewHTTPServer
    server_version = "vodfleet-preview"
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the stdlib's parameter name)
        log.debug("%s " + format, self.address_string(), *args)

    def _answer(self, *, send_body: bool) -> None:
        host = self.headers.get("Host")
        if not host:
            self.send_error(HTTPStatus.BAD_REQUEST, "a Host header is required")
            return
        if not host_allowed(host, self.server.hosts):  # DNS rebinding: another site's name for this address
            self.send_error(HTTPStatus.MISDIRECTED_REQUEST, "this preview answers only its own host names "
                            "(add one with vodfleet preview --allow-host NAME)")
            return
        route = resolve(self.path, self.server.site)
        if isinstance(route, Redirect):
            self.send_response(HTTPStatus.FOUND)
            self.send_header("Location", route.location)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif isinstance(route, Refuse):
            self.send_error(route.status, route.reason)
        else:
            self._send_file(route, send_body=send_body)

    def _send_file(self, route: SendFile, *, send_body: bool) -> None:
        try:
            handle = route.path.open("rb")
        except OSError:
            self.send_error(HTTPStatus.NOT_FOUND, "cannot read the file")
            return
        with handle:
            size = os.fstat(handle.fileno()).st_size
            try:
                byte_range = parse_range(self.headers.get("Range"), size)
            except RangeNotSatisfiable:
                self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            start, length = (0, size) if byte_range is None else (byte_range.start, byte_range.length)
            self.send_response(HTTPStatus.OK if byte_range is None else HTTPStatus.PARTIAL_CONTENT)
            self.send_header("Content-Type", content_type(route.path.name))
            self.send_header("Content-Length", str(length))
            self.send_header("Accept-Ranges", "bytes")
            if byte_range is not None:
                self.send_header("Content-Range", byte_range.content_range(size))
            self.send_header("Cache-Control", "no-cache")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            if send_body:
                _copy(handle, self.wfile, start, length)


def _copy(source: BufferedIOBase, sink: BufferedIOBase, start: int, length: int) -> None:
    source.seek(start)
    while length > 0:
        chunk = source.read(min(CHUNK, length))
        if not chunk:
            break  # the file shrank under us; the client sees a short body
        sink.write(chunk)
        length -= len(chunk)


@dataclass(frozen=True)
class Address:
    host: str
    port: int

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def page(self) -> str:
        return self.url + PAGE_URL


def bind(site: Site, *, host: str = "127.0.0.1", port: int = 0,
         allow_hosts: Sequence[str] = ()) -> PreviewHTTPServer:
    """Open the listening socket (port 0: any free port); raises OSError if the port is taken.
    It answers requests whose ``Host`` is its own (`workers.preview.host`) or one of `allow_hosts`."""
    cls = PreviewHTTPServer6 if ":" in host else PreviewHTTPServer
    server = cls((host, port), PreviewHandler)
    server.site = site
    server.hosts = own_hosts(host, int(server.server_address[1]), allow_hosts)
    return server


def address(server: PreviewHTTPServer) -> Address:
    host, port = server.server_address[:2]
    return Address(str(host), int(port))


@contextmanager
def running(site: Site, *, host: str = "127.0.0.1", port: int = 0,
            allow_hosts: Sequence[str] = ()) -> Iterator[Address]:
    """Serve `site` on a background thread while the block runs; stopped and closed on exit."""
    server = bind(site, host=host, port=port, allow_hosts=allow_hosts)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="vodfleet-preview",
                              daemon=True)
    thread.start()
    try:
        yield address(server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
