"""An inspected unit's screens: its issued documents and corrective actions, a response with evidence files.

The live server is shared by every browser test, and the demo inspection insp-trangdinh-2024 belongs to
test_users.py (it needs that inspection open and without answers). So the team's work here happens on an
inspection of its own: the administrator makes a plan and a team (truongdoan lead, thuky secretary) for
UBND huyện Tràng Định and UBND huyện Bắc Sơn, the lead enters figures through /sync, hands in the sections,
approves, drafts and issues the minutes of each inspection and the plan's conclusion notice for Tràng Định.
Nothing the other tests use changes: new rows only, and the team's own number series.
"""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import date

import pytest
from PIL import Image

from audit_api.services.demo import demo_id
from tests.browser.conftest import PORTRAIT, screenshot, sign_in, wait_until, watch_console
from tests.support import DEMO_PASSWORD

TRANGDINH_HOST = demo_id("unit:LSN-H-TRANGDINH")
QUOCVIET = demo_id("unit:LSN-X-QUOCVIET")
BACSON_HOST = demo_id("unit:LSN-H-BACSON")
PAST_DEADLINE = date(2024, 9, 30)  # one recommendation's deadline, long past: an overdue action


def ratio(numerator: int, denominator: int) -> dict:
    return {"numerator": numerator, "denominator": denominator}


# Figures that the checklist's rules turn into findings with recommendations (as in tests/test_documents.py),
# and one for a commune of the district: that action is the commune's, not the district's.
FIGURES = [("H2", ratio(15, 17), None), ("D6", ratio(6118, 6118), None), ("D13", 14, None), ("D3", 93, None),
           ("E3", "no", None), ("F6", ratio(12, 6118), None), ("C11", ratio(85, 320), None),
           ("B2", "no", QUOCVIET)]
SECTIONS = "ABCDEFGH"


# --- the team's side, through the API as its people would use it ------------------------------------------------


def call(server, method: str, path: str, *, token: str | None = None, body: dict | None = None,
         headers: dict | None = None) -> tuple[int, dict, object]:
    """One API call: status, headers and the parsed body (JSON or bytes); errors are returned, not raised."""
    request = urllib.request.Request(  # noqa: S310 — our own server on loopback
        f"{server.url}/api/v1{path}", method=method, data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Content-Type", "application/json")
    for name, value in {**({"Authorization": f"Bearer {token}"} if token else {}), **(headers or {})}.items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 — loopback only
            status, got, raw = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, got, raw = error.code, dict(error.headers), error.read()
    kind = got.get("Content-Type", "")
    return status, got, (json.loads(raw or b"null") if "json" in kind else raw)


def ok(server, method: str, path: str, *, token: str, body: dict | None = None, headers: dict | None = None,
       expect: int = 200):
    status, got, data = call(server, method, path, token=token, body=body, headers=headers)
    assert status == expect, (method, path, status, data)
    return got, data


def login(server, username: str) -> dict:
    return server.api("POST", "/auth/login", body={"username": username, "password": DEMO_PASSWORD})


@dataclass
class Issued:
    """What the team issued: the plan, the inspections, the documents, and the lead's token."""

    plan_id: str
    inspections: dict[str, str]  # host unit id → inspection id
    minutes: dict[str, dict]  # host unit id → the issued minutes
    conclusion: dict


def figures(server, token: str, inspection_id: str, host: uuid.UUID, subs: list[uuid.UUID]) -> None:
    mutations = [{"id": str(uuid.uuid4()), "type": "answer.set", "inspection_id": inspection_id,
                  "base_version": None, "payload": {"item_code": code, "value": value,
                                                    "unit_id": str(unit or host)}}
                 for code, value, unit in FIGURES if unit is None or unit in subs]
    mutations += [{"id": str(uuid.uuid4()), "type": "section.submit", "inspection_id": inspection_id,
                   "base_version": None, "payload": {"section_code": code}} for code in SECTIONS]
    _, synced = ok(server, "POST", "/sync", token=token, body={"device_id": "may-tinh-truong-doan",
                                                               "mutations": mutations})
    assert [r["status"] for r in synced["results"]] == ["applied"] * len(mutations), synced["results"]


def set_one_deadline_in_the_past(server, token: str, inspection_id: str, host: uuid.UUID) -> None:
    _, findings = ok(server, "GET", f"/inspections/{inspection_id}/findings", token=token)
    recommendation = next(r for f in findings["data"] for r in f["recommendations"]
                          if r["responsible_unit"]["id"] == str(host))
    ok(server, "PATCH", f"/recommendations/{recommendation['id']}", token=token,
       body={"deadline": PAST_DEADLINE.isoformat()}, headers={"If-Match": recommendation["etag"]})


def issue(server, token: str, path: str, body: dict) -> dict:
    got, draft = ok(server, "POST", path, token=token, body=body, expect=201)
    _, issued = ok(server, "POST", f"/documents/{draft['id']}/issue", token=token, body={},
                   headers={"If-Match": got["ETag"]})
    assert issued["status"] == "issued"
    return issued


def team_issues_documents(server) -> Issued:
    admin = server.token("admin")
    lead = login(server, "truongdoan")
    token = lead["access_token"]
    secretary = login(server, "thuky")["user"]
    _, plan = ok(server, "POST", "/plans", token=admin, expect=201, body={
        "number": "88/KH-UBND", "title": "Kế hoạch kiểm tra đột xuất công tác kiểm soát thủ tục hành chính năm 2024",
        "issuer": "Ủy ban nhân dân tỉnh Lạng Sơn", "issued_on": "2024-08-01", "year": 2024,
        "period_from": "2024-08-01", "period_to": "2024-12-31", "unit_ids": [str(TRANGDINH_HOST), str(BACSON_HOST)]})
    _, team = ok(server, "POST", "/teams", token=admin, expect=201, body={
        "name": "Đoàn kiểm tra đột xuất công tác kiểm soát thủ tục hành chính năm 2024", "plan_id": plan["id"],
        "decision_number": "1502/QĐ-UBND", "decision_date": "2024-08-05",
        "decision_issuer": "Chủ tịch Ủy ban nhân dân tỉnh Lạng Sơn"})
    for user, role in ((lead["user"], "lead"), (secretary, "secretary")):
        ok(server, "PUT", f"/teams/{team['id']}/members/{user['id']}", token=admin, body={"team_role": role})
    inspections, minutes = {}, {}
    for host, subs, place in ((TRANGDINH_HOST, [QUOCVIET], "Trụ sở UBND huyện Tràng Định"),
                              (BACSON_HOST, [], "Trụ sở UBND huyện Bắc Sơn")):
        _, inspection = ok(server, "POST", "/inspections", token=token, expect=201, body={
            "team_id": team["id"], "plan_id": plan["id"], "host_unit_id": str(host),
            "sub_unit_ids": [str(s) for s in subs], "checklist_key": "tthc-2018", "scheduled_on": "2024-08-20",
            "location": place})
        set_up = inspection["id"]
        figures(server, token, set_up, host, subs)
        if host == TRANGDINH_HOST:
            set_one_deadline_in_the_past(server, token, set_up, host)
        ok(server, "POST", f"/inspections/{set_up}/approve", token=token)
        inspections[str(host)] = set_up
        minutes[str(host)] = issue(server, token, f"/inspections/{set_up}/documents", {"kind": "minutes"})
    conclusion = issue(server, token, f"/plans/{plan['id']}/documents",
                       {"kind": "conclusion", "unit_ids": [str(TRANGDINH_HOST)]})
    return Issued(plan_id=plan["id"], inspections=inspections, minutes=minutes, conclusion=conclusion)


@pytest.fixture(scope="module")
def issued(live_server) -> Issued:
    return team_issues_documents(live_server)


# --- the unit's side, in the browser -------------------------------------------------------------------------


def sign_out(page) -> None:
    page.click("header button:has-text('Đăng xuất')")
    page.wait_for_selector("#username")


def listed(page, selector: str, key: str) -> list[str]:
    return page.eval_on_selector_all(selector, f"els => els.map(e => e.dataset.{key})")


def jpeg(path) -> bytes:
    """A photo of the fixed one-stop counter, as a phone would send it: over 1 MB, so three upload chunks."""
    noise = [Image.effect_noise((1400, 1000), 60) for _ in range(3)]
    Image.merge("RGB", noise).save(path, "JPEG", quality=90)
    data = path.read_bytes()
    assert len(data) > 2 * 512 * 1024
    return data


class DroppedChunk:
    """Cuts the connection once, on the first upload chunk that does not start at byte 0; records every chunk
    sent (upload URL, Upload-Offset) so the test can see the retry resume instead of starting again."""

    def __init__(self):
        self.sent: list[tuple[str, int]] = []
        self.armed = True

    def __call__(self, route, request):
        if request.method == "PATCH":
            offset = int(request.headers["upload-offset"])
            self.sent.append((request.url, offset))
            if offset > 0 and self.armed:
                self.armed = False
                route.abort("internetdisconnected")
                return
        route.continue_()


def pdf(path) -> bytes:
    """A scanned report (Pillow writes a small real PDF)."""
    Image.new("RGB", (595, 842), (250, 250, 250)).save(path, "PDF")
    return path.read_bytes()


def small_targets(page, scope: str) -> list[str]:
    """Controls under `scope` that a finger would find too small (under 44 px high)."""
    return page.evaluate("""(scope) => [...document.querySelectorAll(`${scope} :is(button, a.btn, label.btn, select,
        input[type=text], textarea, .unit-filter)`)].filter((el) => el.offsetParent !== null)
        .filter((el) => el.getBoundingClientRect().height < 44).map((el) => el.outerHTML.slice(0, 80))""", scope)


def overflows(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")


def document_ids(server, username: str) -> set[str]:
    return {d["id"] for d in server.api("GET", "/documents", token=server.token(username))["data"]}


def action_ids(server, username: str) -> set[str]:
    return {a["id"] for a in server.api("GET", "/actions?page_size=500", token=server.token(username))["data"]}


def issued_text(server, action_id: str) -> str:
    return server.api("GET", f"/actions/{action_id}", token=server.token("dv-trangdinh"))["text"]


def past_deadline(server, action_ids_: set[str]) -> str:
    """The one action (of these) whose deadline the lead set in the past."""
    token = server.token("dv-trangdinh")
    late = [a for a in sorted(action_ids_)
            if server.api("GET", f"/actions/{a}", token=token)["deadline"] == PAST_DEADLINE.isoformat()]
    assert len(late) == 1
    return late[0]


def unit_of_actions(server, document_id: str) -> dict[str, str]:
    """Every corrective action the document opened, whoever's unit it is: id → unit id (from the database)."""
    rows = server.query("SELECT id, unit_id FROM corrective_actions WHERE document_id = ?",
                        (uuid.UUID(document_id).hex,))
    return {str(uuid.UUID(action_id)): str(uuid.UUID(unit_id)) for action_id, unit_id in rows}


def test_a_unit_sees_only_its_documents_and_answers_an_action_with_a_photo_and_a_pdf(
        live_server, issued, page, console_errors, tmp_path):
    watch_console(page, console_errors)
    minutes = issued.minutes[str(TRANGDINH_HOST)]
    conclusion = issued.conclusion
    other_minutes = issued.minutes[str(BACSON_HOST)]
    sign_in(page, live_server.url, "dv-trangdinh", lands_on="#unit-home")

    # Home: the unit's own documents and actions, not the staff's inspections list.
    assert page.url.endswith("#/don-vi")
    assert page.locator("#inspection-list").count() == 0
    assert page.locator("h1").inner_text() == "Văn bản và kiến nghị"
    shown_documents = set(listed(page, "#unit-documents article", "documentId"))
    assert shown_documents == document_ids(live_server, "dv-trangdinh")  # what the server lets this unit see
    assert {minutes["id"], conclusion["id"]} <= shown_documents
    assert other_minutes["id"] not in shown_documents  # Bắc Sơn's minutes
    home = page.inner_text("#unit-home")
    assert "Số 01/BB-ĐKT" in home and "Số 03/TB-ĐKT" in home
    assert "Kiểm tra công tác cải cách hành chính, kiểm soát thủ tục hành chính tại UBND huyện Tràng Định" in home

    opened = unit_of_actions(live_server, minutes["id"])
    mine = {a for a, unit in opened.items() if unit == str(TRANGDINH_HOST)}
    communes = {a for a, unit in opened.items() if unit == str(QUOCVIET)}
    assert mine and communes  # the minutes opened actions for the district and for a commune it covers
    shown_actions = set(listed(page, "#unit-actions article", "actionId"))
    assert mine <= shown_actions and shown_actions == action_ids(live_server, "dv-trangdinh")
    assert not shown_actions & communes  # the commune's actions are the commune's
    assert not shown_actions & set(unit_of_actions(live_server, other_minutes["id"]))  # nor Bắc Sơn's
    action_id = past_deadline(live_server, mine)
    assert page.get_attribute(f"article[data-action-id='{action_id}']", "data-overdue") == "true"
    assert "Quá hạn" in page.inner_text(f"article[data-action-id='{action_id}']")
    screenshot(page, "unit-home", top=True)

    # Filters: overdue only; answered (none yet); back to all. The address keeps the filter.
    page.click("#action-filters [data-filter='qua-han']")
    assert action_id in listed(page, "#unit-actions article", "actionId")
    assert set(listed(page, "#unit-actions article", "overdue")) == {"true"}
    assert page.url.endswith("#/don-vi/qua-han")
    page.click("#action-filters [data-filter='da-tra-loi']")
    assert not set(listed(page, "#unit-actions article", "actionId")) & mine  # none answered yet
    page.click("#action-filters [data-filter='tat-ca']")
    assert set(listed(page, "#unit-actions article", "actionId")) == shown_actions

    # The minutes: PDF (the bytes stored at issue), DOCX, and the HTML preview.
    card = f"#unit-documents article[data-document-id='{minutes['id']}']"
    with page.expect_download() as got:
        page.click(f"{card} [data-action=pdf]")
    data = open(got.value.path(), "rb").read()
    assert data.startswith(b"%PDF") and hashlib.sha256(data).hexdigest() == minutes["pdf_sha256"]
    assert got.value.suggested_filename == "01-BB-ĐKT.pdf"
    with page.expect_download() as got:
        page.click(f"{card} [data-action=docx]")
    assert open(got.value.path(), "rb").read(2) == b"PK" and got.value.suggested_filename == "01-BB-ĐKT.docx"
    page.click(f"{card} [data-action=preview]")
    page.wait_for_selector("#document-preview")
    preview = page.evaluate("""() => { const root = document.querySelector('#document-preview').shadowRoot;
        const sheet = root.querySelector('.doc-page');
        return {text: sheet.innerText, font: getComputedStyle(sheet).fontFamily,
                scripts: root.querySelectorAll('script, style, [style]:not(td)').length}; }""")
    assert "BIÊN BẢN" in preview["text"] and "UBND huyện Tràng Định" in preview["text"]
    assert "V. KIẾN NGHỊ CỦA ĐOÀN KIỂM TRA" in preview["text"]
    assert "Times New Roman" in preview["font"] and preview["scripts"] == 0
    screenshot(page, "unit-document", top=True)
    page.go_back()
    page.wait_for_selector("#unit-home")

    # The overdue action: refused files at selection, then a photo and a PDF with the report.
    page.click(f"article[data-action-id='{action_id}'] a.btn")
    page.wait_for_selector("#response-form")
    assert page.locator("#action-text").inner_text() == issued_text(live_server, action_id)
    limit = live_server.api("GET", "/config/limits", token=live_server.token("dv-trangdinh"))["photo_max_bytes"]
    (tmp_path / "ghi-chu.txt").write_text("Danh sách hồ sơ đã xử lý")
    page.set_input_files("#evidence-files", str(tmp_path / "ghi-chu.txt"))
    page.wait_for_selector("#evidence-message .form-error")
    assert "không phải ảnh (JPEG, PNG, WebP) hoặc tệp PDF" in page.inner_text("#evidence-message")
    with open(tmp_path / "anh-qua-lon.jpg", "wb") as big:
        big.truncate(limit + 1)
    page.set_input_files("#evidence-files", str(tmp_path / "anh-qua-lon.jpg"))
    page.wait_for_selector("#evidence-message:has-text('vượt giới hạn')")
    assert page.locator("#evidence-list li").count() == 0
    photo_bytes = jpeg(tmp_path / "quay-mot-cua.jpg")
    pdf_bytes = pdf(tmp_path / "bao-cao-khac-phuc.pdf")
    page.set_input_files("#evidence-files", [tmp_path / "quay-mot-cua.jpg", tmp_path / "bao-cao-khac-phuc.pdf"])
    page.wait_for_selector("#evidence-list li:nth-child(2)")
    assert page.inner_text("#evidence-message") == ""
    page.fill("#evidence-list li[data-name='quay-mot-cua.jpg'] .unit-caption", "Bộ phận Một cửa sau khi bố trí lại")
    page.click("#response-submit")  # no text yet: the form says what is missing, nothing is sent
    assert "Cần ghi nội dung đã khắc phục." in page.inner_text("#response-error")
    report = "Đã cử 12 công chức cấp xã tham gia lớp bồi dưỡng chuẩn hóa tháng 10/2026; kèm ảnh và báo cáo."
    page.fill("#response-text", report)
    page.locator("#response-submit").scroll_into_view_if_needed()
    screenshot(page, "unit-action")

    # The connection drops in the middle of the photo: the form says so and keeps everything; sending again
    # goes on from the bytes the server holds (no chunk from byte 0 twice), then the PDF, then the report.
    cut = DroppedChunk()
    page.route("**/api/v1/photos/*/upload", cut)
    page.click("#response-submit")
    photo_row = "#evidence-list li[data-name='quay-mot-cua.jpg']"
    page.wait_for_selector(f"{photo_row}[data-state='failed']")
    assert "Mất kết nối khi đang gửi tệp “quay-mot-cua.jpg”" in page.inner_text("#response-error")
    assert 0 < int(page.get_attribute(f"{photo_row} .unit-meter", "aria-valuenow")) < 100
    assert page.input_value("#response-text") == report
    page.locator(photo_row).scroll_into_view_if_needed()
    screenshot(page, "unit-action-upload-interrupted")
    page.click("#response-submit")
    page.wait_for_selector("#action-detail[data-status='responded']")
    page.unroute("**/api/v1/photos/*/upload", cut)
    photo_chunks = [offset for url, offset in cut.sent if url == cut.sent[0][0]]
    assert photo_chunks.count(0) == 1 and photo_chunks == sorted(photo_chunks) and len(photo_chunks) == 4
    page.wait_for_selector("#action-history .unit-file[data-kind='photo'] img")
    assert "Đơn vị báo cáo đã khắc phục" in page.inner_text("#action-history")
    assert report in page.inner_text("#action-history")
    assert page.locator("#response-form").count() == 0
    assert page.locator("#action-history .unit-file[data-kind='pdf']").count() == 1
    assert "Bộ phận Một cửa sau khi bố trí lại" in page.inner_text("#action-history")
    wait_until(lambda: page.evaluate(
        "document.querySelector('#action-history .unit-thumb img').naturalWidth > 0"))
    screenshot(page, "unit-action-responded", top=True)

    # The server holds the response with both files, ready, byte for byte what was chosen.
    seen = live_server.api("GET", f"/actions/{action_id}", token=live_server.token("dv-trangdinh"))
    assert seen["status"] == "responded" and len(seen["responses"]) == 1
    response = seen["responses"][0]
    assert response["kind"] == "response" and response["text"] == report and len(response["file_ids"]) == 2
    files = {row[0]: row[1:] for row in live_server.query(
        "SELECT content_type, status, sha256, kind, caption FROM uploads WHERE action_id = ?",
        (uuid.UUID(action_id).hex,))}
    assert files == {
        "image/jpeg": ("ready", hashlib.sha256(photo_bytes).hexdigest(), "photo", "Bộ phận Một cửa sau khi bố trí lại"),
        "application/pdf": ("ready", hashlib.sha256(pdf_bytes).hexdigest(), "document", None),
    }
    linked = live_server.query("SELECT COUNT(*) FROM action_response_files WHERE response_id = ?",
                               (uuid.UUID(response["id"]).hex,))
    assert linked == [(2,)]

    # Back home, the action waits for the team now; no longer overdue.
    page.click(".crumbs a")
    page.wait_for_selector("#unit-home")
    page.click("#action-filters [data-filter='da-tra-loi']")
    assert action_id in listed(page, "#unit-actions article", "actionId")
    assert page.get_attribute(f"article[data-action-id='{action_id}']", "data-overdue") == "false"

    # The team reviews: this report goes back with a comment; another action, which the unit reported it
    # cannot fix, is accepted and closed. The unit sees both.
    secretary = live_server.token("thuky")
    comment = "Chưa có quyết định cử công chức đi bồi dưỡng; đề nghị bổ sung."
    ok(live_server, "POST", f"/actions/{action_id}/review", token=secretary, expect=201,
       body={"decision": "reject", "comment": comment})
    other = next(a for a in sorted(mine) if a != action_id)
    ok(live_server, "POST", f"/actions/{other}/responses", token=live_server.token("dv-trangdinh"), expect=201,
       body={"kind": "cannot_fix", "text": "Trụ sở thuộc diện sắp xếp; chưa bố trí được kinh phí cải tạo."})
    ok(live_server, "POST", f"/actions/{other}/review", token=secretary, expect=201, body={"decision": "accept"})
    page.reload()
    page.wait_for_selector("#unit-home")
    page.click("#action-filters [data-filter='da-dong']")
    assert other in listed(page, "#unit-actions article", "actionId")
    assert "Đã đóng: Đoàn chấp nhận không thể khắc phục" in page.inner_text(f"article[data-action-id='{other}']")
    page.click("#action-filters [data-filter='cho-tra-loi']")
    returned = f"#unit-actions article[data-action-id='{action_id}']"
    assert page.locator(returned).get_attribute("data-state") == "returned"
    page.click(f"{returned} a.btn")
    page.wait_for_selector("#response-form")
    assert comment in page.inner_text("#returned-notice")
    assert listed(page, "#action-history > li", "kind") == ["response", "reject"]
    assert "Đoàn kiểm tra trả lại" in page.inner_text("#action-history")
    screenshot(page, "unit-action-returned", top=True)
    assert [e for e in console_errors if "ERR_INTERNET_DISCONNECTED" not in e] == []


def test_another_unit_sees_none_of_trang_dinhs_documents_or_actions(live_server, issued, page, console_errors):
    watch_console(page, console_errors)
    minutes = issued.minutes[str(TRANGDINH_HOST)]
    theirs = next(a for a, unit in unit_of_actions(live_server, minutes["id"]).items() if unit == str(TRANGDINH_HOST))
    sign_in(page, live_server.url, "dv-bacson", lands_on="#unit-home")
    shown = set(listed(page, "#unit-documents article", "documentId"))
    assert issued.minutes[str(BACSON_HOST)]["id"] in shown
    assert not shown & {minutes["id"], issued.conclusion["id"]}
    assert shown == document_ids(live_server, "dv-bacson")
    assert theirs not in listed(page, "#unit-actions article", "actionId")
    assert "Tràng Định" not in page.inner_text("#unit-home")
    # Even by address: the server answers 404, the screen says so.
    page.goto(f"{live_server.url}/#/don-vi/kien-nghi/{theirs}")
    page.wait_for_selector("h1:has-text('Không tìm thấy kiến nghị')")
    page.goto(f"{live_server.url}/#/don-vi/van-ban/{minutes['id']}")
    page.wait_for_selector("h1:has-text('Chưa mở được văn bản')")
    assert "Không tìm thấy văn bản." in page.inner_text("main")
    # And the staff's screens are not the unit's: any other address brings it home.
    page.goto(f"{live_server.url}/#/kiem-tra")
    page.wait_for_selector("#unit-home")
    assert page.url.endswith("#/don-vi")
    sign_out(page)
    assert [e for e in console_errors if "status of 404" not in e] == []


def test_the_unit_screens_fit_a_portrait_tablet_with_large_touch_targets(live_server, issued, context, console_errors):
    page = context.new_page()
    page.set_viewport_size(PORTRAIT)
    watch_console(page, console_errors)
    sign_in(page, live_server.url, "dv-trangdinh", lands_on="#unit-home")
    assert not overflows(page)
    assert small_targets(page, "#main") == []
    screenshot(page, "unit-home-portrait", top=True)
    waiting = listed(page, "#unit-actions article[data-status='open']", "actionId")
    page.click(f"article[data-action-id='{waiting[0]}'] a.btn")
    page.wait_for_selector("#response-form")
    page.click("#response-form [data-kind='cannot_fix']")
    assert page.inner_text("#response-text-label") == "Lý do không thể khắc phục"
    assert page.inner_text("#response-submit") == "Gửi báo cáo không thể khắc phục"
    assert not overflows(page)
    assert small_targets(page, "#main") == []
    screenshot(page, "unit-action-portrait")
    page.click(".crumbs a")
    page.wait_for_selector("#unit-home")
    page.click(f"#unit-documents article[data-document-id='{issued.minutes[str(TRANGDINH_HOST)]['id']}'] "
               "[data-action=preview]")
    page.wait_for_selector("#document-preview")
    assert not overflows(page)
    screenshot(page, "unit-document-portrait", top=True)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/#/don-vi/kien-nghi/{waiting[0]}")
    page.wait_for_selector("#response-form")
    assert small_targets(page, "#main") == []
    assert console_errors == []
