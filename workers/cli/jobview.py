"""How a job looks to a person: one line for `vodfleet jobs`, a block for `status` (pure)."""

from __future__ import annotations

import time

from workers.cli.console import format_eta
from workers.jobs.state import JobRecord, JobState


def progress_text(record: JobRecord) -> str:
    chunks = f" chunks {record.chunks.chunks_done}/{record.chunks.count}" if record.chunks is not None else ""
    if record.state is JobState.ENCODING and record.percent is not None:
        return f"encoding {record.percent:5.1f}%  ETA {format_eta(record.eta)}{chunks}"
    return record.state.value + (chunks if record.state is JobState.ENCODING else "")


def line(record: JobRecord, *, now: float | None = None) -> str:
    age = (now or time.time()) - record.updated
    source = record.spec.source.rsplit("/", 1)[-1]
    return f"{record.job_id}  {progress_text(record):<32} attempt {record.attempt}  {age:6.0f}s ago  {source}"


def block(record: JobRecord) -> str:
    lines = [f"job      {record.job_id}",
             f"state    {progress_text(record)}",
             f"source   {record.spec.source}",
             f"attempt  {record.attempt}",
             f"updated  {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(record.updated))}"]
    if record.output:
        lines.append(f"output   {record.output}")
    if record.chunks is not None:
        lines.append(f"chunks   {record.chunks.summary()}")
        lines += [f"  {p.name:<10} {p.start:9.3f}–{p.end:9.3f} s  {p.state.value:<8} attempt {p.attempts}"
                  + (f"  {p.seconds:.1f} s" if p.seconds is not None else "") + (f"  {p.owner}" if p.owner else "")
                  for p in record.chunks.parts]
    if record.failure:
        f = record.failure
        label = "error   " if record.state is JobState.FAILED else "last err"
        lines.append(f"{label} [{f.code}] {f.message}" + ("" if record.state is JobState.FAILED
                                                          else " (will be retried)" if f.retryable else ""))
        if f.hint:
            lines.append(f"what to do: {f.hint}")
    if record.cancel_requested and record.state is not JobState.CANCELLED:
        lines.append("cancel   requested; the worker stops within a second")
    lines.append("history")
    lines += [f"  {time.strftime('%H:%M:%S', time.localtime(t.at))}  {t.state.value:<10} attempt {t.attempt}"
              + (f"  {t.detail}" if t.detail else "") for t in record.history]
    return "\n".join(lines)
