"""A flaky network while syncing: requests that never arrive, and responses lost after the server applied the
batch. The outbox retries with the same mutation ids, so the server ends with each answer exactly once."""

from __future__ import annotations

import json

from audit_api.services.demo import demo_id
from tests.browser.conftest import LANDSCAPE, sign_in, wait_until, watch_console
from tests.browser.pwa import download, open_section, press, type_into, wait_state

BACSON = demo_id("insp-bacson-2024")
TANLAP = demo_id("unit:LSN-X-TANLAP")
ANSWERS = {"A5": "yes", "A7": 3, "A8": "yes", "A9": "no", "A10": "yes", "A11": "na"}


def server_answers(live_server) -> dict:
    rows = live_server.query("SELECT item_code, value, version FROM answers WHERE inspection_id = ? AND unit_id = ?",
                             (BACSON.hex, TANLAP.hex))
    return {code: (json.loads(value) if isinstance(value, str) else value, version) for code, value, version in rows}


def test_lost_requests_and_lost_responses_still_store_each_answer_once(browser, live_server, console_errors):
    # Playwright routes only the page's own requests: no service worker here (this test is about the network).
    context = browser.new_context(viewport=LANDSCAPE, locale="vi-VN", service_workers="block")
    context.set_default_timeout(10_000)
    page = context.new_page()
    watch_console(page, console_errors)
    sign_in(page, live_server.url, "kiemtra1")
    download(page, BACSON)
    open_section(page, live_server.url, BACSON, TANLAP, "A")
    context.set_offline(True)
    for code, value in ANSWERS.items():
        if isinstance(value, int):
            type_into(page, f"#in-{code}", str(value))
        else:
            press(page, code, value)
        wait_state(page, code, "queued")

    seen = []

    def flaky(route):
        seen.append(len(seen) + 1)
        if len(seen) == 1:
            route.abort("connectionreset")  # the request never reaches the server
        elif len(seen) in (2, 3):
            route.fetch()  # the server applies the batch (then: a duplicate) ...
            route.abort("connectionreset")  # ... and the answer is lost on the way back
        else:
            route.fulfill(response=route.fetch())

    page.route("**/api/v1/sync", flaky)
    context.set_offline(False)
    page.goto(f"{live_server.url}/#/dong-bo")
    page.wait_for_selector("#stat-pending")
    for _ in range(20):  # "Đồng bộ ngay" skips the backoff; a person would press it, or wait
        if page.locator("#nothing-waiting").count():
            break
        page.wait_for_selector("#sync-now:not([disabled])")
        page.click("#sync-now")
        page.wait_for_timeout(100)
    page.wait_for_selector("#nothing-waiting")
    assert len(seen) >= 4
    held = wait_until(lambda: len(server_answers(live_server)) == len(ANSWERS) and server_answers(live_server))
    assert held == {code: (value, 1) for code, value in ANSWERS.items()}
    outcomes = live_server.query("SELECT outcome, COUNT(*) FROM sync_mutations WHERE inspection_id = ? AND "
                                 "json_extract(payload, '$.unit_id') = ? GROUP BY outcome", (BACSON.hex, str(TANLAP)))
    assert outcomes == [("applied", len(ANSWERS))]  # retries came back `duplicate`: stored once, never re-applied
    open_section(page, live_server.url, BACSON, TANLAP, "A")
    for code in ANSWERS:
        wait_state(page, code, "synced")
    context.close()
    assert [e for e in console_errors if "ERR_CONNECTION_RESET" not in e and "ERR_INTERNET" not in e] == []
