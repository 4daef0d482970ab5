"""One error tree and one error → exit-code table for the whole fleet, kept in step with docs/errors.md:
every code raised in `workers/` is documented, every documented code has its exit code in `workers.exitcodes`
(in the same order, with the same number in the docs' exit column), and every error class is drawn in its tree."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

import workers.errors
from pipelines.errors import CodedError
from workers.errors import (
    BrokerUnavailable,
    IllegalTransition,
    JobNotFound,
    ObjectNotFound,
    PartMismatch,
    StoreUnavailable,
    WorkerError,
)
from workers.exitcodes import CODES, EXIT_INPUT_REJECTED, exit_code, exit_for
from workers.metrics.worker import ERROR_CODES
from workers.preview.errors import LibrariesMissing, NotAnOutput

ROOT = Path(__file__).resolve().parents[2]
DOCS = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
ROW = re.compile(r"^\| `([a-z][a-z0-9_]*)` \| ([^|]+) \| (yes|no) \| (\d+) \|", re.MULTILINE)
# The HTTP API's own codes (docs/errors.md "The HTTP API"): answered as HTTP statuses, never an exit code.
API_ROW = re.compile(r"^\| `([a-z][a-z0-9_]*)` \| ([^|]+) \| (yes|no) \| (?!\d+ \|)", re.MULTILINE)
RAISED = re.compile(r'\bcode(?:\s*:\s*str)?\s*=\s*"([a-z][a-z0-9_]*)"')


def test_every_code_raised_in_workers_is_documented() -> None:
    documented = {code for code, *_ in ROW.findall(DOCS)} | {code for code, *_ in API_ROW.findall(DOCS)}
    raised = {code for path in (ROOT / "workers").rglob("*.py")
              for code in RAISED.findall(path.read_text(encoding="utf-8"))}
    assert raised, "the scan found nothing"
    assert sorted(raised - documented) == []


def test_the_exit_table_is_the_docs_table() -> None:
    rows = ROW.findall(DOCS)
    assert [code for code, *_ in rows] == list(CODES)
    assert {code: int(exit_) for code, _cls, _retry, exit_ in rows} == CODES


def test_the_metrics_label_set_is_the_table() -> None:
    assert tuple(CODES) == ERROR_CODES


def _classes() -> list[type[CodedError]]:
    found = [c for _, c in inspect.getmembers(workers.errors, inspect.isclass) if issubclass(c, WorkerError)]
    return [*found, NotAnOutput, LibrariesMissing]


@pytest.mark.parametrize("cls", _classes(), ids=lambda c: c.__name__)
def test_every_error_class_is_drawn_in_the_tree_and_documented(cls: type[CodedError]) -> None:
    drawn = re.search(rf"^    (?:[│ ]   )*(?:[├└]── )?{cls.__name__}\b", workers.errors.__doc__ or "", re.MULTILINE)
    assert drawn, f"draw {cls.__name__} in the tree"
    rows = {code: (klass.strip(), retry == "yes") for code, klass, retry, _ in ROW.findall(DOCS)}
    assert cls.code in rows, f"document {cls.code}"
    assert rows[cls.code] == (cls.__name__, cls.retryable), f"docs/errors.md's row of {cls.code}"


def test_unreachable_store_and_broker_are_retryable_classes() -> None:
    assert StoreUnavailable.retryable and BrokerUnavailable.retryable
    assert not JobNotFound.retryable and not IllegalTransition.retryable and not PartMismatch.retryable


def test_a_missing_master_exits_alike_from_submit_and_from_the_fleet() -> None:
    """`submit` exits with exit_code(error); a fleet job stores failure_of(error).exit_code (`submit --wait`)."""
    from workers.delivery.attempt import failure_of

    missing = ObjectNotFound("s3://media/masters/ep1.mp4 does not exist")
    assert exit_code(missing) == failure_of(missing).exit_code == exit_for("object_not_found") == EXIT_INPUT_REJECTED
