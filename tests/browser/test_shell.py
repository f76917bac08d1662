"""The app shell: served with its security headers, installs its service worker, opens with no network."""

from __future__ import annotations

import json
import urllib.request

from audit_api.services.demo import demo_id
from audit_api.web import shell
from tests.browser.conftest import screenshot, sign_in, wait_ready, wait_until, watch_console
from tests.browser.pwa import download, open_section, press, pressed, wait_state


def fetch(url: str) -> tuple[int, dict, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 — loopback only
        return response.status, dict(response.headers), response.read()


def test_app_pages_are_public_with_a_strict_content_security_policy(live_server):
    status, headers, body = fetch(f"{live_server.url}/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert '<script type="module" src="/app/js/app.js">' in body.decode()
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "img-src 'self' blob: data:" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cache-Control"] == "no-cache"


def test_service_worker_is_served_from_the_root_with_the_shell_and_its_version(live_server):
    status, headers, body = fetch(f"{live_server.url}/sw.js")
    assert status == 200 and headers["Content-Type"].startswith("text/javascript")
    assert headers["Service-Worker-Allowed"] == "/" and headers["Cache-Control"] == "no-cache"
    expected = shell()
    assert json.dumps(expected) in body.decode()
    assert "/app/js/db.js" in expected["files"] and "/" in expected["files"]
    assert not any(url.startswith("/api/") for url in expected["files"])


def test_manifest_icons_and_modules_are_served(live_server):
    status, headers, body = fetch(f"{live_server.url}/manifest.webmanifest")
    manifest = json.loads(body)
    assert headers["Content-Type"].startswith("application/manifest+json")
    assert manifest["start_url"] == "/" and manifest["display"] == "standalone" and manifest["lang"] == "vi"
    for icon in manifest["icons"]:
        status, headers, body = fetch(f"{live_server.url}{icon['src']}")
        assert status == 200 and headers["Content-Type"] == "image/png" and body[:8] == b"\x89PNG\r\n\x1a\n"
        assert "max-age=86400" in headers["Cache-Control"]
    status, headers, _ = fetch(f"{live_server.url}/app/js/outbox.js")
    assert headers["Content-Type"].startswith("text/javascript") and headers["Cache-Control"] == "no-cache"
    assert "ETag" in headers


def test_shell_installs_its_service_worker_and_opens_offline(page, context, live_server, console_errors):
    watch_console(page, console_errors)
    page.goto(f"{live_server.url}/")
    wait_ready(page)
    assert page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    wait_ready(page)
    assert page.evaluate("navigator.serviceWorker.controller.scriptURL") == f"{live_server.url}/sw.js"
    version = shell()["version"]
    assert page.evaluate("caches.keys()") == [f"audit-shell-{version}"]
    cached = page.evaluate(f"caches.open('audit-shell-{version}').then(c => c.keys()).then(r => r.map(q => q.url))")
    assert {url.removeprefix(live_server.url) for url in cached} == set(shell()["files"])

    context.set_offline(True)
    page.reload()
    wait_ready(page)
    assert page.locator("#username").is_visible()
    assert "Cần có mạng để đăng nhập" in page.inner_text(".signin")
    assert page.locator("form button[type=submit]").is_disabled()
    screenshot(page, "01-dang-nhap-ngoai-tuyen")
    assert console_errors == []


def test_a_new_shell_replaces_old_caches_and_leaves_local_data_alone(page, context, live_server, console_errors):
    bacson, host = demo_id("insp-bacson-2024"), demo_id("unit:LSN-H-BACSON")
    watch_console(page, console_errors)
    sign_in(page, live_server.url, "kiemtra1")
    download(page, bacson)
    open_section(page, live_server.url, bacson, host, "A")
    context.set_offline(True)
    press(page, "A9", "yes")
    wait_state(page, "A9", "queued")
    # A release: the previous version's shell cache is still there, and a new service worker installs.
    page.evaluate("""async () => {
      await (await caches.open('audit-shell-0123456789abcdef')).put('/old', new Response('old shell'));
      for (const registration of await navigator.serviceWorker.getRegistrations()) await registration.unregister();
    }""")
    context.set_offline(False)
    page.reload()
    wait_ready(page)
    assert page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    current = [f"audit-shell-{shell()['version']}"]
    assert wait_until(lambda: page.evaluate("caches.keys()") == current), page.evaluate("caches.keys()")
    page.wait_for_selector("article[data-item='A9']")
    assert pressed(page, "A9") == ["yes"]  # IndexedDB untouched by the update
    wait_state(page, "A9", "synced")
    assert console_errors == []
