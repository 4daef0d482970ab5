"""Verdict: a list of problems (each naming a rendition/segment and its numbers) → one `CheckResult`."""

from __future__ import annotations

from collections.abc import Sequence

from pipelines.errors import CheckResult

MAX_LISTED = 6  # a failing check names this many problems, then counts the rest


def verdict(name: str, problems: Sequence[str], summary: str) -> CheckResult:
    """Passed iff there are no problems; the detail is the summary, or the problems then the summary."""
    if not problems:
        return CheckResult(name, True, summary)
    shown = "; ".join(problems[:MAX_LISTED])
    rest = len(problems) - MAX_LISTED
    more = f"; and {rest} more" if rest > 0 else ""
    return CheckResult(name, False, f"{shown}{more}" + (f" [{summary}]" if summary else ""))


def failed(name: str, detail: str) -> CheckResult:
    return CheckResult(name, False, detail)


def seconds(value: float) -> str:
    """Seconds as QC details print them: millisecond precision, always with the unit."""
    return f"{value:.3f} s"
