"""Recording entity changes for the change feed.

Services call record_change() as they change things; the rows are only written by flush_changes(),
which the request's commit path calls last: it takes the change-log lock (a transaction-scoped advisory
lock on PostgreSQL; SQLite's BEGIN IMMEDIATE already serializes writers) and inserts the rows, so their
sequence numbers are allocated in commit order and the feed never skips a change that commits late.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..extensions import db
from ..models.changes import ChangeLogEntry
from ..models.common import utcnow
from . import bulk

CHANGE_LOCK_KEY = 0x6368_616E_6765  # "change"
_PENDING = "pending_changes"


def record_change(inspection_id: uuid.UUID, entity_type: str, entity_id, *, deleted: bool = False) -> None:
    """Note that an entity of an inspection changed; written at commit, once per entity."""
    pending = db.session.info.setdefault(_PENDING, {})
    pending[(inspection_id, entity_type, str(entity_id))] = deleted


def record_changes(changes: Iterable[tuple[uuid.UUID, str, str]]) -> None:
    """record_change for many (inspection id, entity type, entity id as text) changes, none deleted."""
    pending = db.session.info.setdefault(_PENDING, {})
    pending.update(dict.fromkeys(changes, False))


def _flush_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHANGE_LOCK_KEY})
    # One executemany (the ORM would insert one row at a time to read back each generated seq).
    now = utcnow()
    bulk.insert_many(ChangeLogEntry.__table__, [
        {"inspection_id": inspection_id, "entity_type": entity_type, "entity_id": entity_id, "deleted": deleted,
         "changed_at": now}
        for (inspection_id, entity_type, entity_id), deleted in pending.items()
    ])


@event.listens_for(Session, "before_commit")
def _write_change_log(session: Session) -> None:
    if not session.in_nested_transaction():  # a mutation's savepoint is not the end of the transaction
        _flush_pending(session)


@event.listens_for(Session, "after_soft_rollback")
def _forget_change_log(session: Session, previous_transaction) -> None:
    # A mutation's savepoint rolling back (a conflict, a rejection) must not forget what the mutations
    # before it recorded; only the end of the whole transaction does.
    if not previous_transaction.nested:
        session.info.pop(_PENDING, None)


def writers_take_turns() -> bool:
    """Does the database let one write transaction at a time run (SQLite: BEGIN IMMEDIATE, see
    extensions.configure_sqlite)? Then what a writing transaction read stays true until it ends: it needs no
    row locks, and what it holds in memory need not be read again."""
    return db.session.get_bind().dialect.name == "sqlite"


CURSOR = sa.select(sa.func.coalesce(sa.func.max(ChangeLogEntry.__table__.c.seq), 0))


def current_cursor() -> int:
    return db.session.scalar(CURSOR) or 0


def commit() -> int:
    """Commit the session and return the feed cursor that covers this transaction's changes: read inside
    the transaction once its change rows are written (under the change-log lock), so every change at or
    below it is committed, and no second transaction is opened just to read it (on SQLite a write request's
    transaction takes the write lock)."""
    _flush_pending(db.session)
    cursor = current_cursor()
    db.session.commit()
    return cursor
