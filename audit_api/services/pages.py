"""One page of a query, with the pagination block lists answer."""

from __future__ import annotations

import sqlalchemy as sa

from ..extensions import db
from ..schemas.common import paginate


def page_of(query: sa.Select, page: int, page_size: int) -> tuple[list, dict]:
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
    rows = list(db.session.scalars(query.limit(page_size).offset((page - 1) * page_size)))
    return rows, paginate(total, page, page_size)
