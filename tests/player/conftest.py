"""Browser tests: one real transcode, served by `vodfleet preview`, played by hls.js and Shaka Player in Chromium.

Needs /usr/bin/chromium (apt), the `playwright` Python package (its API only: the browser is Debian's, never
`playwright install`) and node_modules (`npm ci`). Missing any of them: the tests skip locally and fail in CI
(CI=true).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playerpage import CHROMIUM, LAUNCH_ARGS, VIEWPORT, PlayerPage
from published import publish

from workers.preview.errors import LibrariesMissing
from workers.preview.library import find_libraries
from workers.preview.server import Address, running
from workers.preview.site import open_site

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Playwright

def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "player: plays vodfleet output in a real browser (Chromium + hls.js/Shaka)")


# --- the environment ----------------------------------------------------------------------------------------


def missing_requirement() -> str | None:
    if not Path(CHROMIUM).is_file():
        return f"{CHROMIUM} is missing (apt-get install -y chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is missing (pip install playwright; never `playwright install`)"
    try:
        find_libraries()
    except LibrariesMissing as exc:
        return f"{exc.message}; {exc.hint}"
    return None


def require_browser() -> None:
    why = missing_requirement()
    if why is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"player tests cannot run in CI: {why}")
    pytest.skip(f"player tests need a browser setup: {why}")


# --- fixtures -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One transcode: 640x360 8 s, audio en + es, subtitles ko (SRT), ar (WebVTT), en (SRT); 2 s segments."""
    require_browser()
    return publish(tmp_path_factory.mktemp("published"))


@pytest.fixture(scope="session")
def preview(published: Path) -> Iterator[Address]:
    with running(open_site(published)) as address:
        yield address


@pytest.fixture(scope="session")
def playwright_api() -> Iterator[Playwright]:
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as api:
        yield api


@pytest.fixture(scope="session")
def browser(playwright_api: Playwright, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    profile = tmp_path_factory.mktemp("chromium-profile")  # a fresh user-data-dir per session
    context = playwright_api.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, headless=True, args=list(LAUNCH_ARGS), viewport=VIEWPORT)
    yield context
    context.close()


@pytest.fixture
def player(browser: BrowserContext, preview: Address) -> Iterator[PlayerPage]:
    page = browser.new_page()
    player = PlayerPage(page, preview)
    yield player
    page.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")
