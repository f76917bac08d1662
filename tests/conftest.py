"""Test fixtures: the schema is built once by the migrations, each test runs in a rolled-back transaction.

TEST_DATABASE_URL selects the database (PostgreSQL in CI's second leg); by default a SQLite file in a
temporary folder, with the same pragmas as production.
"""

from __future__ import annotations

import os
import uuid

import flask_migrate
import pytest
import sqlalchemy as sa

from audit_api import create_app
from audit_api.extensions import db, limiter
from audit_api.models import User
from audit_api.services.auth import open_session
from audit_api.services.checklists import sync_checklists
from audit_api.services.demo import seed as seed_demo
from audit_api.services.users import create_user
from audit_api.storage import S3Store
from tests.support import CHECKLISTS_DIR, DEMO_PASSWORD
from tests.world import build_other_province


def _reset_postgres(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        _reset_postgres(url)
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    app = create_app({
        "APP_ENV": "testing",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "MEDIA_ROOT": str(tmp_path_factory.mktemp("media")),
        "CHECKLISTS_DIR": str(CHECKLISTS_DIR),
    })
    with app.app_context():
        flask_migrate.upgrade()  # the only way the schema is made
        report = sync_checklists(CHECKLISTS_DIR)
        assert not report.errors, report.errors
        seed_demo(password=DEMO_PASSWORD)
        build_other_province(DEMO_PASSWORD)
        db.session.commit()
    return app


@pytest.fixture(autouse=True)
def db_session(request, app):
    """Hand Flask-SQLAlchemy one connection inside an outer transaction; the app's commits become
    savepoint releases and everything is rolled back after the test."""
    if "no_db_transaction" in request.keywords:
        yield None
        return
    with app.app_context():
        engines = db.engines
        engine = engines[None]
        connection = engine.connect()
        transaction = connection.begin()
        engines[None] = connection
        db.session.remove()
        db.session.session_factory.configure(join_transaction_mode="create_savepoint")
        try:
            yield db.session
        finally:
            db.session.remove()
            transaction.rollback()
            connection.close()
            engines[None] = engine


@pytest.fixture(autouse=True)
def fresh_rate_limits(app):
    """Rate-limit counters live in the app (memory storage); each test starts with none."""
    with app.app_context():
        limiter.reset()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    counter = iter(range(1_000_000))

    def factory(*, roles=("inspector",), unit_code=None, password=DEMO_PASSWORD, **extra):
        username = extra.pop("username", f"user{next(counter)}")
        extra.setdefault("province_code", None if unit_code else "LSN")  # staff belong to the demo province
        user = create_user(username=username, full_name=extra.pop("full_name", f"Người dùng {username}"),
                           password=password, roles=set(roles), unit_code=unit_code, **extra)
        db.session.commit()
        return user

    return factory


@pytest.fixture
def auth_headers(app):
    """Bearer headers for a user, from a real token family (as a sign-in would make)."""

    def headers(user) -> dict:
        pair = open_session(user)
        db.session.commit()
        return {"Authorization": f"Bearer {pair.access_token}"}

    return headers


@pytest.fixture
def headers_for(auth_headers):
    """Bearer headers for a demo account by username (admin, truongdoan, thuky, kiemtra1, dv-vanlang…)."""

    def headers(username: str) -> dict:
        return auth_headers(db.session.scalar(sa.select(User).filter_by(username=username)))

    return headers


@pytest.fixture
def staff(headers_for) -> dict:
    return headers_for("kiemtra1")


@pytest.fixture
def admin(headers_for) -> dict:
    return headers_for("admin")


# --- S3: moto's server on loopback, started by the tests themselves --------------------------------------

S3_CREDENTIALS = {"access_key_id": "testing", "secret_access_key": "testing", "region": "us-east-1"}


@pytest.fixture(scope="session")
def moto_endpoint():
    from moto.server import ThreadedMotoServer  # a test dependency (requirements-dev.txt): never skipped

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def s3_client(moto_endpoint):
    return S3Store(bucket="unused", endpoint_url=moto_endpoint, **S3_CREDENTIALS).client


@pytest.fixture
def bucket(s3_client):
    name = f"audit-{uuid.uuid4().hex[:16]}"
    s3_client.create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3_store(moto_endpoint, bucket) -> S3Store:
    return S3Store(bucket=bucket, endpoint_url=moto_endpoint, **S3_CREDENTIALS)
