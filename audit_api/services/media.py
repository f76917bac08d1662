"""Sweeping the media store: interrupted uploads and orphaned objects, never anything a row refers to.

Bytes are stored before their Photo row (or an issued Document's PDF key) is committed, so a crash can leave
objects nobody refers to, and a tablet can abandon an upload halfway. Both are removed once older than a
grace period (so an upload in progress, or a commit a moment away, is never touched)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa

from ..extensions import db
from ..models import Document, Photo, Upload
from ..models.common import utcnow
from .uploads import store

FINISHED_PREFIXES = ("originals/", "display/", "thumb/")
DOCUMENT_PREFIX = "documents/"  # issued PDFs: documents/<2 hex>/<document id hex>-<sha256 prefix>.pdf


@dataclass
class SweepReport:
    interrupted: list[str] = field(default_factory=list)  # upload ids whose staged bytes go
    orphans: list[str] = field(default_factory=list)  # object keys no Photo row refers to
    leftovers: int = 0  # temporary files / multipart uploads of interrupted writes (removed with apply)


def _photo_id(key: str) -> uuid.UUID | None:
    name = key.rsplit("/", 1)[-1].split(".", 1)[0]
    try:
        return uuid.UUID(hex=name)
    except ValueError:
        return None


def sweep(*, grace: timedelta, apply: bool) -> SweepReport:
    """Find (and with apply=True remove) what is stale. Flushes; the caller commits."""
    cutoff, report = utcnow() - grace, SweepReport()
    for staged in store().list_staged():
        upload = db.session.get(Upload, _photo_id(staged.key) or uuid.UUID(int=0))
        if staged.modified_at >= cutoff:
            continue
        if upload is None or upload.status == "uploading":
            report.interrupted.append(staged.key)
            if apply:
                store().discard_staged(staged.key)
                if upload is not None:
                    upload.status, upload.reject_reason = "rejected", "Tải lên bị bỏ dở quá lâu (expired); hãy gửi lại."
        else:  # finished or refused: its staged chunks outlived a clean-up that failed after the commit
            report.orphans.append(f"staged:{staged.key}")
            if apply:
                store().discard_staged(staged.key)
    for prefix in FINISHED_PREFIXES:
        for obj in store().list(prefix):
            photo_id = _photo_id(obj.key)
            referenced = photo_id is not None and db.session.scalar(sa.select(Photo.id).filter_by(id=photo_id))
            if not referenced and obj.modified_at < cutoff:
                report.orphans.append(obj.key)
                if apply:
                    store().delete(obj.key)
    for obj in store().list(DOCUMENT_PREFIX):
        referenced = db.session.scalar(sa.select(Document.id).filter_by(pdf_key=obj.key))
        if not referenced and obj.modified_at < cutoff:
            report.orphans.append(obj.key)
            if apply:
                store().delete(obj.key)
    if apply:
        report.leftovers = store().sweep_incomplete(grace)
    db.session.flush()
    return report
