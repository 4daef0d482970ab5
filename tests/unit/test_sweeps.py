"""The sweeps' rules (issue 14, hole 5), on tables and on real local parts (SQLite leases, a local bucket, a
scratch folder): storage outages retried by minutes not attempts, dead attempts' scratch, abandoned versions,
the embedded broker's processed files."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from workers.delivery.attempt import GiveUp, Retry, decide
from workers.delivery.outage import outage_attempts, outage_seconds, retry_detail
from workers.delivery.scratch import OWNER_FILE, UNMARKED_GRACE, abandoned, open_scratch, sweep_scratch
from workers.jobs.state import Failure, JobState, Transition
from workers.publish.plan import claim_key, job_key, live_key
from workers.publish.sweep import claim_swept, deletion_order, sweep_versions
from workers.queue.processed import Kept, prune_processed, to_prune
from workers.settings import Settings
from workers.storage import LocalStorage
from workers.store import open_store

BUDGET = 15 * 60.0  # the default VODFLEET_STORAGE_OUTAGE_BUDGET, in seconds


def _outage(code: str = "storage_unavailable") -> Failure:
    return Failure(code=code, retryable=True, message="S3 down")


# --- storage outages: minutes, not attempts --------------------------------------------------------------------

@pytest.mark.parametrize(("code", "attempt", "budget", "outage", "expected"), [
    ("storage_unavailable", 1, 3, 0.0, Retry(5.0, _outage())),  # first failure of an outage: 5 s
    ("storage_unavailable", 3, 3, 30.0, Retry(30.0, _outage())),  # attempts spent: an outage still retries
    ("storage_unavailable", 9, 3, 200.0, Retry(60.0, _outage())),  # backoff capped at 60 s
    ("store_unavailable", 5, 3, 60.0, Retry(60.0, _outage("store_unavailable"))),
    ("storage_unavailable", 2, 3, BUDGET, GiveUp(Failure(
        code="storage_unavailable", retryable=True,
        message="S3 down (storage outage of 15.0 min, past the budget of 15 min)"))),
])
def test_an_outage_is_retried_until_its_budget_in_minutes(code: str, attempt: int, budget: int, outage: float,
                                                          expected: Retry | GiveUp) -> None:
    assert decide(_outage(code), attempt, budget, outage=outage, outage_budget=BUDGET) == expected


def test_without_an_outage_time_the_attempts_decide() -> None:
    assert decide(_outage(), 3, 3) == GiveUp(Failure(code="storage_unavailable", retryable=True,
                                                     message="S3 down (after 3 attempts)"))
    assert decide(_outage(), 3, 3, outage=None, outage_budget=BUDGET) == decide(_outage(), 3, 3)


def _t(state: str, at: float, attempt: int, detail: str = "") -> Transition:
    return Transition(state=JobState(state), at=at, attempt=attempt, detail=detail)


def test_the_outage_began_at_the_first_of_the_trailing_outage_retries() -> None:
    history = (
        _t("queued", 0, 0), _t("fetching", 1, 1), _t("queued", 2, 1, retry_detail("ffmpeg_failed", 5)),
        _t("fetching", 10, 2), _t("publishing", 20, 2), _t("queued", 25, 2, retry_detail("storage_unavailable", 5)),
        _t("fetching", 30, 3), _t("publishing", 31, 3), _t("queued", 40, 3, retry_detail("storage_unavailable", 10)),
        _t("fetching", 50, 4), _t("publishing", 51, 4),
    )
    assert outage_seconds(history, "storage_unavailable", now=100.0) == 75.0  # since t=25
    assert outage_seconds(history[:5], "storage_unavailable", now=100.0) == 0.0  # the first failure
    assert outage_seconds(history, "ffmpeg_failed", now=100.0) is None
    assert outage_attempts(history) == 2  # added to the attempt budget
    lost = (*history, _t("queued", 60, 4, "lease expired (worker lost during attempt 4); requeued"))
    assert outage_seconds(lost, "storage_unavailable", now=100.0) == 0.0  # another requeue ends the run


# --- scratch of dead attempts ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("owner", "age", "leases", "expected"), [
    (("job-a", "h:1:x"), 5.0, {"job-a": "h:1:x"}, False),  # its lease is live: a running attempt
    (("job-a", "h:1:x"), 5.0, {"job-a": "h:2:y"}, True),  # another owner holds it now: this one is dead
    (("job-a", "h:1:x"), 5.0, {}, True),  # no live lease
    (None, 5.0, {}, False),  # no marker yet: too young to judge
    (None, UNMARKED_GRACE + 1, {}, True),
])
def test_which_scratch_folders_are_abandoned(owner: tuple[str, str] | None, age: float, leases: dict[str, str],
                                             expected: bool) -> None:
    assert abandoned(owner, age, leases) is expected


def test_sweep_scratch_removes_only_folders_without_a_live_lease(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'jobs.sqlite'}")
    root = tmp_path / "scratch"
    assert store.acquire("job-live", "host:1:aa", 60)
    live = open_scratch(root, "vodfleet-job-job-live-", lease_id="job-live", owner="host:1:aa", attempt=1)
    assert store.acquire("job-dead", "host:2:bb", 0.01)
    dead = open_scratch(root, "vodfleet-job-job-dead-", lease_id="job-dead", owner="host:2:bb", attempt=2)
    (dead / "in").mkdir()
    (dead / "in" / "master.mp4").write_bytes(b"x" * 1000)
    young = root / "vodfleet-job-job-new-a1-zz"
    young.mkdir()
    other = root / "masters"
    other.mkdir()
    time.sleep(0.05)
    assert dead.name.startswith("vodfleet-job-job-dead-a2-")
    assert json.loads((dead / OWNER_FILE).read_text())["owner"] == "host:2:bb"
    assert sweep_scratch(store, root) == [dead.name]
    assert live.is_dir() and young.is_dir() and other.is_dir() and not dead.exists()


# --- abandoned versions ----------------------------------------------------------------------------------------

def test_deletion_goes_masters_first_then_playlists_then_media() -> None:
    assert deletion_order(["video/720p/seg_00001.m4s", "video/720p/index.m3u8", "master.m3u8", "manifest.mpd"]) == [
        "manifest.mpd", "master.m3u8", "video/720p/index.m3u8", "video/720p/seg_00001.m4s"]


def _claim(storage: LocalStorage, version: str, job: str, attempt: int, age: float) -> None:
    at = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - age))
    storage.put_bytes(claim_key("t/ep1", version), json.dumps(
        {"version": version, "job_id": job, "attempt": attempt, "token": "x", "claimed_at": at}).encode())


def test_sweep_versions_takes_only_old_uncommitted_versions_not_publishing(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "bucket")
    for version, job, attempt, age in [("v0001", "j1", 1, 7200), ("v0002", "j1", 2, 7200),
                                       ("v0003", "j2", 1, 7200), ("v0004", "j3", 1, 10)]:
        _claim(storage, version, job, attempt, age)
        storage.put_bytes(f"t/ep1/{version}/video/720p/seg_00001.m4s", b"m")
        storage.put_bytes(f"t/ep1/{version}/video/720p/index.m3u8", b"p")
    storage.put_bytes("t/ep1/v0002/master.m3u8", b"#EXTM3U")
    storage.put_bytes(job_key("t/ep1", "j1"), json.dumps({"version": "v0002"}).encode())
    storage.put_bytes(live_key("t/ep1"), json.dumps({"version": "v0002"}).encode())

    def publishing(job: str, attempt: int) -> bool:
        return (job, attempt) == ("j2", 1)  # j2's attempt 1 is uploading under a live lease

    assert sweep_versions(storage, "t/ep1", now=time.time(), grace=3600, publishing=publishing) == ["v0001"]
    assert [i.key for i in storage.list("t/ep1/v0001/")] == []
    for kept in ("v0002", "v0003", "v0004"):  # committed and live; publishing now; younger than the grace
        assert len(list(storage.list(f"t/ep1/{kept}/"))) >= 2, kept
    assert claim_swept(storage, "t/ep1", "v0001") and not claim_swept(storage, "t/ep1", "v0003")
    assert sweep_versions(storage, "t/ep1", now=time.time(), grace=3600, publishing=publishing) == []  # once


# --- the embedded broker's processed files ---------------------------------------------------------------------

def test_processed_files_are_kept_by_age_and_count() -> None:
    files = [Kept(f"m{n}", mtime=1000.0 - n * 10) for n in range(6)]  # m0 newest, m5 oldest
    assert to_prune(files, now=1000.0, keep_seconds=35, keep_at_most=100) == ["m4", "m5"]
    assert to_prune(files, now=1000.0, keep_seconds=3600, keep_at_most=2) == ["m2", "m3", "m4", "m5"]
    assert to_prune(files, now=1000.0, keep_seconds=3600, keep_at_most=0) == [f"m{n}" for n in range(6)]


def test_prune_processed_on_the_embedded_brokers_folder(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, broker_processed_keep=60, broker_processed_max=2)
    folder = tmp_path / "broker" / "processed"
    folder.mkdir(parents=True)
    now = time.time()
    for n in range(5):
        path = folder / f"msg{n}.vodfleet.jobs.msg"
        path.write_text("{}")
        os.utime(path, (now - n, now - n))
    assert prune_processed(settings, now=now) == 3
    assert sorted(p.name for p in folder.iterdir()) == ["msg0.vodfleet.jobs.msg", "msg1.vodfleet.jobs.msg"]
    assert prune_processed(Settings(state_dir=tmp_path, broker_url="redis://localhost:6379/0"), now=now) == 0
