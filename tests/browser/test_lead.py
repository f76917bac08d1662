"""The team lead's screens, online, in the browser as truongdoan (the team's lead): the review returns one section
with a comment and approves another; findings are reworded, dropped with a reason and given a recommendation, and
an edit made stale behind the page's back shows the 412 conflict with the server's version; the minutes are
drafted, a prose section edited, previewed, downloaded and issued — after which the server holds an issued document
with its number and the screen shows it frozen. Then every screen at 1280x800 and 800x1280.

The inspection is this module's own (huyện Bắc Sơn in plan-2024, made through the API as admin, answered and
submitted through /api/v1/sync by the inspectors), so the demo inspections other browser tests use stay untouched.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid

import pytest

from audit_api.services.demo import SECTION_ASSIGNEES, demo_id
from tests.browser.conftest import LANDSCAPE, PORTRAIT, screenshot, sign_in, wait_ready, watch_console

TEAM, PLAN = demo_id("team-2024"), demo_id("plan-2024")
HOST, COMMUNE = demo_id("unit:LSN-H-BACSON"), demo_id("unit:LSN-X-TANHUONG")
LOCATION = "Hội trường UBND huyện Bắc Sơn"
RETURN_COMMENT = "Bổ sung số cán bộ, công chức cấp xã đạt chuẩn của từng xã."
C11_TEXT = "Còn 85/320 cán bộ, công chức cấp xã (26,6%) chưa đạt chuẩn theo quy định."
DROP_REASON = "Trùng nội dung với hạn chế D3 về hồ sơ quá hạn."
NEW_RECOMMENDATION = "Rà soát toàn bộ hồ sơ quá hạn năm 2024, gửi Phiếu xin lỗi đúng quy định."
THEIR_CAUSE = "Thiếu công chức chuyên trách tại Bộ phận Một cửa (thư ký bổ sung)."
H2_TEXT = "Còn 02/17 nhiệm vụ UBND tỉnh giao chưa hoàn thành đúng hạn (chủ yếu về số hóa hồ sơ)."
H2_REGENERATED = "Còn 03/17 nhiệm vụ được UBND tỉnh, Chủ tịch UBND tỉnh giao chưa hoàn thành đúng hạn."
MY_D3_TEXT = "Còn 93 hồ sơ giải quyết chậm hạn tại huyện Bắc Sơn, chủ yếu lĩnh vực đất đai."
UNIT_EXPLANATION = "Đại diện UBND huyện Bắc Sơn thống nhất với kết quả kiểm tra và cam kết khắc phục trong quý III."
EXPECTED_NETWORK_ERRORS = ("the server responded with a status of 412",)  # the stale edit, on purpose

# Every control a finger uses, visible: at least 44 px each way (as tests/browser/test_layout.py checks).
SMALL_TARGETS = """() => [...document.querySelectorAll('button, a.btn, a.tab, input, select, textarea, summary')]
  .filter((el) => el.offsetParent !== null)
  .map((el) => ({ rect: el.getBoundingClientRect(), what: `${el.tagName} ${(el.innerText || el.id).slice(0, 40)}` }))
  .filter(({ rect }) => rect.height < 44 || rect.width < 44)
  .map(({ rect, what }) => `${what} ${Math.round(rect.width)}x${Math.round(rect.height)}`)"""
OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"


# --- the server, behind the page ---------------------------------------------------------------------------


def call(server, method: str, path: str, username: str, *, body=None, etag: str | None = None):
    """(status, headers, body) of an API call as a demo user; If-Match when `etag` is given; errors returned."""
    request = urllib.request.Request(  # noqa: S310 — our own server on loopback
        f"{server.url}/api/v1{path}", method=method, data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Content-Type", "application/json")
    request.add_header("Authorization", f"Bearer {server.token(username)}")
    if etag:
        request.add_header("If-Match", etag)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 — loopback only
            return response.status, response.headers, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read() or b"null")


def mutation(kind: str, payload: dict, base: int | None = None) -> dict:
    return {"id": str(uuid.uuid4()), "type": kind, "base_version": base, "payload": payload,
            "client_time": "2024-06-26T09:30:00+07:00"}


def sync(server, username: str, inspection_id: str, *mutations: dict) -> None:
    """Mutations sent by a member's tablet, all applied (answers regenerate the rule findings)."""
    status, _, body = call(server, "POST", "/sync", username, body={
        "device_id": f"tablet-{username}", "mutations": [{**m, "inspection_id": inspection_id} for m in mutations]})
    assert status == 200 and {r["status"] for r in body["results"]} == {"applied"}, body


def answer(code: str, value, base: int | None = None) -> dict:
    return mutation("answer.set", {"item_code": code, "value": value}, base)


def submit(code: str) -> dict:
    return mutation("section.submit", {"section_code": code})


def ratio(numerator: int, denominator: int) -> dict:
    return {"numerator": numerator, "denominator": denominator}


def sections(server, inspection_id: str) -> dict[str, dict]:
    bundle = call(server, "GET", f"/inspections/{inspection_id}/bundle", "truongdoan")[2]
    return {s["section_code"]: s for s in bundle["sections"]}


def findings(server, inspection_id: str) -> dict[str, dict]:
    """The rule findings by item code."""
    page = call(server, "GET", f"/inspections/{inspection_id}/findings?page_size=500", "truongdoan")[2]
    return {f["item_code"]: f for f in page["data"] if f["origin"] == "rule"}


def unexpected(errors: list[str]) -> list[str]:
    return [e for e in errors if not any(expected in e for expected in EXPECTED_NETWORK_ERRORS)]


@pytest.fixture(scope="module")
def inspection(live_server) -> str:
    """Huyện Bắc Sơn with xã Tân Hương, sections assigned as in the demo; C11 (kiemtra1), D3, D4, D6 (kiemtra2) and
    H2 (thuky) answered so that rule findings with recommendations exist, and sections C and D submitted."""
    made = call(live_server, "POST", "/inspections", "admin", body={
        "team_id": str(TEAM), "plan_id": str(PLAN), "host_unit_id": str(HOST), "sub_unit_ids": [str(COMMUNE)],
        "checklist_key": "tthc-2018", "scheduled_on": "2024-06-26", "location": LOCATION})[2]
    members = {m["username"]: m["user_id"] for m in call(live_server, "GET", f"/teams/{TEAM}", "admin")[2]["members"]}
    status, _, _ = call(live_server, "PUT", f"/inspections/{made['id']}/assignments", "admin", body={"assignments": [
        {"section_code": code, "user_id": members[name]} for code, name in SECTION_ASSIGNEES.items()]})
    assert status == 200
    sync(live_server, "kiemtra1", made["id"], answer("C11", ratio(85, 320)), submit("C"))
    sync(live_server, "kiemtra2", made["id"], answer("D3", 93), answer("D4", ratio(80, 93)),
         answer("D6", ratio(6118, 6118)), submit("D"))
    sync(live_server, "thuky", made["id"], answer("H2", ratio(15, 17)))  # section H stays open
    return made["id"]


@pytest.fixture
def lead(page, live_server, console_errors):
    watch_console(page, console_errors)
    sign_in(page, live_server.url, "truongdoan")
    return page


# --- review ---------------------------------------------------------------------------------------------------


def test_the_lead_returns_a_section_with_a_comment_and_approves_another(lead, live_server, inspection, console_errors):
    page = lead
    page.click(f"article[data-inspection-id='{inspection}'] a[data-lead=xem-xet]")
    page.wait_for_selector("#review-page article[data-section=C][data-status=submitted]")
    assert page.inner_text("article[data-section=C] .meta").startswith("Người nhập: Trần Thị Mai")

    # a submitted section's answers, read-only
    page.click("article[data-section=C] [data-action=answers]")
    row = "#answers-C li[data-item=C11]"
    assert "85/320" in page.inner_text(f"{row} .review-answer-value")
    assert page.inner_text(f"{row} .badge") == "Chưa đạt"
    assert page.locator("#answers-C input, #answers-C textarea, #answers-C select").count() == 0

    # returning needs a comment: refused on the page, nothing sent
    page.click("article[data-section=C] [data-action=return]")
    page.click("article[data-section=C] [data-action=confirm-return]")
    assert "Cần ghi ý kiến" in page.inner_text("article[data-section=C] .review-return")
    assert sections(live_server, inspection)["C"]["status"] == "submitted"
    page.fill("article[data-section=C] textarea[name=comment]", RETURN_COMMENT)
    page.click("article[data-section=C] [data-action=confirm-return]")
    page.wait_for_selector("article[data-section=C][data-status=returned]")
    assert RETURN_COMMENT in page.inner_text("article[data-section=C] .review-comment")

    page.click("article[data-section=D] [data-action=approve]")
    page.wait_for_selector("article[data-section=D][data-status=approved]")
    held = sections(live_server, inspection)
    assert (held["C"]["status"], held["C"]["review_comment"]) == ("returned", RETURN_COMMENT)
    assert held["D"]["status"] == "approved"
    # a returned section: the inspection cannot be approved yet
    assert page.is_disabled("#approve-inspection")
    assert call(live_server, "GET", f"/inspections/{inspection}", "truongdoan")[2]["status"] == "returned"
    page.evaluate("document.querySelector('article[data-section=C]').scrollIntoView({ block: 'start' })")
    screenshot(page, "lead-review")
    assert unexpected(console_errors) == []


# --- findings and recommendations ----------------------------------------------------------------------------


def test_findings_are_reworded_dropped_flagged_and_given_a_recommendation(lead, live_server, inspection,
                                                                          console_errors):
    page = lead
    page.goto(f"{live_server.url}/#/han-che/{inspection}")
    page.wait_for_selector("#findings-page #readiness h2")
    c11, d3, d4 = (f"article.lead-finding[data-item={code}]" for code in ("C11", "D3", "D4"))
    meta = page.inner_text(f"{c11} .meta")
    assert "Sinh từ danh mục" in meta and "Đơn vị: UBND huyện Bắc Sơn" in meta

    page.click(f"{c11} [data-action=edit]")
    page.fill(f"{c11} textarea[name=text]", C11_TEXT)
    page.click(f"{c11} [data-action=save]")
    page.wait_for_selector(f"{c11}[data-status=edited]")
    assert page.inner_text(f"{c11} .lead-finding-text") == C11_TEXT

    page.click(f"{d4} [data-action=drop]")
    page.click(f"{d4} [data-action=confirm-drop]")  # no reason: refused on the page
    page.wait_for_selector(f"{d4} .lead-error")
    page.fill(f"{d4} textarea[name=reason]", DROP_REASON)
    page.click(f"{d4} [data-action=confirm-drop]")
    page.wait_for_selector(f"#dropped {d4}[data-status=dropped]")
    assert DROP_REASON in page.inner_text(f"{d4} .lead-drop-reason")

    before = page.locator(f"{d3} li.lead-rec").count()
    page.click(f"{d3} [data-action=add-recommendation]")
    suggestion = page.locator(f"{d3} .lead-suggestion").first
    suggested = suggestion.evaluate("button => button.firstChild.textContent")
    suggestion.click()  # the checklist's wording fills the text
    assert page.input_value(f"{d3} .lead-form textarea[name=text]") == suggested
    page.fill(f"{d3} .lead-form textarea[name=text]", NEW_RECOMMENDATION)
    page.fill(f"{d3} .lead-form input[name=deadline]", "2024-09-30")
    page.click(f"{d3} [data-action=save-recommendation]")
    page.wait_for_function("([sel, n]) => document.querySelectorAll(sel).length === n",
                           arg=[f"{d3} li.lead-rec", before + 1])
    assert "Thời hạn: 30/09/2024" in page.inner_text(f"{d3} li.lead-rec:last-child")

    # H2 reworded, then the secretary's tablet changes the figure under it: flagged, with the new wording offered
    h2 = "article.lead-finding[data-item=H2]"
    page.click(f"{h2} [data-action=edit]")
    page.fill(f"{h2} textarea[name=text]", H2_TEXT)
    page.click(f"{h2} [data-action=save]")
    page.wait_for_selector(f"{h2}[data-status=edited]")
    sync(live_server, "thuky", inspection, answer("H2", ratio(14, 17), base=1))
    page.reload()
    page.wait_for_selector(f"{h2} .badge:has-text('Câu trả lời đã thay đổi sau khi sửa')")
    assert H2_REGENERATED in page.inner_text(f"{h2} .lead-note.warn")
    assert page.inner_text(f"{h2} .lead-finding-text") == H2_TEXT  # the person's text is never overwritten
    page.click(f"{h2} [data-action=use-generated]")
    page.wait_for_function("([sel, text]) => (document.querySelector(sel) || {}).textContent === text",
                           arg=[f"{h2} .lead-finding-text", H2_REGENERATED])
    assert page.locator(f"{h2} .badge:has-text('Câu trả lời đã thay đổi')").count() == 0

    held = findings(live_server, inspection)
    assert (held["H2"]["text"], held["H2"]["is_answer_changed_since_edit"]) == (H2_REGENERATED, False)
    assert (held["C11"]["status"], held["C11"]["text"]) == ("edited", C11_TEXT)
    assert (held["D4"]["status"], held["D4"]["drop_reason"]) == ("dropped", DROP_REASON)
    added = held["D3"]["recommendations"][-1]
    assert (added["text"], added["deadline"], added["origin"]) == (NEW_RECOMMENDATION, "2024-09-30", "manual")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "lead-findings", top=True)
    assert unexpected(console_errors) == []


def test_a_stale_edit_shows_the_412_conflict_and_can_be_applied_again(lead, live_server, inspection, console_errors):
    page = lead
    page.goto(f"{live_server.url}/#/han-che/{inspection}")
    d3 = "article.lead-finding[data-item=D3]"
    page.click(f"{d3} [data-action=edit]")
    page.fill(f"{d3} textarea[name=text]", MY_D3_TEXT)

    # the secretary changes the finding behind the page's back
    url = f"/findings/{findings(live_server, inspection)['D3']['id']}"
    _, headers, _ = call(live_server, "GET", url, "thuky")
    status, _, theirs = call(live_server, "PATCH", url, "thuky", etag=headers["ETag"],
                             body={"cause_subjective": THEIR_CAUSE})
    assert status == 200

    page.click(f"{d3} [data-action=save]")
    page.wait_for_selector(f"{d3} .lead-conflict")
    conflict = page.inner_text(f"{d3} .lead-conflict")
    assert f"phiên bản {theirs['version']}" in conflict and THEIR_CAUSE in conflict and MY_D3_TEXT in conflict
    assert findings(live_server, inspection)["D3"]["text"] != MY_D3_TEXT  # nothing of mine was written
    screenshot(page, "lead-findings-conflict")

    page.click(f"{d3} [data-action=reapply]")
    page.wait_for_function("([sel, text]) => (document.querySelector(sel) || {}).textContent === text",
                           arg=[f"{d3} .lead-finding-text", MY_D3_TEXT])
    held = findings(live_server, inspection)["D3"]
    assert (held["text"], held["cause_subjective"]) == (MY_D3_TEXT, THEIR_CAUSE)  # theirs is kept, mine on top
    assert held["version"] == theirs["version"] + 1
    assert unexpected(console_errors) == []


# --- the minutes ---------------------------------------------------------------------------------------------


def test_the_lead_drafts_edits_previews_and_issues_the_minutes(lead, live_server, inspection, console_errors):
    page = lead
    for code, status in ((c, s["status"]) for c, s in sections(live_server, inspection).items()):
        if status in ("open", "returned"):  # the members hand in the rest (C again, after the return)
            sync(live_server, SECTION_ASSIGNEES[code], inspection, submit(code))

    def approve() -> None:
        page.click("#approve-inspection:not([disabled])")
        page.click("dialog[open] button[data-value=approve]")
        page.wait_for_selector("#reopen-inspection")
        assert call(live_server, "GET", f"/inspections/{inspection}", "truongdoan")[2]["status"] == "approved"

    page.goto(f"{live_server.url}/#/xem-xet/{inspection}")
    approve()
    page.click("#reopen-inspection")  # reopened: every section back to its author, to hand in again
    page.click("dialog[open] button[data-value=reopen]")
    page.wait_for_selector("#approve-inspection[disabled]")
    assert {s["status"] for s in sections(live_server, inspection).values()} == {"open"}
    for code, member in SECTION_ASSIGNEES.items():
        sync(live_server, member, inspection, submit(code))
    page.reload()
    approve()

    page.click("nav.lead-tabs a[data-screen=van-ban]")
    page.click("#create-minutes")
    page.wait_for_selector("#document-status[data-status=draft]")
    section = "#document-sections [data-section=unit_explanation]"
    page.click(f"{section} [data-action=edit-section]")
    page.fill(f"{section} textarea", UNIT_EXPLANATION)
    page.click(f"{section} [data-action=save-section]")
    page.wait_for_selector(f"{section} .badge.info")  # "Đã sửa"
    assert page.inner_text(f"{section} .lead-prose-body") == UNIT_EXPLANATION
    [draft] = call(live_server, "GET", f"/documents?inspection_id={inspection}", "truongdoan")[2]["data"]
    assert (draft["status"], draft["sections"]) == ("draft", {"unit_explanation": UNIT_EXPLANATION})

    version = int(page.get_attribute("#document-status", "data-version"))
    page.click("#document-actions [data-action=refresh]")
    page.wait_for_selector(f"#document-status[data-version='{version + 1}']")

    page.click("#document-actions [data-action=preview]")
    page.wait_for_selector(f"#document-preview[data-version='{version + 1}']")
    shown = page.evaluate("document.querySelector('#document-preview').shadowRoot.textContent")
    assert "BIÊN BẢN" in shown and "DỰ THẢO" in shown and UNIT_EXPLANATION in shown and C11_TEXT in shown
    assert "13/93" not in shown  # D4 was dropped
    width = page.evaluate("""() => getComputedStyle(document.querySelector('#document-preview').shadowRoot
                             .querySelector('.doc-header td')).width""")
    assert width != "auto"  # the template's style="width: 45%" arrived through the CSSOM
    page.locator("#preview-card").scroll_into_view_if_needed()
    screenshot(page, "lead-document-preview")

    with page.expect_download() as downloading:
        page.click("#document-actions [data-action=pdf]")
    pdf = downloading.value
    assert pdf.suggested_filename.endswith(".pdf")
    with open(pdf.path(), "rb") as file:
        assert file.read(5) == b"%PDF-"

    page.click("#document-actions [data-action=issue]")
    page.click("#issue-panel [data-action=confirm-issue]")
    page.wait_for_selector("dialog[open]")
    warning = page.inner_text("dialog[open]")
    assert "cấp số chính thức" in warning and "vĩnh viễn" in warning and "không ai sửa được" in warning
    screenshot(page, "lead-document-issue")
    page.click("dialog[open] button[data-value=issue]")
    page.wait_for_selector("#document-status[data-status=issued]", timeout=60_000)

    [issued] = call(live_server, "GET", f"/documents?inspection_id={inspection}", "truongdoan")[2]["data"]
    assert issued["status"] == "issued" and issued["number"] >= 1 and issued["pdf_sha256"]
    assert page.inner_text("#document-number") == issued["display_number"]  # "Số: 01/BB-ĐKT"
    assert "không ai sửa được nữa" in page.inner_text("#document-frozen")
    for action in ("edit-section", "refresh", "issue"):
        assert page.locator(f"[data-action={action}]").count() == 0
    status, _, refused = call(live_server, "PATCH", f"/documents/{issued['id']}", "truongdoan",
                              etag=f'"document-{issued["id"]}-v{issued["version"]}"',
                              body={"sections": {"closing": "Sửa sau khi ban hành."}})
    assert status == 409 and "đã ban hành" in refused["detail"]
    assert call(live_server, "GET", f"/inspections/{inspection}", "truongdoan")[2]["status"] == "minutes_issued"
    with page.expect_download() as downloading:
        page.click("#document-actions [data-action=docx]")
    assert downloading.value.suggested_filename == f"{issued['number']:02d}-BB-ĐKT.docx"
    with open(downloading.value.path(), "rb") as file:
        assert file.read(2) == b"PK"  # a zip: the Word document
    screenshot(page, "lead-document", top=True)
    assert unexpected(console_errors) == []


# --- who sees the screens, and how they fit --------------------------------------------------------------------


def test_a_plain_member_gets_no_lead_screens(page, live_server, inspection, console_errors):
    watch_console(page, console_errors)
    sign_in(page, live_server.url, "kiemtra2")
    page.wait_for_selector(f"article[data-inspection-id='{inspection}']")
    assert page.locator("#inspection-list a[data-lead]").count() == 0
    page.goto(f"{live_server.url}/#/han-che/{inspection}")
    page.wait_for_selector("#lead-refused")
    assert "dành cho Trưởng đoàn, Phó Trưởng đoàn và Thư ký" in page.inner_text("#lead-refused")
    assert page.locator("[data-action=edit]").count() == 0
    assert unexpected(console_errors) == []


@pytest.mark.parametrize("viewport", [LANDSCAPE, PORTRAIT], ids=["ngang-1280x800", "doc-800x1280"])
def test_the_lead_screens_fit_the_tablet(browser, live_server, inspection, viewport):
    orientation = "ngang" if viewport == LANDSCAPE else "doc"
    context = browser.new_context(viewport=viewport, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    page = context.new_page()
    errors: list[str] = []
    watch_console(page, errors)
    sign_in(page, live_server.url, "truongdoan")
    screens = [("xem-xet", "#review-page article[data-section]"), ("han-che", "#findings-page #readiness h2"),
               ("van-ban", "#documents-page #document-status")]
    for slug, ready in screens:
        page.goto(f"{live_server.url}/#/{slug}/{inspection}")
        wait_ready(page)
        page.wait_for_selector(ready)
        if slug == "van-ban":
            page.click("#document-actions [data-action=preview]")
            page.wait_for_selector("#document-preview[data-version]")
        assert page.evaluate(OVERFLOW) <= 0, f"{slug}: wider than the screen"
        assert page.evaluate(SMALL_TARGETS) == [], slug
        screenshot(page, f"lead-{slug}-{orientation}", top=True)
    context.close()
    assert errors == []
