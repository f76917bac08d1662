"""Inspections: list (the caller's), create, read, assign sections."""

from __future__ import annotations

import uuid

from flask import Response, current_app, request

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
from ..schemas.sync import BundleSchema, SectionReviewSchema
from ..services import inspections as service
from ..services import review
from ..services.changes import current_cursor
from ..services.pages import page_of
from .blueprint import Blueprint
from .bundles import bundle, bundle_etag
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


def _visible(inspection_id: uuid.UUID) -> Inspection:
    return access.require_inspection(access.me(), db.session.get(Inspection, inspection_id))


@blp.get("/<uuid:inspection_id>/bundle")
@access.signed_in(roles=access.STAFF)
@blp.response(200, BundleSchema, headers={"ETag": {"schema": {"type": "string"}}})
@blp.alt_response(304, response="NOT_MODIFIED")
@blp.alt_response(404, response="NOT_FOUND")
def get_bundle(inspection_id: uuid.UUID):
    """Tải về để làm việc ngoại tuyến: cuộc kiểm tra, đơn vị, phân công, câu trả lời, hạn chế, ảnh, kiến nghị
    còn mở của lần kiểm tra trước, và cursor của luồng thay đổi. ETag + 304."""
    cursor = current_cursor()  # read first: a change committed meanwhile is then re-sent, never missed
    content = bundle(_visible(inspection_id))
    etag = bundle_etag(content)
    if etag in request.if_none_match:
        response = Response(status=304)
    else:
        body = current_app.json.dumps({**content, "cursor": str(cursor)})
        response = Response(body, status=200, mimetype="application/json")
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@blp.post("/<uuid:inspection_id>/sections/<string:section_code>/review")
@access.signed_in(roles=access.STAFF)
@blp.arguments(SectionReviewSchema)
@blp.response(200, InspectionSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def review_section(body, inspection_id: uuid.UUID, section_code: str):
    """Trưởng đoàn/Thư ký trả lại phần đã nộp kèm ý kiến (mở lại cho người nhập) hoặc duyệt phần đó."""
    inspection = _visible(inspection_id)
    review.review_section(access.me(), inspection, section_code, decision=body["decision"], comment=body["comment"])
    db.session.commit()
    return inspection_view(inspection)


@blp.post("/<uuid:inspection_id>/approve")
@access.signed_in(roles=access.STAFF)
@blp.response(200, InspectionSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def approve(inspection_id: uuid.UUID):
    """Trưởng đoàn duyệt cuộc kiểm tra: từ đây chỉ đọc cho đến khi Trưởng đoàn mở lại."""
    inspection = _visible(inspection_id)
    review.approve_inspection(access.me(), inspection)
    db.session.commit()
    return inspection_view(inspection)


@blp.post("/<uuid:inspection_id>/reopen")
@access.signed_in(roles=access.STAFF)
@blp.response(200, InspectionSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def reopen(inspection_id: uuid.UUID):
    """Trưởng đoàn mở lại cuộc kiểm tra đã duyệt để sửa."""
    inspection = _visible(inspection_id)
    review.reopen_inspection(access.me(), inspection)
    db.session.commit()
    return inspection_view(inspection)
