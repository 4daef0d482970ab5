"""`vodfleet worker`: run a Celery worker (this process) that transcodes jobs from the queue.

Pool: ``solo`` for one job at a time (the default), ``threads`` for more. ffmpeg already uses every
core for one job, so a worker runs one job and a fleet scales by worker processes (containers). Both
pools run the job inside this process: ffmpeg is our direct child (it dies with us: PDEATHSIG), SIGTERM
reaches the running job at once (ffmpeg stopped, scratch removed, message handed back) unless `vodfleet drain`
asked the worker to finish it first (`workers.queue.drain`), and there is no fork of a process holding broker and store
connections. Prefork would add a pool child between the
signal and ffmpeg and needs Celery's remote terminate to cancel.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
from typing import Any

from celery import signals

from pipelines.errors import ConfigError
from pipelines.tools import Tools
from workers.delivery.sweep import Sweeper
from workers.delivery.watchdog import Watchdog
from workers.errors import BrokerUnavailable
from workers.fingerprint import local as local_fingerprint
from workers.jobs.state import JobRecord
from workers.metrics.worker import initialise_labels, serve_worker_metrics
from workers.queue import drain, routing
from workers.queue.app import fleet_app, prepare
from workers.queue.control import register_control
from workers.queue.depth import queue_depth
from workers.queue.names import JOBS_QUEUE
from workers.queue.send import enqueue, enqueue_part
from workers.queue.tasks import register, worker_context
from workers.settings import Settings
from workers.webhooks.deliverer import Deliverer
from workers.webhooks.outbox import open_outbox

log = logging.getLogger(__name__)


def add_parser(sub: Any) -> None:
    p = sub.add_parser("worker", help="run a worker that transcodes queued jobs",
                       description="Consume jobs from the queue and transcode them (Ctrl-C/SIGTERM: the running "
                                   "job is stopped and handed back to the queue). Settings: VODFLEET_* variables.")
    p.add_argument("--queues", default=None, help="comma-separated queues to consume (default: this encoder's "
                   f"queue, vodfleet.jobs.<fingerprint>, and {JOBS_QUEUE}); another encoder's queue is refused")
    p.add_argument("--concurrency", type=int, default=None, help="jobs at once (default VODFLEET_CONCURRENCY or 1)")
    p.add_argument("--no-watchdog", action="store_true", help="do not requeue jobs whose worker vanished")
    p.add_argument("--loglevel", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    overrides = {"concurrency": args.concurrency} if args.concurrency else {}
    settings = Settings(**overrides)
    prepare(settings)
    own = local_fingerprint(Tools.resolve())  # this worker's encoder: it consumes only that encoder's jobs
    queues = [q.strip() for q in args.queues.split(",") if q.strip()] if args.queues else routing.worker_queues(own)
    if foreign := routing.foreign_queues(queues, own):
        raise ConfigError(f"queues {', '.join(foreign)} belong to another encoder (this one is {own.value})",
                          hint="drop --queues, or run the image of that encoder (vodfleet doctor)")
    app = fleet_app(settings, own)
    register_control(own)
    context = worker_context(app)
    register(app, context)

    drain.clear(settings.state_dir)  # a flag left by an earlier run must not keep this one from handing back

    def on_shutdown(**_kwargs: object) -> None:  # from Celery's SIGTERM/SIGINT handler, in this process
        context.stopping.set()  # drain or not: no new attempt starts here (a message taken now goes back)
        if drain.requested(settings.state_dir):  # `vodfleet drain`: warm shutdown, the running task finishes
            log.warning("worker %s: draining: no new task; the running one finishes", context.owner)
            return
        context.shutdown.set()

    signals.worker_shutting_down.connect(on_shutdown, weak=False)
    sweeper = Sweeper(context.store, context.storage, settings)
    try:  # what dead attempts on this scratch volume and storage left (README "Sweeps"); then every interval
        swept = sweeper()
        if any(swept.values()):  # only news is logged: an idle fleet's start stays quiet
            log.warning("worker %s: swept at start: %s", context.owner, swept)
    except Exception:  # a sweep must never keep a worker from starting
        log.exception("worker %s: sweep at start failed", context.owner)
    watchdog = None
    if not args.no_watchdog:
        def requeue(record: JobRecord) -> object:
            return enqueue(app, record)

        def requeue_part(record: JobRecord, index: int) -> object:
            return enqueue_part(app, record, index)

        def queue_idle(record: JobRecord) -> bool:  # no message waits in the job's queue (a lost one is re-sent)
            try:
                [depth] = queue_depth(settings, [routing.queue_for(record.encoder)])
            except BrokerUnavailable:
                return False  # cannot tell now: next sweep
            return depth.waiting == 0

        watchdog = Watchdog(context.store, requeue, settings.watchdog_interval, enqueue_part=requeue_part,
                            stitch_after=max(30.0, 4 * settings.lease_ttl),
                            lost_after=settings.lost_message_after, queue_idle=queue_idle,
                            also=sweeper).start()
    initialise_labels()  # every failure/retry code at 0 before the first scrape (see workers.metrics.worker)
    if settings.metrics_port is not None:
        serve_worker_metrics(settings.metrics_port)
    deliverer = Deliverer(settings, context.store, open_outbox(settings.store)).start()
    concurrency = settings.concurrency
    worker = app.celery.Worker(
        hostname=f"vodfleet-{os.getpid()}@{socket.gethostname()}", pool="solo" if concurrency == 1 else "threads",
        concurrency=concurrency, queues=queues,
        loglevel=args.loglevel, without_mingle=True, without_gossip=True, without_heartbeat=True,
        optimization="fair")
    log.warning("worker %s: encoder %s, queues %s, broker %s, store %s, storage %s", context.owner, own.value,
                ",".join(queues), settings.broker, settings.store, settings.storage)
    try:
        worker.start()
    finally:
        if watchdog is not None:
            watchdog.stop()
        deliverer.stop()
        context.store.close()
        app.close()  # the senders' broker connection (retries, parts, resends)
    return int(worker.exitcode or 0)
