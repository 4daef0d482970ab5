"""`vodfleet worker`: run a Celery worker (this process) that transcodes jobs from the queue.

Pool: ``solo`` for one job at a time (the default), ``threads`` for more. ffmpeg already uses every
core for one job, so a worker runs one job and a fleet scales by worker processes (containers). Both
pools run the job inside this process: ffmpeg is our direct child (it dies with us: PDEATHSIG), SIGTERM
reaches the running job at once (ffmpeg stopped, scratch removed, message handed back), and there is
no fork of a process holding broker and store connections. Prefork would add a pool child between the
signal and ffmpeg and needs Celery's remote terminate to cancel.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
from pathlib import Path
from typing import Any

from celery import signals  # type: ignore[import-untyped]

from workers.app import JOBS_QUEUE, broker_folders, create_app
from workers.dispatch import enqueue
from workers.jobstate import JobRecord
from workers.settings import Settings
from workers.tasks import build_context
from workers.watchdog import Watchdog

log = logging.getLogger(__name__)


def add_parser(sub: Any) -> None:
    p = sub.add_parser("worker", help="run a worker that transcodes queued jobs",
                       description="Consume jobs from the queue and transcode them (Ctrl-C/SIGTERM: the running "
                                   "job is stopped and handed back to the queue). Settings: VODFLEET_* variables.")
    p.add_argument("--queues", default=JOBS_QUEUE, help=f"comma-separated queues to consume (default {JOBS_QUEUE})")
    p.add_argument("--concurrency", type=int, default=None, help="jobs at once (default VODFLEET_CONCURRENCY or 1)")
    p.add_argument("--no-watchdog", action="store_true", help="do not requeue jobs whose worker vanished")
    p.add_argument("--loglevel", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p.set_defaults(func=run)


def prepare(settings: Settings) -> None:
    """Create the local folders the settings point at (state, embedded broker, scratch)."""
    for folder in (settings.state_dir, settings.scratch, *map(Path, broker_folders(settings))):
        folder.mkdir(parents=True, exist_ok=True)


def run(args: argparse.Namespace) -> int:
    overrides = {"concurrency": args.concurrency} if args.concurrency else {}
    settings = Settings(**overrides)
    prepare(settings)
    app = create_app(settings)
    context = build_context(app)

    def on_shutdown(**_kwargs: object) -> None:  # from Celery's SIGTERM/SIGINT handler, in this process
        context.shutdown.set()

    signals.worker_shutting_down.connect(on_shutdown, weak=False)
    watchdog = None
    if not args.no_watchdog:
        def requeue(record: JobRecord) -> object:
            return enqueue(app, record)
        watchdog = Watchdog(context.store, requeue, settings.watchdog_interval).start()
    concurrency = settings.concurrency
    worker = app.Worker(
        hostname=f"vodfleet-{os.getpid()}@{socket.gethostname()}", pool="solo" if concurrency == 1 else "threads",
        concurrency=concurrency, queues=[q.strip() for q in args.queues.split(",") if q.strip()],
        loglevel=args.loglevel, without_mingle=True, without_gossip=True, without_heartbeat=True,
        optimization="fair")
    log.warning("worker %s: broker %s, store %s, storage %s", context.owner, settings.broker, settings.store,
                settings.storage)
    try:
        worker.start()
    finally:
        if watchdog is not None:
            watchdog.stop()
        context.store.close()
    return int(worker.exitcode or 0)
