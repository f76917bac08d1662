"""Inspections: list (the caller's), create, read, assign sections."""

from __future__ import annotations

import uuid

from flask_smorest import Blueprint

from .. import access
from ..extensions import db
from ..models import Inspection, Team
from ..schemas.inspections import (
    AssignmentsPutSchema,
    InspectionCreateSchema,
    InspectionListArgsSchema,
    InspectionListSchema,
    InspectionSchema,
)
from ..services import inspections as service
from ..services.pages import page_of
from .views import inspection_view

URL_PREFIX = "/inspections"
blp = Blueprint("inspections", __name__, description="Cuộc kiểm tra / inspections")


@blp.get("")
@access.signed_in(roles=access.STAFF)
@blp.arguments(InspectionListArgsSchema, location="query")
@blp.response(200, InspectionListSchema)
def list_inspections(args):
    """Các cuộc kiểm tra của Đoàn mà người dùng tham gia (quản trị viên: của tỉnh)."""
    query = service.visible_query(access.me(), status=args.get("status"), team_id=args.get("team_id"))
    rows, pagination = page_of(query, args["page"], args["page_size"])
    return {"data": [inspection_view(i) for i in rows], "pagination": pagination}


@blp.post("")
@access.signed_in(roles=access.STAFF)  # which staff: the team's lead or deputy, or an admin (checked below)
@blp.arguments(InspectionCreateSchema)
@blp.response(201, InspectionSchema)
@blp.alt_response(404, response="NOT_FOUND")
def create_inspection(body):
    """Lập cuộc kiểm tra tại một đơn vị (và các đơn vị con) trên một phiên bản danh mục."""
    actor = access.me()
    team = access.require_team(actor, db.session.get(Team, body["team_id"]))
    if not access.can_manage_team_work(actor, team):
        raise access.Forbidden("Chỉ quản trị viên, Trưởng đoàn hoặc Phó Trưởng đoàn được lập cuộc kiểm tra.")
    inspection = service.create_inspection(body, team=team, actor=actor)
    db.session.commit()
    return inspection_view(inspection)


@blp.get("/<uuid:inspection_id>")
@access.signed_in(roles=access.STAFF)
@blp.response(200, InspectionSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_inspection(inspection_id: uuid.UUID):
    """Một cuộc kiểm tra với phân công các phần."""
    return inspection_view(access.require_inspection(access.me(), db.session.get(Inspection, inspection_id)))


@blp.put("/<uuid:inspection_id>/assignments")
@access.signed_in(roles=access.STAFF)
@blp.arguments(AssignmentsPutSchema)
@blp.response(200, InspectionSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def put_assignments(body, inspection_id: uuid.UUID):
    """Phân công các phần của danh mục cho thành viên Đoàn (thay toàn bộ phân công)."""
    actor = access.me()
    inspection = access.require_inspection(actor, db.session.get(Inspection, inspection_id), manage=True)
    service.set_assignments(inspection, body["assignments"], actor=actor)
    db.session.commit()
    return inspection_view(inspection)
