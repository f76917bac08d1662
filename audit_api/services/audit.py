"""The audit trail: append-only events, each carrying the hash of the previous one.

Writers serialize on the chain head (BEGIN IMMEDIATE on SQLite; a transaction-scoped advisory lock on
PostgreSQL), so concurrent transactions never fork the chain and id order is chain order.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask import has_request_context, request

from ..extensions import db
from ..models import AuditEvent, User
from ..models.common import utcnow

CHAIN_LOCK_KEY = 0x617564_6974  # "audit": the advisory-lock key on PostgreSQL
GENESIS = "0" * 64


def jsonable(value):
    """Plain JSON for before/after snapshots (ids and dates as strings)."""
    if isinstance(value, dict):
        return {str(key): jsonable(child) for key, child in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(child) for child in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def event_hash(event: AuditEvent) -> str:
    body = {
        "occurred_at": event.occurred_at.isoformat(),
        "actor_id": str(event.actor_id) if event.actor_id else None,
        "action": event.action,
        "entity_type": event.entity_type,
        "entity_id": event.entity_id,
        "before": event.before,
        "after": event.after,
        "ip": event.ip,
        "prev_hash": event.prev_hash,
    }
    canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _lock_chain() -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})


def record(action: str, *, entity_type: str, entity_id=None, before=None, after=None,
           actor: User | None = None) -> AuditEvent:
    """Append one event to the chain (flushes; the caller's commit makes it permanent)."""
    _lock_chain()
    last = db.session.scalar(sa.select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    event = AuditEvent(
        occurred_at=utcnow(),
        actor_id=actor.id if actor is not None else None,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id) if entity_id is not None else None,
        before=jsonable(before),
        after=jsonable(after),
        ip=request.remote_addr if has_request_context() else None,
        prev_hash=last or GENESIS,
    )
    event.hash = event_hash(event)
    db.session.add(event)
    db.session.flush()
    return event


@dataclass
class ChainReport:
    checked: int
    broken_id: int | None = None
    reason: str | None = None


def verify_chain(batch: int = 1000) -> ChainReport:
    """Recompute every hash in id order; report the first event that does not match."""
    previous, checked, last_id = GENESIS, 0, 0
    while True:
        events = list(db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
        ))
        if not events:
            return ChainReport(checked=checked)
        for event in events:
            if event.prev_hash != previous:
                return ChainReport(checked, event.id, "prev_hash không khớp với sự kiện trước (bị xóa hoặc chèn)")
            if event_hash(event) != event.hash:
                return ChainReport(checked, event.id, "nội dung đã bị sửa (hash không khớp)")
            previous, checked, last_id = event.hash, checked + 1, event.id
        db.session.expire_all()
