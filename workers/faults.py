"""TEST-ONLY fault injection: make a worker die the way a crashing master would make it die.

    VODFLEET_FAULT_KILL_WORKER_AT=encoding    the worker process exits (os._exit, no cleanup, exit status
                                              `EXIT_STATUS`) as soon as a job it runs records that phase

This is how tests/queue/test_failures.py proves that a job which kills its worker every time ends
``failed`` with ``attempts_exhausted`` in the dead-letter queue instead of looping forever. Nothing else
reads the variable; unset (always, outside those tests) `reached` does nothing. Never set it in production.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)

KILL_WORKER_AT = "VODFLEET_FAULT_KILL_WORKER_AT"
EXIT_STATUS = 86


def reached(phase: str) -> None:
    """Called by `workers.runjob` when a job enters `phase`: exit the process if a test asked for it."""
    if os.environ.get(KILL_WORKER_AT) == phase:
        log.error("%s=%s: test fault, the worker process exits now", KILL_WORKER_AT, phase)
        os._exit(EXIT_STATUS)
