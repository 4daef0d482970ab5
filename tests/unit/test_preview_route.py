"""Request target → file (workers/preview/route.py): the page's prefix, the libraries table, and refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from workers.preview.route import Redirect, Refuse, RequestPath, SendFile, request_path, resolve
from workers.preview.site import Site


@pytest.mark.parametrize(("target", "expected"), [
    ("/", RequestPath((), trailing_slash=True)),
    ("/master.m3u8", RequestPath(("master.m3u8",), trailing_slash=False)),
    ("/video/360p/index.m3u8?x=1#frag", RequestPath(("video", "360p", "index.m3u8"), trailing_slash=False)),
    ("//video/./360p//seg_00001.m4s", RequestPath(("video", "360p", "seg_00001.m4s"), trailing_slash=False)),
    ("/subtitles/zh-Hant/", RequestPath(("subtitles", "zh-Hant"), trailing_slash=True)),
    ("/a%20b.vtt", RequestPath(("a b.vtt",), trailing_slash=False)),
    ("/%ED%95%9C.vtt", RequestPath(("한.vtt",), trailing_slash=False)),
    ("http://127.0.0.1:8000/master.m3u8", RequestPath(("master.m3u8",), trailing_slash=False)),
])
def test_request_paths(target: str, expected: RequestPath) -> None:
    assert request_path(target) == expected


@pytest.mark.parametrize(("target", "status"), [
    ("/../etc/passwd", 403),
    ("/video/../../etc/passwd", 403),
    ("/%2e%2e/etc/passwd", 403),
    ("/%2E%2E%2Fetc%2Fpasswd", 403),
    ("/..%5c..%5cetc", 403),
    ("/video\\..\\..\\etc", 403),
    ("/master.m3u8%00", 403),
    ("/.vodfleet-staging-out-x/master.m3u8", 403),
    ("/%ff.vtt", 400),
    ("master.m3u8", 400),
])
def test_refused_request_paths(target: str, status: int) -> None:
    refused = request_path(target)
    assert isinstance(refused, Refuse)
    assert refused.status == status


@pytest.fixture
def site(tmp_path: Path) -> Site:
    out = tmp_path / "out"
    static = tmp_path / "static"
    for folder in (out / "video" / "360p", static):
        folder.mkdir(parents=True)
    (out / "master.m3u8").write_text("#EXTM3U\n", encoding="utf-8")
    (out / "video" / "360p" / "seg_00001.m4s").write_bytes(b"x")
    (static / "index.html").write_text("<!doctype html>", encoding="utf-8")
    (static / "player.js").write_text("", encoding="utf-8")
    (tmp_path / "secret").write_text("s", encoding="utf-8")
    (out / "inside-link.m3u8").symlink_to(out / "master.m3u8")
    (out / "outside-link").symlink_to(tmp_path / "secret")
    (out / "outside-dir").symlink_to(tmp_path, target_is_directory=True)
    (out / "loop").symlink_to(out / "loop")
    library = tmp_path / "node_modules" / "hls.js" / "dist" / "hls.min.js"
    library.parent.mkdir(parents=True)
    library.write_text("", encoding="utf-8")
    return Site(output=out.resolve(), static=static.resolve(), libraries={"hls.js": library})


def test_output_files(site: Site) -> None:
    assert resolve("/master.m3u8", site) == SendFile(site.output / "master.m3u8")
    assert resolve("/video/360p/seg_00001.m4s?t=1", site) == SendFile(site.output / "video/360p/seg_00001.m4s")
    assert resolve("/inside-link.m3u8", site) == SendFile(site.output / "master.m3u8")


def test_page_and_libraries(site: Site) -> None:
    assert resolve("/", site) == Redirect("/_vodfleet/")
    assert resolve("/_vodfleet", site) == Redirect("/_vodfleet/")
    assert resolve("/_vodfleet/", site) == SendFile(site.static / "index.html")
    assert resolve("/_vodfleet/player.js", site) == SendFile(site.static / "player.js")
    assert resolve("/_vodfleet/lib/hls.js", site) == SendFile(site.libraries["hls.js"])


@pytest.mark.parametrize(("target", "status"), [
    ("/outside-link", 403),
    ("/outside-dir/secret", 403),
    ("/loop", 404),
    ("/video", 404),
    ("/video/360p/", 404),
    ("/missing.m3u8", 404),
    ("/_vodfleet/lib/shaka-player.js", 404),  # not in this site's table
    ("/_vodfleet/lib/hls.js/../../../secret", 403),
    ("/_vodfleet/lib/../../secret", 403),
    ("/_vodfleet/missing.css", 404),
])
def test_refused(site: Site, target: str, status: int) -> None:
    route = resolve(target, site)
    assert isinstance(route, Refuse), route
    assert route.status == status
