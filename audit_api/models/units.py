"""Units (đơn vị): a configurable, effective-dated tree with succession links for merges and splits."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .common import created_at, str_enum, updated_at, uuid_pk

SUCCESSION_KINDS = ("merge", "split", "rename", "dissolve", "transfer_function")


class UnitType(db.Model):
    """Loại đơn vị — data, loaded from checklists/shared/unit-types.yaml."""

    __tablename__ = "unit_types"

    code: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    label: Mapped[str] = mapped_column(sa.String(255))
    level: Mapped[str] = mapped_column(sa.String(32))
    is_legacy: Mapped[bool] = mapped_column(default=False)


class Unit(db.Model):
    __tablename__ = "units"
    __table_args__ = (
        sa.CheckConstraint("valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from", name="valid_range"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)  # stable key used in configuration
    name: Mapped[str] = mapped_column(sa.String(255))
    short_name: Mapped[str | None] = mapped_column(sa.String(255))
    abbrev: Mapped[str | None] = mapped_column(sa.String(32))  # ký hiệu in document symbols
    unit_type: Mapped[str] = mapped_column(sa.ForeignKey("unit_types.code"), index=True)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("units.id"), index=True)
    admin_code: Mapped[str | None] = mapped_column(sa.String(32))  # mã ĐVHC
    code_system: Mapped[str | None] = mapped_column(sa.String(32))  # e.g. QD19-2025, pre-2025
    place_name: Mapped[str | None] = mapped_column(sa.String(255))  # địa danh printed in documents
    valid_from: Mapped[date | None]
    valid_to: Mapped[date | None]
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    parent: Mapped[Unit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Unit]] = relationship(back_populates="parent")
    names: Mapped[list[UnitName]] = relationship(
        back_populates="unit", order_by="UnitName.valid_from", cascade="all, delete-orphan"
    )

    def is_valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day <= self.valid_to)

    def name_on(self, day: date) -> str:
        """The name the unit bore on a given day (documents print names as they were when signed)."""
        for entry in self.names:
            started = entry.valid_from is None or entry.valid_from <= day
            if started and (entry.valid_to is None or day <= entry.valid_to):
                return entry.name
        return self.name


class UnitName(db.Model):
    """Earlier names of a unit that was renamed without becoming a new unit."""

    __tablename__ = "unit_names"
    __table_args__ = (sa.UniqueConstraint("unit_id", "valid_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("units.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    valid_from: Mapped[date | None]
    valid_to: Mapped[date | None]

    unit: Mapped[Unit] = relationship(back_populates="names")


class UnitSuccession(db.Model):
    """from_unit became (part of) to_unit on effective_date; to_unit is empty when a unit is dissolved."""

    __tablename__ = "unit_successions"
    __table_args__ = (sa.UniqueConstraint("from_unit_id", "to_unit_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    from_unit_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("units.id"), index=True)
    to_unit_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("units.id"), index=True)
    kind: Mapped[str] = mapped_column(str_enum("succession_kind", *SUCCESSION_KINDS))
    effective_date: Mapped[date]
    legal_basis: Mapped[str | None] = mapped_column(sa.String(500))

    from_unit: Mapped[Unit] = relationship(foreign_keys=[from_unit_id])
    to_unit: Mapped[Unit | None] = relationship(foreign_keys=[to_unit_id])
