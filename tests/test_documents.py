"""Documents end to end: the Văn Lãng minutes from the figures of seed 001 (DOMAIN.md §3.11) drafted,
edited, previewed, issued, downloaded and frozen; the conclusion notice; numbering under concurrency."""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
import threading
import uuid
from datetime import date
from pathlib import Path

import docx
import pytest
import sqlalchemy as sa

from audit_api.extensions import db
from audit_api.models import (
    AuditEvent,
    CorrectiveAction,
    Document,
    Inspection,
    NumberSeries,
    Plan,
    Team,
    TeamMember,
    User,
)
from audit_api.services.auth import open_session
from audit_api.services.demo import demo_id
from audit_api.services.inspections import create_inspection

VAN_LANG = demo_id("insp-vanlang-2024")
TAN_THANH = demo_id("unit:LSN-X-TANTHANH-2024")
BAC_VIET = demo_id("unit:LSN-X-BACVIET")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def ratio(numerator: int, denominator: int) -> dict:
    return {"numerator": numerator, "denominator": denominator}


# DOMAIN.md §3.11: UBND huyện Văn Lãng, 24/6/2024 (seed 001)
FIGURES = [("H2", ratio(15, 17), None), ("D6", ratio(6118, 6118), None), ("D13", 14, None), ("D3", 93, None),
           ("E3", "no", None), ("F6", ratio(12, 6118), None), ("C11", ratio(85, 320), None),
           ("B2", "no", TAN_THANH), ("B2", "no", BAC_VIET)]


def enter_figures(client, headers) -> None:
    mutations = [{"id": str(uuid.uuid4()), "type": "answer.set", "inspection_id": str(VAN_LANG), "base_version": None,
                  "payload": {"item_code": code, "value": value, **({"unit_id": str(unit)} if unit else {})}}
                 for code, value, unit in FIGURES]
    response = client.post("/api/v1/sync", headers=headers, json={"device_id": "test", "mutations": mutations})
    assert [r["status"] for r in response.get_json()["results"]] == ["applied"] * len(FIGURES)


def approve(inspection_id) -> None:
    """The review flow has its own tests (test_sync); here the team has approved the inspection."""
    inspection = db.session.get(Inspection, inspection_id)
    inspection.status = "approved"
    db.session.flush()


def text_of_pdf(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def text_of_docx(data: bytes) -> str:
    """Paragraphs and table cells in document order."""
    document = docx.Document(io.BytesIO(data))
    parts = []
    for block in document.element.body.iter():
        if block.tag.endswith("}p"):
            parts.append("".join(node.text or "" for node in block.iter() if node.tag.endswith("}t")))
    return "\n".join(parts)


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def assert_in_order(text: str, *needles: str) -> None:
    position = 0
    for needle in needles:
        found = text.find(needle, position)
        assert found >= 0, f"{needle!r} not found after position {position}"
        position = found + len(needle)


@pytest.fixture
def minutes(client, headers_for):
    enter_figures(client, headers_for("kiemtra1"))
    approve(VAN_LANG)
    response = client.post(f"/api/v1/inspections/{VAN_LANG}/documents", headers=headers_for("thuky"),
                           json={"kind": "minutes"})
    assert response.status_code == 201, response.get_json()
    return response


def test_the_van_lang_minutes_pdf_reads_like_the_official_form(client, headers_for, minutes, tmp_path):
    document = minutes.get_json()
    assert document["status"] == "draft" and document["display_number"] == "Số: …/BB-ĐKT"
    lead = headers_for("truongdoan")
    issued = client.post(f"/api/v1/documents/{document['id']}/issue", json={},
                         headers={**lead, "If-Match": minutes.headers["ETag"]})
    assert issued.status_code == 200, issued.get_json()
    body = issued.get_json()
    assert body["status"] == "issued" and re.fullmatch(r"Số: \d{2}/BB-ĐKT", body["display_number"])

    pdf = client.get(f"/api/v1/documents/{document['id']}/pdf", headers=lead)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert hashlib.sha256(pdf.data).hexdigest() == body["pdf_sha256"] == pdf.headers["X-Content-SHA256"]
    text = squash(text_of_pdf(pdf.data, tmp_path))
    number = body["display_number"].removeprefix("Số: ")
    expected = ("UBND TỈNH LẠNG SƠN", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                f"Số: {number}", "BIÊN BẢN", "Căn cứ Kế hoạch số 35/KH-UBND", "THÀNH PHẦN", "Trưởng đoàn",
                "Thư ký", "NỘI DUNG VÀ KẾT QUẢ KIỂM TRA", "85/320 người (26,6%)", "93 hồ sơ", "Tồn tại, hạn chế",
                "UBND xã Tân Thanh: Cơ sở vật chất", "85 cán bộ, công chức cấp xã chưa đạt chuẩn",
                "chậm hạn tại huyện Văn Lãng còn nhiều (93 hồ sơ)", "KIẾN NGHỊ CỦA ĐOÀN KIỂM TRA", "1.",
                "Đơn vị thực hiện: UBND xã Tân Thanh; thời hạn: trước ngày", "2.", "Nơi nhận:", "Lưu: VT, Hồ sơ")
    assert_in_order(text, *expected)
    assert "/BB-" in text

    word = client.get(f"/api/v1/documents/{document['id']}/docx", headers=lead)
    assert word.status_code == 200
    word_text = squash(text_of_docx(word.data))
    # Word keeps the header as a two-cell table: the issuer cell (with the number) reads before the motto cell.
    assert_in_order(word_text, "UBND TỈNH LẠNG SƠN", f"Số: {number}", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                    "Độc lập - Tự do - Hạnh phúc")
    assert_in_order(word_text, *expected[4:])

    ARTIFACTS.mkdir(exist_ok=True)
    stored = ARTIFACTS / "van-lang-minutes.pdf"
    stored.write_bytes(pdf.data)
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(stored),
                    str(ARTIFACTS / "van-lang-minutes-page")], check=True)
    page = next(ARTIFACTS.glob("van-lang-minutes-page*.png"))
    assert page.stat().st_size > 10_000


def test_an_issued_document_is_frozen(client, headers_for, minutes):
    document_id, lead = minutes.get_json()["id"], headers_for("truongdoan")
    issued = client.post(f"/api/v1/documents/{document_id}/issue", json={},
                         headers={**lead, "If-Match": minutes.headers["ETag"]})
    etag = issued.headers["ETag"]
    patched = client.patch(f"/api/v1/documents/{document_id}", json={"sections": {"closing": "Sửa sau khi ký"}},
                           headers={**headers_for("thuky"), "If-Match": etag})
    assert patched.status_code == 409 and patched.mimetype == "application/problem+json"
    again = client.post(f"/api/v1/documents/{document_id}/issue", json={}, headers={**lead, "If-Match": etag})
    assert again.status_code == 409
    refreshed = client.post(f"/api/v1/documents/{document_id}/refresh", headers={**lead, "If-Match": etag})
    assert refreshed.status_code == 409
    first = client.get(f"/api/v1/documents/{document_id}/pdf", headers=lead).data
    assert client.get(f"/api/v1/documents/{document_id}/pdf", headers=lead).data == first
    inspection = db.session.get(Inspection, VAN_LANG)
    assert inspection.status == "minutes_issued"


def test_sections_are_edited_with_if_match(client, headers_for, minutes):
    document_id, secretary = minutes.get_json()["id"], headers_for("thuky")
    url = f"/api/v1/documents/{document_id}"
    body = {"sections": {"unit_explanation": "Đơn vị tiếp thu, giải trình: hồ sơ quá hạn do thiếu nhân lực."}}
    missing = client.patch(url, json=body, headers=secretary)
    assert missing.status_code == 428 and missing.mimetype == "application/problem+json"
    ok = client.patch(url, json=body, headers={**secretary, "If-Match": minutes.headers["ETag"]})
    assert ok.status_code == 200 and ok.get_json()["view"]["unit_explanation"] == body["sections"]["unit_explanation"]
    stale = client.patch(url, json=body, headers={**secretary, "If-Match": minutes.headers["ETag"]})
    assert stale.status_code == 412 and stale.get_json()["current"]["version"] == ok.get_json()["version"]
    unknown = client.patch(url, json={"sections": {"findings": []}},
                           headers={**secretary, "If-Match": ok.headers["ETag"]})
    assert unknown.status_code == 422
    preview = client.get(f"{url}/html", headers=secretary)
    assert preview.status_code == 200 and "thiếu nhân lực" in preview.get_data(as_text=True)
    member = client.patch(url, json=body, headers={**headers_for("kiemtra2"), "If-Match": ok.headers["ETag"]})
    assert member.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.entity_id == document_id, AuditEvent.action == "document.edit")) == 1


def test_only_the_lead_issues_and_only_an_approved_inspection(client, headers_for, minutes):
    document_id, etag = minutes.get_json()["id"], minutes.headers["ETag"]
    secretary = client.post(f"/api/v1/documents/{document_id}/issue", json={},
                            headers={**headers_for("thuky"), "If-Match": etag})
    assert secretary.status_code == 403
    db.session.get(Inspection, VAN_LANG).status = "submitted"
    db.session.flush()
    early = client.post(f"/api/v1/documents/{document_id}/issue", json={},
                        headers={**headers_for("truongdoan"), "If-Match": etag})
    assert early.status_code == 409
    assert db.session.get(Document, uuid.UUID(document_id)).number is None


def test_issuing_turns_recommendations_into_actions_and_a_unit_sees_only_its_own(client, headers_for, minutes):
    document_id, lead = minutes.get_json()["id"], headers_for("truongdoan")
    client.post(f"/api/v1/documents/{document_id}/issue", json={},
                headers={**lead, "If-Match": minutes.headers["ETag"]})
    recommendations = minutes.get_json()["view"]["recommendations"]
    actions = db.session.scalars(sa.select(CorrectiveAction).filter_by(document_id=uuid.UUID(document_id))).all()
    assert len(actions) == len(recommendations) > 0
    assert all(a.deadline is not None and a.status == "open" for a in actions)

    unit = headers_for("dv-vanlang")
    listed = client.get("/api/v1/documents", headers=unit).get_json()["data"]
    assert [d["id"] for d in listed] == [document_id]
    own = client.get("/api/v1/actions", headers=unit).get_json()["data"]
    unit_id = db.session.scalar(sa.select(User.unit_id).filter_by(username="dv-vanlang"))
    assert own and {a["unit"]["id"] for a in own} == {str(unit_id)}


def test_a_draft_is_invisible_to_the_unit(client, headers_for, minutes):
    document_id, unit = minutes.get_json()["id"], headers_for("dv-vanlang")
    assert client.get(f"/api/v1/documents/{document_id}", headers=unit).status_code == 404
    assert client.get(f"/api/v1/documents/{document_id}/pdf", headers=unit).status_code == 404
    assert client.get("/api/v1/documents", headers=unit).get_json()["data"] == []


def test_a_correction_is_a_new_document_pointing_to_the_original(client, headers_for, minutes):
    document_id, lead = minutes.get_json()["id"], headers_for("truongdoan")
    client.post(f"/api/v1/documents/{document_id}/issue", json={},
                headers={**lead, "If-Match": minutes.headers["ETag"]})
    correction = client.post(f"/api/v1/documents/{document_id}/corrections", headers=headers_for("thuky"))
    assert correction.status_code == 201
    body = correction.get_json()
    assert body["corrects_id"] == document_id and body["status"] == "draft" and body["id"] != document_id


def test_refresh_takes_the_current_findings(client, headers_for, minutes):
    document_id, secretary = minutes.get_json()["id"], headers_for("thuky")
    before = len(minutes.get_json()["view"]["findings"])
    db.session.get(Inspection, VAN_LANG).status = "in_progress"
    db.session.flush()
    client.post("/api/v1/sync", headers=headers_for("kiemtra1"), json={"device_id": "t", "mutations": [{
        "id": str(uuid.uuid4()), "type": "answer.set", "inspection_id": str(VAN_LANG), "base_version": 1,
        "payload": {"item_code": "D3", "value": 0}}]})
    refreshed = client.post(f"/api/v1/documents/{document_id}/refresh",
                            headers={**secretary, "If-Match": minutes.headers["ETag"]})
    assert refreshed.status_code == 200
    assert len(refreshed.get_json()["view"]["findings"]) < before


def test_the_conclusion_notice_for_units_of_a_plan(client, headers_for, tmp_path):
    enter_figures(client, headers_for("kiemtra1"))
    approve(VAN_LANG)
    plan_id, host = demo_id("plan-2024"), demo_id("unit:LSN-H-VANLANG")
    created = client.post(f"/api/v1/plans/{plan_id}/documents", headers=headers_for("thuky"),
                          json={"kind": "conclusion", "unit_ids": [str(host), str(TAN_THANH)]})
    assert created.status_code == 201, created.get_json()
    issued = client.post(f"/api/v1/documents/{created.get_json()['id']}/issue", json={"issued_on": "2024-07-05"},
                         headers={**headers_for("truongdoan"), "If-Match": created.headers["ETag"]})
    assert issued.status_code == 200, issued.get_json()
    pdf = client.get(f"/api/v1/documents/{created.get_json()['id']}/pdf", headers=headers_for("truongdoan")).data
    text = squash(text_of_pdf(pdf, tmp_path))
    assert_in_order(text, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Lạng Sơn, ngày 05 tháng 7 năm 2024", "/TB-ĐKT",
                    "THÔNG BÁO", "KẾT QUẢ ĐẠT ĐƯỢC", "TỒN TẠI, HẠN CHẾ", "KIẾN NGHỊ", "TỔ CHỨC THỰC HIỆN")
    bac_viet_unit = client.post(f"/api/v1/plans/{plan_id}/documents", headers=headers_for("thuky"),
                                json={"kind": "conclusion", "unit_ids": [str(demo_id("unit:TNG-X-1"))]})
    assert bac_viet_unit.status_code == 422


def test_media_sweep_removes_an_unreferenced_pdf_but_never_an_issued_one(client, headers_for, minutes, app):
    from datetime import timedelta

    from audit_api.services.documents import pdf_key
    from audit_api.services.media import sweep

    document_id = minutes.get_json()["id"]
    body = client.post(f"/api/v1/documents/{document_id}/issue", json={},
                       headers={**headers_for("truongdoan"), "If-Match": minutes.headers["ETag"]}).get_json()
    store = app.extensions["media_store"]
    kept = db.session.get(Document, uuid.UUID(document_id)).pdf_key
    lost = pdf_key(uuid.uuid4(), "0" * 64)  # an attempt whose finishing transaction never committed
    store.put(lost, b"%PDF-1.7 lost attempt", content_type="application/pdf")
    done = sweep(grace=timedelta(0), apply=True)
    assert lost in done.orphans and kept not in done.orphans
    assert not store.exists(lost) and store.exists(kept)
    pdf = client.get(f"/api/v1/documents/{document_id}/pdf", headers=headers_for("truongdoan")).data
    assert hashlib.sha256(pdf).hexdigest() == body["pdf_sha256"]


def test_units_print_with_the_name_they_bore_on_the_signing_date(client, headers_for, minutes):
    from audit_api.models import UnitName
    from audit_api.services.document_content import view_of

    db.session.add(UnitName(unit_id=BAC_VIET, name="UBND xã Bắc Việt (tên cũ)", valid_from=None,
                            valid_to=date(2024, 6, 30)))
    db.session.flush()
    db.session.expire_all()
    document = db.session.get(Document, uuid.UUID(minutes.get_json()["id"]))

    def names(day):
        view = view_of(document, day)
        return {f["unit_name"] for f in view["findings"]} | {r["unit_name"] for r in view["recommendations"]}

    assert "UBND xã Bắc Việt (tên cũ)" in names(date(2024, 6, 24))
    assert "UBND xã Bắc Việt" in names(date(2024, 7, 5)) and "UBND xã Bắc Việt (tên cũ)" not in names(date(2024, 7, 5))
    assert "UBND xã Bắc Việt (tên cũ)" in view_of(document, date(2024, 6, 24))["opening"]


# --- numbering under concurrency -------------------------------------------------------------------------------


@pytest.mark.no_db_transaction
def test_twenty_documents_issued_at_once_get_twenty_consecutive_numbers(app):
    """A team and plan of its own (committed: the threads must see them), so the series starts empty."""
    with app.app_context():
        province = demo_id("unit:LSN")
        plan = Plan(province_id=province, number="99/KH-UBND", title="Kế hoạch kiểm tra thử đồng thời",
                    issuer="UBND tỉnh Lạng Sơn", issued_on=date(2024, 7, 1), year=2024)
        team = Team(province_id=province, plan=plan, name="Đoàn kiểm tra thử cấp số", decision_number="98/QĐ-UBND",
                    decision_date=date(2024, 7, 1), decision_issuer="Chủ tịch UBND tỉnh")
        users = {name: db.session.scalar(sa.select(User).filter_by(username=name)) for name in ("truongdoan", "thuky")}
        team.members = [TeamMember(user=users["truongdoan"], team_role="lead"),
                        TeamMember(user=users["thuky"], team_role="secretary")]
        db.session.add_all([plan, team])
        db.session.flush()
        inspection = create_inspection({"host_unit_id": demo_id("unit:LSN-H-BACSON"), "checklist_key": "tthc-2018",
                                        "scheduled_on": date(2024, 7, 2), "plan_id": plan.id}, team=team, actor=None)
        inspection.status = "approved"
        tokens = {"lead": open_session(users["truongdoan"]).access_token,
                  "secretary": open_session(users["thuky"]).access_token}
        host, plan_id, team_id = str(inspection.host_unit_id), plan.id, team.id
        db.session.commit()
    client = app.test_client()
    drafts = []
    for _ in range(20):
        response = client.post(f"/api/v1/plans/{plan_id}/documents",
                               headers={"Authorization": f"Bearer {tokens['secretary']}"},
                               json={"kind": "conclusion", "unit_ids": [host]})
        assert response.status_code == 201, response.get_json()
        drafts.append((response.get_json()["id"], response.headers["ETag"]))
    barrier, results = threading.Barrier(len(drafts)), [None] * len(drafts)

    def issue(index: int, document_id: str, etag: str):
        barrier.wait()
        try:
            response = app.test_client().post(f"/api/v1/documents/{document_id}/issue",
                                              json={"issued_on": "2024-07-10"},
                                              headers={"Authorization": f"Bearer {tokens['lead']}", "If-Match": etag})
            results[index] = (response.status_code, response.get_json())
        except Exception as exc:  # noqa: BLE001 — reported by the assertion below
            results[index] = (None, repr(exc))

    threads = [threading.Thread(target=issue, args=(i, *draft)) for i, draft in enumerate(drafts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _ in results] == [200] * len(drafts), [body for _, body in results]
    numbers = sorted(body["number"] for _, body in results)
    assert numbers == list(range(1, len(drafts) + 1))
    with app.app_context():
        series = db.session.scalar(sa.select(NumberSeries).filter_by(issuer_key=f"team:{team_id}", year=2024))
        assert series.next_number == numbers[-1] + 1
        db.session.remove()


@pytest.fixture(scope="session", autouse=True)
def _tools_present():
    for tool in ("pdftotext", "pdftoppm"):
        assert shutil.which(tool), f"{tool} missing: run scripts/system-packages test (poppler-utils)"
