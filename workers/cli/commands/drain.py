"""`vodfleet drain [--pid 1] [--timeout S]`: let a worker finish its running task and exit, before it is removed
(a Kubernetes preStop hook; see `workers.queue.drain`). Exit 0: drained; 130: the timeout passed and the running task
was handed back to the queue."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from workers.exitcodes import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from workers.queue import drain
from workers.settings import Settings


def add_parser(sub: Any) -> None:
    p = sub.add_parser("drain", help="stop a worker taking tasks and let it finish the running one",
                       description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--pid", type=int, default=1, help="the worker's process id (default 1: the container's tini, "
                   "which forwards the signal to the worker)")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the running task (then it "
                   "is handed back); keep under the pod's terminationGracePeriodSeconds")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = Settings()
    try:
        finished = drain.drain(settings.state_dir, args.pid, args.timeout)
    except ProcessLookupError:
        print(f"drain: no process {args.pid}", file=sys.stderr)
        return EXIT_USAGE
    print(f"drain: worker {args.pid} " + ("finished its task and exited" if finished else
                                          f"handed its task back after {args.timeout:g} s"), file=sys.stderr)
    return EXIT_OK if finished else EXIT_INTERRUPTED
