"""Published checklist versions (immutable) and per-province threshold overrides."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .common import JSONType, UTCDateTime, utcnow, uuid_pk


class ChecklistVersion(db.Model):
    __tablename__ = "checklist_versions"
    __table_args__ = (sa.UniqueConstraint("key", "version"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    key: Mapped[str] = mapped_column(sa.String(64))
    version: Mapped[int]
    title: Mapped[str] = mapped_column(sa.String(500))
    regime_valid_from: Mapped[date | None]
    regime_valid_to: Mapped[date | None]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    # Deferred: a definition is ~200 kB of JSON, parsed once per process (see `definition`), not per request.
    stored_definition: Mapped[dict] = mapped_column("definition", JSONType, deferred=True)
    source_file: Mapped[str] = mapped_column(sa.String(255))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def definition(self) -> dict:
        """The normalized definition, from a per-process cache: published versions never change (treat the
        returned dict as read-only; it is shared)."""
        if self.id is None:
            return self.stored_definition
        key = (self.id, self.sha256)
        found = _PARSED_DEFINITIONS.get(key)
        if found is None:
            found = _PARSED_DEFINITIONS[key] = self.stored_definition
        return found

    @definition.setter
    def definition(self, value: dict) -> None:
        self.stored_definition = value


_PARSED_DEFINITIONS: dict[tuple, dict] = {}


@event.listens_for(ChecklistVersion, "before_update")
def _refuse_update(_mapper, _connection, target):
    raise ValueError(f"checklist {target.key} v{target.version} is published and immutable")


class ThresholdOverride(db.Model):
    """A province's own threshold for one item, without copying the checklist."""

    __tablename__ = "threshold_overrides"
    __table_args__ = (sa.UniqueConstraint("province_code", "checklist_key", "item_code", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    province_code: Mapped[str] = mapped_column(sa.String(64))
    checklist_key: Mapped[str] = mapped_column(sa.String(64))
    item_code: Mapped[str] = mapped_column(sa.String(16))
    op: Mapped[str | None] = mapped_column(sa.String(16))
    value: Mapped[object] = mapped_column(JSONType)
    year: Mapped[int]
    source: Mapped[str] = mapped_column(sa.String(500))
    source_file: Mapped[str] = mapped_column(sa.String(255))
