"""The publish protocol over real storage: a real transcoded output, concurrent attempts, injected failures."""

from __future__ import annotations

import json
import posixpath
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import m3u8
import mediagen
import pytest
from mpegdash.parser import MPEGDASHParser

from pipelines.options import PlanOptions
from pipelines.transcode import Sidecar, TranscodeRequest, transcode
from workers.errors import PreconditionFailed, StorageUnavailable
from workers.publish.protocol import PublishResult, publish, read_live
from workers.storage.base import ObjectInfo, Storage

pytestmark = pytest.mark.media


@pytest.fixture(scope="session")
def transcoded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real vodfleet output: 2 video rungs, 2 audio languages, 1 subtitle language, 2 s segments."""
    folder = tmp_path_factory.mktemp("publish-src")
    source = mediagen.make_source(folder / "source.mp4", width=640, height=360, duration=4.0, audio=("eng", "spa"))
    srt = folder / "ko.srt"
    srt.write_text("1\n00:00:00,200 --> 00:00:01,500\n안녕\n\n", encoding="utf-8")
    output = folder / "out"
    transcode(TranscodeRequest(source=source, output=output, subtitles=(Sidecar("ko", srt),),
                               options=PlanOptions(segment_seconds=2, profile="draft"), measure_quality=False))
    return output


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def hls_references(storage: Storage, master_key: str) -> tuple[list[str], list[str]]:
    """(renditions, every object key a client would fetch) starting from an HLS master."""
    base = posixpath.dirname(master_key)
    master = m3u8.loads(storage.get_bytes(master_key).decode("utf-8"))
    playlists = [p.uri for p in master.playlists] + [p.uri for p in master.iframe_playlists]
    playlists += [p.uri for p in master.image_playlists]  # the storyboard's image media playlist
    playlists += [media.uri for media in master.media if media.uri]
    keys = []
    for uri in playlists:
        key = posixpath.normpath(posixpath.join(base, uri))
        keys.append(key)
        media = m3u8.loads(storage.get_bytes(key).decode("utf-8"))
        folder = posixpath.dirname(key)
        keys += [posixpath.normpath(posixpath.join(folder, seg.uri)) for seg in media.segments]
        keys += [posixpath.normpath(posixpath.join(folder, m.uri)) for m in media.segment_map if m.uri]
    return playlists, sorted(set(keys))


def dash_references(storage: Storage, mpd_key: str) -> tuple[list[str], list[str]]:
    base = posixpath.dirname(mpd_key)
    mpd = MPEGDASHParser.parse(storage.get_bytes(mpd_key).decode("utf-8"))
    representations, keys = [], []
    for period in mpd.periods:
        for adaptation in period.adaptation_sets:
            for rep in adaptation.representations:
                representations.append(rep.id)
                for url in rep.base_urls or []:
                    keys.append(url.base_url_value)
                for template in (rep.segment_templates or adaptation.segment_templates or []):
                    if template.initialization:
                        keys.append(template.initialization.replace("$RepresentationID$", rep.id))
                    count = sum(1 + (s.r or 0) for timeline in template.segment_timelines or []
                                for s in timeline.Ss)
                    for number in range(template.start_number or 1, (template.start_number or 1) + count):
                        media = template.media.replace("$RepresentationID$", rep.id)
                        keys.append(media.replace("$Number%05d$", f"{number:05d}"))
    return representations, sorted({posixpath.normpath(posixpath.join(base, key)) for key in keys})


def _keys(storage: Storage, prefix: str) -> list[str]:
    return [info.key for info in storage.list(prefix)]


def test_publish_real_output_then_read_it_back(storage: Storage, transcoded: Path) -> None:
    result = publish(transcoded, storage, "titles/ep1", job_id="job-1", attempt=1, parallel=8)
    files = _files(transcoded)
    assert (result.version, result.reused, result.live) == ("v0001", False, True)
    assert result.location == f"{storage.uri}/titles/ep1/v0001"
    assert result.objects == len(files)
    assert result.bytes == sum((transcoded / name).stat().st_size for name in files)
    assert _keys(storage, "titles/ep1/v0001/") == [f"titles/ep1/v0001/{name}" for name in files]
    live = read_live(storage, "titles/ep1")
    assert live is not None
    assert (live.version, live.job_id, live.master) == ("v0001", "job-1", "v0001/master.m3u8")
    print(f"published {result.objects} objects, {result.bytes / 1e6:.2f} MB in {result.seconds:.2f}s "
          f"to {storage.uri}")

    renditions, hls_keys = hls_references(storage, f"titles/ep1/{live.master}")
    assert any(r.startswith("video/") for r in renditions) and any(r.startswith("audio/en") for r in renditions)
    assert any(r.startswith("subtitles/ko") for r in renditions)
    local_playlists = [name for name in files if "/" in name and name.endswith(".m3u8")]
    assert sorted(renditions) == sorted(local_playlists), "every rendition is listed in the master"
    assert live.dash is not None
    reps, dash_keys = dash_references(storage, f"titles/ep1/{live.dash}")
    assert len(reps) == len([name for name in local_playlists if name.endswith("index.m3u8")])
    for key in hls_keys + dash_keys:
        assert storage.head(key) is not None, f"{key} is referenced but missing"
    assert any(key.endswith("init.mp4") for key in dash_keys) and any(key.endswith(".m4s") for key in hls_keys)
    assert "titles/ep1/v0001/thumbnails/sprite_0001.jpg" in hls_keys  # via EXT-X-IMAGE-STREAM-INF
    for name in ("poster.jpg", "thumbnails/thumbnails.vtt"):
        assert storage.head(f"titles/ep1/v0001/{name}") is not None, name

    again = publish(transcoded, storage, "titles/ep1", job_id="job-1", attempt=2)
    assert (again.version, again.reused) == ("v0001", True), "a re-run of a published job is idempotent"
    second = publish(transcoded, storage, "titles/ep1", job_id="job-2", attempt=1)
    assert second.version == "v0002"
    assert read_live(storage, "titles/ep1").version == "v0002"  # type: ignore[union-attr]


def test_poller_never_sees_a_master_naming_a_missing_object(storage: Storage, transcoded: Path) -> None:
    stop = threading.Event()
    problems: list[str] = []
    polls = [0, 0]  # polls, masters checked

    def poll() -> None:
        while not stop.is_set():
            polls[0] += 1
            for info in storage.list("titles/polled/"):
                if info.key.endswith(("/master.m3u8", "/manifest.mpd")):
                    refs = (hls_references if info.key.endswith(".m3u8") else dash_references)(storage, info.key)[1]
                    polls[1] += 1
                    problems.extend(f"{info.key} -> {key}" for key in refs if storage.head(key) is None)

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        for job in range(3):
            publish(transcoded, storage, "titles/polled", job_id=f"job-{job}", attempt=1, parallel=4)
            time.sleep(0.05)
    finally:
        stop.set()
        poller.join()
    print(f"poller: {polls[0]} listings, {polls[1]} manifests fully resolved")
    assert polls[0] > 3 and polls[1] > 0
    assert problems == []


def test_two_concurrent_attempts_exactly_one_publishes(storage: Storage, transcoded: Path) -> None:
    barrier = threading.Barrier(2)
    results: list[PublishResult] = []
    lost: list[PreconditionFailed] = []

    def attempt(number: int) -> None:
        barrier.wait()
        try:
            results.append(publish(transcoded, storage, "titles/race", job_id="job-r", attempt=number, parallel=4))
        except PreconditionFailed as exc:
            lost.append(exc)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 1 and len(lost) == 1, (results, lost)
    winner = results[0]
    assert not winner.reused
    assert "lost" in lost[0].message
    live = read_live(storage, "titles/race")
    assert live is not None and (live.version, live.attempt) == (winner.version, winner.attempt)
    others = [key for key in _keys(storage, "titles/race/")
              if not key.startswith(f"titles/race/{winner.version}/")]
    assert others == [f"titles/race/claims/{winner.version}.json", "titles/race/jobs/job-r.json",
                      "titles/race/live.json"], "the loser left nothing behind"
    commit = json.loads(storage.get_bytes("titles/race/jobs/job-r.json"))
    assert commit["attempt"] == winner.attempt


class FailingStorage:
    """A real storage that fails its Nth put_file (a network cut mid-publish)."""

    def __init__(self, inner: Storage, fail_at: int, *, only: str = "") -> None:
        self.inner, self.fail_at, self.only, self.puts = inner, fail_at, only, 0
        self.uri = inner.uri
        self.lock = threading.Lock()

    def put_file(self, key: str, path: Path, *, content_type: str | None = None) -> ObjectInfo:
        with self.lock:
            if not self.only or key.endswith(self.only):
                self.puts += 1
                if self.puts == self.fail_at:
                    raise StorageUnavailable(f"injected failure on put #{self.puts} ({key})")
        return self.inner.put_file(key, path, content_type=content_type)

    def put_bytes(self, key: str, data: bytes, *, content_type: str | None = None,
                  if_none_match: bool = False) -> ObjectInfo:
        return self.inner.put_bytes(key, data, content_type=content_type, if_none_match=if_none_match)

    def get_file(self, key: str, path: Path) -> ObjectInfo:
        return self.inner.get_file(key, path)

    def get_bytes(self, key: str) -> bytes:
        return self.inner.get_bytes(key)

    def head(self, key: str) -> ObjectInfo | None:
        return self.inner.head(key)

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        return self.inner.list(prefix)

    def delete(self, key: str) -> None:
        self.inner.delete(key)

    def presigned_url(self, key: str, *, expires: int = 3600) -> str:
        return self.inner.presigned_url(key, expires=expires)

    def abort_incomplete_uploads(self, prefix: str = "") -> int:
        return self.inner.abort_incomplete_uploads(prefix)


@pytest.mark.parametrize("fail_at", [1, 7])
def test_failure_mid_publish_leaves_no_master_and_a_retry_publishes(storage: Storage, transcoded: Path,
                                                                    fail_at: int) -> None:
    failing = FailingStorage(storage, fail_at)
    assert isinstance(failing, Storage)
    with pytest.raises(StorageUnavailable, match="injected"):
        publish(transcoded, failing, "titles/fail", job_id="job-f", attempt=1, parallel=2)
    left = _keys(storage, "titles/fail/")
    assert not [key for key in left if key.endswith(("master.m3u8", "manifest.mpd", "report.json"))], left
    assert "titles/fail/live.json" not in left and "titles/fail/jobs/job-f.json" not in left
    assert storage.abort_incomplete_uploads("titles/fail/") == 0
    retry = publish(transcoded, storage, "titles/fail", job_id="job-f", attempt=2)
    assert (retry.version, retry.reused) == ("v0002", False)
    assert read_live(storage, "titles/fail").version == "v0002"  # type: ignore[union-attr]


def test_failure_among_masters_leaves_only_complete_masters(storage: Storage, transcoded: Path) -> None:
    failing = FailingStorage(storage, 1, only="manifest.mpd")
    with pytest.raises(StorageUnavailable):
        publish(transcoded, failing, "titles/half", job_id="job-h", attempt=1)
    masters = [key for key in _keys(storage, "titles/half/") if key.endswith("master.m3u8")]
    for key in masters:  # it may or may not be there; if it is, it resolves
        assert all(storage.head(ref) is not None for ref in hls_references(storage, key)[1])
    assert read_live(storage, "titles/half") is None
