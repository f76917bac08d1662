"""Findings (hạn chế), strengths (kết quả đạt được) and recommendations (kiến nghị)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .common import created_at, str_enum, updated_at, uuid_pk

FINDING_KINDS = ("finding", "strength")
ORIGINS = ("rule", "manual")
SEVERITIES = ("minor", "major", "critical")
FINDING_STATUSES = ("draft", "kept", "edited", "dropped")

finding_answers = sa.Table(
    "finding_answers",
    db.metadata,
    sa.Column("finding_id", sa.ForeignKey("findings.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("answer_id", sa.ForeignKey("answers.id", ondelete="CASCADE"), primary_key=True),
)


class Finding(db.Model):
    __tablename__ = "findings"
    __table_args__ = (
        # A rule produces at most one finding per item, unit and kind; rule_key names that slot.
        sa.UniqueConstraint("inspection_id", "rule_key"),
        sa.CheckConstraint("status <> 'dropped' OR drop_reason IS NOT NULL", name="drop_needs_reason"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()  # client-generated for manual findings
    inspection_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("inspections.id", ondelete="CASCADE"))
    unit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("units.id"), index=True)
    kind: Mapped[str] = mapped_column(str_enum("finding_kind", *FINDING_KINDS), default="finding")
    origin: Mapped[str] = mapped_column(str_enum("finding_origin", *ORIGINS), default="manual")
    item_code: Mapped[str | None] = mapped_column(sa.String(16))
    section_code: Mapped[str | None] = mapped_column(sa.String(4))
    rule_key: Mapped[str | None] = mapped_column(sa.String(128))
    text: Mapped[str] = mapped_column(sa.Text)
    generated_text: Mapped[str | None] = mapped_column(sa.Text)  # what the rule wrote, kept after edits
    cause_subjective: Mapped[str | None] = mapped_column(sa.Text)
    cause_objective: Mapped[str | None] = mapped_column(sa.Text)
    severity: Mapped[str | None] = mapped_column(str_enum("severity", *SEVERITIES))
    status: Mapped[str] = mapped_column(str_enum("finding_status", *FINDING_STATUSES), default="draft")
    drop_reason: Mapped[str | None] = mapped_column(sa.Text)
    is_answer_changed_since_edit: Mapped[bool] = mapped_column(default=False)
    # the rule fired but a figure its wording needs is unanswered: "[chưa có số liệu]" stands in the text
    is_incomplete: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("findings.id"))
    sort_order: Mapped[int] = mapped_column(default=0)
    version: Mapped[int] = mapped_column(default=1)
    created_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    recommendations: Mapped[list[Recommendation]] = relationship(back_populates="finding")


class Recommendation(db.Model):
    __tablename__ = "recommendations"

    id: Mapped[uuid.UUID] = uuid_pk()
    inspection_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("inspections.id", ondelete="CASCADE"))
    finding_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("findings.id"), index=True)
    responsible_unit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("units.id"))
    origin: Mapped[str] = mapped_column(str_enum("recommendation_origin", *ORIGINS), default="manual")
    text: Mapped[str] = mapped_column(sa.Text)
    deadline: Mapped[date | None]
    report_form: Mapped[str | None] = mapped_column(sa.String(255))  # hình thức báo cáo
    sort_order: Mapped[int] = mapped_column(default=0)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    finding: Mapped[Finding | None] = relationship(back_populates="recommendations")
