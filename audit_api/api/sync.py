"""Offline sync: a batch of mutations in, the change feed out."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from .. import access
from ..errors import problem_response
from ..extensions import db
from ..models import ChangeLogEntry
from ..schemas.sync import ChangesArgsSchema, ChangesSchema, SyncRequestSchema, SyncResponseSchema
from ..services import inspections as inspection_service
from ..services import sync as service
from ..services.changes import commit, current_cursor
from .blueprint import Blueprint
from .bundles import feed_page

URL_PREFIX = "/sync"
blp = Blueprint("sync", __name__, description="Đồng bộ ngoại tuyến / offline sync")


@blp.post("")
@access.signed_in(roles=access.STAFF)
@blp.arguments(SyncRequestSchema)
@blp.response(200, SyncResponseSchema)
@blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
def sync(body):
    """Áp dụng một lô thay đổi từ máy tính bảng; mỗi thay đổi: applied, duplicate, conflict hoặc rejected."""
    limit = current_app.config["SYNC_BATCH_MAX"]
    if len(body["mutations"]) > limit:
        return problem_response(413, detail=f"Một lô đồng bộ tối đa {limit} thay đổi; lô này có "
                                            f"{len(body['mutations'])}. Hãy chia nhỏ lô (batch too large).")
    results = service.apply_batch(user=access.me(), device_id=body["device_id"], mutations=body["mutations"])
    cursor = commit()
    # The results are plain JSON already (documented by SyncResponseSchema); dumping 500 of them through
    # marshmallow again would cost more than writing them.
    return current_app.response_class(current_app.json.dumps({"results": results, "cursor": str(cursor)}),
                                      mimetype="application/json")


@blp.get("/changes")
@access.signed_in(roles=access.STAFF)
@blp.arguments(ChangesArgsSchema, location="query")
@blp.response(200, ChangesSchema)
def changes(args):
    """Các thay đổi người dùng được xem kể từ cursor (câu trả lời, hạn chế, trạng thái, ý kiến xem xét)."""
    cursor, limit = int(args["cursor"]), args["limit"]
    visible = inspection_service.visible_query(access.me()).with_only_columns(sa.literal_column("inspections.id"))
    rows = list(db.session.scalars(
        sa.select(ChangeLogEntry).where(ChangeLogEntry.seq > cursor, ChangeLogEntry.inspection_id.in_(visible))
        .order_by(ChangeLogEntry.seq).limit(limit + 1)
    ))
    has_more = len(rows) > limit
    rows = rows[:limit]
    # With nothing new to show, jump to the newest committed change: rows are written in commit order, so
    # nothing at or below it can still appear.
    next_cursor = rows[-1].seq if rows else max(cursor, current_cursor())
    return {"changes": feed_page(rows), "cursor": str(next_cursor), "has_more": has_more}
