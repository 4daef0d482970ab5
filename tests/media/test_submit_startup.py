"""`vodfleet submit` pays only for what a producer needs (issue 14: 1.7 s per call before any upload): it imports
neither the worker's code, nor the encoder pipeline, nor boto3 for a local storage, nor Celery (it publishes with
kombu, workers.queue.send), nor the planner, nor asyncio (pydantic-settings' import), and it measures the encoder
fingerprint (two ffmpeg runs and dpkg-query) once per ffmpeg build, not per call. Structural checks on a real
submit; the time itself is measured in bench/bench_submit.py (tests never assert wall-clock times)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.encoder import encoder_identity
from pipelines.errors import PipelineError
from pipelines.tools import Tools
from workers.fingerprint import local_cached, measure
from workers.storage import LocalStorage

NOT_FOR_A_PRODUCER = ("workers.queue.tasks", "workers.delivery.job", "workers.delivery.part", "workers.delivery.chunks",
                      "pipelines.transcode", "pipelines.qc", "pipelines.stitch", "pipelines.subtitles", "boto3",
                      "botocore",
                      "workers.cli.commands.worker", "workers.cli.commands.autoscale", "workers.metrics.exporter",
                      "ffmpeg", "pipelines.storyboard", "celery", "pipelines.plan", "pipelines.pertitle.analysis",
                      "asyncio")
PROBE = """
import json, sys
from workers.cli.command import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def test_submit_loads_no_worker_pipeline_or_s3_code(tmp_path: Path) -> None:
    state = tmp_path / "state"
    LocalStorage(state / "storage").put_bytes("masters/ab/ep.mp4", b"\0" * 1024)
    env = {**os.environ, "VODFLEET_STATE_DIR": str(state)}
    done = subprocess.run([sys.executable, "-c", PROBE, "submit", "key:masters/ab/ep.mp4", "--json"],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    job = json.loads("\n".join(lines[:-1]))
    assert job["state"] == "queued" and job["created"] is True
    loaded = json.loads(lines[-1])
    assert loaded["code"] == 0
    assert "workers.cli.commands.submit" in loaded["modules"]
    assert [m for m in loaded["modules"] if m.split(".")[0] in ("boto3", "botocore", "celery")
            or m in NOT_FOR_A_PRODUCER] == []
    queued = list((state / "broker").rglob("*.msg"))
    assert len(queued) == 1  # the job's one message reached the embedded broker (no task registry needed)
    assert json.loads(queued[0].read_text())["headers"]["task"] == "vodfleet.run_job"


def test_the_fingerprint_is_measured_once_per_ffmpeg_build(tmp_path: Path) -> None:
    real = Tools.resolve()
    ffmpeg = tmp_path / "bin" / "ffmpeg"
    ffmpeg.parent.mkdir()
    shutil.copy2(real.ffmpeg, ffmpeg)  # a build of our own, to change under the cache
    tools = Tools(ffmpeg=str(ffmpeg), ffprobe=real.ffprobe)
    cache = tmp_path / "encoder-fingerprint.json"
    first = local_cached(tools, cache).value
    assert first == measure(real).value  # the same binary: the same fingerprint
    ffmpeg.chmod(0o644)  # measuring again would now fail: only the cache can answer
    encoder_identity.cache_clear()  # (not this process's memo of the identity)
    assert local_cached(tools, cache).value == first
    os.utime(ffmpeg, ns=(0, 0))  # another build (mtime, size or inode differ): measured again
    encoder_identity.cache_clear()
    with pytest.raises((OSError, PipelineError)):
        local_cached(tools, cache)
    cache.write_text("{torn", encoding="utf-8")
    ffmpeg.chmod(0o755)
    assert local_cached(tools, cache).value == first  # a torn cache is measured again and rewritten
    assert json.loads(cache.read_text(encoding="utf-8"))["fingerprint"]["fingerprint"] == first
