"""An inspector's side of the review cycle on the tablet: the findings the rules generated from the synced
answers appear on the tablet, a finding's wording edited offline goes out with the queue, the section is
submitted, the lead returns it with a comment, and after the next sync the inspector sees the comment and can
work on the section again."""

from __future__ import annotations

from audit_api.services.demo import demo_id
from tests.browser.conftest import screenshot, sign_in, wait_until, watch_console
from tests.browser.pwa import download, item, open_section, press

BACSON = demo_id("insp-bacson-2024")
BACSON_HOST = demo_id("unit:LSN-H-BACSON")
EDITED = ("Đơn vị chưa thực hiện số hóa hồ sơ, kết quả giải quyết TTHC khi tiếp nhận theo quy định tại "
          "Nghị định số 45/2020/NĐ-CP (đoàn đã kiểm tra trực tiếp tại Bộ phận Một cửa).")
COMMENT = "Đề nghị bổ sung số liệu số hóa của quý II trước khi nộp lại."


def finding_row(live_server, item_code: str):
    rows = live_server.query("SELECT text, status, version FROM findings WHERE inspection_id = ? AND unit_id = ? "
                             "AND item_code = ? AND kind = 'finding'", (BACSON.hex, BACSON_HOST.hex, item_code))
    return rows[0] if rows else None


def section_row(live_server, code: str):
    rows = live_server.query("SELECT status, review_comment FROM section_assignments WHERE inspection_id = ? AND "
                             "section_code = ?", (BACSON.hex, code))
    return rows[0] if rows else None


def sync_now(page, base_url: str) -> None:
    """Press "Đồng bộ ngay" and wait for the round to end (sent, then the change feed pulled)."""
    page.goto(f"{base_url}/#/dong-bo")
    page.wait_for_selector("#sync-now:not([disabled])")
    page.click("#sync-now")  # disabled at once, enabled again when the round is over
    page.wait_for_selector("#sync-now:not([disabled])", timeout=20_000)
    page.wait_for_selector("#nothing-waiting")


def test_inspector_edits_a_finding_offline_submits_and_sees_the_leads_comment(page, context, live_server,
                                                                                console_errors):
    watch_console(page, console_errors)
    sign_in(page, live_server.url, "kiemtra2")  # section E is assigned to kiemtra2
    download(page, BACSON)
    open_section(page, live_server.url, BACSON, BACSON_HOST, "E")
    press(page, "E3", "no")
    press(page, "E7", "no")
    page.wait_for_selector(f"{item('E3')}[data-state=synced]", timeout=20_000)
    page.wait_for_selector(f"{item('E7')}[data-state=synced]", timeout=20_000)
    assert wait_until(lambda: finding_row(live_server, "E3"))  # the server's rules wrote the finding

    # the generated finding reaches the tablet through the change feed; then it is edited with no network
    sync_now(page, live_server.url)
    page.goto(f"{live_server.url}/#/kiem-tra/{BACSON}/ket-qua")
    finding = f"article.finding[data-item='E3'][data-unit='{BACSON_HOST}']"
    page.wait_for_selector(finding)
    generated = page.inner_text(f"{finding} [data-role=text]")
    assert generated == finding_row(live_server, "E3")[0]
    context.set_offline(True)
    page.click(f"{finding} [data-action=edit-finding]")
    page.fill(f"{finding} textarea[data-role=editor]", EDITED)
    page.click(f"{finding} [data-action=save-finding]")
    page.wait_for_selector(f"{finding}[data-state=queued]")
    assert page.inner_text(f"{finding} [data-role=text]") == EDITED
    screenshot(page, "20-han-che-sua-ngoai-tuyen", top=True)
    assert finding_row(live_server, "E3")[0] == generated  # nothing left the tablet yet
    context.set_offline(False)
    page.wait_for_selector(f"{finding}[data-state=synced]", timeout=15_000)
    text, status, version = wait_until(
        lambda: finding_row(live_server, "E3")[0] == EDITED and finding_row(live_server, "E3"))
    assert (text, status) == (EDITED, "edited") and version >= 2

    # submit the section: read-only on the tablet at once, submitted on the server after the sync
    open_section(page, live_server.url, BACSON, BACSON_HOST, "E")
    page.click("[data-action=submit-section]")
    page.click("dialog [data-value=submit]")
    page.wait_for_selector("[data-role=section-status]:has-text('Đã nộp')")
    assert page.locator(f"{item('E3')} button[data-value='yes']").is_disabled()
    assert wait_until(lambda: section_row(live_server, "E") == ("submitted", None))

    # the lead returns it with a comment; the tablet learns it at the next sync
    token = live_server.token("truongdoan")
    live_server.api("POST", f"/inspections/{BACSON}/sections/E/review", token=token,
                    body={"decision": "return", "comment": COMMENT})
    sync_now(page, live_server.url)
    open_section(page, live_server.url, BACSON, BACSON_HOST, "E")
    page.wait_for_selector(f".banner:has-text('{COMMENT}')")
    assert page.inner_text("[data-role=section-status]") == "Được trả lại"
    assert page.locator(f"{item('E3')} button[data-value='yes']").is_enabled()
    assert page.locator("[data-action=submit-section]").count() == 1
    screenshot(page, "21-phan-bi-tra-lai", top=True)
    assert [e for e in console_errors if "ERR_INTERNET_DISCONNECTED" not in e] == []
