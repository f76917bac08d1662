"""A session that ends while the queue holds work: the queue pauses (nothing dropped), the user signs in again, and
the queue completes."""

from __future__ import annotations

import json

from audit_api.services.demo import demo_id
from tests.browser.conftest import screenshot, wait_until, watch_console
from tests.browser.pwa import item, offline_on_section, type_into, wait_state

BACSON = demo_id("insp-bacson-2024")
BACSON_HOST = demo_id("unit:LSN-H-BACSON")


def server_answers(live_server) -> dict:
    rows = live_server.query("SELECT item_code, value, version FROM answers WHERE inspection_id = ? AND unit_id = ? "
                             "AND item_code IN ('D1', 'D3')", (BACSON.hex, BACSON_HOST.hex))
    return {code: (json.loads(value) if isinstance(value, str) else value, version) for code, value, version in rows}


def test_expired_session_pauses_the_queue_until_the_user_signs_in_again(page, context, live_server, console_errors):
    watch_console(page, console_errors)
    offline_on_section(page, live_server.url, "kiemtra2", BACSON, BACSON_HOST, "D")
    type_into(page, "#in-D1", "320")
    type_into(page, "#in-D3", "0")
    wait_state(page, "D1", "queued")
    wait_state(page, "D3", "queued")

    # While the tablet is away, its sign-in ends (revoked here; an expired refresh token behaves the same).
    tokens = page.evaluate("JSON.parse(localStorage.getItem('audit.session'))")
    live_server.api("POST", "/auth/logout", token=tokens["access_token"])
    context.set_offline(False)
    page.wait_for_selector(".banner.danger:has-text('Phiên đăng nhập đã hết hạn')")
    assert page.get_attribute(item("D1"), "data-state") == "queued"
    assert server_answers(live_server) == {}
    screenshot(page, "14-phien-het-han")

    page.click(".banner.danger a:has-text('Đăng nhập lại')")
    page.wait_for_selector("#password")
    assert page.input_value("#username") == "kiemtra2"
    assert "Các thay đổi chưa đồng bộ vẫn được giữ" in page.inner_text(".signin")
    page.fill("#password", live_server.password)
    page.click("form button[type=submit]")
    page.wait_for_selector("#inspection-list")
    page.wait_for_selector("#sync-pill:has-text('Đã đồng bộ')")
    assert wait_until(lambda: len(server_answers(live_server)) == 2)
    assert server_answers(live_server) == {"D1": (320, 1), "D3": (0, 1)}  # each once, nothing lost
    assert page.locator(".banner.danger").count() == 0
    assert [e for e in console_errors if "net::ERR_INTERNET_DISCONNECTED" not in e and "401" not in e] == []
