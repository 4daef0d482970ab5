"""Split-and-stitch in the fleet: one episode, chunk tasks on two `vodfleet worker` processes, Redis as broker and
store, SeaweedFS as the fleet's S3 storage. What is checked is what was published (re-read from S3 and measured
with ffprobe), the job's record (who ran which chunk, when, how often), and what is left behind (nothing).
"""

from __future__ import annotations

import json
import secrets
import signal
import subprocess
import time
from functools import partial
from pathlib import Path
from typing import Any

import m3u8
import psutil
import pytest
from fleet.seaweed_server import SeaweedServer
from fleetkit import Fleet, RedisServer, fresh_db, make_fleet, s3_settings
from mediagen import make_source
from test_failures import broker_messages
from test_fleet import status, wait_for
from test_s3_jobs import dash_references, hls_references, missing

from workers.delivery.faults import EXIT_STATUS, KILL_WORKER_AT
from workers.publish.protocol import read_live
from workers.queue.names import DEAD_QUEUE
from workers.storage import S3Storage

pytestmark = [pytest.mark.queue, pytest.mark.media, pytest.mark.fleet]
CHUNKED = ("--profile", "draft", "--segment-seconds", "2", "--no-quality", "--chunks", "4")
FPS = 25
SECONDS = 36  # 18 segments of 2 s → chunks of 5, 5, 4, 4 segments (10, 10, 8, 8 s: none under the 8 s minimum)


@pytest.fixture(scope="module")
def episode(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """640x360: two video rungs (234p, 360p) and one audio track."""
    return make_source(tmp_path_factory.mktemp("chunked") / "episode.mp4", width=640, height=360, duration=SECONDS)


@pytest.fixture(scope="module")
def big_episode(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1280x720: five rungs, so a chunk runs long enough to be killed in the middle."""
    return make_source(tmp_path_factory.mktemp("chunked-big") / "episode.mp4", width=1280, height=720,
                       duration=SECONDS)


def parts(record: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {int(p["index"]): p for p in record["chunks"]["parts"]}


def job_in_state(fleet: Fleet, job: str, state: str) -> bool:
    return status(fleet, job)["state"] == state


def job_ended(fleet: Fleet, job: str) -> bool:
    return status(fleet, job)["state"] in ("published", "failed", "cancelled")


def owner_pid(part: dict[str, Any]) -> int:
    return int(str(part["owner"]).split(":")[1])


def work_objects(storage: S3Storage) -> list[str]:
    return [info.key for info in storage.list("_chunks/")]


def report_of(storage: S3Storage, prefix: str) -> dict[str, Any]:
    live = read_live(storage, prefix)
    assert live is not None, f"nothing published under {prefix}"
    result: dict[str, Any] = json.loads(storage.get_bytes(f"{prefix}/{live.version}/report.json"))
    return result


def frames_of(storage: S3Storage, folder: str, scratch: Path) -> int:
    """Join a published rung (init + segments, from S3) and count its frames with ffprobe."""
    joined = scratch / (folder.replace("/", "_") + ".mp4")
    keys = sorted(info.key for info in storage.list(folder + "/") if info.key.endswith((".mp4", ".m4s")))
    init = [k for k in keys if k.endswith("init.mp4")]
    with joined.open("wb") as out:
        for key in init + [k for k in keys if k.endswith(".m4s")]:
            out.write(storage.get_bytes(key))
    done = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                           "stream=nb_read_frames", "-of", "csv=p=0", str(joined)],
                          capture_output=True, text=True, check=True, timeout=120)
    return int(done.stdout.strip())


def published_prefix(fleet: Fleet, name: str) -> str:
    return f"outputs/{name}"


def test_two_workers_encode_the_chunks_in_parallel_and_publish_a_seamless_ladder(
        s3_fleet: tuple[Fleet, S3Storage], episode: Path, tmp_path: Path) -> None:
    fleet, storage = s3_fleet
    a, b = fleet.worker(name="a"), fleet.worker(name="b")
    done = fleet.cli("submit", str(episode), *CHUNKED, "--wait", timeout=300)
    assert done.returncode == 0, done.stderr + fleet.logs()[-6000:]
    job = done.stdout.splitlines()[0]
    record = status(fleet, job)
    assert record["state"] == "published"

    # the record: 4 chunks + the audio, each run once, by both workers, at the same time
    board = record["chunks"]
    assert board["count"] == 4
    by_index = parts(record)
    assert sorted(by_index) == [-1, 0, 1, 2, 3]
    assert [(p["start"], p["end"]) for i, p in sorted(by_index.items()) if i >= 0] == [
        (0.0, 10.0), (10.0, 20.0), (20.0, 28.0), (28.0, 36.0)]
    assert all(p["state"] == "done" and p["attempts"] == 1 for p in by_index.values()), by_index
    assert {owner_pid(p) for p in by_index.values()} == {a.pid, b.pid}
    overlapping = [(x["index"], y["index"]) for x in by_index.values() for y in by_index.values()
                   if owner_pid(x) != owner_pid(y) and x["began"] < y["ended"] and y["began"] < x["ended"]]
    assert overlapping, f"no two parts ran at the same time on the two workers: {by_index}"
    details = [str(t["detail"]) for t in record["history"]]
    assert any("4 chunks" in d for d in details), details
    states = [t["state"] for t in record["history"]]
    assert states[-4:] == ["packaging", "qc", "publishing", "published"]

    # the output: every QC rule of a whole-file encode plus the stitch checks passed, measured again here
    prefix = published_prefix(fleet, "episode")
    report = report_of(storage, prefix)
    assert report["status"] == "passed"
    names = {c["name"] for c in report["qc"]["checks"]}
    for rung in ("234p", "360p"):
        assert {f"stitch.{rung}.init", f"stitch.{rung}.joins", f"stitch.{rung}.decode"} <= names
    assert all(c["passed"] for c in report["qc"]["checks"])
    assert report["chunks"]["count"] == 4
    # the audio part normalised the title's audio once (default ebu-r128), the stitch measured it again
    assert report["loudness"]["preset"] == "ebu-r128"
    for track in report["loudness"]["tracks"]:
        assert track["mode"] == "linear"
        assert track["output"]["integrated_lufs"] == pytest.approx(-23.0, abs=1.0)
        assert track["output"]["true_peak_dbtp"] <= -1.0
    assert all(c["seconds"] for c in report["chunks"]["chunks"])
    wall = max(p["ended"] for p in by_index.values()) - board["dispatched"]
    assert report["speed"]["encode_seconds"] == pytest.approx(wall, abs=0.01)  # the chunks' wall, not the stitch's
    assert report["speed"]["x_realtime"] == pytest.approx(SECONDS / wall, rel=0.01)
    live = read_live(storage, prefix)
    assert live is not None
    base = f"{prefix}/{live.version}"
    _renditions, keys = hls_references(storage, f"{base}/master.m3u8")
    assert not missing(storage, keys)
    # thumbnails for the whole title, made by the stitch task: 36 s at one tile every 2 s
    assert report["thumbnails"]["storyboard"]["tiles"] == report["thumbnails"]["storyboard"]["expected_tiles"] == 18
    assert not missing(storage, {f"{base}/{name}" for name in ("poster.jpg", "thumbnails/sprite_0001.jpg",
                                                                "thumbnails/thumbnails.vtt", "thumbnails/index.m3u8")})
    _ids, dash_keys = dash_references(storage, f"{base}/manifest.mpd")
    assert not missing(storage, dash_keys)
    for rung in ("234p", "360p"):
        playlist = m3u8.loads(storage.get_bytes(f"{base}/video/{rung}/index.m3u8").decode())
        assert len(playlist.segments) == SECONDS // 2
        assert sum(s.duration for s in playlist.segments) == pytest.approx(SECONDS, abs=1 / FPS)
        assert frames_of(storage, f"{base}/video/{rung}", tmp_path) == SECONDS * FPS

    # nothing left behind: no chunk objects, no cached masters on either worker
    assert work_objects(storage) == []
    masters = fleet.state / "scratch" / "masters"
    wait_for(lambda: not any(masters.iterdir()) if masters.is_dir() else True, 10, "cached masters to go", fleet)
    shown = fleet.cli("status", job)
    assert "chunks 4/4 done" in shown.stdout


def live_ffmpegs(pid: int) -> list[tuple[psutil.Process, str]]:
    """(process, command line) of every ffmpeg under `pid` that is running now (one that just exited, a zombie
    not reaped yet, or vanished between listing and reading is not)."""
    found = []
    for child in psutil.Process(pid).children(recursive=True):
        try:
            if child.name() == "ffmpeg" and child.status() != psutil.STATUS_ZOMBIE:
                found.append((child, " ".join(child.cmdline())))
        except psutil.Error:
            continue
    return found


def alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _running_chunk_of(fleet: Fleet, job: str, pid: int) -> dict[str, Any] | None:
    """A video chunk `pid` is encoding right now (its ffmpeg is running), or None."""
    record = status(fleet, job)
    if record.get("chunks") is None:
        return None
    for part in parts(record).values():
        mine = part["index"] >= 0 and part["state"] == "running" and owner_pid(part) == pid
        if mine and any(f"vodfleet-part-{job}-{part['index']}-" in cmdline for _, cmdline in live_ffmpegs(pid)):
            return part
    return None


def wait_mid_chunk(fleet: Fleet, job: str, pid: int) -> dict[str, Any]:
    """Wait until worker `pid` encodes a video chunk of `job`; return that part."""
    found: list[dict[str, Any]] = []

    def mid_chunk() -> bool:
        part = _running_chunk_of(fleet, job, pid)
        found.extend([part] if part is not None else [])
        return part is not None

    wait_for(mid_chunk, 120, f"worker {pid} to be encoding a chunk", fleet)
    return found[-1]


def test_a_worker_killed_mid_chunk_costs_only_that_chunk(s3_fleet: tuple[Fleet, S3Storage], big_episode: Path
                                                         ) -> None:
    fleet, storage = s3_fleet
    a = fleet.worker(name="a")
    job = fleet.cli("submit", str(big_episode), *CHUNKED).stdout.strip()
    b = fleet.worker(name="b")
    victim = wait_mid_chunk(fleet, job, a.pid)["index"]
    time.sleep(0.5)  # into the middle of it
    a_ffmpegs = [process for process, _ in live_ffmpegs(a.pid)]
    a.send_signal(signal.SIGKILL)
    a.wait(10)
    wait_for(lambda: not any(alive(p) for p in a_ffmpegs), 5,
             "worker a's ffmpeg to die with it", fleet)
    wait_for(lambda: status(fleet, job)["state"] == "published", 300, "the job to publish on worker b", fleet)
    record = status(fleet, job)
    by_index = parts(record)
    assert by_index[victim]["attempts"] == 2, by_index
    assert owner_pid(by_index[victim]) == b.pid
    others = {i: p["attempts"] for i, p in by_index.items() if i != victim}
    assert set(others.values()) == {1}, f"a part other than the killed chunk {victim} ran again: {others}"
    assert record["attempt"] == 2  # the job itself: planned once, stitched once
    report = report_of(storage, published_prefix(fleet, "episode"))
    assert report["status"] == "passed"
    assert all(c["passed"] for c in report["qc"]["checks"])
    assert work_objects(storage) == []


def test_a_chunk_from_other_encoder_settings_fails_the_stitch_and_publishes_nothing(
        s3_fleet: tuple[Fleet, S3Storage], episode: Path) -> None:
    fleet, storage = s3_fleet
    fleet.env["VODFLEET_FAULT_CHUNK_SETTINGS"] = "2"  # test hook (workers.delivery.faults): chunk 2, another profile
    fleet.worker(name="a")
    fleet.worker(name="b")
    done = fleet.cli("submit", str(episode), *CHUNKED, "--wait", timeout=300)
    assert done.returncode == 5, done.stdout + done.stderr + fleet.logs()[-4000:]  # QC failed
    job = done.stdout.splitlines()[0]
    record = status(fleet, job)
    assert record["state"] == "failed"
    failure = record["failure"]
    assert failure["code"] == "qc_failed"
    assert "stitch.234p.init" in failure["message"] and "stitch.360p.init" in failure["message"]
    assert "chunk 2" in failure["message"]
    assert "nothing was published" in failure["hint"]
    assert read_live(storage, published_prefix(fleet, "episode")) is None
    assert [i.key for i in storage.list("outputs/") if i.key.endswith((".m3u8", ".mpd"))] == []
    assert work_objects(storage) == []


def test_cancel_stops_the_running_chunks_and_sends_no_more(s3_fleet: tuple[Fleet, S3Storage], big_episode: Path
                                                           ) -> None:
    fleet, storage = s3_fleet
    a = fleet.worker(name="a")
    job = fleet.cli("submit", str(big_episode), *CHUNKED).stdout.strip()
    wait_for(lambda: _running_chunk_of(fleet, job, a.pid) is not None, 120, "a chunk to be encoding", fleet)
    cancelled = fleet.cli("cancel", job)
    assert cancelled.returncode == 0, cancelled.stderr
    assert "cancelled" in cancelled.stdout
    record = status(fleet, job)
    assert record["state"] == "cancelled"  # at once: the chunk tasks stop on their own
    wait_for(lambda: not live_ffmpegs(a.pid), 5, "the running chunk's ffmpeg to stop", fleet)
    wait_for(lambda: work_objects(storage) == [], 15, "the chunk objects to be removed", fleet)
    time.sleep(2)  # the queued parts are delivered now and must not start
    after = parts(status(fleet, job))
    assert not [p for p in after.values() if p["began"] and p["began"] > float(record["updated"])], after
    assert read_live(storage, published_prefix(fleet, "episode")) is None
    assert not any((fleet.state / "scratch").glob("vodfleet-part-*"))


@pytest.fixture(scope="module")
def small_episode(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_source(tmp_path_factory.mktemp("chunked-small") / "small.mp4", width=320, height=180, duration=32)


@pytest.mark.parametrize("broker", ["embedded", "rabbitmq"])
def test_chunked_jobs_run_on_every_broker(tmp_path: Path, request: pytest.FixtureRequest, redis_url: str,
                                          broker: str, small_episode: Path) -> None:
    """The join needs no result backend: the embedded default (file-system broker, SQLite store, local storage)
    and RabbitMQ run the same chunk tasks and stitch."""
    settings = {} if broker == "embedded" else {"broker_url": request.getfixturevalue("amqp_url"),
                                                "store_url": fresh_db(redis_url, 14)}
    for fleet in make_fleet(tmp_path, **settings):
        fleet.worker()
        done = fleet.cli("submit", str(small_episode), *CHUNKED, "--wait", timeout=300)
        assert done.returncode == 0, done.stderr + fleet.logs()[-4000:]
        record = status(fleet, done.stdout.splitlines()[0])
        assert record["chunks"]["count"] == 4
        assert all(p["state"] == "done" and p["attempts"] == 1 for p in record["chunks"]["parts"])
        output = Path(str(record["output"]).removeprefix("file://"))
        report = json.loads((output / "report.json").read_text())
        assert report["status"] == "passed" and report["chunks"]["count"] == 4
        work = fleet.state / "storage" / "_chunks"
        assert not work.exists() or not any(work.rglob("*.m4s"))


def test_sigterm_mid_chunk_hands_only_that_chunk_back(s3_fleet: tuple[Fleet, S3Storage], big_episode: Path) -> None:
    fleet, storage = s3_fleet
    a = fleet.worker(name="a")
    job = fleet.cli("submit", str(big_episode), *CHUNKED).stdout.strip()
    victim = wait_mid_chunk(fleet, job, a.pid)["index"]
    stopped = time.monotonic()
    a.send_signal(signal.SIGTERM)
    a.wait(15)
    assert time.monotonic() - stopped < 10
    part = parts(status(fleet, job))[victim]
    assert (part["state"], part["attempts"]) == ("queued", 1)
    assert not any((fleet.state / "scratch").glob("vodfleet-part-*"))
    b = fleet.worker(name="b")  # no lease lapsed: only the message handed back can bring the chunk to b
    wait_for(lambda: status(fleet, job)["state"] == "published", 300, "the job to publish on worker b", fleet)
    by_index = parts(status(fleet, job))
    assert by_index[victim]["attempts"] == 2 and owner_pid(by_index[victim]) == b.pid
    assert {p["attempts"] for i, p in by_index.items() if i != victim} == {1}
    assert report_of(storage, published_prefix(fleet, "episode"))["status"] == "passed"


def test_a_chunk_that_kills_its_worker_fails_the_job_after_its_attempts(
        tmp_path: Path, redis_url: str, s3_server: SeaweedServer, small_episode: Path) -> None:
    """Every worker that takes chunk 2 dies (test-only workers.delivery.faults hook); a supervisor restarts dead ones.
    Chunk 2 is delivered max_attempts (2) times, then the job fails with attempts_exhausted naming the chunk,
    nothing is published, the chunk objects are removed and the job is on the dead-letter queue."""
    url = fresh_db(redis_url, 11)
    prefix = "k-" + secrets.token_hex(4)
    storage = s3_server.storage(prefix)
    for fleet in make_fleet(tmp_path, broker_url=url, store_url=url, max_attempts="2",
                            **s3_settings(s3_server, prefix)):
        fleet.env[KILL_WORKER_AT] = "chunk2"
        first = fleet.worker(name="crashy")
        job = fleet.cli("submit", str(small_episode), *CHUNKED).stdout.strip()
        deaths, _survivor = fleet.supervise(first, partial(job_in_state, fleet, job, "failed"), 180, "the job to fail")
        record = status(fleet, job)
        assert record["failure"]["code"] == "attempts_exhausted"
        assert "chunk 2 (" in record["failure"]["message"] and "delivered 3 times" in record["failure"]["message"]
        assert deaths == [EXIT_STATUS, EXIT_STATUS], deaths
        by_index = parts(record)
        assert by_index[2]["attempts"] == 3
        assert all(p["attempts"] <= 1 for i, p in by_index.items() if i != 2), by_index
        assert read_live(storage, "outputs/small") is None
        wait_for(lambda: [i.key for i in storage.list("_chunks/")] == [], 10, "chunk objects to go", fleet)
        dead = broker_messages(url, DEAD_QUEUE)
        assert [m.decode()[0] for m in dead] == [[job]]
    storage.close()


def test_redis_restart_mid_chunk(tmp_path: Path, private_redis: RedisServer, big_episode: Path) -> None:
    """Redis (broker AND job store, AOF on) is SIGKILLed while two workers encode chunks and started again 1.5 s
    later: the workers reconnect, every part is marked done (a part finishing during the outage waits for the
    store), and the job is published once; no part needs more than a re-run."""
    url = private_redis.url + "/0"
    for fleet in make_fleet(tmp_path, broker_url=url, store_url=url):
        a = fleet.worker(name="a")
        job = fleet.cli("submit", str(big_episode), *CHUNKED).stdout.strip()
        b = fleet.worker(name="b")
        wait_mid_chunk(fleet, job, a.pid)
        private_redis.kill()
        time.sleep(1.5)
        private_redis.start()
        wait_for(partial(job_ended, fleet, job), 300, "a terminal state after the restart", fleet)
        record = status(fleet, job)
        assert record["state"] == "published", fleet.logs()[-4000:]
        assert [t["state"] for t in record["history"]].count("published") == 1
        assert all(p["state"] == "done" and p["attempts"] <= 2 for p in record["chunks"]["parts"])
        assert a.poll() is None and b.poll() is None, "a worker died instead of reconnecting"
        output = Path(str(record["output"]).removeprefix("file://"))
        assert json.loads((output / "report.json").read_text())["status"] == "passed"


def test_too_many_chunks_for_the_master_fail_at_once_with_what_to_do(embedded_fleet: Fleet,
                                                                      small_episode: Path) -> None:
    """A chunk count that would cut chunks under 8 s is refused when the job is planned: failed (configuration,
    exit 6), the message names the count and the minimum, nothing was sent, encoded or published. (A local master
    is refused by `submit` itself, before its upload: tests/queue/test_submit_cli.py; this one is already in the
    fleet storage, so the worker plans it.)"""
    key = "masters/preloaded/small.mp4"
    (embedded_fleet.state / "storage" / key).parent.mkdir(parents=True)
    (embedded_fleet.state / "storage" / key).write_bytes(small_episode.read_bytes())
    embedded_fleet.worker()
    done = embedded_fleet.cli("submit", f"key:{key}", "--profile", "draft", "--segment-seconds", "2",
                              "--no-quality", "--chunks", "5", "--wait", timeout=120)
    assert done.returncode == 6, done.stdout + done.stderr
    record = status(embedded_fleet, done.stdout.splitlines()[0])
    assert record["state"] == "failed" and record["chunks"] is None
    failure = record["failure"]
    assert "5 chunks" in failure["message"] and "shorter than 8 s" in failure["message"]
    assert "fewer chunks" in failure["hint"]
    assert not (embedded_fleet.state / "storage" / "_chunks").exists()
    assert not (embedded_fleet.state / "storage" / "outputs").exists()
