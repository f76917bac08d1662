"""Corrective actions: what an inspected unit must do after a document is issued."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .common import UTCDateTime, created_at, str_enum, updated_at, uuid_pk

ACTION_STATUSES = ("open", "responded", "accepted", "rejected", "cannot_fix")
RESPONSE_KINDS = ("response", "cannot_fix")
REVIEW_DECISIONS = ("accept", "reject")

action_response_files = sa.Table(
    "action_response_files",
    db.metadata,
    sa.Column("response_id", sa.ForeignKey("action_responses.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("photo_id", sa.ForeignKey("photos.id"), primary_key=True),
)


class CorrectiveAction(db.Model):
    __tablename__ = "corrective_actions"
    __table_args__ = (
        sa.CheckConstraint("status <> 'cannot_fix' OR cannot_fix_reason IS NOT NULL", name="cannot_fix_reason"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    recommendation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("recommendations.id"), unique=True)
    document_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("documents.id"), index=True)
    unit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("units.id"), index=True)
    text: Mapped[str] = mapped_column(sa.Text)
    deadline: Mapped[date | None]
    status: Mapped[str] = mapped_column(str_enum("action_status", *ACTION_STATUSES), default="open")
    cannot_fix_reason: Mapped[str | None] = mapped_column(sa.Text)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class ActionResponse(db.Model):
    __tablename__ = "action_responses"

    id: Mapped[uuid.UUID] = uuid_pk()
    action_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("corrective_actions.id"), index=True)
    author_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(str_enum("response_kind", *RESPONSE_KINDS), default="response")
    text: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = created_at()


class ActionReview(db.Model):
    __tablename__ = "action_reviews"

    id: Mapped[uuid.UUID] = uuid_pk()
    action_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("corrective_actions.id"), index=True)
    reviewer_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    decision: Mapped[str] = mapped_column(str_enum("review_decision", *REVIEW_DECISIONS))
    comment: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = created_at()
