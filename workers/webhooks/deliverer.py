"""Webhook delivery (effects): a thread in every worker that fills the outbox from job histories and sends it.

Each pass: (1) the newest jobs with a webhook are read from the store and every event their history makes
(`workers.webhooks.event.events_for`) is added to the outbox (create-only: a no-op when it is there), so an
event is never lost to a crash between a transition and its delivery; (2) due events are claimed (one
sender at a time across workers) and POSTed. A 2xx marks the event delivered; anything else (status,
timeout, refused connection, redirect) schedules another try with exponential backoff and jitter, up to
``webhook_max_attempts`` tries, then the event is abandoned (kept in the outbox with its last error).
Before each try the target is resolved and checked again (`workers.webhooks.target`) and the POST goes to the
checked address; a target that is internal now is abandoned at once, nothing sent. No HTTP proxy is used.
Delivery is at-least-once: a receiver deduplicates on ``Idempotency-Key``. The encode never waits for it.
"""

from __future__ import annotations

import functools
import http.client
import logging
import socket
import ssl
import threading
import time

from workers.errors import WebhookRefused, WebhookUnresolvable, WorkerError
from workers.settings import Settings
from workers.store.base import JobStore
from workers.webhooks.event import backoff, events_for, headers
from workers.webhooks.outbox import ABANDONED, DELIVERED, PENDING, Outbox, OutboxEntry
from workers.webhooks.target import Allowlist, IPAddress, Resolver, Target, check_target, system_resolver

log = logging.getLogger(__name__)
SCAN_JOBS = 500  # newest jobs re-read per pass


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked addresses, never to the name again; Host stays the name."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._create_connection = functools.partial(_connect, target.addresses)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As `_PinnedHTTPConnection`, over TLS: SNI and the certificate check use the name."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
        self._create_connection = functools.partial(_connect, target.addresses)


def _connect(addresses: tuple[IPAddress, ...], address: tuple[str, int], timeout: float | None = None,
             source_address: tuple[str, int] | None = None) -> socket.socket:
    """`socket.create_connection` over the checked addresses in order (the name in `address` is not looked up)."""
    error: OSError | None = None
    for ip in addresses:
        try:
            return socket.create_connection((str(ip), address[1]), timeout, source_address)
        except OSError as exc:
            error = exc
    raise error or OSError(f"no address to connect to for {address[0]}")


def post(entry: OutboxEntry, *, timeout: float, secret: bytes | None, allow: Allowlist,
         resolve: Resolver = system_resolver) -> str:
    """Send one event; return "" on a 2xx, else what went wrong (a 3xx is an answer we do not follow).

    Raises WebhookRefused when the target now resolves to an internal address (`workers.webhooks.target`): the
    connection goes to the addresses just checked, so a DNS answer that changes after the check is not used."""
    try:
        target = check_target(entry.event.url, allow, resolve=resolve)
    except WebhookUnresolvable as exc:  # a DNS outage is a failed try like any other
        return exc.message
    kind = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = kind(target, timeout)
    try:
        connection.request("POST", target.path, body=entry.event.body,
                           headers=headers(entry.event, timestamp=str(int(time.time())), secret=secret))
        status = connection.getresponse().status
    except (OSError, http.client.HTTPException) as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        connection.close()
    return "" if 200 <= status < 300 else f"HTTP {status}"


class Deliverer:
    def __init__(self, settings: Settings, store: JobStore, outbox: Outbox, *,
                 resolve: Resolver = system_resolver) -> None:
        self.settings, self.store, self.outbox = settings, store, outbox
        self._allow = Allowlist.parse(settings.webhook_allow)
        self._resolve = resolve  # host → addresses; the C library's unless a caller brings its own table
        secret = settings.webhook_secret
        self._secret = secret.get_secret_value().encode() if secret else None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="vodfleet-webhooks", daemon=True)

    def start(self) -> Deliverer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except WorkerError as exc:
                log.warning("webhooks: %s", exc)
            except Exception:  # the store or broker hiccups: keep the thread alive
                log.exception("webhooks: pass failed")
            self._stop.wait(self.settings.webhook_interval)

    def run_once(self) -> int:
        """One pass (fill, then send what is due); return how many tries were made."""
        now = time.time()
        for record in self.store.jobs(limit=SCAN_JOBS):
            for event in events_for(record):
                if self.outbox.add(event, now=now):
                    log.info("webhooks: queued %s", event.event_id)
        tries = 0
        for event_id in self.outbox.due(time.time()):
            if self._stop.is_set():
                break
            lease = time.time() + self.settings.webhook_timeout + 30
            entry = self.outbox.claim(event_id, time.time(), lease)
            if entry is None:
                continue  # another worker took it
            tries += 1
            self._send(entry)
        return tries

    def _send(self, entry: OutboxEntry) -> None:
        s = self.settings
        tries = entry.tries + 1
        try:
            error = post(entry, timeout=s.webhook_timeout, secret=self._secret, allow=self._allow,
                         resolve=self._resolve)
        except WebhookRefused as exc:  # internal now (DNS rebinding, or a job from before the check): never sent
            log.warning("webhooks: %s refused: %s", entry.event.event_id, exc.message)
            self.outbox.finish(entry.event.event_id, status=ABANDONED, tries=tries, next_at=time.time(),
                               error=f"refused: {exc.message}")
            return
        if not error:
            self.outbox.finish(entry.event.event_id, status=DELIVERED, tries=tries, next_at=time.time(),
                               delivered_at=time.time())
            return
        if tries >= s.webhook_max_attempts:
            log.warning("webhooks: %s abandoned after %d tries: %s", entry.event.event_id, tries, error)
            self.outbox.finish(entry.event.event_id, status=ABANDONED, tries=tries, next_at=time.time(), error=error)
            return
        delay = backoff(tries, base=s.webhook_backoff_base, cap=s.webhook_backoff_max)
        log.info("webhooks: %s try %d failed (%s); next in %.1f s", entry.event.event_id, tries, error, delay)
        self.outbox.finish(entry.event.event_id, status=PENDING, tries=tries, next_at=time.time() + delay,
                           error=error)
