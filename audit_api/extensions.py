"""Extensions, created unbound and bound to the app in create_app()."""

from __future__ import annotations

from flask import g, has_app_context, has_request_context, request
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

from .problem_api import ProblemApi

# Named constraints let Alembic alter them later (and batch mode on SQLite needs the names).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
jwt = JWTManager()
api = ProblemApi()
limiter = Limiter(key_func=get_remote_address)

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, and BEGIN IMMEDIATE for writes, so concurrent gunicorn workers queue on the
    write lock instead of failing with SQLITE_BUSY_SNAPSHOT ("database is locked"), which busy_timeout
    cannot retry (notes/performance-and-reliability.md §2.2)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Take transaction control away from pysqlite so the "begin" hook below decides.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Savepoints (one per sync mutation, one per bulk run of answers) keep the pages they change in a
        # sub-journal, a temporary file by default: in memory, a 200-answer run's writes cost ~10% less.
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # Reads (GET) take no write lock, so readers never queue behind writers; anything else —
        # writes, CLI commands, tests — takes the lock at BEGIN, unless the view said it reads first and
        # asks for the lock only when it writes (see `writes_late`).
        mode = g.get(SQLITE_BEGIN) if has_app_context() else None
        if mode is None:
            read_only = has_request_context() and request.method in READ_ONLY_METHODS
            mode = "DEFERRED" if read_only else "IMMEDIATE"
        conn.exec_driver_sql(f"BEGIN {mode}")


def report_unreachable(engine: Engine) -> None:
    """A connection that cannot be opened (the server down, refusing or resetting connections) counts as a
    disconnect, as a pooled connection found dead already does: errors.handle_database_unavailable then answers
    503 instead of 500. SQLAlchemy leaves `connection_invalidated` false for failures to connect."""

    @event.listens_for(engine, "handle_error")
    def _on_error(context):
        if context.connection is None and isinstance(context.original_exception,
                                                     engine.dialect.loaded_dbapi.OperationalError):
            context.is_disconnect = True


SQLITE_BEGIN = "sqlite_begin"
WRITES_LATE_ATTR = "_writes_late"


def writes_late(view):
    """A view that reads, then does slow work with no transaction open, then writes briefly: its first
    transaction is a deferred read (so slow work never holds SQLite's write lock); it calls
    `begin_writing()` before it writes."""
    setattr(view, WRITES_LATE_ATTR, True)
    return view


def begin_writing() -> None:
    """End the current (read) transaction; the next one takes the write lock at BEGIN."""
    db.session.rollback()
    g.pop(SQLITE_BEGIN, None)


def mark_deferred_start(app) -> None:
    """before_request: views marked writes_late start with a deferred transaction."""
    view = app.view_functions.get(request.endpoint) if request.endpoint else None
    if getattr(view, WRITES_LATE_ATTR, False):
        g.setdefault(SQLITE_BEGIN, "DEFERRED")
