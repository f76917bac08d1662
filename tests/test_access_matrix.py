"""Authorization matrix: every API route × every role × an object of the caller's own team/unit/province
and of another's (Thái Nguyên, tests/world.py), plus no token at all.

The routes come from the app's URL map: a route missing from CASES fails the first test, so a new route
cannot ship without its row here. Expected statuses: 2xx allowed, 401 not signed in, 403 the role may not
do this, 404 the object belongs to someone the caller may not see.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass

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
    "photos.create_photo": Case("POST", same("/api/v1/photos"),
                                {"admin": (403, 404), "lead": (201, 404), "secretary": (201, 404),
                                 "inspector": (201, 404), "unit": (403, 403)}, body=photo_body),
    "photos.upload_offset": Case("HEAD", photo_url("partial", "/upload"), expect(STAFF, 200, other_status=404),
                                 setup=photos_in_both),
    "photos.upload_chunk": Case("PATCH", photo_url("partial", "/upload"),
                                {"admin": (403, 404), "lead": (204, 404), "secretary": (204, 404),
                                 "inspector": (204, 404), "unit": (403, 403)},
                                setup=photos_in_both, raw=(PHOTO[:1000], {"Upload-Offset": "0",
                                                                         "Content-Type": OFFSET_TYPE})),
    "photos.get_photo": Case("GET", photo_url("ready", ""), expect(STAFF, 200, other_status=404),
                             setup=photos_in_both),
    "photos.get_image": Case("GET", photo_url("ready", "/thumb"), expect(STAFF, 200, other_status=404),
                             setup=photos_in_both),
    "config.get_limits": Case("GET", same("/api/v1/config/limits"), expect(ALL, 200)),
    # a batch always answers 200: a mutation on someone else's inspection is rejected inside (404)
    "sync.sync": Case("POST", same("/api/v1/sync"), expect(STAFF, 200), body=sync_body),
    "sync.changes": Case("GET", same("/api/v1/sync/changes"), expect(STAFF, 200)),
}


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
