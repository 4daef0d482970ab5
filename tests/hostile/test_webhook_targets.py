"""Webhooks never reach the fleet's own network: a real loopback HTTP listener (IPv4 and IPv6, one port) must
receive nothing for any spelling of an internal target, at job creation (`vodfleet submit`) and at send time
(the real deliverer over a real SQLite store and outbox), unless ``VODFLEET_WEBHOOK_ALLOW`` admits it; the POST
goes to the address that was checked (DNS rebinding)."""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from workers.jobs.spec import JobSpec
from workers.jobs.state import JobRecord, JobState, Transition
from workers.settings import Settings
from workers.store import open_store
from workers.webhooks.deliverer import Deliverer
from workers.webhooks.outbox import ABANDONED, DELIVERED, open_outbox
from workers.webhooks.target import Allowlist, IPAddress, check_target

LOOPBACK_SPELLINGS = ["127.0.0.1", "localhost", "127.1", "2130706433", "0x7f000001", "[::1]", "[::ffff:127.0.0.1]",
                      "0.0.0.0"]
UNREACHABLE_INTERNAL = ["169.254.169.254", "[fe80::1]", "[64:ff9b::7f00:1]", "10.0.0.1"]


class Listener:
    """One port on 127.0.0.1 and [::1]; records every request (path, Host header)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.servers: list[ThreadingHTTPServer] = []
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with listener.lock:
                    listener.seen.append((self.path, self.headers.get("Host", "")))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        class Server6(ThreadingHTTPServer):
            address_family = socket.AF_INET6

        for _ in range(20):
            v4 = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
            try:
                v6 = Server6(("::1", v4.server_port), Handler)
            except OSError:
                v4.server_close()
                continue
            self.servers = [v4, v6]
            break
        else:
            pytest.skip("no port free on both 127.0.0.1 and ::1")
        self.port = self.servers[0].server_port
        for server in self.servers:
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    found = Listener()
    yield found
    found.close()


def _listener_answers(listener: Listener) -> None:
    """The listener is reachable by the plain spellings (else 'received nothing' would prove nothing)."""
    for host in ("127.0.0.1", "::1"):
        with socket.create_connection((host, listener.port), timeout=5) as sock:
            sock.sendall(b"POST /probe HTTP/1.0\r\nContent-Length: 0\r\n\r\n")
            assert sock.recv(64).startswith(b"HTTP/1.0 204")
    with listener.lock:
        assert [path for path, _ in listener.seen] == ["/probe", "/probe"]
        listener.seen.clear()


def _store_published(settings: Settings, urls: list[str]) -> dict[str, str]:
    """One published job per webhook URL in a real SQLite store (as a job made before any check would be);
    returns event id → url."""
    store = open_store(settings.store)
    events = {}
    for n, url in enumerate(urls):
        now = time.time()
        spec = JobSpec(source=f"masters/x/{n}.mp4", output_prefix=f"outputs/{n}", webhook=url)
        record = JobRecord(job_id=f"job-{n:024x}", spec=spec, state=JobState.PUBLISHED, created=now, updated=now,
                           output=f"outputs/{n}/v0001", attempt=1,
                           history=(Transition(state=JobState.QUEUED, at=now, attempt=0),
                                    Transition(state=JobState.PUBLISHED, at=now, attempt=1)))
        store.create(record)
        events[f"{record.job_id}:published:1"] = url
    return events


def _settings(tmp_path: Path, allow: str | None = None) -> Settings:
    return Settings(state_dir=tmp_path / "state", webhook_allow=allow, webhook_timeout=2)


def _deliver(settings: Settings, urls: list[str], **kwargs: object) -> dict[str, tuple[str, str, str]]:
    events = _store_published(settings, urls)
    deliverer = Deliverer(settings, open_store(settings.store), open_outbox(settings.store), **kwargs)  # type: ignore[arg-type]
    deliverer.run_once()
    outbox = open_outbox(settings.store)
    result = {}
    for event_id, url in events.items():
        entry = outbox.get(event_id)
        assert entry is not None
        result[url] = (entry.status, entry.last_error, event_id)
    return result


def test_no_spelling_of_an_internal_target_is_sent_to(listener: Listener, tmp_path: Path) -> None:
    _listener_answers(listener)
    urls = [f"http://{h}:{listener.port}/hook-{n}" for n, h in enumerate(LOOPBACK_SPELLINGS + UNREACHABLE_INTERNAL)]
    outcome = _deliver(_settings(tmp_path), urls)
    time.sleep(0.2)  # a request in flight would have arrived by now
    assert listener.seen == []
    for url, (status, error, _) in outcome.items():
        assert status == ABANDONED, url  # refused at once: a retry would give a rebinding DNS more chances
        assert error.startswith("refused: webhook "), (url, error)


def test_the_allowlist_lets_internal_receivers_have_their_events(listener: Listener, tmp_path: Path) -> None:
    _listener_answers(listener)
    urls = [f"http://{h}:{listener.port}/hook-{n}" for n, h in enumerate(LOOPBACK_SPELLINGS)]
    outcome = _deliver(_settings(tmp_path, "127.0.0.0/8, ::1/128"), urls)
    delivered = {url for url, (status, _, _) in outcome.items() if status == DELIVERED}
    assert delivered == set(urls[:-1])  # 0.0.0.0 is not in the allowlist: still refused
    assert outcome[urls[-1]][0] == ABANDONED
    with listener.lock:
        assert sorted(path for path, _ in listener.seen) == sorted(f"/hook-{n}" for n in range(len(urls) - 1))


def test_the_post_goes_to_the_address_that_was_checked(listener: Listener, tmp_path: Path) -> None:
    """DNS rebinding: a name that resolved to a public address when the job was made resolves to loopback at
    send time: refused, nothing sent. And with the receiver allowed, the connection goes to the checked address,
    not to the name again (``.invalid`` never resolves, RFC 6761), with the name in ``Host``."""
    _listener_answers(listener)
    answers: list[list[IPAddress]] = [[ipaddress.ip_address("93.184.216.34")],
                                      [ipaddress.ip_address("127.0.0.1")]]

    def rebinding(host: str, _port: int) -> list[IPAddress]:
        assert host == "hooks.rebind.invalid"
        return answers.pop(0) if len(answers) > 1 else answers[0]

    url = f"http://hooks.rebind.invalid:{listener.port}/rebind"
    check_target(url, Allowlist(), resolve=rebinding)  # what `submit` saw
    outcome = _deliver(_settings(tmp_path / "a"), [url], resolve=rebinding)
    assert outcome[url][0] == ABANDONED
    assert "127.0.0.1" in outcome[url][1]
    assert listener.seen == []

    def pinned(host: str, _port: int) -> list[IPAddress]:
        return [ipaddress.ip_address("127.0.0.1")] if host == "hooks.pinned.invalid" else []

    url = f"http://hooks.pinned.invalid:{listener.port}/pinned"
    outcome = _deliver(_settings(tmp_path / "b", "127.0.0.0/8"), [url], resolve=pinned)
    assert outcome[url][0] == DELIVERED, outcome[url][1]
    assert listener.seen == [("/pinned", f"hooks.pinned.invalid:{listener.port}")]


def _submit(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VODFLEET_STATE_DIR": str(tmp_path / "state")}
    env.pop("VODFLEET_WEBHOOK_ALLOW", None)
    return subprocess.run([sys.executable, "-m", "workers.cli", "submit", *args], capture_output=True, text=True,
                          env=env, timeout=120, check=False)


@pytest.mark.parametrize("host", ["127.1", "[::ffff:127.0.0.1]", "169.254.169.254"])
def test_submit_refuses_an_internal_webhook_with_exit_2_and_queues_nothing(host: str, tmp_path: Path) -> None:
    source = tmp_path / "ep.mp4"
    source.write_bytes(b"\0" * 1024)
    done = _submit(tmp_path, str(source), "--json", "--webhook", f"http://{host}/hook")
    assert done.returncode == 2, done.stderr
    error = json.loads(done.stdout)["error"]
    assert error["code"] == "webhook_target_refused"
    assert error["message"].startswith("--webhook ")
    assert "VODFLEET_WEBHOOK_ALLOW" in error["hint"]
    with contextlib.suppress(FileNotFoundError):  # nothing uploaded, no job stored
        assert not any((tmp_path / "state" / "storage").rglob("*.mp4"))
    assert not (tmp_path / "state" / "jobs.sqlite").exists()


def test_https_to_the_checked_address_keeps_sni_host_and_the_certificate_check(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pinning the address must not weaken TLS: SNI and Host carry the name, and the certificate is verified
    against the name (a certificate for another name fails the try)."""
    name = "hooks.tls.invalid"
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl not found (apt-get install -y openssl)")
    for cn in (name, "other.invalid"):
        subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={cn}",
                        "-addext", f"subjectAltName=DNS:{cn}", "-keyout", str(tmp_path / f"{cn}.key"),
                        "-out", str(tmp_path / f"{cn}.pem")], check=True, capture_output=True)
    seen: list[tuple[str | None, str]] = []
    server_names: list[str | None] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            seen.append((server_names[-1] if server_names else None, self.headers.get("Host", "")))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    def serve(cn: str) -> ThreadingHTTPServer:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tmp_path / f"{cn}.pem", tmp_path / f"{cn}.key")
        context.sni_callback = lambda _sock, sni, _ctx: server_names.append(sni)  # type: ignore[assignment,misc,return-value]
        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return server

    bundle = tmp_path / "ca.pem"
    bundle.write_bytes((tmp_path / f"{name}.pem").read_bytes() + (tmp_path / "other.invalid.pem").read_bytes())
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))  # both self-signed certificates are trusted

    def table(host: str, _port: int) -> list[IPAddress]:
        return [ipaddress.ip_address("127.0.0.1")] if host == name else []

    for cn, wanted in ((name, DELIVERED), ("other.invalid", "pending")):
        server = serve(cn)
        try:
            url = f"https://{name}:{server.server_port}/tls"
            status, error, _ = _deliver(_settings(tmp_path / cn, "127.0.0.0/8"), [url], resolve=table)[url]
        finally:
            server.shutdown()
            server.server_close()
        assert status == wanted, error
        if wanted == DELIVERED:
            assert seen == [(name, f"{name}:{server.server_port}")]
        else:
            assert "CERTIFICATE_VERIFY_FAILED" in error or "certificate" in error.lower(), error


def test_watch_refuses_an_internal_webhook_before_it_polls(tmp_path: Path) -> None:
    env = {**os.environ, "VODFLEET_STATE_DIR": str(tmp_path / "state")}
    env.pop("VODFLEET_WEBHOOK_ALLOW", None)
    (tmp_path / "drop").mkdir()
    done = subprocess.run([sys.executable, "-m", "workers.cli", "watch", str(tmp_path / "drop"), "--once",
                           "--webhook", "http://0x7f000001:9/hook"], capture_output=True, text=True, env=env,
                          timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    assert "error [webhook_target_refused]: --webhook 'http://0x7f000001:9/hook'" in done.stderr
    assert "watching" not in done.stderr
