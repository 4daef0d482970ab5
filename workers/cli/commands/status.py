"""`vodfleet status JOB`: state, percent and ETA; on failure the code, the reason and what to do."""

from __future__ import annotations

import argparse
import json
from typing import Any

from workers.cli.jobview import block
from workers.errors import JobNotFound
from workers.exitcodes import EXIT_OK
from workers.settings import Settings
from workers.store import open_store


def add_parser(sub: Any) -> None:
    p = sub.add_parser("status", help="show one job")
    p.add_argument("job", help="job id (from `vodfleet submit` or `vodfleet jobs`)")
    p.add_argument("--json", action="store_true", help="print the stored record as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    record = open_store(Settings().store).get(args.job)
    if record is None:
        raise JobNotFound(f"no job {args.job} in the job store", hint="list jobs with `vodfleet jobs`")
    if args.json:
        print(json.dumps(record.model_dump(mode="json"), indent=2))
    else:
        print(block(record))
    return EXIT_OK
