"""Canaries: a loopback HTTP server and a FIFO that record whoever reaches them."""

from __future__ import annotations

import errno
import http.server
import os
import threading
import time
from pathlib import Path


class Recorder(http.server.ThreadingHTTPServer):
    """Counts every TCP connection, HTTP or not, before any parsing."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.connections = 0
        self.paths: list[str] = []

    def verify_request(self, request: object, client_address: object) -> bool:
        self.connections += 1
        return True


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        assert isinstance(self.server, Recorder)
        self.server.paths.append(self.path)
        body = b"#EXTM3U\n"  # whatever a naive client gets, it got *something*
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass


class Canary:
    """Loopback HTTP server plus a FIFO: both record whoever reaches them."""

    def __init__(self, server: Recorder, fifo: Path) -> None:
        self.server = server
        self.fifo = fifo
        self.fifo_opens = 0
        self._stop = threading.Event()
        self._watcher = threading.Thread(target=self._watch_fifo, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def hits(self) -> int:
        return self.server.connections + self.fifo_opens

    def _watch_fifo(self) -> None:
        # Opening a FIFO's write end without blocking succeeds only while someone holds the read end.
        while not self._stop.is_set():
            try:
                fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:
                if exc.errno != errno.ENXIO:
                    raise
                time.sleep(0.005)
                continue
            self.fifo_opens += 1
            os.close(fd)  # the reader sees end of file
            time.sleep(0.05)

    def start(self) -> None:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self._watcher.start()

    def stop(self) -> None:
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()
        self._watcher.join(timeout=2)
