"""The log of sync mutations: the database-enforced identity that makes retries idempotent."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .common import JSONType, UTCDateTime, created_at, str_enum

MUTATION_OUTCOMES = ("applied", "conflict", "rejected")


class SyncMutation(db.Model):
    """One client mutation, keyed by its client UUID. A retry finds this row and gets `result` back.

    Rejected payloads stay here with the problem, so nothing a user typed is lost.
    """

    __tablename__ = "sync_mutations"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)  # client-generated, never regenerated
    device_id: Mapped[str] = mapped_column(sa.String(128))
    user_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    inspection_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("inspections.id"), index=True)
    type: Mapped[str] = mapped_column(sa.String(32))
    base_version: Mapped[int | None]
    payload: Mapped[object] = mapped_column(JSONType)
    client_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(str_enum("mutation_outcome", *MUTATION_OUTCOMES))
    result: Mapped[object] = mapped_column(JSONType)
    problem: Mapped[object | None] = mapped_column(JSONType)
    received_at: Mapped[datetime] = created_at()
