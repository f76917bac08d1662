"""The change log behind the sync change feed: one row per entity change, in commit order."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .common import created_at

ENTITY_TYPES = ("answer", "finding", "section", "inspection", "photo", "recommendation")


class ChangeLogEntry(db.Model):
    """`seq` orders changes as they became visible: rows are written at the end of their transaction
    under a lock held until commit (services/changes.py), so a reader that has seen seq N has seen
    everything below N that will ever exist."""

    __tablename__ = "change_log"
    __table_args__ = (sa.Index("ix_change_log_inspection_seq", "inspection_id", "seq"),)

    seq: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    inspection_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("inspections.id", ondelete="CASCADE"))
    entity_type: Mapped[str] = mapped_column(sa.String(32))
    entity_id: Mapped[str] = mapped_column(sa.String(64))
    deleted: Mapped[bool] = mapped_column(default=False)
    changed_at: Mapped[datetime] = created_at()
