"""`vodfleet jobs [--state S]`: the newest jobs, one line each."""

from __future__ import annotations

import argparse
from typing import Any

from workers.cli.jobview import line
from workers.exitcodes import EXIT_OK
from workers.jobs.state import JobState
from workers.settings import Settings
from workers.store import open_store


def add_parser(sub: Any) -> None:
    p = sub.add_parser("jobs", help="list jobs (newest first)")
    p.add_argument("--state", type=JobState, choices=list(JobState), default=None)
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    for record in open_store(Settings().store).jobs(state=args.state, limit=args.limit):
        print(line(record))
    return EXIT_OK
