"""Documents (Biên bản, Thông báo kết luận) and the number series they take official numbers from."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .common import JSONType, UTCDateTime, created_at, str_enum, updated_at, uuid_pk

DOCUMENT_KINDS = ("minutes", "conclusion")
DOCUMENT_STATUSES = ("draft", "issued")

document_units = sa.Table(
    "document_units",
    db.metadata,
    sa.Column("document_id", sa.ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("unit_id", sa.ForeignKey("units.id"), primary_key=True),
)


class NumberSeries(db.Model):
    """Sổ cấp số: one per issuer and year (an inspection team has its own, per Nghị định 30/2020)."""

    __tablename__ = "number_series"
    __table_args__ = (sa.UniqueConstraint("issuer_key", "year"), sa.CheckConstraint("next_number >= 1", name="next"))

    id: Mapped[uuid.UUID] = uuid_pk()
    issuer_key: Mapped[str] = mapped_column(sa.String(64))
    issuer_name: Mapped[str] = mapped_column(sa.String(255))
    year: Mapped[int]
    next_number: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = updated_at()


class Document(db.Model):
    __tablename__ = "documents"
    __table_args__ = (
        sa.UniqueConstraint("series_id", "number"),
        sa.CheckConstraint("status = 'draft' OR (number IS NOT NULL AND pdf_sha256 IS NOT NULL)", name="issued"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    kind: Mapped[str] = mapped_column(str_enum("document_kind", *DOCUMENT_KINDS))
    status: Mapped[str] = mapped_column(str_enum("document_status", *DOCUMENT_STATUSES), default="draft")
    inspection_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("inspections.id"), index=True)
    plan_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("plans.id"), index=True)
    series_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("number_series.id"))
    number: Mapped[int | None]
    symbol: Mapped[str | None] = mapped_column(sa.String(64))  # e.g. BB-ĐKT
    provisional_number: Mapped[str | None] = mapped_column(sa.String(64))
    place_name: Mapped[str | None] = mapped_column(sa.String(255))
    issued_on: Mapped[date | None]
    signer_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    signer_name: Mapped[str | None] = mapped_column(sa.String(255))
    signer_title: Mapped[str | None] = mapped_column(sa.String(255))
    snapshot: Mapped[object] = mapped_column(JSONType, default=dict)  # the data the document shows
    content: Mapped[object] = mapped_column(JSONType, default=dict)  # section-by-section edits
    # what was printed, frozen at issue: later renders (DOCX) of an issued document print exactly this
    issued_view: Mapped[object | None] = mapped_column(JSONType)
    template_version: Mapped[str | None] = mapped_column(sa.String(32))
    pdf_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    pdf_key: Mapped[str | None] = mapped_column(sa.String(255))
    corrects_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("documents.id"))
    version: Mapped[int] = mapped_column(default=1)
    created_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
