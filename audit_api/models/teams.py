"""Inspection plans (Kế hoạch kiểm tra) and teams (Đoàn kiểm tra) with their members."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .common import created_at, str_enum, updated_at, uuid_pk
from .units import Unit
from .users import User

TEAM_ROLES = ("lead", "deputy", "secretary", "member")

plan_units = sa.Table(
    "plan_units",
    db.metadata,
    sa.Column("plan_id", sa.ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("unit_id", sa.ForeignKey("units.id"), primary_key=True),
)


class Plan(db.Model):
    __tablename__ = "plans"
    __table_args__ = (
        sa.CheckConstraint("period_to IS NULL OR period_from IS NULL OR period_to >= period_from", name="period"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    province_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("units.id"), index=True)
    number: Mapped[str] = mapped_column(sa.String(64))  # e.g. 55/KH-UBND
    title: Mapped[str] = mapped_column(sa.String(500))
    issuer: Mapped[str] = mapped_column(sa.String(255))
    issued_on: Mapped[date]
    year: Mapped[int]
    period_from: Mapped[date | None]
    period_to: Mapped[date | None]
    created_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    province: Mapped[Unit] = relationship(foreign_keys=[province_id])
    units: Mapped[list[Unit]] = relationship(secondary=plan_units)


class Team(db.Model):
    __tablename__ = "teams"

    id: Mapped[uuid.UUID] = uuid_pk()
    province_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("units.id"), index=True)
    plan_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("plans.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    decision_number: Mapped[str] = mapped_column(sa.String(64))  # Quyết định thành lập Đoàn
    decision_date: Mapped[date]
    decision_issuer: Mapped[str] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    plan: Mapped[Plan | None] = relationship()
    members: Mapped[list[TeamMember]] = relationship(back_populates="team", cascade="all, delete-orphan")


class TeamMember(db.Model):
    __tablename__ = "team_members"
    __table_args__ = (sa.UniqueConstraint("team_id", "user_id"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    team_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"), index=True)
    team_role: Mapped[str] = mapped_column(str_enum("team_role", *TEAM_ROLES))
    position: Mapped[str | None] = mapped_column(sa.String(500))  # chức vụ, cơ quan as printed in minutes
    created_at: Mapped[datetime] = created_at()

    team: Mapped[Team] = relationship(back_populates="members")
    user: Mapped[User] = relationship()
