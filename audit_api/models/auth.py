"""Refresh-token families: the server-side state that makes tokens revocable across workers."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .common import UTCDateTime, created_at, uuid_pk


class TokenFamily(db.Model):
    """Every token descended from one sign-in. Revoking the family revokes them all, access tokens too
    (each carries its family id), so a stolen refresh token stops working everywhere at once."""

    __tablename__ = "token_families"

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    device_id: Mapped[str | None] = mapped_column(sa.String(128))
    user_agent: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = created_at()
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(sa.String(64))


class RefreshToken(db.Model):
    """One issued refresh token; `used_at` is set when it is exchanged, and a second use is theft."""

    __tablename__ = "refresh_tokens"

    jti: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    family_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("token_families.id", ondelete="CASCADE"), index=True)
    issued_at: Mapped[datetime] = created_at()
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
