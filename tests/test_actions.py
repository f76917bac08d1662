"""Corrective actions after the Văn Lãng minutes are issued: the unit's list and answers, the team's review,
cannot_fix with a reason, overdue flags, the next inspection's bundle, and the audit trail."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from audit_api.extensions import db
from audit_api.models import AuditEvent, CorrectiveAction, Inspection, Team, User
from audit_api.services.demo import demo_id
from audit_api.services.inspections import create_inspection
from tests.test_documents import VAN_LANG, approve, enter_figures

HOST = demo_id("unit:LSN-H-VANLANG")


@pytest.fixture
def issued(client, headers_for) -> list[dict]:
    """The minutes issued; the actions of the district itself (not its communes), oldest deadline first."""
    enter_figures(client, headers_for("kiemtra1"))
    approve(VAN_LANG)
    draft = client.post(f"/api/v1/inspections/{VAN_LANG}/documents", headers=headers_for("thuky"),
                        json={"kind": "minutes"})
    issued = client.post(f"/api/v1/documents/{draft.get_json()['id']}/issue", json={},
                         headers={**headers_for("truongdoan"), "If-Match": draft.headers["ETag"]})
    assert issued.status_code == 200, issued.get_json()
    listed = client.get("/api/v1/actions", headers=headers_for("dv-vanlang")).get_json()["data"]
    assert listed and all(a["unit"]["id"] == str(HOST) and a["status"] == "open" for a in listed)
    return listed


def respond(client, headers_for, action_id, **body):
    return client.post(f"/api/v1/actions/{action_id}/responses", headers=headers_for("dv-vanlang"),
                       json={"text": "Đã rà soát, xử lý dứt điểm 93 hồ sơ quá hạn; gửi Phiếu xin lỗi.", **body})


def review(client, headers_for, action_id, who="thuky", **body):
    return client.post(f"/api/v1/actions/{action_id}/review", headers=headers_for(who), json=body)


def test_a_response_accepted_closes_the_action(client, headers_for, issued):
    action_id = issued[0]["id"]
    answered = respond(client, headers_for, action_id)
    assert answered.status_code == 201 and answered.get_json()["status"] == "responded"
    assert respond(client, headers_for, action_id).status_code == 409  # waiting for the team
    accepted = review(client, headers_for, action_id, decision="accept")
    assert accepted.status_code == 201
    body = accepted.get_json()
    assert body["status"] == "accepted" and body["is_closed"] and body["reviews"][0]["decision"] == "accept"
    assert review(client, headers_for, action_id, decision="accept").status_code == 409


def test_a_rejected_response_reopens_with_the_comment_the_unit_then_sees(client, headers_for, issued):
    action_id = issued[0]["id"]
    respond(client, headers_for, action_id)
    assert review(client, headers_for, action_id, decision="reject").status_code == 422  # a comment is required
    rejected = review(client, headers_for, action_id, decision="reject", comment="Chưa có minh chứng Phiếu xin lỗi.")
    assert rejected.status_code == 201 and rejected.get_json()["status"] == "open"
    seen = client.get(f"/api/v1/actions/{action_id}", headers=headers_for("dv-vanlang")).get_json()
    assert seen["reviews"][-1]["comment"] == "Chưa có minh chứng Phiếu xin lỗi." and seen["status"] == "open"
    assert respond(client, headers_for, action_id).status_code == 201  # the unit may answer again


def test_cannot_fix_needs_a_reason_and_the_team_decides(client, headers_for, issued):
    action_id = issued[0]["id"]
    empty = respond(client, headers_for, action_id, kind="cannot_fix", text="   ")
    assert empty.status_code == 422 and empty.mimetype == "application/problem+json"
    reason = "Trụ sở thuộc diện sắp xếp theo Nghị quyết của Quốc hội; không đầu tư mới."
    answered = respond(client, headers_for, action_id, kind="cannot_fix", text=reason)
    assert answered.get_json()["status"] == "cannot_fix" and answered.get_json()["cannot_fix_reason"] == reason
    closed = review(client, headers_for, action_id, who="truongdoan", decision="accept").get_json()
    assert closed["status"] == "cannot_fix" and closed["is_closed"]


def test_only_the_unit_answers_and_only_the_team_reviews(client, headers_for, issued):
    action_id = issued[0]["id"]
    assert respond(client, headers_for, action_id).status_code == 201
    staff = client.post(f"/api/v1/actions/{action_id}/responses", headers=headers_for("thuky"), json={"text": "x"})
    assert staff.status_code == 403
    assert review(client, headers_for, action_id, who="kiemtra2", decision="accept").status_code == 403
    unit = client.post(f"/api/v1/actions/{action_id}/review", headers=headers_for("dv-vanlang"),
                       json={"decision": "accept"})
    assert unit.status_code == 403
    other_unit = client.get(f"/api/v1/actions/{action_id}", headers=headers_for("dv-trangdinh"))
    assert other_unit.status_code == 404


def test_overdue_actions_are_flagged_and_filtered(client, headers_for, issued):
    late = db.session.get(CorrectiveAction, uuid.UUID(issued[0]["id"]))
    late.deadline = date.today() - timedelta(days=3)
    db.session.flush()
    unit = headers_for("dv-vanlang")
    overdue = client.get("/api/v1/actions?overdue=true", headers=unit).get_json()["data"]
    assert [a["id"] for a in overdue] == [issued[0]["id"]] and overdue[0]["is_overdue"]
    not_overdue = client.get("/api/v1/actions?overdue=false", headers=unit).get_json()["data"]
    assert issued[0]["id"] not in {a["id"] for a in not_overdue} and len(not_overdue) == len(issued) - 1
    respond(client, headers_for, issued[0]["id"])  # answered: waiting for the team is not overdue
    assert client.get("/api/v1/actions?overdue=true", headers=unit).get_json()["data"] == []
    by_status = client.get("/api/v1/actions?status=responded", headers=headers_for("thuky")).get_json()["data"]
    assert [a["id"] for a in by_status] == [issued[0]["id"]]


def test_open_actions_travel_into_the_units_next_inspection_bundle(client, headers_for, issued):
    team = db.session.get(Team, demo_id("team-2024"))
    follow_up = create_inspection({"host_unit_id": HOST, "checklist_key": "tthc-2018",
                                   "scheduled_on": date(2025, 3, 10)}, team=team, actor=None)
    respond(client, headers_for, issued[0]["id"])
    review(client, headers_for, issued[0]["id"], decision="accept")
    bundle = client.get(f"/api/v1/inspections/{follow_up.id}/bundle", headers=headers_for("kiemtra1")).get_json()
    carried = {a["id"] for a in bundle["carried_actions"]}
    assert carried == {a["id"] for a in issued[1:]}


def test_every_change_is_an_audit_event(client, headers_for, issued):
    action_id = issued[0]["id"]
    respond(client, headers_for, action_id)
    review(client, headers_for, action_id, decision="reject", comment="Bổ sung minh chứng.")
    actions = db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.entity_id == action_id)
                                 .order_by(AuditEvent.id)).all()
    assert actions == ["action.open", "action.response", "action.reject"]
    actor = db.session.scalar(sa.select(AuditEvent.actor_id).where(AuditEvent.entity_id == action_id,
                                                                   AuditEvent.action == "action.response"))
    assert actor == db.session.scalar(sa.select(User.id).filter_by(username="dv-vanlang"))
    assert db.session.get(Inspection, VAN_LANG).status == "minutes_issued"
