"""One tablet, two inspectors: each has their own local database; signing out keeps unsynced work."""

from __future__ import annotations

import json

from tests.browser.conftest import open_profile, screenshot, sign_in, wait_until, watch_console
from tests.browser.pwa import TRANGDINH, TRANGDINH_HOST, download, item, open_section, press, wait_state

COUNT_LOCAL = """async (name) => {
  const db = await new Promise((ok, fail) => { const r = indexedDB.open(name); r.onsuccess = () => ok(r.result);
                                                r.onerror = () => fail(r.error); });
  const count = (store) => new Promise((ok) => { const r = db.transaction(store).objectStore(store).count();
                                                 r.onsuccess = () => ok(r.result); });
  const result = {bundles: await count("bundles"), answers: await count("answers"), outbox: await count("outbox")};
  db.close();
  return result;
}"""


def signed_in_user_id(page) -> str:
    return page.evaluate("JSON.parse(localStorage.getItem('audit.session')).user.id")


def server_answers(live_server) -> list[tuple]:
    return live_server.query("SELECT item_code, value, version FROM answers WHERE inspection_id = ?", (TRANGDINH.hex,))


def test_second_user_on_the_same_tablet_sees_none_of_the_first_users_data(playwright, live_server, tmp_path):
    errors: list[str] = []
    context = open_profile(playwright, tmp_path / "profile")
    page = context.pages[0] if context.pages else context.new_page()
    watch_console(page, errors)
    sign_in(page, live_server.url, "kiemtra1")
    first = signed_in_user_id(page)
    download(page, TRANGDINH)
    open_section(page, live_server.url, TRANGDINH, TRANGDINH_HOST, "A")
    context.set_offline(True)
    page.wait_for_selector("#net-pill.offline")
    press(page, "A5", "no")
    wait_state(page, "A5", "queued")

    # Signing out with unsynced work warns; staying keeps the session.
    page.click("header button:has-text('Đăng xuất')")
    page.wait_for_selector("dialog[open]")
    warning = page.inner_text("dialog")
    assert "Còn dữ liệu chưa đồng bộ" in warning and "Có 1 thay đổi chưa được gửi lên máy chủ." in warning
    assert "cần có mạng để đăng nhập lại" in warning
    screenshot(page, "07-dang-xuat-con-du-lieu")
    page.click("dialog button[data-value=stay]")
    assert page.locator(item("A5")).get_attribute("data-state") == "queued"
    page.click("header button:has-text('Đăng xuất')")
    page.click("dialog button[data-value=leave]")
    page.wait_for_selector("#username")
    assert page.evaluate("localStorage.getItem('audit.session')") is None

    context.set_offline(False)
    sign_in(page, live_server.url, "kiemtra2")
    second = signed_in_user_id(page)
    assert second != first
    page.wait_for_selector(f"article[data-inspection-id='{TRANGDINH}']")
    assert page.locator("#inspection-list a.btn-primary").count() == 0  # nothing downloaded for kiemtra2
    assert page.locator("#inspection-list .badge.ok").count() == 0
    assert page.inner_text("#sync-pill") == "Đã đồng bộ"
    screenshot(page, "08-nguoi-dung-thu-hai")
    names = {db["name"] for db in page.evaluate("indexedDB.databases()")}
    assert {f"audit-{first}", f"audit-{second}"} <= names
    assert page.evaluate(COUNT_LOCAL, f"audit-{second}") == {"bundles": 0, "answers": 0, "outbox": 0}
    page.goto(f"{live_server.url}/#/kiem-tra/{TRANGDINH}")
    page.wait_for_selector("h1:has-text('chưa được tải về máy này')")
    assert server_answers(live_server) == []  # kiemtra1's answer waits on the tablet, not sent in their absence

    # kiemtra2 signs out (nothing of theirs is unsynced: no warning); kiemtra1's work is still there and syncs.
    page.click("header button:has-text('Đăng xuất')")
    page.wait_for_selector("#username")
    assert page.locator("dialog[open]").count() == 0
    sign_in(page, live_server.url, "kiemtra1")
    assert wait_until(lambda: server_answers(live_server)) == [("A5", json.dumps("no"), 1)]
    open_section(page, live_server.url, TRANGDINH, TRANGDINH_HOST, "A")
    wait_state(page, "A5", "synced")
    context.close()
    assert [e for e in errors if "net::ERR_INTERNET_DISCONNECTED" not in e] == []
