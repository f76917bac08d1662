"""Users and their roles."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .common import UTCDateTime, created_at, str_enum, updated_at, utcnow, uuid_pk
from .units import Unit

ROLES = ("admin", "lead", "secretary", "inspector", "unit")


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = uuid_pk()
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(255))
    title: Mapped[str | None] = mapped_column(sa.String(255))  # chức vụ
    organization: Mapped[str | None] = mapped_column(sa.String(255))  # cơ quan công tác
    email: Mapped[str | None] = mapped_column(sa.String(255))
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    unit_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("units.id"), index=True)  # unit users
    province_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("units.id"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    unit: Mapped[Unit | None] = relationship(foreign_keys=[unit_id])
    province: Mapped[Unit | None] = relationship(foreign_keys=[province_id])
    role_rows: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", back_populates="user")

    @property
    def roles(self) -> set[str]:
        return {row.role for row in self.role_rows}


class UserRole(db.Model):
    __tablename__ = "user_roles"

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(str_enum("role", *ROLES), primary_key=True)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="role_rows")
