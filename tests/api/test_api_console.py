"""The web console in Debian's Chromium (Playwright) against the real API, SeaweedFS and worker: a producer signs
in with a token, drops a master and two subtitle files (charsets checked by the API before upload), the browser
uploads them straight to S3, the job goes live over SSE to published, and Play opens the preview page (with its
QC panel) that plays the title with both subtitle languages. An upload interrupted after its first part resumes
after a page reload with only the missing parts; the junk master then fails, and the console shows the code, the
message and what to do."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from apikit import ApiFleet
from mediagen import make_source

from workers.preview.errors import LibrariesMissing
from workers.preview.library import find_libraries

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = [pytest.mark.fleet, pytest.mark.media, pytest.mark.player]
CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--autoplay-policy=no-user-gesture-required"]
REPO = Path(__file__).resolve().parents[2]


def _require_browser() -> None:
    why = None
    if not Path(CHROMIUM).is_file():
        why = f"{CHROMIUM} is missing (apt-get install -y chromium)"
    elif importlib.util.find_spec("playwright") is None:
        why = "the playwright package is missing"
    else:
        try:
            find_libraries()
        except LibrariesMissing as exc:
            why = exc.message
    if why is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(why)
        pytest.skip(why)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as api:
        launched = api.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield launched
        launched.close()


def signed_in(browser: Browser, api_fleet: ApiFleet) -> Page:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{api_fleet.base}/console/")
    page.fill("#token", api_fleet.tokens["a"])
    page.click("#sign-in-form button")
    page.wait_for_selector("#app:not([hidden])")
    return page


def test_browser_upload_with_two_subtitles_is_published_and_plays(browser: Browser, api_fleet: ApiFleet,
                                                                  tmp_path: Path) -> None:
    master = make_source(tmp_path / "episode7.mp4", width=640, height=360, duration=4)
    korean = tmp_path / "episode7.ko.srt"
    korean.write_bytes("1\n00:00:00,000 --> 00:00:03,500\n안녕하세요 여러분\n\n".encode("cp949"))
    arabic = tmp_path / "episode7.ar.vtt"
    arabic.write_text("WEBVTT\n\n00:00.000 --> 00:03.500\nمرحبا بالجميع\n", encoding="utf-8")
    page = signed_in(browser, api_fleet)
    page.evaluate("window.vodfleetConsole.extra = {segment_seconds: 2, measure_quality: false}")
    page.set_input_files("#files", [str(master), str(korean), str(arabic)])
    page.select_option("#profile", "draft")
    page.fill("#output-prefix", "team-a/console/episode7")
    page.fill("#audio-language", "en")
    page.wait_for_function("window.vodfleetConsole.files().filter(f => f.check).length === 2", timeout=20_000)
    files = {f["name"]: f for f in page.evaluate("window.vodfleetConsole.files()")}
    assert files["episode7.ko.srt"]["check"]["charset"] == "cp949"
    assert files["episode7.ar.vtt"]["language"] == "ar"
    puts: list[tuple[str, str]] = []  # every part PUT: its URL and checksum header (each part signed with its SHA-256)
    page.on("request", lambda r: puts.append((r.url, r.headers.get("x-amz-checksum-sha256", "")))
            if r.method == "PUT" else None)
    page.click("#submit")
    page.wait_for_function("window.vodfleetConsole.jobs().some(j => j.output_prefix === 'team-a/console/episode7' "
                           "&& j.state === 'published')", timeout=240_000)
    assert len(puts) >= 3 and all(len(h) == 44 and "x-amz-checksum-sha256" in u for u, h in puts), puts
    job_id = page.evaluate("window.vodfleetConsole.jobs().find(j => j.output_prefix === 'team-a/console/episode7')"
                           ".job_id")
    shown = api_fleet.cli("status", job_id, "--json")
    assert json.loads(shown.stdout)["spec"]["audio_languages"] == ["en"], shown.stderr  # the form's audio language
    row = page.locator("tr", has=page.locator("td", has_text="team-a/console/episode7")).first
    assert row.locator(".state").inner_text() == "published"
    row.locator("button.play").click()
    page.wait_for_url("**/_vodfleet/?base=/play/**")
    page.wait_for_function("window.vodfleetPlayer && window.vodfleetPlayer.ready && "
                           "window.vodfleetPlayer.video.currentTime > 1", timeout=60_000)
    languages = page.evaluate("window.vodfleetPlayer.textLanguages().map(t => t.lang)")
    assert sorted(languages) == ["ar", "ko"]
    assert page.evaluate("window.vodfleetPlayer.errors.filter(e => e.fatal).length") == 0
    page.wait_for_function("document.querySelector('#qc-badge').textContent.includes('pass')", timeout=20_000)
    page.close()


def test_interrupted_upload_resumes_after_reload_and_failure_shows_what_to_do(browser: Browser, api_fleet: ApiFleet,
                                                                               tmp_path: Path) -> None:
    junk = tmp_path / "broken-master.mp4"
    junk.write_bytes(os.urandom(11 * 1024 * 1024))  # three 5 MiB parts, and not a video
    page = signed_in(browser, api_fleet)
    page.evaluate("window.vodfleetConsole.pauseAfter(1)")
    page.set_input_files("#files", [str(junk)])
    page.click("#submit")
    page.wait_for_function("document.querySelector('#submit-error').textContent.includes('paused')",
                           timeout=60_000)
    page.reload()
    page.wait_for_selector("#app:not([hidden])")  # the token is kept for this tab
    note = page.inner_text("#resume-note")
    assert "broken-master.mp4: 45% uploaded" in note, note
    puts: list[str] = []
    page.on("request", lambda request: puts.append(request.url) if request.method == "PUT" else None)
    page.set_input_files("#files", [str(junk)])
    page.click("#submit")
    page.wait_for_function("window.vodfleetConsole.jobs().some(j => j.source.endsWith('broken-master.mp4') "
                           "&& j.state === 'failed')", timeout=120_000)
    assert page.evaluate("window.vodfleetConsole.files().length") == 0
    assert len(puts) == 2 and all("partNumber=1&" not in url and not url.endswith("partNumber=1") for url in puts)
    failure = page.locator("tr[data-failure] .failure").first
    assert failure.locator(".code").inner_text() == "source_not_media"
    assert failure.locator(".hint").inner_text().startswith("What to do: ")
    assert "/" not in failure.locator(".message").inner_text().split(":")[0]  # no storage key in front
    failed = page.evaluate("window.vodfleetConsole.jobs().find(j => j.source.endsWith('broken-master.mp4'))"
                           ".job_id")
    before = len(page.evaluate("window.vodfleetConsole.jobs()"))
    page.locator(f"tr[data-job='{failed}'] button.retry").click()  # POST /jobs/{id}/retry: a new revision
    page.wait_for_function(f"window.vodfleetConsole.jobs().length === {before + 1}", timeout=20_000)
    assert api_fleet.tokens["a"] not in page.content()  # the secret is never shown
    shot = tmp_path / "console.png"  # the README's picture: a published title and a failure with what to do
    page.screenshot(path=str(shot), full_page=True)
    if os.environ.get("VODFLEET_UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(shot, REPO / "docs" / "console.png")
    page.close()


def test_dropped_subtitle_language_is_validated_and_charset_checked(browser: Browser, api_fleet: ApiFleet) -> None:
    """A real drop event (DataTransfer with File objects): a subtitle without a language in its name is refused
    until a valid BCP-47 tag is picked; then the API reads its charset; a tag that does not fit the bytes is
    refused with the worker's own code."""
    page = signed_in(browser, api_fleet)
    srt = "1\n00:00:00,100 --> 00:00:01,000\n안녕하세요\n\n".encode("cp949")
    page.evaluate("""(bytes) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(bytes)], 'extras.srt'));
      transfer.items.add(new File([new Uint8Array([0, 0, 0, 24])], 'master.mov'));
      document.querySelector('#drop').dispatchEvent(new DragEvent('drop', {dataTransfer: transfer, bubbles: true}));
    }""", list(srt))
    page.wait_for_function("window.vodfleetConsole.files().length === 2")
    row = page.locator("tr[data-file='extras.srt']")
    assert "language_invalid" in row.locator(".check").inner_text()
    assert row.locator("input").get_attribute("class") == "invalid"
    row.locator("input").fill("zh_TW")
    row.locator("input").dispatch_event("change")
    page.wait_for_function("document.querySelector(\"tr[data-file='extras.srt'] .check\").textContent"
                           ".includes('language_invalid')")
    row.locator("input").fill("ar")
    row.locator("input").dispatch_event("change")
    page.wait_for_function("document.querySelector(\"tr[data-file='extras.srt'] .check\").textContent"
                           ".includes('subtitle_charset_unknown')", timeout=20_000)
    row.locator("input").fill("ko")
    row.locator("input").dispatch_event("change")
    page.wait_for_function("document.querySelector(\"tr[data-file='extras.srt'] .check\").textContent"
                           ".startsWith('cp949')", timeout=20_000)
    roles = {f["name"]: f["role"] for f in page.evaluate("window.vodfleetConsole.files()")}
    assert roles == {"extras.srt": "subtitle", "master.mov": "master"}
    page.fill("#audio-language", "en, korean!")  # the audio languages: BCP-47 checked like the subtitles'
    page.click("#submit")
    page.wait_for_function("document.querySelector('#submit-error').textContent.includes('korean!')")
    assert page.locator("#audio-language").get_attribute("class") == "invalid"
    page.close()
