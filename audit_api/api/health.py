"""Liveness and database reachability, for load balancers and deploy checks."""

from __future__ import annotations

import sqlalchemy as sa

from .. import access
from ..extensions import db
from ..schemas.common import HealthSchema
from .blueprint import Blueprint

URL_PREFIX = "/health"
blp = Blueprint("health", __name__, description="Tình trạng dịch vụ / service health")


@blp.get("")
@access.public
@blp.response(200, HealthSchema)
@blp.alt_response(503, response="SERVICE_UNAVAILABLE")
def health():
    """Kiểm tra dịch vụ và kết nối cơ sở dữ liệu."""
    db.session.execute(sa.text("SELECT 1"))
    return {"status": "ok", "database": db.engine.dialect.name}
