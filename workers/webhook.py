"""Webhook delivery (effects): a thread in every worker that fills the outbox from job histories and sends it.

Each pass: (1) the newest jobs with a webhook are read from the store and every event their history makes
(`workers.webhook_event.events_for`) is added to the outbox (create-only: a no-op when it is there), so an
event is never lost to a crash between a transition and its delivery; (2) due events are claimed (one
sender at a time across workers) and POSTed. A 2xx marks the event delivered; anything else (status,
timeout, refused connection, redirect) schedules another try with exponential backoff and jitter, up to
``webhook_max_attempts`` tries, then the event is abandoned (kept in the outbox with its last error).
Delivery is at-least-once: a receiver deduplicates on ``Idempotency-Key``. The encode never waits for it.
"""

from __future__ import annotations

import logging
import threading
import time
import urllib.error
import urllib.request
from typing import Any

from workers.errors import WorkerError
from workers.outbox import ABANDONED, DELIVERED, PENDING, Outbox, OutboxEntry
from workers.settings import Settings
from workers.store import JobStore
from workers.webhook_event import backoff, events_for, headers

log = logging.getLogger(__name__)
SCAN_JOBS = 500  # newest jobs re-read per pass


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None  # a 3xx is an answer we do not follow: the try fails and is retried


_OPENER = urllib.request.build_opener(_NoRedirect)


def post(entry: OutboxEntry, *, timeout: float, secret: bytes | None) -> str:
    """Send one event; return "" on a 2xx, else what went wrong."""
    request = urllib.request.Request(entry.event.url, data=entry.event.body, method="POST",  # noqa: S310 - http(s) only
                                     headers=headers(entry.event, timestamp=str(int(time.time())), secret=secret))
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
    return "" if 200 <= status < 300 else f"HTTP {status}"


class Deliverer:
    def __init__(self, settings: Settings, store: JobStore, outbox: Outbox) -> None:
        self.settings, self.store, self.outbox = settings, store, outbox
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
        error = post(entry, timeout=s.webhook_timeout, secret=self._secret)
        tries = entry.tries + 1
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
