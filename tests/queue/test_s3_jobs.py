"""The S3 path end to end: `vodfleet submit` uploads the master to a real S3 server (SeaweedFS), a separate
`vodfleet worker` (broker and store: Redis) fetches it from there and publishes back to it; the manifests
fetched back from S3 are read by real clients (`m3u8`, `mpegdash`), and a poller watching the bucket the
whole time never sees a master manifest that references a missing object.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import m3u8
import pytest
from fleet.seaweed_server import SeaweedServer
from fleetkit import Fleet, fresh_db, make_fleet, s3_settings
from mediagen import make_source
from mpegdash.parser import MPEGDASHParser
from test_fleet import DRAFT, history, queue_to_start, status

from pipelines.subtitles import wvtt
from workers.errors import ObjectNotFound, StorageError
from workers.publish.protocol import read_live
from workers.storage import S3Storage
from workers.storage.base import Storage

pytestmark = [pytest.mark.queue, pytest.mark.media, pytest.mark.fleet]


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """640x360, 4 s: two video rungs (234p, 360p), one audio track."""
    return make_source(tmp_path_factory.mktemp("s3src") / "episode.mp4", width=640, height=360, duration=4)


@pytest.fixture(scope="module")
def sidecar(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("s3sub") / "episode.ko.srt"
    path.write_text("1\n00:00:00,200 --> 00:00:01,500\n안녕하세요\n\n", encoding="utf-8")
    return path


# --- what a client fetches, starting from a manifest ----------------------------------------------------


def _join(base: str, uri: str) -> str:
    return posixpath.normpath(posixpath.join(base, uri))


def hls_references(storage: Storage, master_key: str) -> tuple[set[str], set[str]]:
    """(rendition folders named by the HLS master, every object key a player would fetch through it)."""
    base = posixpath.dirname(master_key)
    master = m3u8.loads(storage.get_bytes(master_key).decode("utf-8"))
    playlists = [p.uri for p in master.playlists] + [p.uri for p in master.iframe_playlists]
    playlists += [m.uri for m in master.media if m.uri]
    keys: set[str] = set()
    for uri in playlists:
        key = _join(base, uri)
        keys.add(key)
        media = m3u8.loads(storage.get_bytes(key).decode("utf-8"))
        folder = posixpath.dirname(key)
        keys |= {_join(folder, s.uri) for s in media.segments}
        keys |= {_join(folder, m.uri) for m in media.segment_map if m.uri}
    renditions = {posixpath.dirname(uri) for uri in playlists}
    return renditions, keys


def dash_references(storage: Storage, mpd_key: str) -> tuple[set[str], set[str]]:
    """(representation ids of the MPD, every object key its SegmentTemplates/BaseURLs expand to)."""
    base = posixpath.dirname(mpd_key)
    mpd = MPEGDASHParser.parse(storage.get_bytes(mpd_key).decode("utf-8"))
    ids: set[str] = set()
    keys: set[str] = set()
    for period in mpd.periods:
        for adaptation in period.adaptation_sets:
            for rep in adaptation.representations:
                ids.add(rep.id)
                keys |= {_join(base, url.base_url_value) for url in rep.base_urls or []}
                for template in rep.segment_templates or adaptation.segment_templates or []:
                    if template.initialization:
                        keys.add(_join(base, template.initialization.replace("$RepresentationID$", rep.id)))
                    count = sum(1 + (s.r or 0) for timeline in template.segment_timelines or [] for s in timeline.Ss)
                    first = template.start_number or 1
                    for number in range(first, first + count):
                        media = template.media.replace("$RepresentationID$", rep.id)
                        keys.add(_join(base, media.replace("$Number%05d$", f"{number:05d}")))
    return ids, keys


def missing(storage: Storage, keys: set[str]) -> list[str]:
    return sorted(key for key in keys if storage.head(key) is None)


@dataclass
class ManifestPoller:
    """Reads the bucket in a loop; for every master manifest it finds, checks that each object it references
    exists at that moment. `violations` must stay empty."""

    storage: Storage
    prefix: str
    polls: int = 0
    manifests_checked: int = 0
    violations: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> ManifestPoller:
        self._thread = threading.Thread(target=self._loop, name="manifest-poller", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(30)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._poll()
            except (StorageError, OSError, ValueError) as exc:  # a read racing a withdraw: note it, go on
                self.errors.append(repr(exc))
            self.polls += 1
            time.sleep(0.05)

    def _poll(self) -> None:
        for info in list(self.storage.list(self.prefix)):
            name = posixpath.basename(info.key)
            try:
                if name == "master.m3u8":
                    _, keys = hls_references(self.storage, info.key)
                elif name == "manifest.mpd":
                    _, keys = dash_references(self.storage, info.key)
                elif name == "live.json":
                    pointer = json.loads(self.storage.get_bytes(info.key))
                    title = posixpath.dirname(info.key)
                    keys = {_join(title, pointer[k]) for k in ("master", "dash") if pointer.get(k)}
                else:
                    continue
            except ObjectNotFound as exc:  # a playlist the manifest names is missing
                self.violations.append(f"{info.key}: {exc}")
                continue
            self.manifests_checked += 1
            self.violations += [f"{info.key} references missing {key}" for key in missing(self.storage, keys)]


def test_s3_job_end_to_end(s3_fleet: tuple[Fleet, S3Storage], source: Path, sidecar: Path) -> None:
    """submit uploads master + sidecar to S3; a worker process fetches them from S3 and publishes to S3;
    manifests re-read from S3 list every rendition and every object they reference exists; a bucket poller
    running throughout never sees a master manifest (or live.json) pointing at a missing object."""
    fleet, storage = s3_fleet
    poller = ManifestPoller(storage, "outputs/").start()
    fleet.worker()
    started = time.monotonic()
    done = fleet.cli("submit", str(source), "--subtitle", f"ko:forced={sidecar}", *DRAFT, "--loudness", "streaming",
                     "--wait", timeout=240)
    took = time.monotonic() - started
    time.sleep(0.5)  # one more poll after the end
    poller.stop()
    assert done.returncode == 0, done.stderr + fleet.logs()[-4000:]
    job = done.stdout.splitlines()[0]
    record = status(fleet, job)
    assert record["state"] == "published" and record["attempt"] == 1
    assert [s for s, _ in history(record)].count("published") == 1
    location = f"s3://vodfleet-test/{storage.prefix}/outputs/episode/v0001"
    assert record["output"] == location and f"published: {location}" in done.stdout

    # the master and the sidecar went to S3 (content-addressed keys), and the job names those keys
    spec = record["spec"]
    assert isinstance(spec, dict)
    uploaded = {info.key: info for info in storage.list("masters/")}
    assert set(uploaded) == {spec["source"], spec["subtitles"][0]["uri"]}
    assert spec["subtitles"][0]["forced"] is True
    assert spec["loudness"] == "streaming"  # not the default: in the spec (and so in the job id)
    assert storage.get_bytes(spec["source"]) == source.read_bytes()
    assert spec["source"].startswith(f"masters/{hashlib.sha256(source.read_bytes()).hexdigest()[:32]}/")

    # what the worker published, read back from S3 by real clients
    live = read_live(storage, "outputs/episode")
    assert live is not None and live.version == "v0001" and live.job_id == job
    assert live.master == "v0001/master.m3u8" and live.dash == "v0001/manifest.mpd"
    version = "outputs/episode/v0001"
    published = {info.key.removeprefix(version + "/") for info in storage.list(version + "/")}
    folders = {posixpath.dirname(k) for k in published if k.count("/") == 2}
    assert folders == {"video/234p", "video/360p", "audio/en", "subtitles/ko-forced"}, published
    master = m3u8.loads(storage.get_bytes(f"{version}/master.m3u8").decode("utf-8"))
    [text] = [m for m in master.media if m.type == "SUBTITLES"]
    assert (text.language, text.forced, text.autoselect) == ("ko", "YES", "YES")
    renditions, hls_keys = hls_references(storage, f"{version}/master.m3u8")
    assert renditions == folders
    ids, dash_keys = dash_references(storage, f"{version}/manifest.mpd")
    assert {"234p", "360p"} <= ids and any("en" in i for i in ids) and any("ko" in i for i in ids), ids
    for keys in (hls_keys, dash_keys):
        assert not missing(storage, keys)
        assert {k.removeprefix(version + "/") for k in keys} <= published
    # DASH text: WebVTT in ISO-BMFF, published and addressed like the media; the cue reads back from S3
    text = sorted(k.removeprefix(f"{version}/subtitles/ko-forced/") for k in dash_keys if "/subtitles/" in k)
    assert text[0] == "init.mp4" and text[1:] and all(n.endswith(".m4s") for n in text[1:]), text
    assert "subtitles/ko-forced/subtitles.vtt" not in published  # the whole-title sidecar is opt-in
    fragments = [wvtt.read_fragment_cues(storage.get_bytes(f"{version}/subtitles/ko-forced/{name}"))
                 for name in text[1:]]
    assert [(c.start_ms, c.end_ms, c.payload) for c in wvtt.join_cues(fragments)] == [(200, 1500, "안녕하세요")]
    report = json.loads(storage.get_bytes(f"{version}/report.json"))
    assert [r["id"] for r in report["plan"]["video"]] == ["234p", "360p"]
    assert report["qc"]["passed"] is True and report["status"] == "passed"
    [loud] = report["loudness"]["tracks"]  # --loudness streaming reached the worker: -16 LUFS, -1 dBTP
    assert report["loudness"]["preset"] == "streaming"
    assert loud["output"]["integrated_lufs"] == pytest.approx(-16.0, abs=1.0)
    assert loud["output"]["true_peak_dbtp"] <= -1.0

    # the poller watched the whole job and saw the manifests appear, never broken
    assert poller.manifests_checked >= 3, (poller.polls, poller.errors)
    assert poller.violations == [], poller.violations
    assert not list((fleet.state / "scratch").iterdir())
    print(f"\nS3 job: submit --wait {took:.1f}s, queue-to-start {queue_to_start(record):.2f}s, "
          f"poller: {poller.polls} polls, {poller.manifests_checked} manifest checks, 0 violations, "
          f"{len(poller.errors)} read errors")


# --- 9. measurements (printed, never asserted: the numbers depend on the machine and its load) -------------


def _wait_ready(fleet: Fleet, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while "ready." not in fleet.logs():
        assert time.monotonic() < deadline, fleet.logs()[-3000:]
        time.sleep(0.1)


def _transcode_seconds(fleet: Fleet, source: Path, out: Path) -> float:
    started = time.monotonic()
    done = fleet.cli("transcode", str(source), "-o", str(out), *DRAFT, "--overwrite", timeout=240)
    assert done.returncode == 0, done.stderr
    return time.monotonic() - started


def _fleet_seconds(fleet: Fleet, source: Path) -> tuple[float, float, float]:
    """(submit --wait wall seconds, queue-to-start, fetching→published) for one job through the fleet."""
    started = time.monotonic()
    done = fleet.cli("submit", str(source), *DRAFT, "--force", "--wait", timeout=240)
    wall = time.monotonic() - started
    assert done.returncode == 0, done.stderr + fleet.logs()[-3000:]
    record = status(fleet, done.stdout.splitlines()[0])
    at = {t["state"]: t["at"] for t in record["history"]}  # type: ignore[attr-defined]
    return wall, queue_to_start(record), float(at["published"]) - float(at["fetching"])




# A measurement, not a check: it asserts nothing, so it only runs when asked for (bench/README.md).
@pytest.mark.skipif(os.environ.get("VODFLEET_BENCH") != "1", reason="measurement; run with VODFLEET_BENCH=1 -s")
def test_measure_fleet_overhead(tmp_path: Path, redis_url: str, s3_server: SeaweedServer, source: Path) -> None:
    """Prints queue-to-start latency and the fleet path's wall time over `vodfleet transcode` on the same input
    (both as CLI processes, worker already running and idle), for the embedded default and for Redis + S3."""
    rounds = 2
    url = fresh_db(redis_url, 14)
    configs = {"embedded (filesystem broker, SQLite, local folder)": {},
               "Redis broker+store, S3 storage (SeaweedFS)": {"broker_url": url, "store_url": url,
                                                              **s3_settings(s3_server, "m-" + secrets.token_hex(4))}}
    lines = []
    for n, (name, settings) in enumerate(configs.items()):
        folder = tmp_path / f"c{n}"
        folder.mkdir()
        for fleet in make_fleet(folder, **settings):
            fleet.worker()
            _wait_ready(fleet)
            for _ in range(rounds):
                direct = _transcode_seconds(fleet, source, folder / "direct")
                wall, latency, run = _fleet_seconds(fleet, source)
                lines.append(f"{name:<52} transcode {direct:5.2f}s  submit --wait {wall:5.2f}s  "
                             f"ratio {wall / direct:4.2f}  queue-to-start {latency:4.2f}s  worker run {run:5.2f}s  "
                             f"submit side {wall - latency - run:4.2f}s")
    print("\n" + "\n".join(lines))
