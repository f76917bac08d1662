"""Authorization matrix: every API route × every role × an object of the caller's own team/unit/province
and of another's (Thái Nguyên, tests/world.py), plus no token at all.

The routes come from the app's URL map: a route missing from CASES fails the first test, so a new route
cannot ship without its row here. Expected statuses: 2xx allowed, 401 not signed in, 403 the role may not
do this, 404 the object belongs to someone the caller may not see.
"""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest
import sqlalchemy as sa

from audit_api.access import PUBLIC_ENDPOINTS, policy_of
from audit_api.extensions import db
from audit_api.models import User
from audit_api.services.auth import open_session
from audit_api.services.demo import demo_id
from tests.support import DEMO_PASSWORD

# kiemtra2 is a plain member of the demo team (kiemtra1 is its deputy lead, with a deputy's rights).
ROLES = {"admin": "admin", "lead": "truongdoan", "secretary": "thuky", "inspector": "kiemtra2", "unit": "dv-vanlang"}
OWN_INSPECTION = demo_id("insp-vanlang-2024")


def _jpeg_bytes() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


def user_id(username: str):
    return db.session.scalar(sa.select(User.id).filter_by(username=username))


def other(kind: str):
    """Ids of Thái Nguyên's objects (made by tests/world.py with generated ids)."""
    from audit_api.models import Inspection, Plan, Team

    province = demo_id("unit:TNG")
    team = db.session.scalar(sa.select(Team).filter_by(province_id=province))
    return {
        "team": team.id,
        "plan": db.session.scalar(sa.select(Plan.id).filter_by(province_id=province)),
        "inspection": db.session.scalar(sa.select(Inspection.id).filter_by(team_id=team.id)),
        "user": user_id("kiemtra-tng"),
        "province": province,
        "unit": demo_id("unit:TNG-X-1"),
    }[kind]


ALL = ("admin", "lead", "secretary", "inspector", "unit")
STAFF = ("admin", "lead", "secretary", "inspector")


def expect(allowed: tuple[str, ...], ok: int, *, other_status: int | None = None, denied: int = 403) -> dict:
    """Status per role for (own object, other's object)."""
    return {role: ((ok, ok if other_status is None else other_status) if role in allowed else (denied, denied))
            for role in ALL}


@dataclass
class Case:
    method: str
    path: Callable[[str], str]  # "own" | "other" → URL
    expected: dict[str, tuple[int, int]]
    body: Callable[[str, str], dict] | None = None  # (ownership, role) → JSON
    credential: str = "access"  # or "refresh", or "none" for public routes
    setup: Callable[[], None] | None = None  # puts the own and other objects in the state the route acts on
    raw: tuple[bytes, dict] | None = None  # a raw body and its headers, instead of JSON


def same(url: str) -> Callable[[str], str]:
    return lambda _ownership: url


def by_owner(own: Callable[[], str], theirs: Callable[[], str]) -> Callable[[str], str]:
    return lambda ownership: own() if ownership == "own" else theirs()


def new_user_body(ownership: str, role: str) -> dict:
    body = {"username": f"moi-{role}-{ownership}", "full_name": "Người dùng mới", "password": "mật-khẩu-mới-dài",
            "roles": ["inspector"]}
    if ownership == "other":
        body["province_id"] = str(other("province"))
    return body


def team_body(ownership: str, _role: str) -> dict:
    body = {"name": "Đoàn mới", "decision_number": "1/QĐ-UBND", "decision_date": "2026-11-01",
            "decision_issuer": "Chủ tịch UBND tỉnh"}
    if ownership == "other":
        body["province_id"] = str(other("province"))
    return body


def plan_body(ownership: str, _role: str) -> dict:
    body = {"number": "9/KH-UBND", "title": "Kế hoạch mới", "issuer": "UBND tỉnh", "issued_on": "2026-11-01",
            "year": 2026}
    if ownership == "other":
        body["province_id"] = str(other("province"))
    return body


def inspection_body(ownership: str, _role: str) -> dict:
    if ownership == "own":
        return {"team_id": str(demo_id("team-2024")), "host_unit_id": str(demo_id("unit:LSN-H-VANLANG")),
                "checklist_key": "tthc-2018", "scheduled_on": "2024-06-25"}
    return {"team_id": str(other("team")), "host_unit_id": str(other("unit")), "checklist_key": "tthc-2025",
            "scheduled_on": "2026-11-20"}


def assignments_body(_ownership: str, _role: str) -> dict:
    return {"assignments": [{"section_code": "A", "user_id": str(user_id("kiemtra1"))}]}


def sync_body(ownership: str, _role: str) -> dict:
    inspection = OWN_INSPECTION if ownership == "own" else other("inspection")
    return {"device_id": "matrix", "mutations": [{"id": str(uuid.uuid4()), "type": "answer.set",
                                                  "inspection_id": str(inspection), "base_version": None,
                                                  "payload": {"item_code": "D3", "value": 1}}]}


PHOTO = _jpeg_bytes()
OFFSET_TYPE = "application/offset+octet-stream"


def photo_body(ownership: str, _role: str) -> dict:
    inspection = OWN_INSPECTION if ownership == "own" else other("inspection")
    return {"id": str(uuid.uuid4()), "inspection_id": str(inspection), "sha256": hashlib.sha256(PHOTO).hexdigest(),
            "size": len(PHOTO), "content_type": "image/jpeg"}


def photo_url(kind: str, suffix: str) -> Callable[[str], str]:
    return lambda ownership: f"/api/v1/photos/{demo_id(f'photo-{kind}-{ownership}')}{suffix}"


def photos_in_both() -> None:
    """In each inspection: a photo fully uploaded and one declared but not yet sent."""
    from flask import current_app

    from audit_api.models import Inspection
    from audit_api.services import uploads

    for ownership, username in (("own", "kiemtra1"), ("other", "kiemtra-tng")):
        uploader = db.session.scalar(sa.select(User).filter_by(username=username))
        inspection = OWN_INSPECTION if ownership == "own" else other("inspection")
        for kind in ("ready", "partial"):
            photo_id = demo_id(f"photo-{kind}-{ownership}")
            current_app.extensions["media_store"].discard_staged(str(photo_id))
            upload = uploads.declare(uploader, {**photo_body(ownership, ""), "id": photo_id,
                                                "inspection_id": db.session.get(Inspection, inspection).id})
            if kind == "ready":
                uploads.receive(uploader, upload, 0, PHOTO)
    db.session.commit()


def put_both_inspections(status: str, section_status: str):
    def setup() -> None:
        from audit_api.models import Inspection

        for inspection in (db.session.get(Inspection, OWN_INSPECTION), db.session.get(Inspection, other("inspection"))):
            inspection.status = status
            for assignment in inspection.assignments:
                assignment.status = section_status
        db.session.commit()

    return setup


UNIT_SEES_NO_PHOTO = {**expect(STAFF, 200, other_status=404), "unit": (404, 404)}
OWN_TEAM_URL = lambda: f"/api/v1/teams/{demo_id('team-2024')}"  # noqa: E731
OTHER_TEAM_URL = lambda: f"/api/v1/teams/{other('team')}"  # noqa: E731

CASES: dict[str, Case] = {
    "health.health": Case("GET", same("/api/v1/health"), expect(ALL, 200), credential="none"),
    "auth.login": Case("POST", same("/api/v1/auth/login"), expect(ALL, 200), credential="none",
                       body=lambda _o, role: {"username": ROLES[role], "password": DEMO_PASSWORD}),
    "auth.refresh": Case("POST", same("/api/v1/auth/refresh"), expect(ALL, 200), credential="refresh"),
    "auth.logout": Case("POST", same("/api/v1/auth/logout"), expect(ALL, 204)),
    "auth.me": Case("GET", same("/api/v1/auth/me"), expect(ALL, 200)),
    "checklists.list_checklists": Case("GET", same("/api/v1/checklists"), expect(STAFF, 200)),
    "checklists.get_checklist_version": Case("GET", same("/api/v1/checklists/tthc-2025/versions/1"),
                                             expect(STAFF, 200)),
    "checklists.validate_checklist": Case("POST", same("/api/v1/checklists/validation"), expect(("admin",), 200),
                                          body=lambda _o, _r: {"yaml": "key: x"}),
    "units.list_units": Case("GET", same("/api/v1/units"), expect(STAFF, 200)),
    "units.unit_tree": Case("GET", same("/api/v1/units/tree"), expect(STAFF, 200)),
    "units.get_unit": Case("GET", by_owner(lambda: f"/api/v1/units/{demo_id('unit:LSN')}",
                                           lambda: f"/api/v1/units/{other('unit')}"), expect(STAFF, 200)),
    "users.list_users": Case("GET", same("/api/v1/users"), expect(("admin",), 200)),
    "users.create_user": Case("POST", same("/api/v1/users"), expect(("admin",), 201, other_status=403),
                              body=new_user_body),
    # "own" is the caller's own record here: everyone may read themselves
    "users.get_user": Case("GET", by_owner(lambda: "/api/v1/users/{me}", lambda: f"/api/v1/users/{other('user')}"),
                           {role: (200, 404) for role in ALL}),
    "users.update_user": Case("PATCH", by_owner(lambda: f"/api/v1/users/{user_id('kiemtra2')}",
                                                lambda: f"/api/v1/users/{other('user')}"),
                              expect(("admin",), 200, other_status=404), body=lambda _o, _r: {"title": "Chuyên viên"}),
    "users.reset_password": Case("POST", by_owner(lambda: f"/api/v1/users/{user_id('kiemtra2')}/password",
                                                  lambda: f"/api/v1/users/{other('user')}/password"),
                                 expect(("admin",), 204, other_status=404),
                                 body=lambda _o, _r: {"password": "mật-khẩu-mới-dài"}),
    "teams.list_teams": Case("GET", same("/api/v1/teams"), expect(STAFF, 200)),
    "teams.create_team": Case("POST", same("/api/v1/teams"), expect(("admin",), 201, other_status=403),
                              body=team_body),
    "teams.get_team": Case("GET", by_owner(OWN_TEAM_URL, OTHER_TEAM_URL), expect(STAFF, 200, other_status=404)),
    "teams.update_team": Case("PATCH", by_owner(OWN_TEAM_URL, OTHER_TEAM_URL),
                              expect(("admin",), 200, other_status=404), body=lambda _o, _r: {"name": "Đoàn (sửa)"}),
    "teams.put_member": Case("PUT", by_owner(lambda: f"{OWN_TEAM_URL()}/members/{user_id('kiemtra2')}",
                                             lambda: f"{OTHER_TEAM_URL()}/members/{other('user')}"),
                             expect(("admin",), 200, other_status=404), body=lambda _o, _r: {"team_role": "member"}),
    # the team lead holds no sections, so removing them is allowed (a member holding sections is a 409)
    "teams.remove_member": Case("DELETE", by_owner(lambda: f"{OWN_TEAM_URL()}/members/{user_id('truongdoan')}",
                                                   lambda: f"{OTHER_TEAM_URL()}/members/{other('user')}"),
                                expect(("admin",), 204, other_status=404)),
    "plans.list_plans": Case("GET", same("/api/v1/plans"), expect(STAFF, 200)),
    "plans.create_plan": Case("POST", same("/api/v1/plans"), expect(("admin",), 201, other_status=403),
                              body=plan_body),
    "plans.get_plan": Case("GET", by_owner(lambda: f"/api/v1/plans/{demo_id('plan-2024')}",
                                           lambda: f"/api/v1/plans/{other('plan')}"),
                           expect(STAFF, 200, other_status=404)),
    "plans.update_plan": Case("PATCH", by_owner(lambda: f"/api/v1/plans/{demo_id('plan-2024')}",
                                                lambda: f"/api/v1/plans/{other('plan')}"),
                              expect(("admin",), 200, other_status=404),
                              body=lambda _o, _r: {"title": "Kế hoạch (sửa)"}),
    "inspections.list_inspections": Case("GET", same("/api/v1/inspections"), expect(STAFF, 200)),
    # staff may try; the team's lead (or deputy) or an admin succeeds, others' teams are invisible
    "inspections.create_inspection": Case("POST", same("/api/v1/inspections"),
                                          {"admin": (201, 404), "lead": (201, 404), "secretary": (403, 404),
                                           "inspector": (403, 404), "unit": (403, 403)}, body=inspection_body),
    "inspections.get_inspection": Case("GET", by_owner(lambda: f"/api/v1/inspections/{OWN_INSPECTION}",
                                                       lambda: f"/api/v1/inspections/{other('inspection')}"),
                                       expect(STAFF, 200, other_status=404)),
    "inspections.put_assignments": Case(
        "PUT", by_owner(lambda: f"/api/v1/inspections/{OWN_INSPECTION}/assignments",
                        lambda: f"/api/v1/inspections/{other('inspection')}/assignments"),
        {"admin": (200, 404), "lead": (200, 404), "secretary": (403, 404), "inspector": (403, 404),
         "unit": (403, 403)},
        body=assignments_body),
    "inspections.get_bundle": Case("GET", by_owner(lambda: f"/api/v1/inspections/{OWN_INSPECTION}/bundle",
                                                   lambda: f"/api/v1/inspections/{other('inspection')}/bundle"),
                                   expect(STAFF, 200, other_status=404)),
    # reviewing is the team's work: its lead, deputy and secretary; admins administer but do not review
    "inspections.review_section": Case(
        "POST", by_owner(lambda: f"/api/v1/inspections/{OWN_INSPECTION}/sections/A/review",
                         lambda: f"/api/v1/inspections/{other('inspection')}/sections/A/review"),
        {"admin": (403, 404), "lead": (200, 404), "secretary": (200, 404), "inspector": (403, 404),
         "unit": (403, 403)},
        body=lambda _o, _r: {"decision": "approve"}, setup=put_both_inspections("in_progress", "submitted")),
    "inspections.approve": Case(
        "POST", by_owner(lambda: f"/api/v1/inspections/{OWN_INSPECTION}/approve",
                         lambda: f"/api/v1/inspections/{other('inspection')}/approve"),
        {"admin": (403, 404), "lead": (200, 404), "secretary": (403, 404), "inspector": (403, 404),
         "unit": (403, 403)},
        setup=put_both_inspections("submitted", "submitted")),
    "inspections.reopen": Case(
        "POST", by_owner(lambda: f"/api/v1/inspections/{OWN_INSPECTION}/reopen",
                         lambda: f"/api/v1/inspections/{other('inspection')}/reopen"),
        {"admin": (403, 404), "lead": (200, 404), "secretary": (403, 404), "inspector": (403, 404),
         "unit": (403, 403)},
        setup=put_both_inspections("approved", "approved")),
    # a unit may use the photo routes for the evidence of its own corrective actions (tests/test_evidence.py);
    # the team's checklist photos are invisible to it
    "photos.create_photo": Case("POST", same("/api/v1/photos"),
                                {"admin": (403, 404), "lead": (201, 404), "secretary": (201, 404),
                                 "inspector": (201, 404), "unit": (404, 404)}, body=photo_body),
    "photos.upload_offset": Case("HEAD", photo_url("partial", "/upload"), UNIT_SEES_NO_PHOTO,
                                 setup=photos_in_both),
    "photos.upload_chunk": Case("PATCH", photo_url("partial", "/upload"),
                                {"admin": (403, 404), "lead": (204, 404), "secretary": (204, 404),
                                 "inspector": (204, 404), "unit": (404, 404)},
                                setup=photos_in_both, raw=(PHOTO[:1000], {"Upload-Offset": "0",
                                                                         "Content-Type": OFFSET_TYPE})),
    "photos.get_photo": Case("GET", photo_url("ready", ""), UNIT_SEES_NO_PHOTO, setup=photos_in_both),
    "photos.get_image": Case("GET", photo_url("ready", "/thumb"), UNIT_SEES_NO_PHOTO, setup=photos_in_both),
    "config.get_limits": Case("GET", same("/api/v1/config/limits"), expect(ALL, 200)),
    # a batch always answers 200: a mutation on someone else's inspection is rejected inside (404)
    "sync.sync": Case("POST", same("/api/v1/sync"), expect(STAFF, 200), body=sync_body),
    "sync.changes": Case("GET", same("/api/v1/sync/changes"), expect(STAFF, 200)),
}



# --- findings and recommendations (api/findings.py) --------------------------------------------------------


def findings_in_both() -> None:
    """In each inspection: a kept finding with a recommendation, a second one (to merge) and a dropped one."""
    from audit_api.models import Finding, Inspection, Recommendation

    for ownership, inspection_id in (("own", OWN_INSPECTION), ("other", other("inspection"))):
        unit_id = db.session.get(Inspection, inspection_id).host_unit_id
        for name, status in (("finding", "kept"), ("second", "kept"), ("dropped", "dropped")):
            db.session.add(Finding(id=demo_id(f"matrix-{name}-{ownership}"), inspection_id=inspection_id,
                                   unit_id=unit_id, origin="manual", text=f"Hạn chế {name}.", status=status,
                                   drop_reason="Trùng." if status == "dropped" else None))
        db.session.add(Recommendation(id=demo_id(f"matrix-recommendation-{ownership}"), inspection_id=inspection_id,
                                      finding_id=demo_id(f"matrix-finding-{ownership}"), responsible_unit_id=unit_id,
                                      text="Khắc phục."))
    db.session.commit()


def matrix_url(resource: str, name: str, suffix: str = "") -> Callable[[str], str]:
    return lambda ownership: f"/api/v1/{resource}/{demo_id(f'matrix-{name}-{ownership}')}{suffix}"


def if_match(kind: str, name: str, body: dict | None = None) -> tuple[bytes, dict]:
    """A body sent with If-Match naming version 1 of the caller's own object (the other's is a 404 first)."""
    headers = {"If-Match": f'"{kind}-{demo_id(f"matrix-{name}-own")}-v1"'}
    if body is None:
        return b"", headers
    return json.dumps(body).encode(), {**headers, "Content-Type": "application/json"}


def team_editors(ok: int) -> dict:
    """The team's lead, deputy and secretary edit; a plain member and admins read; others' objects are 404."""
    return {"admin": (403, 404), "lead": (ok, 404), "secretary": (ok, 404), "inspector": (403, 404),
            "unit": (403, 403)}


CASES.update({
    "findings.list_findings": Case("GET", by_owner(lambda: f"/api/v1/inspections/{OWN_INSPECTION}/findings",
                                                   lambda: f"/api/v1/inspections/{other('inspection')}/findings"),
                                   expect(STAFF, 200, other_status=404)),
    "findings.readiness": Case(
        "GET", by_owner(lambda: f"/api/v1/inspections/{OWN_INSPECTION}/findings/readiness",
                        lambda: f"/api/v1/inspections/{other('inspection')}/findings/readiness"),
        expect(STAFF, 200, other_status=404)),
    "findings.get_finding": Case("GET", matrix_url("findings", "finding"), expect(STAFF, 200, other_status=404),
                                 setup=findings_in_both),
    "findings.update_finding": Case("PATCH", matrix_url("findings", "finding"), team_editors(200),
                                    setup=findings_in_both, raw=if_match("finding", "finding", {"severity": "minor"})),
    "findings.drop_finding": Case("POST", matrix_url("findings", "finding", "/drop"), team_editors(200),
                                  setup=findings_in_both, raw=if_match("finding", "finding", {"reason": "Trùng."})),
    "findings.restore_finding": Case("POST", matrix_url("findings", "dropped", "/restore"), team_editors(200),
                                     setup=findings_in_both, raw=if_match("finding", "dropped")),
    "findings.merge_findings": Case(
        "POST", matrix_url("findings", "finding", "/merge"), team_editors(200), setup=findings_in_both,
        raw=if_match("finding", "finding", {"finding_ids": [str(demo_id("matrix-second-own"))]})),
    "findings.split_finding": Case(
        "POST", matrix_url("findings", "finding", "/split"), team_editors(201), setup=findings_in_both,
        raw=if_match("finding", "finding", {"parts": [{"text": "Phần một."}, {"text": "Phần hai."}]})),
    "findings.add_recommendation": Case("POST", matrix_url("findings", "finding", "/recommendations"),
                                        team_editors(201), setup=findings_in_both,
                                        body=lambda _o, _r: {"text": "Kiến nghị mới."}),
    "findings.get_recommendation": Case("GET", matrix_url("recommendations", "recommendation"),
                                        expect(STAFF, 200, other_status=404), setup=findings_in_both),
    "findings.update_recommendation": Case("PATCH", matrix_url("recommendations", "recommendation"),
                                           team_editors(200), setup=findings_in_both,
                                           raw=if_match("recommendation", "recommendation", {"text": "Sửa."})),
    "findings.delete_recommendation": Case("DELETE", matrix_url("recommendations", "recommendation"),
                                           team_editors(204), setup=findings_in_both,
                                           raw=if_match("recommendation", "recommendation")),
})


# --- documents and corrective actions (api/documents.py, api/actions.py) --------------------------------------


def documents_in_both(*, approved: bool = False) -> Callable[[], None]:
    """In each inspection: a draft minutes, an issued one (with its stored PDF), and two corrective actions of
    the host unit — one open, one answered and waiting for the team."""

    def setup() -> None:
        from flask import current_app

        from audit_api.models import (
            CorrectiveAction,
            Document,
            Inspection,
            Recommendation,
            document_units,
        )
        from audit_api.services.document_content import minutes_snapshot, view_of
        from audit_api.services.documents import pdf_key

        store = current_app.extensions["media_store"]
        for ownership, inspection_id in (("own", OWN_INSPECTION), ("other", other("inspection"))):
            inspection = db.session.get(Inspection, inspection_id)
            if approved:
                inspection.status = "approved"
            units = [inspection.host_unit_id, *(u.id for u in inspection.sub_units)]
            for name, status in (("draft", "draft"), ("issued", "issued")):
                document = Document(id=demo_id(f"matrix-{name}-{ownership}"), kind="minutes", status="draft",
                                    inspection_id=inspection.id, symbol="BB-ĐKT", snapshot=minutes_snapshot(inspection),
                                    content={}, version=1)
                db.session.add(document)
                db.session.flush()
                db.session.execute(document_units.insert(), [{"document_id": document.id, "unit_id": u} for u in units])
                if status == "issued":
                    pdf = b"%PDF-1.7 matrix " + ownership.encode()
                    sha = hashlib.sha256(pdf).hexdigest()
                    document.issued_on, document.number = date(2024, 6, 24), 1
                    document.issued_view = {**view_of(document), "status": "issued"}
                    document.pdf_sha256, document.pdf_key = sha, pdf_key(document.id, sha)
                    document.status = "issued"
                    store.put(document.pdf_key, pdf, content_type="application/pdf", overwrite=True)
            for name, status in (("open", "open"), ("answered", "responded")):
                recommendation = Recommendation(inspection_id=inspection.id, text="Khắc phục hồ sơ quá hạn.",
                                                responsible_unit_id=inspection.host_unit_id)
                db.session.add(recommendation)
                db.session.flush()
                db.session.add(CorrectiveAction(id=demo_id(f"matrix-action-{name}-{ownership}"),
                                                recommendation_id=recommendation.id,
                                                document_id=demo_id(f"matrix-issued-{ownership}"),
                                                unit_id=inspection.host_unit_id, text=recommendation.text,
                                                deadline=date(2024, 8, 5), status=status))
        db.session.commit()

    return setup


def document_if_match(name: str, body: dict | None = None) -> tuple[bytes, dict]:
    headers = {"If-Match": f'"document-{demo_id(f"matrix-{name}-own")}-v1"'}
    if body is None:
        return b"", headers
    return json.dumps(body).encode(), {**headers, "Content-Type": "application/json"}


def conclusion_body(ownership: str, _role: str) -> dict:
    unit = demo_id("unit:LSN-H-VANLANG") if ownership == "own" else other("unit")
    return {"kind": "conclusion", "unit_ids": [str(unit)]}


EVERYONE_READS = {role: (200, 404) for role in ALL}

CASES.update({
    "document_drafts.create_minutes": Case(
        "POST", by_owner(lambda: f"/api/v1/inspections/{OWN_INSPECTION}/documents",
                         lambda: f"/api/v1/inspections/{other('inspection')}/documents"),
        team_editors(201), body=lambda _o, _r: {"kind": "minutes"}),
    "document_drafts.create_conclusion": Case(
        "POST", by_owner(lambda: f"/api/v1/plans/{demo_id('plan-2024')}/documents",
                         lambda: f"/api/v1/plans/{other('plan')}/documents"),
        team_editors(201), body=conclusion_body),
    # a unit lists only its issued documents; staff list their teams'
    "documents.list_documents": Case("GET", same("/api/v1/documents"), expect(ALL, 200),
                                     setup=documents_in_both()),
    "documents.get_document": Case("GET", matrix_url("documents", "issued"), EVERYONE_READS,
                                   setup=documents_in_both()),
    "documents.preview_document": Case("GET", matrix_url("documents", "issued", "/html"), EVERYONE_READS,
                                       setup=documents_in_both()),
    "documents.download_pdf": Case("GET", matrix_url("documents", "issued", "/pdf"), EVERYONE_READS,
                                   setup=documents_in_both()),
    "documents.download_docx": Case("GET", matrix_url("documents", "issued", "/docx"), EVERYONE_READS,
                                    setup=documents_in_both()),
    "documents.patch_document": Case("PATCH", matrix_url("documents", "draft"), team_editors(200),
                                     setup=documents_in_both(),
                                     raw=document_if_match("draft", {"sections": {"closing": "Kết thúc."}})),
    "documents.refresh_document": Case("POST", matrix_url("documents", "draft", "/refresh"), team_editors(200),
                                       setup=documents_in_both(), raw=document_if_match("draft")),
    # only the team lead signs
    "documents.issue_document": Case("POST", matrix_url("documents", "draft", "/issue"),
                                     {"admin": (403, 404), "lead": (200, 404), "secretary": (403, 404),
                                      "inspector": (403, 404), "unit": (403, 403)},
                                     setup=documents_in_both(approved=True), raw=document_if_match("draft", {})),
    "documents.correct_document": Case("POST", matrix_url("documents", "issued", "/corrections"), team_editors(201),
                                       setup=documents_in_both()),
    "actions.list_actions": Case("GET", same("/api/v1/actions"), expect(ALL, 200), setup=documents_in_both()),
    "actions.get_action": Case("GET", matrix_url("actions", "action-open"), EVERYONE_READS,
                               setup=documents_in_both()),
    # the inspected unit answers; the team's lead, deputy and secretary review
    "actions.respond": Case("POST", matrix_url("actions", "action-open", "/responses"),
                            expect(("unit",), 201, other_status=404), setup=documents_in_both(),
                            body=lambda _o, _r: {"text": "Đã khắc phục."}),
    "actions.review": Case("POST", matrix_url("actions", "action-answered", "/review"), team_editors(201),
                           setup=documents_in_both(), body=lambda _o, _r: {"decision": "accept"}),
})


def api_endpoints(app) -> set[str]:
    return {rule.endpoint for rule in app.url_map.iter_rules()
            if rule.rule.startswith("/api/") and rule.endpoint not in PUBLIC_ENDPOINTS}


def test_every_route_declares_an_access_policy(app):
    missing = [rule.rule for rule in app.url_map.iter_rules() if policy_of(app, rule.endpoint) is None]
    assert missing == []


def test_every_api_route_is_in_the_matrix(app):
    assert api_endpoints(app) == set(CASES)


def test_a_route_without_a_policy_is_refused_not_served(tmp_path):
    from audit_api import create_app

    app = create_app({"APP_ENV": "development", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite3'}"})

    @app.get("/undeclared")
    def undeclared():
        return {"served": True}

    response = app.test_client().get("/undeclared")
    assert response.status_code == 500 and b"served" not in response.data


def _call(client, case: Case, ownership: str, role: str | None):
    if case.setup:
        case.setup()
    user = db.session.scalar(sa.select(User).filter_by(username=ROLES[role])) if role else None
    headers = {}
    if user is not None and case.credential != "none":
        pair = open_session(user)
        db.session.commit()
        token = pair.refresh_token if case.credential == "refresh" else pair.access_token
        headers["Authorization"] = f"Bearer {token}"
    url = case.path(ownership).replace("{me}", str(user.id) if user else "00000000-0000-0000-0000-000000000000")
    if case.raw:
        return client.open(url, method=case.method, headers={**headers, **case.raw[1]}, data=case.raw[0])
    body = case.body(ownership, role or "anonymous") if case.body else None
    return client.open(url, method=case.method, headers=headers, json=body)


MATRIX = [(endpoint, role, ownership) for endpoint in CASES for role in ALL for ownership in ("own", "other")]


@pytest.mark.parametrize(("endpoint", "role", "ownership"), MATRIX, ids=["-".join(row) for row in MATRIX])
def test_matrix(client, endpoint, role, ownership):
    case = CASES[endpoint]
    response = _call(client, case, ownership, role)
    expected = case.expected[role][0 if ownership == "own" else 1]
    assert response.status_code == expected, response.get_data(as_text=True)[:300]
    if expected >= 400:
        assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("endpoint", sorted(e for e, case in CASES.items() if case.credential != "none"))
def test_without_a_token_every_non_public_route_is_401(client, endpoint):
    response = _call(client, CASES[endpoint], "own", None)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
