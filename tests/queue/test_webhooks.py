"""Webhooks from real worker processes to a local HTTP server that fails first (500, then a timeout)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fleetkit import Fleet, make_fleet
from mediagen import make_source

pytestmark = [pytest.mark.queue, pytest.mark.media]
DRAFT = ("--profile", "draft", "--segment-seconds", "2", "--no-quality")
SECRET = "s3cret"


class Receiver(ThreadingHTTPServer):
    def __init__(self, fail_first: list[str]) -> None:
        self.plan = list(fail_first)  # "500" or "timeout" for the first requests, then 204
        self.seen: list[tuple[float, dict[str, str], bytes, str]] = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), Handler)


class Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.server.lock:
            action = self.server.plan.pop(0) if self.server.plan else "ok"
            self.server.seen.append((time.monotonic(), dict(self.headers), body, action))
        if action == "timeout":
            time.sleep(1.5)
        self.send_response(500 if action == "500" else 204)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(["500", "timeout"])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    yield from make_fleet(tmp_path, webhook_timeout="0.5", webhook_backoff_base="0.4", webhook_interval="0.1",
                          webhook_secret=SECRET, webhook_allow="127.0.0.1/32")  # the receiver is local


def test_events_arrive_at_least_once_with_backoff_and_one_idempotency_key(
        fleet: Fleet, receiver: Receiver, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{receiver.server_port}/hook"
    good = make_source(tmp_path / "good.mp4", width=160, height=90, duration=2)
    bad = tmp_path / "bad.mp4"
    bad.write_text("not a video")
    later = make_source(tmp_path / "later.mp4", width=160, height=90, duration=3)
    jobs = {}
    for name, source in (("good", good), ("bad", bad), ("later", later)):
        done = fleet.cli("submit", str(source), *DRAFT, "--webhook", url)
        assert done.returncode == 0, done.stderr
        jobs[name] = done.stdout.split()[0]
    assert fleet.cli("cancel", jobs["later"]).returncode == 0
    fleet.worker()

    expected = {f"{jobs['good']}:published:1", f"{jobs['bad']}:failed:1", f"{jobs['later']}:cancelled:0"}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with receiver.lock:
            accepted = {h["Idempotency-Key"] for _, h, _, a in receiver.seen if a == "ok"}
        if expected <= accepted:
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"events missing: {expected - accepted}\n{fleet.logs()[-3000:]}")

    by_key: dict[str, list[tuple[float, str]]] = {}
    for at, hdrs, body, action in receiver.seen:
        key = hdrs["Idempotency-Key"]
        payload = json.loads(body)
        assert payload["idempotency_key"] == key
        mac = hmac.new(SECRET.encode(), hdrs["X-Vodfleet-Timestamp"].encode() + b"." + body, hashlib.sha256)
        assert hdrs["X-Vodfleet-Signature"] == "sha256=" + mac.hexdigest()
        by_key.setdefault(key, []).append((at, action))
    first = receiver.seen[0][1]["Idempotency-Key"]
    tries = by_key[first]
    assert [a for _, a in tries] == ["500", "timeout", "ok"]  # the same event, retried, same key
    gap1, gap2 = tries[1][0] - tries[0][0], tries[2][0] - tries[1][0]
    assert gap1 >= 0.2 and gap2 >= 0.4 + 0.5 * 0.9, (gap1, gap2)  # backoff grows (plus the 0.5 s timeout)
    failed = next(json.loads(b) for _, h, b, _ in receiver.seen if h["Idempotency-Key"].endswith(":failed:1"))
    assert failed["failure"]["code"]
