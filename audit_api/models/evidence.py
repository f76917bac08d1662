"""Photos and evidence files (metadata; the bytes live in the media store, keyed by id)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .common import JSONType, UTCDateTime, created_at, str_enum, updated_at

PHOTO_STATUSES = ("uploading", "ready", "rejected")
EVIDENCE_KINDS = ("photo", "document")


class Photo(db.Model):
    """The stored bytes of a photo and what they are (what it is attached to lives in PhotoLink)."""

    __tablename__ = "photos"
    __table_args__ = (sa.CheckConstraint("size_bytes >= 0", name="size"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)  # client-generated
    inspection_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("inspections.id"), index=True)
    kind: Mapped[str] = mapped_column(str_enum("evidence_kind", *EVIDENCE_KINDS), default="photo")
    sha256: Mapped[str] = mapped_column(sa.String(64))
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger)
    content_type: Mapped[str] = mapped_column(sa.String(100))
    width: Mapped[int | None]
    height: Mapped[int | None]
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    gps_lat: Mapped[float | None]
    gps_lon: Mapped[float | None]
    camera_model: Mapped[str | None] = mapped_column(sa.String(255))
    # set for the evidence a unit attaches to its answer on a corrective action (photos or PDFs)
    action_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("corrective_actions.id"), index=True)
    status: Mapped[str] = mapped_column(str_enum("photo_status", *PHOTO_STATUSES), default="uploading")
    reject_reason: Mapped[str | None] = mapped_column(sa.Text)
    uploaded_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = created_at()
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


UPLOAD_STATUSES = ("uploading", "ready", "rejected")


class Upload(db.Model):
    """A declared upload (tus-style): what the client promised (size, SHA-256, type) and how far it got.

    The bytes are staged in the media store; the Photo row appears only once they are verified, processed
    and stored, so no row ever points at missing bytes. Where asking the store what is staged costs a
    request (S3), `staged_offset` and `staged_parts` (where each chunk object starts: storage.Staged) record
    it, written after each chunk is durable; the store still checks them, and the row catches up after a crash
    between the two. The local store answers with an fstat, so there they are only set when the photo is
    ready (services/uploads.py)."""

    __tablename__ = "uploads"
    __table_args__ = (sa.CheckConstraint("size_bytes > 0", name="size"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)  # the client's photo id
    inspection_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("inspections.id"), index=True)
    kind: Mapped[str] = mapped_column(str_enum("upload_kind", *EVIDENCE_KINDS), default="photo")
    sha256: Mapped[str] = mapped_column(sa.String(64))
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger)
    content_type: Mapped[str] = mapped_column(sa.String(100))
    item_code: Mapped[str | None] = mapped_column(sa.String(16))
    unit_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("units.id"))
    caption: Mapped[str | None] = mapped_column(sa.Text)
    action_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("corrective_actions.id"), index=True)
    status: Mapped[str] = mapped_column(str_enum("upload_status", *UPLOAD_STATUSES), default="uploading")
    reject_reason: Mapped[str | None] = mapped_column(sa.Text)
    staged_offset: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    staged_parts: Mapped[list[int]] = mapped_column(JSONType, default=list, server_default="[]")  # chunk starts
    created_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class PhotoLink(db.Model):
    """What a photo is attached to: item, unit, finding, caption. Keyed by the photo's client id and
    independent of the upload, so a tablet's photo.attach may arrive before, during or after the bytes."""

    __tablename__ = "photo_links"

    photo_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    inspection_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("inspections.id", ondelete="CASCADE"), index=True)
    item_code: Mapped[str | None] = mapped_column(sa.String(16))
    unit_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("units.id"))
    finding_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("findings.id", ondelete="SET NULL"))
    caption: Mapped[str | None] = mapped_column(sa.Text)
    version: Mapped[int] = mapped_column(default=1)
    updated_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    updated_at: Mapped[datetime] = updated_at()
