"""Inspection plans (Kế hoạch kiểm tra)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from .. import access
from ..extensions import db
from ..models import Plan, Team
from ..schemas.teams import ListArgsSchema, PlanCreateSchema, PlanListSchema, PlanSchema, PlanUpdateSchema
from ..services import teams as service
from ..services.pages import page_of
from .blueprint import Blueprint
from .views import plan_view

URL_PREFIX = "/plans"
blp = Blueprint("plans", __name__, description="Kế hoạch kiểm tra / inspection plans")
ADMIN = {"admin"}


@blp.get("")
@access.signed_in(roles=access.STAFF)
@blp.arguments(ListArgsSchema, location="query")
@blp.response(200, PlanListSchema)
def list_plans(args):
    """Kế hoạch của tỉnh (quản trị viên) hoặc của các Đoàn mà người dùng tham gia."""
    user = access.me()
    mine = Plan.id.in_(sa.select(Team.plan_id).where(Team.id.in_(access.user_team_ids(user))))
    query = access.scoped(sa.select(Plan).order_by(Plan.issued_on.desc(), Plan.id), user,
                          province_column=Plan.province_id, membership=mine)
    rows, pagination = page_of(query, args["page"], args["page_size"])
    return {"data": [plan_view(p) for p in rows], "pagination": pagination}


@blp.post("")
@access.signed_in(roles=ADMIN)
@blp.arguments(PlanCreateSchema)
@blp.response(201, PlanSchema)
def create_plan(body):
    """Tạo kế hoạch kiểm tra (quản trị viên)."""
    actor = access.me()
    access.require_admin_of(actor, body.get("province_id") or actor.province_id)
    plan = service.create_plan(body, actor=actor)
    db.session.commit()
    return plan_view(plan)


@blp.get("/<uuid:plan_id>")
@access.signed_in(roles=access.STAFF)
@blp.response(200, PlanSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_plan(plan_id: uuid.UUID):
    """Một kế hoạch kiểm tra."""
    return plan_view(access.require_plan(access.me(), db.session.get(Plan, plan_id)))


@blp.patch("/<uuid:plan_id>")
@access.signed_in(roles=ADMIN)
@blp.arguments(PlanUpdateSchema)
@blp.response(200, PlanSchema)
@blp.alt_response(404, response="NOT_FOUND")
def update_plan(body, plan_id: uuid.UUID):
    """Sửa kế hoạch kiểm tra (quản trị viên)."""
    actor = access.me()
    plan = access.require_plan(actor, db.session.get(Plan, plan_id))
    access.require_admin_of(actor, plan.province_id)
    service.update_plan(plan, body, actor=actor)
    db.session.commit()
    return plan_view(plan)
