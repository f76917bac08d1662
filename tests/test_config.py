"""Configuration: secrets are refused outside development; SQLite takes its write lock at BEGIN."""

from __future__ import annotations

import os
import sqlite3
import threading

import pytest
import sqlalchemy as sa

from audit_api import create_app
from audit_api.config import DEV_SECRET, ConfigError
from audit_api.extensions import db

sqlite_only = pytest.mark.skipif(bool(os.environ.get("TEST_DATABASE_URL")), reason="SQLite-specific behaviour")


@pytest.mark.parametrize("variable", ["APP_ENV", "FLASK_ENV"])
def test_production_with_default_secrets_refuses_to_start_and_names_the_variable(monkeypatch, variable):
    monkeypatch.delenv("APP_ENV", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("JWT_SECRET_KEY", raising=False)
    monkeypatch.setenv(variable, "production")
    with pytest.raises(ConfigError, match="SECRET_KEY") as excinfo:
        create_app()
    assert "export SECRET_KEY=" in str(excinfo.value)


def test_production_names_the_jwt_secret_when_only_it_is_default(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 48)
    monkeypatch.setenv("JWT_SECRET_KEY", DEV_SECRET)
    with pytest.raises(ConfigError, match="JWT_SECRET_KEY"):
        create_app()


def test_production_starts_with_real_secrets(monkeypatch, tmp_path):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 48)
    monkeypatch.setenv("JWT_SECRET_KEY", "j" * 48)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'prod.sqlite3'}")
    app = create_app()
    assert app.config["APP_ENV"] == "production"
    assert not app.testing


def test_unknown_media_backend_is_refused(monkeypatch):
    monkeypatch.setenv("APP_ENV", "development")
    monkeypatch.setenv("MEDIA_BACKEND", "ftp")
    with pytest.raises(ConfigError, match="MEDIA_BACKEND"):
        create_app()


@pytest.fixture
def sqlite_app(tmp_path):
    return create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'lock.sqlite3'}"})


@sqlite_only
@pytest.mark.no_db_transaction
def test_sqlite_runs_in_wal_mode_with_foreign_keys(sqlite_app):
    with sqlite_app.app_context(), db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def _other_writer_is_blocked(path: str) -> bool:
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc)
        return True
    finally:
        other.close()


@sqlite_only
@pytest.mark.no_db_transaction
def test_write_transactions_take_the_lock_at_begin_and_reads_do_not(sqlite_app, tmp_path):
    path = str(tmp_path / "lock.sqlite3")
    with sqlite_app.app_context():
        with db.engine.begin():  # no statement yet: a deferred BEGIN would hold no lock
            assert _other_writer_is_blocked(path)
        with sqlite_app.test_request_context("/", method="GET"), db.engine.begin():
            assert not _other_writer_is_blocked(path)
        with sqlite_app.test_request_context("/", method="POST"), db.engine.begin():
            assert _other_writer_is_blocked(path)


@sqlite_only
@pytest.mark.no_db_transaction
def test_concurrent_read_then_write_transactions_never_fail_with_database_locked(sqlite_app):
    with sqlite_app.app_context():
        with db.engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE counter (n INTEGER NOT NULL)")
            conn.exec_driver_sql("INSERT INTO counter VALUES (0)")
    errors: list[Exception] = []

    def worker():
        with sqlite_app.app_context():
            for _ in range(25):
                try:
                    with db.engine.begin() as conn:  # read, then write: the SQLITE_BUSY_SNAPSHOT pattern
                        n = conn.execute(sa.text("SELECT n FROM counter")).scalar_one()
                        conn.execute(sa.text("UPDATE counter SET n = :n"), {"n": n + 1})
                except Exception as exc:  # noqa: BLE001 — every failure is the finding
                    errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with sqlite_app.app_context(), db.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT n FROM counter").scalar() == 100  # no lost update either
