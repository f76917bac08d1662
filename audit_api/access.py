"""One access policy for every route.

Each view declares its route-level policy with @public, @refresh_token or @signed_in(roles=...); a
before_request hook enforces it, and a route without a declaration answers 500 instead of running
(tests walk the URL map so that never ships). Object-level rules — which team, unit or province an object
belongs to — live in the functions below, called by the services and routes that load objects: an object
the caller may not see is a 404 (its existence is not revealed), one they may see but not change is a 403.
"""

from __future__ import annotations

import uuid
from copy import deepcopy
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask, current_app, g, request
from flask_jwt_extended import current_user, verify_jwt_in_request

from .errors import Forbidden, NotFound
from .extensions import db
from .models import Inspection, Plan, Team, TeamMember, User

STAFF = frozenset({"admin", "lead", "secretary", "inspector"})
EVERYONE = frozenset({"admin", "lead", "secretary", "inspector", "unit"})
POLICY_ATTR = "_access_policy"
BEARER_SCHEME = "bearerAuth"
# flask-smorest's documentation views and Flask's static files are public by construction.
PUBLIC_ENDPOINTS = {"static", "api-docs.openapi_json", "api-docs.openapi_swagger_ui", "swagger_ui_assets"}


@dataclass(frozen=True)
class Policy:
    credential: str  # what the request must present: "none", "access" token or "refresh" token
    roles: frozenset[str] = EVERYONE


def _declare(policy: Policy):
    def decorator(view):
        setattr(view, POLICY_ATTR, policy)
        if policy.credential != "none":
            _document(view, policy)
        return view

    return decorator


def _document(view, policy: Policy) -> None:
    """Put the policy in the OpenAPI document: bearer security, and the 401 (and 403) it can answer."""
    doc = deepcopy(getattr(view, "_apidoc", {}))
    doc["manual_doc"] = {**doc.get("manual_doc", {}), "security": [{BEARER_SCHEME: []}]}
    responses = doc.setdefault("response", {}).setdefault("responses", {})
    statuses = {401: "UNAUTHORIZED"} | ({403: "FORBIDDEN"} if policy.roles != EVERYONE else {})
    for status, name in statuses.items():
        if name not in responses.setdefault(status, []):
            responses[status].append(name)
    view._apidoc = doc


public = _declare(Policy(credential="none"))
refresh_token = _declare(Policy(credential="refresh"))


def signed_in(*, roles: frozenset[str] | set[str] = EVERYONE):
    """Route-level rule: a valid access token whose user holds one of `roles`."""
    return _declare(Policy(credential="access", roles=frozenset(roles)))


def policy_of(app: Flask, endpoint: str) -> Policy | None:
    if endpoint in PUBLIC_ENDPOINTS:
        return Policy(credential="none")
    return getattr(app.view_functions.get(endpoint), POLICY_ATTR, None)


def enforce_route_policy() -> None:
    """before_request: authenticate and check roles as the route declared."""
    if request.endpoint is None:  # no route matched: the 404/405 handlers answer
        return
    policy = policy_of(current_app, request.endpoint)
    if policy is None:
        raise RuntimeError(f"route {request.endpoint} declares no access policy")
    if policy.credential == "none":
        return
    verify_jwt_in_request(refresh=policy.credential == "refresh")
    if not (current_user.roles & policy.roles):
        raise Forbidden("Tài khoản không có quyền thực hiện thao tác này (forbidden).")


def register(app: Flask) -> None:
    app.before_request(enforce_route_policy)


def document_security(api) -> None:
    api.spec.components.security_scheme(BEARER_SCHEME, {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})


def me() -> User:
    """The signed-in user (routes behind @signed_in only)."""
    return current_user._get_current_object()


# --- object-level rules -------------------------------------------------------------------------------


def in_scope(user: User, province_id: uuid.UUID | None) -> bool:
    """Admins manage their province; an admin with no province manages every province."""
    return "admin" in user.roles and (user.province_id is None or user.province_id == province_id)


def is_unit_user(user: User) -> bool:
    """An inspected unit's account (holding no staff role): it sees its own unit's issued documents and
    corrective actions, nothing of the teams' work."""
    return "unit" in user.roles and not (user.roles & STAFF)


def team_role(user: User, team_id: uuid.UUID) -> str | None:
    cache = g.setdefault("team_roles", {})
    key = (user.id, team_id)
    if key not in cache:
        cache[key] = db.session.scalar(sa.select(TeamMember.team_role).filter_by(team_id=team_id, user_id=user.id))
    return cache[key]


def user_team_ids(user: User) -> sa.Select:
    return sa.select(TeamMember.team_id).filter_by(user_id=user.id)


def scoped(query: sa.Select, user: User, *, province_column, membership) -> sa.Select:
    """Limit a list to what the user may see: their teams' records (`membership`), plus the whole
    province for an admin, or everything for an admin with no province."""
    if "admin" in user.roles and user.province_id is None:
        return query
    if "admin" in user.roles:
        return query.where(sa.or_(membership, province_column == user.province_id))
    return query.where(membership)


def can_see_team(user: User, team: Team) -> bool:
    return in_scope(user, team.province_id) or team_role(user, team.id) is not None


def can_manage_team_work(user: User, team: Team) -> bool:
    """Create inspections for a team and assign its sections: admins, the team's lead and deputy."""
    return in_scope(user, team.province_id) or team_role(user, team.id) in ("lead", "deputy")


def require_team(user: User, team: Team | None) -> Team:
    if team is None or not can_see_team(user, team):
        raise NotFound("Không tìm thấy đoàn kiểm tra.")
    return team


def require_inspection(user: User, inspection: Inspection | None, *, manage: bool = False) -> Inspection:
    if inspection is None or not can_see_team(user, inspection.team):
        raise NotFound("Không tìm thấy cuộc kiểm tra.")
    if manage and not can_manage_team_work(user, inspection.team):
        raise Forbidden("Chỉ quản trị viên, Trưởng đoàn hoặc Phó Trưởng đoàn được thực hiện thao tác này.")
    return inspection


def can_see_plan(user: User, plan: Plan) -> bool:
    if in_scope(user, plan.province_id):
        return True
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Team).where(Team.plan_id == plan.id, Team.id.in_(user_team_ids(user)))
    ) > 0


def require_plan(user: User, plan: Plan | None) -> Plan:
    if plan is None or not can_see_plan(user, plan):
        raise NotFound("Không tìm thấy kế hoạch kiểm tra.")
    return plan


def require_user(user: User, target: User | None, *, manage: bool = False) -> User:
    """Admins see and manage users of their province; everyone sees themselves."""
    if target is None:
        raise NotFound("Không tìm thấy người dùng.")
    if in_scope(user, target.province_id):
        return target
    if target.id == user.id and not manage:
        return target
    raise NotFound("Không tìm thấy người dùng.")


def require_admin_of(user: User, province_id: uuid.UUID | None) -> None:
    if not in_scope(user, province_id):
        raise Forbidden("Chỉ quản trị viên của tỉnh được thực hiện thao tác này.")


OPEN_FOR_ANSWERS = ("planned", "in_progress", "returned")
SECTION_OPEN = ("open", "returned")


def require_section_write(user: User, inspection: Inspection, section_code: str) -> None:
    """May `user` write answers in this section now? Team lead, deputy and secretary write any section;
    a member writes the sections assigned to them, or any section nobody is assigned to. Nobody writes
    once the inspection or the section is submitted or approved."""
    require_inspection(user, inspection)
    role = team_role(user, inspection.team_id)
    if role is None:
        raise Forbidden("Chỉ thành viên Đoàn kiểm tra được nhập kết quả.")
    if inspection.status not in OPEN_FOR_ANSWERS:
        raise Forbidden("Cuộc kiểm tra đã nộp hoặc đã duyệt; không thể sửa kết quả.")
    assignment = next((a for a in inspection.assignments if a.section_code == section_code), None)
    if assignment is not None and assignment.status not in SECTION_OPEN:
        raise Forbidden(f"Phần {section_code} đã nộp hoặc đã duyệt; không thể sửa kết quả.")
    if role in ("lead", "deputy", "secretary") or assignment is None or assignment.assignee_id == user.id:
        return
    raise Forbidden(f"Phần {section_code} được phân công cho thành viên khác.")
