"""The preview server over a real loopback socket: types, ranges, refusals (no browser needed).

Raw request targets go through http.client, which sends them as written (no client-side normalisation of
``..``), so traversal attempts reach the server exactly as an attacker would send them.
"""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from workers.preview.library import LIBRARIES
from workers.preview.server import Address, running
from workers.preview.site import Site, open_site

pytestmark = pytest.mark.player

SEGMENT = bytes(range(256)) * 40  # 10240 bytes


@pytest.fixture
def site(tmp_path: Path) -> Site:
    out = tmp_path / "out"
    (out / "video" / "360p").mkdir(parents=True)
    (out / "subtitles" / "ko").mkdir(parents=True)
    (out / "master.m3u8").write_text("#EXTM3U\n", encoding="utf-8")
    (out / "manifest.mpd").write_text("<MPD/>\n", encoding="utf-8")
    (out / "video" / "360p" / "seg_00001.m4s").write_bytes(SEGMENT)
    (out / "video" / "360p" / "init.mp4").write_bytes(b"\0\0\0\x08ftyp")
    (out / "subtitles" / "ko" / "subtitles.vtt").write_text("WEBVTT\n\n00:00.000 --> 00:01.000\n안녕\n",
                                                            encoding="utf-8")
    (tmp_path / "secret.txt").write_text("TOP-SECRET", encoding="utf-8")
    (out / "escape").symlink_to(tmp_path / "secret.txt")
    (out / ".hidden").write_text("x", encoding="utf-8")
    modules = tmp_path / "node_modules"
    for rel in LIBRARIES.values():
        (modules / rel).parent.mkdir(parents=True, exist_ok=True)
        (modules / rel).write_text(f"// {rel}\n", encoding="utf-8")
    return open_site(out, node_modules=modules)


@pytest.fixture
def server(site: Site) -> Iterator[Address]:
    with running(site) as address:
        yield address


def fetch(address: Address, target: str, *, method: str = "GET",
          headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(address.host, address.port, timeout=5)
    try:
        conn.request(method, target, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


@pytest.mark.parametrize(("target", "content_type"), [
    ("/master.m3u8", "application/vnd.apple.mpegurl"),
    ("/manifest.mpd", "application/dash+xml"),
    ("/video/360p/seg_00001.m4s", "video/iso.segment"),
    ("/video/360p/init.mp4", "video/mp4"),
    ("/subtitles/ko/subtitles.vtt", "text/vtt; charset=utf-8"),
    ("/_vodfleet/", "text/html; charset=utf-8"),
    ("/_vodfleet/player.js", "text/javascript; charset=utf-8"),
    ("/_vodfleet/lib/hls.js", "text/javascript; charset=utf-8"),
    ("/_vodfleet/lib/shaka-player.js", "text/javascript; charset=utf-8"),
])
def test_files_are_served_with_their_types(server: Address, target: str, content_type: str) -> None:
    status, headers, body = fetch(server, target)
    assert status == 200
    assert headers["content-type"] == content_type
    assert headers["accept-ranges"] == "bytes"
    assert int(headers["content-length"]) == len(body) > 0


def test_byte_ranges_answer_206_with_the_exact_bytes(server: Address) -> None:
    status, headers, body = fetch(server, "/video/360p/seg_00001.m4s", headers={"Range": "bytes=76-6920"})
    assert status == 206
    assert headers["content-range"] == f"bytes 76-6920/{len(SEGMENT)}"
    assert body == SEGMENT[76:6921]
    status, headers, body = fetch(server, "/video/360p/seg_00001.m4s", headers={"Range": "bytes=-10"})
    assert (status, body) == (206, SEGMENT[-10:])
    status, headers, body = fetch(server, "/video/360p/seg_00001.m4s", method="HEAD",
                                  headers={"Range": "bytes=10-19"})
    assert (status, headers["content-length"], body) == (206, "10", b"")


def test_an_unsatisfiable_range_answers_416(server: Address) -> None:
    status, headers, _ = fetch(server, "/video/360p/seg_00001.m4s", headers={"Range": "bytes=99999-"})
    assert status == 416
    assert headers["content-range"] == f"bytes */{len(SEGMENT)}"


@pytest.mark.parametrize(("target", "status"), [
    ("/../secret.txt", 403),
    ("/video/../../secret.txt", 403),
    ("/%2e%2e/secret.txt", 403),
    ("/video/%2E%2E/%2e%2e/secret.txt", 403),
    ("/..%2fsecret.txt", 403),
    ("/..%5csecret.txt", 403),
    ("/escape", 403),  # a symlink pointing outside OUT
    ("/.hidden", 403),
    ("/_vodfleet/../../secret.txt", 403),
    ("/_vodfleet/lib/../../../secret.txt", 403),
    ("/master.m3u8%00.txt", 403),
    ("/video/", 404),  # no directory listings
    ("/video/360p", 404),
    ("/nope.m3u8", 404),
    ("/_vodfleet/lib/jquery.js", 404),
])
def test_refusals(server: Address, target: str, status: int) -> None:
    got, _headers, body = fetch(server, target)
    assert got == status
    assert b"TOP-SECRET" not in body
    assert b"seg_00001" not in body


def test_root_redirects_to_the_page(server: Address) -> None:
    status, headers, _ = fetch(server, "/")
    assert (status, headers["location"]) == (302, "/_vodfleet/")


def test_the_command_serves_until_interrupted(site: Site) -> None:
    """`vodfleet preview OUT --port 0` as a user runs it: prints the page URL, serves, stops cleanly on SIGINT."""
    modules = site.libraries["hls.js"].parents[2]
    # A child inherits an ignored SIGINT (non-interactive background jobs, CI) and Python then installs no
    # KeyboardInterrupt handler: start it as a terminal would, with SIGINT at its default before the exec.
    as_from_a_terminal = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
                          "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])")
    argv = [sys.executable, "-c", as_from_a_terminal, "-m", "workers.cli", "preview", str(site.output),
            "--port", "0", "--node-modules", str(modules)]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"}) as process:
        try:
            assert process.stdout is not None
            lines = [process.stdout.readline() for _ in range(2)]
            page = next(line.split()[-1] for line in lines if line.startswith("player:"))
            host, port = page.removeprefix("http://").split("/")[0].rsplit(":", 1)
            assert host == "127.0.0.1"
            status, headers, _ = fetch(Address(host, int(port)), "/master.m3u8")
            assert (status, headers["content-type"]) == (200, "application/vnd.apple.mpegurl")
            process.send_signal(signal.SIGINT)
            _out, err = process.communicate(timeout=10)
            assert process.returncode == 0, err
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()


@pytest.mark.parametrize("host", ["evil.example:{port}", "evil.example", "127.0.0.1.nip.io:{port}",
                                  "localhost.evil.example:{port}", "127.0.0.1:1{port}", "127.0.0.1",
                                  "[::2]:{port}", "attacker:{port}@127.0.0.1"])
def test_a_foreign_host_header_is_refused(server: Address, host: str) -> None:
    """DNS rebinding: the browser connects to 127.0.0.1 but names the attacker's site in Host."""
    for target in ("/master.m3u8", "/_vodfleet/", "/escape", "/"):
        status, _, body = fetch(server, target, headers={"Host": host.format(port=server.port)})
        assert status == 421, (host, target)
        assert b"#EXTM3U" not in body and b"<script" not in body


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST.:{port}", "[::1]:{port}"])
def test_its_own_names_are_answered(server: Address, host: str) -> None:
    status, _, body = fetch(server, "/master.m3u8", headers={"Host": host.format(port=server.port)})
    assert (status, body) == (200, b"#EXTM3U\n")


def test_a_request_without_host_is_refused(server: Address) -> None:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    try:
        conn.putrequest("GET", "/master.m3u8", skip_host=True)
        conn.endheaders()
        assert conn.getresponse().status == 400
    finally:
        conn.close()


def test_allowed_names_are_answered(site: Site) -> None:
    with running(site, allow_hosts=["media.lan", "tv.lan:8080"]) as address:
        for host, status in ((f"media.lan:{address.port}", 200), ("tv.lan:8080", 200),
                             (f"tv.lan:{address.port}", 421), (f"other.lan:{address.port}", 421)):
            assert fetch(address, "/master.m3u8", headers={"Host": host})[0] == status, host
