"""`vodfleet cancel JOB`: a queued job is cancelled at once; a running one by its worker (ffmpeg stopped,
partial output removed) within a second. Works on every broker: the flag lives in the state store."""

from __future__ import annotations

import argparse
from typing import Any

from workers.errors import JobNotFound
from workers.exitcodes import EXIT_OK
from workers.jobs.state import TERMINAL
from workers.settings import Settings
from workers.store import open_store
from workers.store.ops import request_cancel


def add_parser(sub: Any) -> None:
    p = sub.add_parser("cancel", help="cancel a job")
    p.add_argument("job")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    store = open_store(Settings().store)
    before = store.get(args.job)
    if before is None:
        raise JobNotFound(f"no job {args.job} in the job store", hint="list jobs with `vodfleet jobs`")
    if before.state in TERMINAL:
        print(f"{args.job} is already {before.state}")
        return EXIT_OK
    after = request_cancel(store, args.job)  # JobNotFound if it vanished meanwhile
    print(f"{args.job}: {'cancelled' if after.state in TERMINAL else 'cancel requested (running)'}")
    return EXIT_OK
