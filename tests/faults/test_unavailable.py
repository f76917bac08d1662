"""An unavailable database is a 503 problem+json, not a 500 (regressions found by the fault harness).

In process, each test with its own app: a server that refuses connections (the first connection of a worker,
or a pooled one replaced after pool_pre_ping found it dead, fails at connect: SQLAlchemy does not flag that
as a disconnect by itself), a SQLite file that cannot be opened, and SQLite's lock held past busy_timeout
(its error raised directly here; test_database_outage.py holds the real lock for 10 s). Other database
errors stay 500s: they are bugs.
"""

from __future__ import annotations

import socket
import sqlite3

import pytest
import sqlalchemy as sa

from audit_api import access, create_app


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once it is closed


def app_on(url: str, tmp_path):
    return create_app({"APP_ENV": "development", "SQLALCHEMY_DATABASE_URI": url, "MEDIA_ROOT": str(tmp_path)})


def assert_unavailable(response) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 503 and response.headers["Retry-After"]


def test_a_server_refusing_connections_is_503(tmp_path):
    app = app_on(f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/absent", tmp_path)
    client = app.test_client()
    assert_unavailable(client.get("/api/v1/health"))
    assert_unavailable(client.post("/api/v1/auth/login", json={"username": "admin", "password": "x"}))


def test_a_sqlite_file_that_cannot_be_opened_is_503(tmp_path):
    (tmp_path / "db").mkdir()  # the database path is a folder: "unable to open database file"
    assert_unavailable(app_on(f"sqlite:///{tmp_path / 'db'}", tmp_path).test_client().get("/api/v1/health"))


@pytest.mark.parametrize(("code", "status"), [(5, 503), (517, 503), (6, 503), (1, 500), (19, 500)])
def test_sqlite_busy_is_503_other_errors_stay_500(tmp_path, code, status):
    """SQLITE_BUSY (5; 517 BUSY_SNAPSHOT) and SQLITE_LOCKED (6): the lock stayed taken; SQLITE_ERROR (1) and
    SQLITE_CONSTRAINT (19) are not about availability."""
    app = app_on(f"sqlite:///{tmp_path / 'e.sqlite3'}", tmp_path)

    @app.get("/locked")
    @access.public
    def locked():
        orig = sqlite3.OperationalError("database is locked")
        orig.sqlite_errorcode = code
        raise sa.exc.OperationalError("BEGIN IMMEDIATE", {}, orig)

    response = app.test_client().get("/locked")
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/problem+json"
