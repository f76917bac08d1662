"""Inspections (cuộc kiểm tra tại đơn vị), their sub-units, section assignments and answers."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .checklists import ChecklistVersion
from .common import JSONType, UTCDateTime, created_at, str_enum, updated_at, uuid_pk
from .teams import Plan, Team
from .units import Unit

INSPECTION_STATUSES = ("planned", "in_progress", "submitted", "returned", "approved", "minutes_issued", "closed")
SECTION_STATUSES = ("open", "submitted", "returned", "approved")

inspection_units = sa.Table(
    "inspection_units",
    db.metadata,
    sa.Column("inspection_id", sa.ForeignKey("inspections.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("unit_id", sa.ForeignKey("units.id"), primary_key=True),
)


class Inspection(db.Model):
    __tablename__ = "inspections"

    id: Mapped[uuid.UUID] = uuid_pk()
    plan_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("plans.id"), index=True)
    team_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("teams.id"), index=True)
    host_unit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("units.id"), index=True)
    checklist_version_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("checklist_versions.id"))
    scheduled_on: Mapped[date]
    ended_on: Mapped[date | None]
    location: Mapped[str | None] = mapped_column(sa.String(500))
    status: Mapped[str] = mapped_column(str_enum("inspection_status", *INSPECTION_STATUSES), default="planned")
    version: Mapped[int] = mapped_column(default=1)
    created_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    plan: Mapped[Plan | None] = relationship()
    team: Mapped[Team] = relationship()
    host_unit: Mapped[Unit] = relationship(foreign_keys=[host_unit_id])
    sub_units: Mapped[list[Unit]] = relationship(secondary=inspection_units)
    checklist_version: Mapped[ChecklistVersion] = relationship()
    assignments: Mapped[list[SectionAssignment]] = relationship(
        back_populates="inspection", cascade="all, delete-orphan"
    )


class SectionAssignment(db.Model):
    """One checklist section given to one member; its status drives submit / return / approve."""

    __tablename__ = "section_assignments"
    __table_args__ = (sa.UniqueConstraint("inspection_id", "section_code"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    inspection_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("inspections.id", ondelete="CASCADE"))
    section_code: Mapped[str] = mapped_column(sa.String(4))
    assignee_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(str_enum("section_status", *SECTION_STATUSES), default="open")
    review_comment: Mapped[str | None] = mapped_column(sa.Text)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    inspection: Mapped[Inspection] = relationship(back_populates="assignments")


class Answer(db.Model):
    """One answer per (inspection, item, unit); unit_id is the host unit unless a sub-unit is named."""

    __tablename__ = "answers"
    __table_args__ = (
        sa.UniqueConstraint("inspection_id", "item_code", "unit_id"),
        sa.CheckConstraint("period_to IS NULL OR period_from IS NULL OR period_to >= period_from", name="period"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    inspection_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("inspections.id", ondelete="CASCADE"))
    item_code: Mapped[str] = mapped_column(sa.String(16))
    unit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("units.id"), index=True)
    value: Mapped[object | None] = mapped_column(JSONType)  # None once cleared
    note: Mapped[str | None] = mapped_column(sa.Text)
    period_from: Mapped[date | None]
    period_to: Mapped[date | None]
    source: Mapped[str | None] = mapped_column(sa.String(64))
    version: Mapped[int] = mapped_column(default=1)
    author_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    client_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    revisions: Mapped[list[AnswerRevision]] = relationship(
        back_populates="answer", order_by="AnswerRevision.version", cascade="all, delete-orphan"
    )


class AnswerRevision(db.Model):
    """Every version an answer ever had (append-only)."""

    __tablename__ = "answer_revisions"
    __table_args__ = (sa.UniqueConstraint("answer_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("answers.id", ondelete="CASCADE"))
    version: Mapped[int]
    value: Mapped[object | None] = mapped_column(JSONType)
    note: Mapped[str | None] = mapped_column(sa.Text)
    period_from: Mapped[date | None]
    period_to: Mapped[date | None]
    source: Mapped[str | None] = mapped_column(sa.String(64))
    author_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    client_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mutation_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    created_at: Mapped[datetime] = created_at()

    answer: Mapped[Answer] = relationship(back_populates="revisions")
