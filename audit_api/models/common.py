"""Column types and helpers shared by the models."""

from __future__ import annotations

import functools
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# JSONB on PostgreSQL (indexable, compact), JSON text on SQLite.
JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores no offset, so we add it back)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect):
        """One processing layer instead of two on SQLite: a batch binds thousands of timestamps, and this
        writes the very text SQLAlchemy's SQLite DATETIME would (so reads and comparisons are unchanged)."""
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        # A batch stamps hundreds of rows with the same few instants: format each instant once.
        @functools.lru_cache(maxsize=256)
        def text_of(value: datetime) -> str:
            if value.tzinfo is None:
                raise ValueError("naive datetime given; use timezone-aware UTC datetimes")
            if value.utcoffset():
                value = value.astimezone(UTC)
            return f"{value:%Y-%m-%d %H:%M:%S.%f}"

        def process(value):
            return None if value is None else text_of(value)

        return process

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def str_enum(name: str, *values: str) -> sa.Enum:
    """A VARCHAR with a named CHECK constraint: portable, and new values need only a migration."""
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)


def created_at() -> Mapped[datetime]:
    return mapped_column(UTCDateTime, default=utcnow, nullable=False)


def updated_at() -> Mapped[datetime]:
    return mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)
