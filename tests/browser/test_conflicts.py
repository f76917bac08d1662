"""Conflicts: another member changed the same answer first. Nothing is overwritten silently; the tablet shows both
values and the user's choice is what the server ends with."""

from __future__ import annotations

import json
import uuid

from audit_api.services.demo import demo_id
from tests.browser.conftest import screenshot, wait_until, watch_console
from tests.browser.pwa import item, offline_on_section, press, pressed, wait_state

TANTHANH = demo_id("insp-tanthanh-2026")
TANTHANH_HOST = demo_id("unit:LSN-X-TANTHANH")


def server_answer(live_server, code: str):
    rows = live_server.query("SELECT value, version FROM answers WHERE inspection_id = ? AND item_code = ?",
                             (TANTHANH.hex, code))
    return (json.loads(rows[0][0]), rows[0][1]) if rows else None


def other_member_answers(live_server, code: str, value: str) -> None:
    """The secretary's tablet syncs first (the secretary writes any section)."""
    result = live_server.api("POST", "/sync", token=live_server.token("thuky"), body={
        "device_id": "tablet-thu-ky", "mutations": [{
            "id": str(uuid.uuid4()), "type": "answer.set", "inspection_id": str(TANTHANH), "base_version": 0,
            "payload": {"item_code": code, "unit_id": str(TANTHANH_HOST), "value": value}}]})
    assert result["results"][0]["status"] == "applied"


def test_conflict_is_shown_side_by_side_and_the_users_choice_wins(page, context, live_server, console_errors):
    watch_console(page, console_errors)
    offline_on_section(page, live_server.url, "kiemtra1", TANTHANH, TANTHANH_HOST, "A")
    press(page, "A9", "yes")
    press(page, "A10", "no")
    wait_state(page, "A9", "queued")
    wait_state(page, "A10", "queued")
    other_member_answers(live_server, "A9", "no")
    other_member_answers(live_server, "A10", "yes")
    other_member_answers(live_server, "A11", "yes")  # an answer the tablet never touched: the feed brings it

    context.set_offline(False)
    wait_state(page, "A9", "conflict")
    wait_state(page, "A10", "conflict")
    wait_state(page, "A11", "synced")
    assert pressed(page, "A11") == ["yes"]
    conflict = page.inner_text(f"{item('A9')} [data-role=conflict]")
    assert "Trên máy chủ, Lê Thu Hà đã cập nhật mục này" in conflict and "Không" in conflict
    assert "Giá trị trên máy này: Có." in conflict
    assert page.inner_text("#sync-pill") == "2 cần xử lý"
    assert server_answer(live_server, "A9") == ("no", 1)  # nothing overwritten
    page.locator(item("A9")).scroll_into_view_if_needed()
    screenshot(page, "09-xung-dot")

    page.click(f"{item('A9')} [data-action=keep-mine]")
    wait_state(page, "A9", "synced")
    assert wait_until(lambda: server_answer(live_server, "A9") == ("yes", 2))
    page.click(f"{item('A10')} [data-action=keep-theirs]")
    wait_state(page, "A10", "synced")
    page.wait_for_function("document.querySelector(\"article[data-item='A10'] button[data-value='yes']\")"
                           ".getAttribute('aria-pressed') === 'true'")
    assert pressed(page, "A10") == ["yes"]
    assert server_answer(live_server, "A10") == ("yes", 1)
    assert page.inner_text("#sync-pill") == "Đã đồng bộ"
    outcomes = live_server.query("SELECT outcome, COUNT(*) FROM sync_mutations WHERE inspection_id = ? "
                                 "GROUP BY outcome ORDER BY outcome", (TANTHANH.hex,))
    assert outcomes == [("applied", 4), ("conflict", 2)]  # three by the secretary, keep mine; the two conflicts
    assert [e for e in console_errors if "net::ERR_INTERNET_DISCONNECTED" not in e] == []
