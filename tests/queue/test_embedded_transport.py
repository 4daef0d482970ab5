"""The embedded broker never hands a consumer a half-written message (workers.queue.embedded).

kombu's stock filesystem transport writes a message under its final name: a consumer polling meanwhile takes the
empty file and the message is lost (against it, the race test below lost 23, 77 and 103 of its 300 messages in
three runs here). The fleet selects the whole-file transport for ``filesystem://``; the race test's producer uses
the producer's connection (`broker_connection`, as submit) and its consumer whatever the Celery app selects (as a
worker), so it fails if either selection goes.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from queue import Empty

from kombu import Connection
from kombu.transport import resolve_transport

from workers.queue.app import broker_connection, broker_options, create_app
from workers.queue.depth import filesystem_counts
from workers.queue.embedded import message_name, stale_temporaries, temporary_name, write_whole
from workers.queue.processed import prune_processed
from workers.settings import Settings


def embedded(tmp_path: Path) -> Settings:
    return Settings(state_dir=tmp_path / "state", broker_url="filesystem://localhost/")


def test_a_consumer_polling_during_writes_gets_every_message_whole(tmp_path: Path) -> None:
    settings = embedded(tmp_path)
    app = create_app(settings)
    transport = resolve_transport(app.conf.broker_transport or "filesystem")  # what the fleet's processes use
    options = broker_options(settings)
    for key in ("data_folder_in", "processed_folder"):
        Path(options[key]).mkdir(parents=True, exist_ok=True)
    count, pad = 300, "x" * 400_000  # large messages: a write takes long enough for a poll to land inside it
    received: list[int] = []
    broken: list[str] = []
    produced = threading.Event()

    def produce() -> None:
        with broker_connection(settings) as conn:
            channel = conn.channel()
            for index in range(count):
                channel._put("race", {"index": index, "pad": pad})
        produced.set()

    def consume() -> None:
        deadline = time.monotonic() + 120
        with Connection(settings.broker, transport=transport, transport_options=options) as conn:
            channel = conn.channel()
            while len(received) + len(broken) < count and time.monotonic() < deadline:
                try:
                    received.append(int(channel._get("race")["index"]))
                except Empty:
                    if produced.is_set() and not filesystem_counts(
                            [p.name for p in Path(options["data_folder_in"]).iterdir()], ["race"])["race"]:
                        return
                except ValueError as exc:  # JSONDecodeError: a message taken before it was written
                    broken.append(repr(exc))

    threads = [threading.Thread(target=produce), threading.Thread(target=consume)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not broken, f"{len(broken)} of {count} messages were taken half-written: {broken[:3]}"
    assert sorted(received) == list(range(count))
    assert not [p for p in Path(options["data_folder_in"]).iterdir() if p.name.endswith(".tmp")]


def test_a_temporary_message_file_is_invisible_to_consumers_and_the_depth_count() -> None:
    name = message_name("vodfleet.jobs", now_ms=12, unique="u")
    assert name == "12_u.vodfleet.jobs.msg"
    temp = temporary_name(name)
    assert temp.partition(".")[2] != "vodfleet.jobs.msg"  # kombu's own test of "a message of this queue"
    assert filesystem_counts([temp, name], ["vodfleet.jobs"]) == {"vodfleet.jobs": 1}


def test_write_whole_leaves_only_the_final_file(tmp_path: Path) -> None:
    write_whole(tmp_path, "1_a.q.msg", json.dumps({"k": 1}).encode())
    assert [p.name for p in tmp_path.iterdir()] == ["1_a.q.msg"]
    assert json.loads((tmp_path / "1_a.q.msg").read_text()) == {"k": 1}


def test_a_killed_producers_temporary_file_is_swept(tmp_path: Path) -> None:
    assert stale_temporaries([(".1_a.q.msg.tmp", 0.0), (".2_b.q.msg.tmp", 95.0), ("3_c.q.msg", 0.0)],
                             now=100.0, older_than=60.0) == [".1_a.q.msg.tmp"]
    settings = embedded(tmp_path)
    queue = Path(broker_options(settings)["data_folder_in"])
    queue.mkdir(parents=True)
    Path(broker_options(settings)["processed_folder"]).mkdir(parents=True)
    stale, fresh, message = queue / ".1_a.q.msg.tmp", queue / ".2_b.q.msg.tmp", queue / "3_c.q.msg"
    for path in (stale, fresh, message):
        path.write_bytes(b"{")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    prune_processed(settings, now=time.time())
    assert sorted(p.name for p in queue.iterdir()) == [fresh.name, message.name]
