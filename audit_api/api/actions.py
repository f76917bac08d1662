"""Corrective actions: the unit's list, its answers with evidence, and the team's verification."""

from __future__ import annotations

import uuid

from .. import access
from ..extensions import db
from ..models import CorrectiveAction
from ..schemas.documents import (
    ActionListArgsSchema,
    ActionListSchema,
    ActionResponseCreateSchema,
    ActionReviewCreateSchema,
    ActionSchema,
)
from ..services import actions as service
from ..services.pages import page_of
from .blueprint import Blueprint
from .views import action_view, action_views

URL_PREFIX = "/actions"
blp = Blueprint("actions", __name__, description="Việc khắc phục sau kiểm tra / corrective actions")


def _action(action_id: uuid.UUID) -> CorrectiveAction:
    return service.require_action(access.me(), db.session.get(CorrectiveAction, action_id))


@blp.get("")
@access.signed_in()
@blp.arguments(ActionListArgsSchema, location="query")
@blp.response(200, ActionListSchema)
def list_actions(args):
    """Việc khắc phục người dùng được xem (đơn vị: của mình), lọc theo đơn vị, trạng thái, quá hạn."""
    query = service.visible_query(access.me(), unit_id=args.get("unit_id"), status=args.get("status"),
                                  overdue=args.get("overdue"))
    rows, pagination = page_of(query, args["page"], args["page_size"])
    return {"data": action_views(rows), "pagination": pagination}


@blp.get("/<uuid:action_id>")
@access.signed_in()
@blp.response(200, ActionSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_action(action_id: uuid.UUID):
    """Một việc khắc phục với các trả lời của đơn vị và ý kiến xem xét của Đoàn."""
    return action_view(_action(action_id))


@blp.post("/<uuid:action_id>/responses")
@access.signed_in(roles={"unit"})
@blp.arguments(ActionResponseCreateSchema)
@blp.response(201, ActionSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def respond(body, action_id: uuid.UUID):
    """Đơn vị báo cáo kết quả khắc phục (kèm minh chứng) hoặc báo không thể khắc phục (ghi lý do)."""
    action = _action(action_id)
    service.respond(access.me(), action, kind=body["kind"], text=body["text"], file_ids=body["file_ids"])
    db.session.commit()
    return action_view(action)


@blp.post("/<uuid:action_id>/review")
@access.signed_in(roles=access.STAFF)
@blp.arguments(ActionReviewCreateSchema)
@blp.response(201, ActionSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def review(body, action_id: uuid.UUID):
    """Đoàn chấp nhận (đóng) hoặc trả lại (mở lại, kèm ý kiến) kết quả khắc phục."""
    action = _action(action_id)
    service.review(access.me(), action, decision=body["decision"], comment=body["comment"])
    db.session.commit()
    return action_view(action)
