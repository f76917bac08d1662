"""Findings and recommendations through the API (api/findings.py) on the demo inspection of UBND huyện Văn Lãng:
listing, If-Match edits, regeneration that keeps a person's text, drop/restore, merge and split, suggested
recommendation wording, default deadlines, who may do what, audit events and the change feed."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
import sqlalchemy as sa

from audit_api.extensions import db
from audit_api.models import (
    Answer,
    AuditEvent,
    ChangeLogEntry,
    Finding,
    Inspection,
    PhotoLink,
    Recommendation,
    User,
    finding_answers,
)
from audit_api.services import deadlines
from audit_api.services.demo import demo_id
from audit_api.services.recommendations import findings_missing_recommendations

VAN_LANG = demo_id("insp-vanlang-2024")  # tthc-2018; lead truongdoan, deputy kiemtra1, secretary thuky
TRANG_DINH = demo_id("insp-trangdinh-2024")  # the same team's inspection of another district
HOST = demo_id("unit:LSN-H-VANLANG")
TAN_THANH = demo_id("unit:LSN-X-TANTHANH-2024")
BAC_VIET = demo_id("unit:LSN-X-BACVIET")
H2_TEXT = "Còn 02/17 nhiệm vụ được UBND tỉnh, Chủ tịch UBND tỉnh giao chưa hoàn thành đúng hạn."


def ratio(numerator: int, denominator: int) -> dict:
    return {"numerator": numerator, "denominator": denominator}


@pytest.fixture
def answers(client, headers_for):
    """Answers sent by the lead through /api/v1/sync, which regenerates the rule findings."""

    def post(*pairs, base: int | None = None, unit=None):
        mutations = [{"id": str(uuid.uuid4()), "type": "answer.set", "inspection_id": str(VAN_LANG),
                      "base_version": base, "client_time": "2024-06-24T09:30:00+07:00",
                      "payload": {"item_code": code, "value": value, **({"unit_id": str(unit)} if unit else {})}}
                     for code, value in pairs]
        response = client.post("/api/v1/sync", headers=headers_for("truongdoan"),
                               json={"device_id": "tablet-lead", "mutations": mutations})
        assert response.status_code == 200
        assert {r["status"] for r in response.get_json()["results"]} == {"applied"}, response.get_json()

    return post


@pytest.fixture
def api(client, headers_for):
    """Call the API as a demo user; `etag` sends If-Match."""

    def call(method: str, url: str, username: str = "truongdoan", *, json=None, etag: str | None = None):
        headers = headers_for(username)
        if etag is not None:
            headers["If-Match"] = etag
        return client.open(f"/api/v1{url}", method=method, headers=headers, json=json)

    return call


def rule_finding(code: str, unit=HOST) -> Finding:
    db.session.expire_all()
    return db.session.scalar(sa.select(Finding).filter_by(inspection_id=VAN_LANG, item_code=code, unit_id=unit,
                                                          origin="rule"))


def fresh(model, entity_id):
    db.session.expire_all()
    return db.session.get(model, entity_id)


def etag(finding: Finding) -> str:
    return f'"finding-{finding.id}-v{finding.version}"'


def links(finding_id) -> set:
    return set(db.session.scalars(sa.select(finding_answers.c.answer_id).where(
        finding_answers.c.finding_id == finding_id)))


def answer_id(code: str, unit=HOST):
    return db.session.scalar(sa.select(Answer.id).filter_by(inspection_id=VAN_LANG, item_code=code, unit_id=unit))


def manual_finding(inspection_id=VAN_LANG, *, status="kept", item_code="D3", unit_id=HOST, text="Hạn chế ghi tay.",
                   drop_reason=None) -> Finding:
    finding = Finding(inspection_id=inspection_id, unit_id=unit_id, kind="finding", origin="manual",
                      item_code=item_code, section_code=item_code[0] if item_code else None, text=text, status=status,
                      drop_reason=drop_reason)
    db.session.add(finding)
    db.session.commit()
    return finding


# --- listing --------------------------------------------------------------------------------------


def test_team_members_list_findings_with_recommendations_links_and_etags(api, answers):
    answers(("H2", ratio(15, 17)), ("D6", ratio(6118, 6118)))
    body = api("GET", f"/inspections/{VAN_LANG}/findings", "kiemtra2").get_json()  # a plain member reads
    by_item = {f["item_code"]: f for f in body["data"]}
    assert set(by_item) == {"H2", "D6"} and body["pagination"]["total"] == 2
    h2 = by_item["H2"]
    assert (h2["kind"], h2["origin"], h2["status"], h2["text"]) == ("finding", "rule", "draft", H2_TEXT)
    assert h2["unit"]["id"] == str(HOST) and h2["answer_ids"] == [str(answer_id("H2"))]
    assert h2["etag"] == f'"finding-{h2["id"]}-v1"' and h2["is_answer_changed_since_edit"] is False
    [recommendation] = h2["recommendations"]
    assert recommendation["text"].startswith("Quan tâm thực hiện các nhiệm vụ CCHC")
    assert recommendation["responsible_unit"]["id"] == str(HOST)
    assert recommendation["etag"] == f'"recommendation-{recommendation["id"]}-v1"'
    assert by_item["D6"]["kind"] == "strength" and by_item["D6"]["recommendations"] == []


def test_the_list_filters_by_kind_status_and_unit(api, answers):
    answers(("H2", ratio(15, 17)), ("D6", ratio(6118, 6118)))
    answers(("B2", "no"), unit=BAC_VIET)

    def items(query: str) -> list[str]:
        return [f["item_code"] for f in api("GET", f"/inspections/{VAN_LANG}/findings?{query}").get_json()["data"]]

    assert items("kind=strength") == ["D6"]
    assert items(f"unit_id={BAC_VIET}") == ["B2"]
    assert items("status=dropped") == []
    assert api("GET", f"/inspections/{VAN_LANG}/findings?status=gone").status_code == 422


def test_unit_users_get_403_and_other_provinces_404(api):
    assert api("GET", f"/inspections/{VAN_LANG}/findings", "dv-vanlang").status_code == 403
    response = api("GET", f"/inspections/{VAN_LANG}/findings", "kiemtra-tng")
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


# --- If-Match -------------------------------------------------------------------------------------


def test_an_edit_without_if_match_is_428_and_changes_nothing(api, answers):
    answers(("H2", ratio(15, 17)))
    finding = rule_finding("H2")
    response = api("PATCH", f"/findings/{finding.id}", json={"text": "Sửa mà không có If-Match."})
    assert response.status_code == 428 and response.mimetype == "application/problem+json"
    assert "If-Match" in response.get_json()["detail"]
    assert (fresh(Finding, finding.id).text, fresh(Finding, finding.id).version) == (H2_TEXT, 1)


def test_a_stale_if_match_is_412_with_the_current_finding(api, answers):
    answers(("H2", ratio(15, 17)))
    finding = rule_finding("H2")
    seen = etag(finding)  # both the lead and the secretary loaded version 1
    first = api("PATCH", f"/findings/{finding.id}", etag=seen, json={"cause_subjective": "Chưa quyết liệt."})
    assert first.status_code == 200
    stale = api("PATCH", f"/findings/{finding.id}", "thuky", etag=seen, json={"text": "Bản của thư ký."})
    assert stale.status_code == 412 and stale.mimetype == "application/problem+json"
    current = stale.get_json()["current"]
    assert (current["version"], current["text"], current["cause_subjective"]) == (2, H2_TEXT, "Chưa quyết liệt.")
    assert current["etag"] == f'"finding-{finding.id}-v2"'
    assert fresh(Finding, finding.id).text == H2_TEXT


def test_a_current_if_match_edits_bumps_the_version_and_sends_the_new_etag(api, answers):
    answers(("H2", ratio(15, 17)))
    finding = rule_finding("H2")
    got = api("GET", f"/findings/{finding.id}", "kiemtra2")
    assert got.status_code == 200 and got.headers["ETag"] == etag(finding)
    response = api("PATCH", f"/findings/{finding.id}", etag=got.headers["ETag"],
                   json={"text": "Còn 02/17 nhiệm vụ do UBND tỉnh giao chưa hoàn thành đúng hạn.", "severity": "minor"})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["version"], body["severity"]) == ("edited", 2, "minor")
    assert response.headers["ETag"] == body["etag"] == f'"finding-{finding.id}-v2"'
    assert body["generated_text"] == H2_TEXT  # what the rule wrote is kept beside the person's text
    assert api("GET", f"/findings/{finding.id}").headers["ETag"] == response.headers["ETag"]


# --- regeneration never overwrites a person's finding -----------------------------------------------


def test_an_edited_rule_finding_keeps_its_text_when_answers_change(api, answers):
    answers(("H2", ratio(15, 17)), ("D3", 93))
    h2 = rule_finding("H2")
    mine = "Còn 02/17 nhiệm vụ được giao chưa hoàn thành đúng hạn, trong đó có nhiệm vụ số hóa hồ sơ."
    assert api("PATCH", f"/findings/{h2.id}", etag=etag(h2), json={"text": mine}).status_code == 200
    answers(("H2", ratio(14, 17)), ("D3", 95), base=1)  # regenerates the rule findings
    h2 = rule_finding("H2")
    assert (h2.text, h2.status, h2.is_answer_changed_since_edit) == (mine, "edited", True)
    assert h2.generated_text == "Còn 03/17 nhiệm vụ được UBND tỉnh, Chủ tịch UBND tỉnh giao chưa hoàn thành đúng hạn."
    assert rule_finding("D3").text == "Số lượng hồ sơ giải quyết chậm hạn tại huyện Văn Lãng còn nhiều (95 hồ sơ)."


def test_kept_and_severity_only_edits_are_protected_too(api, answers):
    answers(("H2", ratio(15, 17)), ("D3", 93))
    h2, d3 = rule_finding("H2"), rule_finding("D3")
    kept = api("PATCH", f"/findings/{h2.id}", etag=etag(h2), json={"status": "kept"}).get_json()
    assert (kept["status"], kept["version"]) == ("kept", 2)
    assert api("PATCH", f"/findings/{d3.id}", etag=etag(d3), json={"severity": "critical"}).get_json()["status"] \
        == "edited"
    answers(("H2", ratio(16, 17)), ("D3", 0), base=1)  # H2 still fails; D3 no longer fires
    h2, d3 = rule_finding("H2"), rule_finding("D3")
    assert (h2.text, h2.status, h2.is_answer_changed_since_edit) == (H2_TEXT, "kept", True)
    assert d3 is not None and (d3.status, d3.is_answer_changed_since_edit) == ("edited", True)


def test_the_unit_must_be_one_of_the_inspection(api, answers):
    answers(("H2", ratio(15, 17)))
    h2 = rule_finding("H2")
    moved = api("PATCH", f"/findings/{h2.id}", etag=etag(h2), json={"unit_id": str(BAC_VIET)})
    assert moved.status_code == 200 and moved.get_json()["unit"]["id"] == str(BAC_VIET)
    elsewhere = api("PATCH", f"/findings/{h2.id}", etag=moved.headers["ETag"],
                    json={"unit_id": str(demo_id("unit:LSN-H-BACSON"))})
    assert elsewhere.status_code == 422 and "unit_id" in elsewhere.get_json()["errors"]


# --- drop and restore -----------------------------------------------------------------------------


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}])
def test_dropping_needs_a_reason(api, answers, body):
    answers(("H2", ratio(15, 17)))
    h2 = rule_finding("H2")
    response = api("POST", f"/findings/{h2.id}/drop", etag=etag(h2), json=body)
    assert response.status_code == 422 and "reason" in response.get_json()["errors"]
    assert fresh(Finding, h2.id).status == "draft"


def test_a_dropped_finding_keeps_its_reason_and_can_be_restored(api, answers):
    answers(("H2", ratio(15, 17)))
    h2 = rule_finding("H2")
    dropped = api("POST", f"/findings/{h2.id}/drop", etag=etag(h2),
                  json={"reason": "Đơn vị đã hoàn thành trước buổi kiểm tra."})
    assert dropped.status_code == 200
    assert (dropped.get_json()["status"], dropped.get_json()["drop_reason"]) == (
        "dropped", "Đơn vị đã hoàn thành trước buổi kiểm tra.")
    again = api("POST", f"/findings/{h2.id}/drop", etag=dropped.headers["ETag"], json={"reason": "Lần nữa."})
    assert again.status_code == 409
    edit = api("PATCH", f"/findings/{h2.id}", etag=dropped.headers["ETag"], json={"text": "Sửa hạn chế đã bỏ."})
    assert edit.status_code == 409
    restored = api("POST", f"/findings/{h2.id}/restore", etag=dropped.headers["ETag"])
    assert restored.status_code == 200
    body = restored.get_json()
    assert (body["status"], body["drop_reason"], body["version"], body["text"]) == ("kept", None, 3, H2_TEXT)


# --- merge ----------------------------------------------------------------------------------------


def photo_on(finding: Finding) -> uuid.UUID:
    photo_id = uuid.uuid4()
    db.session.add(PhotoLink(photo_id=photo_id, inspection_id=finding.inspection_id, finding_id=finding.id,
                             item_code=finding.item_code, unit_id=finding.unit_id))
    db.session.commit()
    return photo_id


def recommendation_texts(finding_id) -> list[str]:
    return list(db.session.scalars(sa.select(Recommendation.text).filter_by(finding_id=finding_id)
                                   .order_by(Recommendation.sort_order)))


def test_merging_moves_links_recommendations_and_photos_and_drops_the_others(api, answers):
    answers(("D3", 93), ("D4", ratio(80, 93)))
    d3, d4 = rule_finding("D3"), rule_finding("D4")
    d3_recommendations, d4_recommendations = recommendation_texts(d3.id), recommendation_texts(d4.id)
    photo = photo_on(d4)
    text = "Còn 93 hồ sơ giải quyết chậm hạn; chưa thực hiện Phiếu xin lỗi đối với 13/93 hồ sơ quá hạn."
    response = api("POST", f"/findings/{d3.id}/merge", "thuky", etag=etag(d3),
                   json={"finding_ids": [str(d4.id)], "text": text})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["text"], body["status"], body["version"]) == (text, "edited", 2)
    assert set(body["answer_ids"]) == {str(answer_id("D3")), str(answer_id("D4"))}
    assert [r["text"] for r in body["recommendations"]] == d3_recommendations + d4_recommendations
    assert body["photo_ids"] == [str(photo)]
    d4 = fresh(Finding, d4.id)
    assert (d4.status, d4.merged_into_id, d4.version) == ("dropped", d3.id, 2)
    assert d4.drop_reason.startswith("Gộp vào hạn chế D3 “Còn 93 hồ sơ giải quyết chậm hạn; chưa thực hiện")
    assert d4.drop_reason.endswith("…”")  # a long text is shortened in the reason
    assert recommendation_texts(d4.id) == [] and links(d4.id) == {answer_id("D4")}  # its own links stay as history
    moved = db.session.scalar(sa.select(Recommendation).filter_by(finding_id=d3.id, text=d4_recommendations[0])
                              .order_by(Recommendation.sort_order.desc()))
    assert (moved.origin, moved.version) == ("manual", 2)


def test_a_merge_survives_regeneration(api, answers):
    answers(("D3", 93), ("D4", ratio(80, 93)))
    d3, d4 = rule_finding("D3"), rule_finding("D4")
    assert api("POST", f"/findings/{d3.id}/merge", etag=etag(d3), json={"finding_ids": [str(d4.id)]}).status_code == 200
    answers(("D3", 95), ("D4", ratio(81, 95)), base=1)
    d3, d4 = rule_finding("D3"), rule_finding("D4")
    assert links(d3.id) == {answer_id("D3"), answer_id("D4")}  # the merged-in link is not undone
    assert d3.status == "kept" and d3.text.endswith("(93 hồ sơ).") and d3.is_answer_changed_since_edit
    assert (d4.status, d4.merged_into_id) == ("dropped", d3.id)
    assert len(recommendation_texts(d3.id)) == 3 and recommendation_texts(d4.id) == []


def test_a_merge_that_fails_midway_changes_nothing(api, answers):
    answers(("D3", 93), ("D4", ratio(80, 93)), ("H2", ratio(15, 17)))
    d3, d4, h2 = rule_finding("D3"), rule_finding("D4"), rule_finding("H2")
    elsewhere = manual_finding(TRANG_DINH, unit_id=demo_id("unit:LSN-H-TRANGDINH"))  # same team, other inspection
    events = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    changes = db.session.scalar(sa.select(sa.func.max(ChangeLogEntry.seq)))
    response = api("POST", f"/findings/{d3.id}/merge", etag=etag(d3),
                   json={"finding_ids": [str(d4.id), str(h2.id), str(elsewhere.id)]})
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert response.get_json()["errors"] == {"finding_ids": {"2": ["Không có hạn chế này trong cuộc kiểm tra."]}}
    for finding in (d3, d4, h2):
        finding = fresh(Finding, finding.id)
        assert (finding.status, finding.version, finding.merged_into_id) == ("draft", 1, None)
    assert len(recommendation_texts(d3.id)) == 2 and len(recommendation_texts(h2.id)) == 1
    assert links(d3.id) == {answer_id("D3")}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == events
    assert db.session.scalar(sa.select(sa.func.max(ChangeLogEntry.seq))) == changes


@pytest.mark.parametrize(("others", "status"), [("self", 422), ("strength", 422), ("dropped", 409)])
def test_a_merge_refuses_itself_strengths_and_dropped_findings(api, answers, others, status):
    answers(("D3", 93), ("D6", ratio(6118, 6118)), ("H2", ratio(15, 17)))
    d3 = rule_finding("D3")
    other = {"self": lambda: d3, "strength": lambda: rule_finding("D6"),
             "dropped": lambda: manual_finding(status="dropped", drop_reason="Trùng.")}[others]()
    response = api("POST", f"/findings/{d3.id}/merge", etag=etag(d3), json={"finding_ids": [str(other.id)]})
    assert response.status_code == status
    assert fresh(Finding, d3.id).version == 1


# --- split ----------------------------------------------------------------------------------------


def test_splitting_makes_manual_findings_with_the_links_and_drops_the_original(api, answers):
    answers(("D3", 93))
    d3 = rule_finding("D3")
    photo = photo_on(d3)
    db.session.get(PhotoLink, photo).unit_id = TAN_THANH
    db.session.commit()
    parts = [{"text": "Xã Tân Thanh còn 40 hồ sơ chậm hạn.", "unit_id": str(TAN_THANH)},
             {"text": "Xã Bắc Việt còn 53 hồ sơ chậm hạn.", "unit_id": str(BAC_VIET)}]
    response = api("POST", f"/findings/{d3.id}/split", etag=etag(d3), json={"parts": parts})
    assert response.status_code == 201
    body = response.get_json()
    original = body["original"]
    assert (original["status"], original["version"]) == ("dropped", 2)
    assert original["drop_reason"].startswith("Tách thành 2 hạn chế: D3 “Xã Tân Thanh còn 40 hồ sơ chậm hạn.”")
    assert response.headers["ETag"] == original["etag"]
    for part, sent in zip(body["parts"], parts, strict=True):
        assert (part["origin"], part["status"], part["item_code"]) == ("manual", "kept", "D3")
        assert part["text"] == sent["text"]
        assert part["unit"]["id"] == sent["unit_id"] and part["answer_ids"] == [str(answer_id("D3"))]
        assert [r["responsible_unit"]["id"] for r in part["recommendations"]] == [sent["unit_id"]] * 2
        assert [r["text"] for r in part["recommendations"]] == recommendation_texts(d3.id)
    assert body["parts"][0]["photo_ids"] == [str(photo)] and body["parts"][1]["photo_ids"] == []


def test_a_split_with_a_unit_outside_the_inspection_writes_nothing(api, answers):
    answers(("D3", 93))
    d3 = rule_finding("D3")
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Finding).filter_by(inspection_id=VAN_LANG))
    response = api("POST", f"/findings/{d3.id}/split", etag=etag(d3), json={"parts": [
        {"text": "Phần một."}, {"text": "Phần hai.", "unit_id": str(demo_id("unit:LSN-H-BACSON"))}]})
    assert response.status_code == 422 and "parts" in response.get_json()["errors"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Finding).filter_by(
        inspection_id=VAN_LANG)) == count
    assert fresh(Finding, d3.id).status == "draft"
    one_part = api("POST", f"/findings/{d3.id}/split", etag=etag(d3), json={"parts": [{"text": "Chỉ một."}]})
    assert one_part.status_code == 422


# --- recommendations ------------------------------------------------------------------------------


@pytest.fixture
def on_20_january_2025(monkeypatch):
    """The Monday before Tết Ất Tỵ (off 25/01–02/02/2025; Saturday 08/02 worked in exchange)."""
    monkeypatch.setattr(deadlines, "today", lambda: date(2025, 1, 20))


def test_accepting_the_suggested_wording_of_a_rule_finding(api, answers, on_20_january_2025):
    answers(("D3", 93))
    d3 = rule_finding("D3")
    suggested = api("GET", f"/findings/{d3.id}").get_json()["suggested_recommendations"]
    generated = recommendation_texts(d3.id)
    assert suggested == generated and len(suggested) == 2  # the D3 rule's two recommendations, filled
    first = db.session.scalar(sa.select(Recommendation).filter_by(finding_id=d3.id, sort_order=0))
    gone = api("DELETE", f"/recommendations/{first.id}", etag=f'"recommendation-{first.id}-v1"')
    assert gone.status_code == 204 and recommendation_texts(d3.id) == generated[1:]
    accepted = api("POST", f"/findings/{d3.id}/recommendations", "thuky", json={})
    assert accepted.status_code == 201
    body = accepted.get_json()
    assert (body["text"], body["origin"], body["responsible_unit"]["id"]) == (generated[0], "rule", str(HOST))
    assert body["deadline"] == "2025-03-07"  # 30 working days, Tết skipped, the make-up Saturday counted
    assert accepted.headers["Location"] == f"/api/v1/recommendations/{body['id']}"
    assert accepted.headers["ETag"] == body["etag"] == f'"recommendation-{body["id"]}-v1"'
    nothing_left = api("POST", f"/findings/{d3.id}/recommendations", json={})
    assert nothing_left.status_code == 422 and "text" in nothing_left.get_json()["errors"]


def test_a_manual_finding_of_an_item_gets_the_items_wording_with_the_units_figures(api, answers):
    answers(("C11", ratio(85, 120)))
    finding = manual_finding(item_code="C11", text="Cán bộ, công chức cấp xã chưa đạt chuẩn còn nhiều.")
    response = api("POST", f"/findings/{finding.id}/recommendations", json={"report_form": "Báo cáo bằng văn bản"})
    assert response.status_code == 201
    body = response.get_json()
    assert body["text"].startswith("Đẩy mạnh đào tạo, bồi dưỡng đội ngũ cán bộ, công chức cấp xã")
    assert body["report_form"] == "Báo cáo bằng văn bản"
    no_item = manual_finding(item_code=None, text="Hạn chế không gắn mục nào.")
    refused = api("POST", f"/findings/{no_item.id}/recommendations", json={})
    assert refused.status_code == 422 and "text" in refused.get_json()["errors"]


def test_a_written_recommendation_with_its_own_unit_and_calendar_day_deadline(api, app, monkeypatch,
                                                                              on_20_january_2025):
    monkeypatch.setitem(app.config, "DEADLINE_COUNTING", "calendar")
    finding = manual_finding()
    response = api("POST", f"/findings/{finding.id}/recommendations",
                   json={"text": "Xã Bắc Việt rà soát, xử lý dứt điểm hồ sơ quá hạn.",
                         "responsible_unit_id": str(BAC_VIET)})
    body = response.get_json()
    assert response.status_code == 201 and body["origin"] == "manual" and body["deadline"] == "2025-02-19"
    assert body["responsible_unit"]["id"] == str(BAC_VIET)
    no_deadline = api("POST", f"/findings/{finding.id}/recommendations", json={"text": "Không thời hạn.",
                                                                              "deadline": None})
    assert no_deadline.get_json()["deadline"] is None
    outside = api("POST", f"/findings/{finding.id}/recommendations",
                  json={"text": "Sở Nội vụ theo dõi.", "responsible_unit_id": str(demo_id("unit:LSN-SNV"))})
    assert outside.status_code == 422 and "responsible_unit_id" in outside.get_json()["errors"]


def test_strengths_and_dropped_findings_take_no_recommendation(api, answers):
    answers(("D6", ratio(6118, 6118)))
    assert api("POST", f"/findings/{rule_finding('D6').id}/recommendations", json={"text": "X."}).status_code == 409
    dropped = manual_finding(status="dropped", drop_reason="Trùng.")
    assert api("POST", f"/findings/{dropped.id}/recommendations", json={"text": "X."}).status_code == 409


def test_editing_a_recommendation_needs_if_match_and_makes_it_a_persons(api, answers):
    answers(("H2", ratio(15, 17)))
    [recommendation] = db.session.scalars(sa.select(Recommendation).filter_by(finding_id=rule_finding("H2").id))
    url = f"/recommendations/{recommendation.id}"
    got = api("GET", url, "kiemtra2")
    assert got.status_code == 200 and got.headers["ETag"] == f'"recommendation-{recommendation.id}-v1"'
    assert api("PATCH", url, json={"deadline": "2024-09-30"}).status_code == 428
    edited = api("PATCH", url, etag=got.headers["ETag"], json={"text": "Hoàn thành 02 nhiệm vụ còn lại trong quý III.",
                                                              "deadline": "2024-09-30", "report_form": "Văn bản"})
    assert edited.status_code == 200
    body = edited.get_json()
    assert (body["origin"], body["version"], body["deadline"]) == ("manual", 2, "2024-09-30")
    stale = api("PATCH", url, etag=got.headers["ETag"], json={"report_form": "Khác"})
    assert stale.status_code == 412 and stale.get_json()["current"]["report_form"] == "Văn bản"
    assert api("DELETE", url, etag=got.headers["ETag"]).status_code == 412
    answers(("H2", ratio(14, 17)), base=1)  # regeneration leaves a person's recommendation alone
    assert fresh(Recommendation, recommendation.id).text == "Hoàn thành 02 nhiệm vụ còn lại trong quý III."


def test_readiness_lists_kept_findings_without_a_recommendation(api, answers):
    answers(("H2", ratio(15, 17)))
    inspection = db.session.get(Inspection, VAN_LANG)
    lonely = manual_finding(text="Chưa có kiến nghị.")
    manual_finding(status="dropped", drop_reason="Trùng.")  # dropped findings need none
    body = api("GET", f"/inspections/{VAN_LANG}/findings/readiness", "kiemtra2").get_json()
    assert body["ready"] is False
    assert [f["id"] for f in body["missing_recommendations"]] == [str(lonely.id)]
    assert [f["item_code"] for f in body["undecided"]] == ["H2"]  # a draft: nobody has decided on it yet
    assert findings_missing_recommendations(inspection) == [lonely]
    api("POST", f"/findings/{lonely.id}/recommendations", json={"text": "Khắc phục."})
    assert api("GET", f"/inspections/{VAN_LANG}/findings/readiness").get_json()["ready"] is True
    assert findings_missing_recommendations(inspection) == []


# --- who, and when --------------------------------------------------------------------------------


@pytest.mark.parametrize(("username", "status"), [
    ("truongdoan", 200), ("kiemtra1", 200), ("thuky", 200),  # lead, deputy lead, secretary
    ("kiemtra2", 403), ("admin", 403),  # a plain member reads only; admins administer, they do not review
    ("kiemtra-tng", 404), ("dv-vanlang", 403),
])
def test_only_the_lead_deputy_and_secretary_edit(api, answers, username, status):
    answers(("H2", ratio(15, 17)))
    h2 = rule_finding("H2")
    response = api("PATCH", f"/findings/{h2.id}", username, etag=etag(h2), json={"severity": "minor"})
    assert response.status_code == status, response.get_json()
    assert fresh(Finding, h2.id).severity == ("minor" if status == 200 else "major")


def test_an_approved_inspection_is_read_only(api, answers):
    answers(("H2", ratio(15, 17)))
    h2 = rule_finding("H2")
    [recommendation] = db.session.scalars(sa.select(Recommendation).filter_by(finding_id=h2.id))
    db.session.get(Inspection, VAN_LANG).status = "approved"
    db.session.commit()
    refused = [
        api("PATCH", f"/findings/{h2.id}", etag=etag(h2), json={"text": "Sửa sau khi duyệt."}),
        api("POST", f"/findings/{h2.id}/drop", etag=etag(h2), json={"reason": "Bỏ sau khi duyệt."}),
        api("POST", f"/findings/{h2.id}/recommendations", json={"text": "Thêm sau khi duyệt."}),
        api("DELETE", f"/recommendations/{recommendation.id}", etag=f'"recommendation-{recommendation.id}-v1"'),
    ]
    assert [r.status_code for r in refused] == [409] * 4
    assert "đã được duyệt" in refused[0].get_json()["detail"]
    assert fresh(Finding, h2.id).version == 1 and fresh(Recommendation, recommendation.id) is not None
    assert api("GET", f"/inspections/{VAN_LANG}/findings").status_code == 200


# --- audit and change feed ------------------------------------------------------------------------


def feed(api, cursor: int) -> dict:
    return {(c["entity_type"], c["entity_id"]): c for c in
            api("GET", f"/sync/changes?cursor={cursor}", "kiemtra2").get_json()["changes"]}


def test_every_change_is_an_audit_event_and_reaches_tablets(api, answers):
    answers(("H2", ratio(15, 17)))
    h2 = rule_finding("H2")
    [generated] = db.session.scalars(sa.select(Recommendation).filter_by(finding_id=h2.id))
    cursor = db.session.scalar(sa.select(sa.func.max(ChangeLogEntry.seq)))
    edited = api("PATCH", f"/findings/{h2.id}", etag=etag(h2), json={"text": "Câu chữ của Trưởng đoàn."})
    added = api("POST", f"/findings/{h2.id}/recommendations", json={"text": "Kiến nghị thêm."}).get_json()
    assert api("DELETE", f"/recommendations/{generated.id}",
               etag=f'"recommendation-{generated.id}-v1"').status_code == 204
    changes = feed(api, cursor)
    finding = changes[("finding", str(h2.id))]["data"]
    assert (finding["text"], finding["status"], finding["version"]) == ("Câu chữ của Trưởng đoàn.", "edited", 2)
    assert changes[("recommendation", added["id"])]["data"]["text"] == "Kiến nghị thêm."
    assert changes[("recommendation", str(generated.id))]["deleted"] is True
    events = {(e.action, e.entity_id): e for e in db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.entity_id.in_([str(h2.id), added["id"], str(generated.id)])))}
    update = events[("finding.update", str(h2.id))]
    assert (update.before["text"], update.after["text"]) == (H2_TEXT, "Câu chữ của Trưởng đoàn.")
    assert (update.before["status"], update.after["status"], update.after["version"]) == ("draft", "edited", 2)
    assert edited.status_code == 200 and update.actor_id == db.session.scalar(
        sa.select(User.id).filter_by(username="truongdoan"))
    assert events[("recommendation.create", added["id"])].after["text"] == "Kiến nghị thêm."
    deleted = events[("recommendation.delete", str(generated.id))]
    assert deleted.before["text"] == generated.text and deleted.after is None


def test_a_merge_is_audited_for_every_finding_and_recommendation_it_touches(api, answers):
    answers(("D3", 93), ("D4", ratio(80, 93)))
    d3, d4 = rule_finding("D3"), rule_finding("D4")
    [moved] = db.session.scalars(sa.select(Recommendation).filter_by(finding_id=d4.id))
    cursor = db.session.scalar(sa.select(sa.func.max(ChangeLogEntry.seq)))
    api("POST", f"/findings/{d3.id}/merge", etag=etag(d3), json={"finding_ids": [str(d4.id)]})
    actions = set(db.session.execute(sa.select(AuditEvent.action, AuditEvent.entity_id).where(
        AuditEvent.action.in_(("finding.merge", "finding.merged_away", "recommendation.move")))))
    assert actions == {("finding.merge", str(d3.id)), ("finding.merged_away", str(d4.id)),
                       ("recommendation.move", str(moved.id))}
    changes = feed(api, cursor)
    assert changes[("finding", str(d4.id))]["data"]["status"] == "dropped"
    assert changes[("recommendation", str(moved.id))]["data"]["finding_id"] == str(d3.id)
