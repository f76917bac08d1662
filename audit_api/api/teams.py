"""Teams (Đoàn kiểm tra) and their members."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from .. import access
from ..extensions import db
from ..models import Team, User
from ..schemas.teams import (
    ListArgsSchema,
    MemberPutSchema,
    TeamCreateSchema,
    TeamListSchema,
    TeamSchema,
    TeamUpdateSchema,
)
from ..services import teams as service
from ..services.pages import page_of
from .blueprint import Blueprint
from .views import team_view

URL_PREFIX = "/teams"
blp = Blueprint("teams", __name__, description="Đoàn kiểm tra / inspection teams")
ADMIN = {"admin"}


def _team(team_id: uuid.UUID) -> Team:
    return access.require_team(access.me(), db.session.get(Team, team_id))


@blp.get("")
@access.signed_in(roles=access.STAFF)
@blp.arguments(ListArgsSchema, location="query")
@blp.response(200, TeamListSchema)
def list_teams(args):
    """Các Đoàn mà người dùng là thành viên (quản trị viên: mọi Đoàn của tỉnh)."""
    user = access.me()
    query = access.scoped(sa.select(Team).order_by(Team.decision_date.desc(), Team.id), user,
                          province_column=Team.province_id, membership=Team.id.in_(access.user_team_ids(user)))
    rows, pagination = page_of(query, args["page"], args["page_size"])
    return {"data": [team_view(t) for t in rows], "pagination": pagination}


@blp.post("")
@access.signed_in(roles=ADMIN)
@blp.arguments(TeamCreateSchema)
@blp.response(201, TeamSchema)
def create_team(body):
    """Lập Đoàn kiểm tra theo quyết định thành lập (quản trị viên)."""
    actor = access.me()
    access.require_admin_of(actor, body.get("province_id") or actor.province_id)
    team = service.create_team(body, actor=actor)
    db.session.commit()
    return team_view(team)


@blp.get("/<uuid:team_id>")
@access.signed_in(roles=access.STAFF)
@blp.response(200, TeamSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_team(team_id: uuid.UUID):
    """Một Đoàn kiểm tra với thành viên."""
    return team_view(_team(team_id))


@blp.patch("/<uuid:team_id>")
@access.signed_in(roles=ADMIN)
@blp.arguments(TeamUpdateSchema)
@blp.response(200, TeamSchema)
@blp.alt_response(404, response="NOT_FOUND")
def update_team(body, team_id: uuid.UUID):
    """Sửa thông tin Đoàn (quản trị viên)."""
    actor = access.me()
    team = _team(team_id)
    access.require_admin_of(actor, team.province_id)
    service.update_team(team, body, actor=actor)
    db.session.commit()
    return team_view(team)


@blp.put("/<uuid:team_id>/members/<uuid:user_id>")
@access.signed_in(roles=ADMIN)
@blp.arguments(MemberPutSchema)
@blp.response(200, TeamSchema)
@blp.alt_response(404, response="NOT_FOUND")
def put_member(body, team_id: uuid.UUID, user_id: uuid.UUID):
    """Thêm thành viên hoặc đổi vai trò trong Đoàn (trưởng đoàn, phó, thư ký, thành viên)."""
    actor = access.me()
    team = _team(team_id)
    access.require_admin_of(actor, team.province_id)
    service.put_member(team, db.session.get(User, user_id), team_role=body["team_role"],
                       position=body.get("position"), actor=actor)
    db.session.commit()
    db.session.refresh(team)
    return team_view(team)


@blp.delete("/<uuid:team_id>/members/<uuid:user_id>")
@access.signed_in(roles=ADMIN)
@blp.response(204)
@blp.alt_response(404, response="NOT_FOUND")
def remove_member(team_id: uuid.UUID, user_id: uuid.UUID):
    """Rút thành viên khỏi Đoàn."""
    actor = access.me()
    team = _team(team_id)
    access.require_admin_of(actor, team.province_id)
    service.remove_member(team, user_id, actor=actor)
    db.session.commit()
