"""`vodfleet submit` as a new user and a script see it, on the embedded defaults (file-system broker, SQLite store,
a local folder as the bucket): nothing but the job id on a clean run, `--json` for scripts (the job, its state,
where it is published, or the error with its stable code), a refused option before anything is uploaded, and
a bad master's error naming the file as submitted, never the worker's scratch copy."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import m3u8
import pytest
from fleetkit import Fleet, vodfleet_argv
from mediagen import make_loudness_master, make_source
from test_fleet import status

pytestmark = [pytest.mark.queue, pytest.mark.media]
DRAFT = ("--profile", "draft", "--segment-seconds", "2", "--no-quality")


@pytest.fixture(scope="module")
def small_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_source(tmp_path_factory.mktemp("submit-src") / "small.mp4", width=320, height=180, duration=4)


def uploaded(fleet: Fleet) -> list[Path]:
    return sorted(p for p in (fleet.state / "storage").rglob("*") if p.is_file())


def test_a_clean_submit_prints_the_job_id_and_nothing_else(embedded_fleet: Fleet, small_source: Path) -> None:
    """No kombu "No hostname was supplied" warning (the embedded broker's URL names its host), nothing on
    stderr at all."""
    done = embedded_fleet.cli("submit", str(small_source), *DRAFT)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    [job] = done.stdout.splitlines()
    assert status(embedded_fleet, job)["state"] == "queued"


def test_json_gives_the_job_then_where_it_was_published(embedded_fleet: Fleet, small_source: Path) -> None:
    queued = embedded_fleet.cli("submit", str(small_source), *DRAFT, "--json")
    assert queued.returncode == 0, queued.stderr
    first = json.loads(queued.stdout)
    assert first == {"job_id": first["job_id"], "state": "queued", "created": True, "output": None, "error": None}

    embedded_fleet.worker()
    done = embedded_fleet.cli("submit", str(small_source), *DRAFT, "--json", "--wait", timeout=240)
    assert done.returncode == 0, done.stderr + embedded_fleet.logs()[-3000:]
    result = json.loads(done.stdout)  # stdout is the JSON object alone; progress went to stderr
    assert result["job_id"] == first["job_id"] and result["created"] is False
    assert result["state"] == "published" and result["error"] is None
    assert result["output"] == status(embedded_fleet, first["job_id"])["output"]
    master = m3u8.load(str(Path(result["output"].removeprefix("file://")) / "master.m3u8"))
    assert master.is_variant and master.playlists
    assert "published" in done.stderr


def test_a_chunk_count_too_large_is_refused_before_the_upload(embedded_fleet: Fleet, small_source: Path) -> None:
    """The worker's planning check, run by submit on the local master: same code, message and exit code as the
    job would have failed with, no job, nothing uploaded. With --json the error is the JSON object."""
    done = embedded_fleet.cli("submit", str(small_source), *DRAFT, "--chunks", "2")
    assert done.returncode == 6, done.stdout + done.stderr
    assert "error [config_invalid]: 2 chunks of a 4.000 s title would make chunk 0 shorter than 8 s" in done.stderr
    assert "fewer chunks" in done.stderr
    assert done.stdout == ""
    as_json = embedded_fleet.cli("submit", str(small_source), *DRAFT, "--chunks", "2", "--json")
    assert as_json.returncode == 6
    error = json.loads(as_json.stdout)["error"]
    assert error["code"] == "config_invalid" and "2 chunks" in error["message"] and error["hint"]
    assert uploaded(embedded_fleet) == []
    assert embedded_fleet.cli("jobs").stdout.strip() == ""


def test_a_silent_master_is_refused_before_the_upload(embedded_fleet: Fleet, tmp_path: Path) -> None:
    """A local master whose audio is silent, with loudness normalisation (the default): submit measures its audio
    (integrated loudness only) and fails at once with the worker's own `audio_silent` (exit 3), no job, nothing
    uploaded; with --loudness off the same master is queued."""
    silent = make_loudness_master(tmp_path / "silent-episode.mov", lufs=None)
    done = embedded_fleet.cli("submit", str(silent), *DRAFT, "--json")
    assert done.returncode == 3, done.stdout + done.stderr
    error = json.loads(done.stdout)["error"]
    assert error["code"] == "audio_silent" and "silent-episode.mov" in error["message"]
    assert "is silent" in error["message"] and "--loudness off" in error["hint"]
    assert uploaded(embedded_fleet) == []
    assert embedded_fleet.cli("jobs").stdout.strip() == ""
    queued = embedded_fleet.cli("submit", str(silent), *DRAFT, "--loudness", "off")
    assert queued.returncode == 0, queued.stderr
    assert [p.name for p in uploaded(embedded_fleet)] == ["silent-episode.mov"]


def test_a_bad_master_fails_naming_the_file_as_submitted(embedded_fleet: Fleet, tmp_path: Path) -> None:
    """The worker probes its scratch copy; the stored failure, `status` and `submit --json` name the master by its
    key in the fleet storage (what `key:` takes back), never the worker's scratch path."""
    corrupt = tmp_path / "corrupt-episode.mp4"
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 64)
    embedded_fleet.worker()
    done = embedded_fleet.cli("submit", str(corrupt), *DRAFT, "--wait", "--json", timeout=120)
    assert done.returncode == 3, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["state"] == "failed" and result["output"] is None
    error = result["error"]
    assert error["code"].startswith("source_") and error["exit_code"] == 3 and not error["retryable"]
    key = status(embedded_fleet, result["job_id"])["spec"]["source"]  # type: ignore[index]
    assert key.startswith("masters/") and key.endswith("/corrupt-episode.mp4")
    assert error["message"].startswith(f"{key}: ")
    scratch = str(embedded_fleet.state / "scratch")
    assert scratch not in error["message"] and scratch not in done.stderr
    assert status(embedded_fleet, result["job_id"])["failure"] == error


def test_a_submit_whose_send_failed_is_completed_by_submitting_again(embedded_fleet: Fleet, small_source: Path) -> None:
    """The broker is down: the job is stored but its message is not sent; submit says so (broker_unavailable,
    retryable, exit 6) instead of a traceback. Submitting again while it is still down fails the same way (never
    "already submitted" with exit 0 for a job nobody will run); once the broker is back, the same command sends
    the job's message, and a worker publishes it."""
    down = {**embedded_fleet.env, "VODFLEET_BROKER_URL": "redis://127.0.0.1:9/0"}  # nothing listens on port 9
    argv = vodfleet_argv("submit", str(small_source), *DRAFT, "--output-prefix", "outputs/resent", "--json")
    for _ in range(2):
        failed = subprocess.run(argv, env=down, capture_output=True, text=True, timeout=120, check=False)
        assert failed.returncode == 6, failed.stdout + failed.stderr
        error = json.loads(failed.stdout)["error"]
        assert error["code"] == "broker_unavailable" and error["retryable"] is True
        assert "redis://127.0.0.1:9/0" in error["message"] and "VODFLEET_BROKER_URL" in error["hint"]
        assert "Traceback" not in failed.stderr
    assert not list((embedded_fleet.state / "broker").rglob("*.msg"))  # nothing reached the embedded broker

    again = embedded_fleet.cli("submit", str(small_source), *DRAFT, "--output-prefix", "outputs/resent", "--json")
    assert again.returncode == 0, again.stderr
    job = json.loads(again.stdout)
    assert job["created"] is False and job["state"] == "queued"
    assert "its message was sent again" in again.stderr
    [message] = (embedded_fleet.state / "broker").rglob("*.msg")
    assert json.loads(message.read_text("utf-8"))["headers"]["argsrepr"] == repr([job["job_id"]])
    embedded_fleet.worker()
    deadline = time.monotonic() + 180
    while status(embedded_fleet, job["job_id"])["state"] != "published" and time.monotonic() < deadline:
        time.sleep(0.5)
    assert status(embedded_fleet, job["job_id"])["state"] == "published", embedded_fleet.logs()[-3000:]
