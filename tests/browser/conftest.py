"""Browser tests: Playwright for Python driving Debian's Chromium against the real app on loopback.

The server runs in its own process (tests/browser/server.py) on its own SQLite database, built like
`make setup`. Chromium is /usr/bin/chromium (scripts/system-packages installs it in test mode; never
`playwright install`), headless, with background networking off: the machine has no internet, and Chromium's
own background connections would otherwise fail or stall. Every test here carries the `browser` marker
(`pytest -m browser`, or `-m "not browser"` to leave them out); they run in the normal `make test` too.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.support import DEMO_PASSWORD, PROJECT_ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
# Chromium's interface language (date inputs: dd/mm/yyyy) comes from LANGUAGE, with Debian's chromium-l10n.
CHROMIUM_ENV = {**os.environ, "LANGUAGE": "vi"}
LANDSCAPE = {"width": 1280, "height": 800}
PORTRAIT = {"width": 800, "height": 1280}
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "pwa"
TIMEOUT_MS = 10_000


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(autouse=True)
def db_session():
    """Overrides the suite's rolled-back transaction: the server process has its own database."""
    yield None


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Overrides the suite's limiter reset: the server runs with rate limits off."""


class LiveServer:
    """The app in a subprocess: its URL, its database file, and small helpers to look at what it holds."""

    def __init__(self, folder: Path, env: dict | None = None):
        self.folder = folder
        self.db_path = folder / "audit.sqlite3"
        self.log = (folder / "server.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.browser.server", str(folder)], cwd=PROJECT_ROOT,
            env={**os.environ, "APP_ENV": "testing", **(env or {})},
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.process.stdout.readline()
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError(f"server did not start: {line!r}; see {folder / 'server.log'}")
        self.url = f"http://127.0.0.1:{int(line.split()[1])}"
        self.password = DEMO_PASSWORD

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True) as conn:
            return conn.execute(sql, params).fetchall()

    def api(self, method: str, path: str, *, token: str | None = None, body: dict | None = None) -> dict:
        request = urllib.request.Request(  # noqa: S310 — our own server on loopback
            f"{self.url}/api/v1{path}", method=method, data=json.dumps(body).encode() if body is not None else None)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 — loopback only
            return json.loads(response.read() or b"null")

    def token(self, username: str) -> str:
        return self.api("POST", "/auth/login", body={"username": username, "password": DEMO_PASSWORD})["access_token"]


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path_factory.mktemp("pwa-server"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/system-packages test (installs Debian's chromium)")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, env=CHROMIUM_ENV)
    try:
        yield browser
    finally:
        browser.close()


def open_profile(playwright: Playwright, profile: Path, viewport: dict = LANDSCAPE) -> BrowserContext:
    """A browser with a persistent profile (IndexedDB, service worker and caches survive closing it)."""
    context = playwright.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, env=CHROMIUM_ENV,
        viewport=viewport, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", service_workers="allow")
    context.set_default_timeout(TIMEOUT_MS)
    return context


@pytest.fixture
def context(browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport=LANDSCAPE, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh",
                                  service_workers="allow")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(context) -> Page:
    return context.new_page()


@pytest.fixture
def console_errors() -> list[str]:
    """Attach with watch_console(page, console_errors); the test asserts the list stays empty."""
    return []


def watch_console(page: Page, errors: list[str]) -> None:
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))


def screenshot(page: Page, name: str, *, top: bool = False) -> Path:
    """Save test-artifacts/pwa/<name>.png (toasts hidden; `top`: scrolled to the top of the screen first)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("document.querySelectorAll('.toast').forEach(t => t.classList.add('hidden'))")
    if top:
        page.evaluate("window.scrollTo(0, 0)")
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


def wait_ready(page: Page) -> None:
    page.wait_for_selector("html[data-ready='true']")


def sign_in(page: Page, base_url: str, username: str, password: str = DEMO_PASSWORD, *,
            lands_on: str = "#inspection-list") -> None:
    """Sign in through the form; staff land on their inspections, an inspected unit on its home (#unit-home)."""
    page.goto(f"{base_url}/#/dang-nhap")
    wait_ready(page)
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("form button[type=submit]")
    page.wait_for_selector(lands_on)


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.1):
    """Poll a Python-side condition (database, API) until it holds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)
