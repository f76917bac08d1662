"""The database goes away and comes back (issue 8, point 3): 503 problem+json meanwhile, recovery without a restart.

PostgreSQL: gunicorn reaches the server through a TCP proxy in this process (harness.DatabaseProxy). Cutting it
closes every connection (the pooled ones die under the app) and refuses new ones: requests that need the
database — health, a sync batch, a photo's last chunk — answer 503 application/problem+json with Retry-After,
never 500, and nothing is half-written. Restored, the next requests succeed at once (pool_pre_ping replaces the
dead pooled connections) and retried batches apply exactly once. Two sharper cuts drop the one connection that
sends COMMIT: before the server sees it (nothing committed: the retry applies) and after the server confirmed
it (committed, but the app cannot know: 503, and the retry finds every mutation a duplicate).

SQLite has no server that can go away: it is a file each worker opens. Its way of being unavailable is its
write lock held by another process past busy_timeout (10 s; a backup or a hung tool): reads go on (WAL), writes
answer 503 problem+json instead of a 500, and once the lock is released the retried batch applies once.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
import uuid

import pytest
import sqlalchemy as sa

from audit_api.services.demo import demo_id
from tests.faults.harness import (
    DatabaseProxy,
    Gunicorn,
    Observer,
    Reply,
    answer_slots,
    call,
    call_json,
    dangling_rows,
    distinct,
    make_jpeg,
    orphaned_bytes,
    sign_in,
    sync_body,
)

BATCH = 50
ANSWERS_AT = demo_id("insp-bacson-2024")  # not the kill test's inspection: the two tests share the database
PHOTOS_AT = demo_id("insp-vanlang-2024")
PROBLEM = "application/problem+json"


class Tablet:
    """Sync batches and a photo, sent as the tablet sends them, with their expected outcomes checked."""

    def __init__(self, server: Gunicorn, observer: Observer):
        self.server, self.observer = server, observer
        self.token = sign_in(server.port, "kiemtra1")
        self.slots = answer_slots(server.port, self.token, ANSWERS_AT, BATCH)
        self.versions: dict = {}

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}

    def batch(self, note: str) -> tuple[bytes, list[uuid.UUID], dict]:
        body = sync_body(ANSWERS_AT, self.slots, self.versions, note)
        return json.dumps(body).encode(), [uuid.UUID(m["id"]) for m in body["mutations"]], dict(self.versions)

    def send(self, raw: bytes) -> Reply:
        return call(self.server.port, "POST", "/api/v1/sync", raw, self.headers)

    def accept(self, reply: Reply, base: dict, *, status: str) -> None:
        assert reply.status == 200, (reply.status, reply.body[:500])
        results = reply.json()["results"]
        assert {r["status"] for r in results} == {status}, results[:3]
        if status == "duplicate":
            assert {r["original_status"] for r in results} == {"applied"}
        for (item, unit_id), result in zip(self.slots, results, strict=True):
            assert result["version"] == base.get((item["code"], unit_id), 0) + 1
            self.versions[(item["code"], unit_id)] = result["version"]

    def state(self, ids: list[uuid.UUID]) -> tuple[int, int]:
        return self.observer.batch_state(ids)


def unavailable(reply: Reply) -> None:
    """503, problem+json, with Retry-After: the database is away, the client should try again."""
    assert reply.status == 503, (reply.status, reply.body[:500])
    assert reply.content_type.startswith(PROBLEM), reply.headers
    assert reply.json()["status"] == 503 and reply.headers.get("Retry-After"), reply.body[:500]


def healthy(server: Gunicorn) -> None:
    for _ in range(4):  # enough requests for both workers to have served some
        reply = call(server.port, "GET", "/api/v1/health")
        assert reply.status == 200, (reply.status, reply.body[:500])


def test_postgresql_goes_away_and_returns(fault_app, fault_report, tmp_path):
    if fault_app.dialect != "postgresql":
        pytest.skip("PostgreSQL only (the SQLite leg runs test_sqlite_write_lock_held_too_long)")
    url = sa.engine.make_url(fault_app.database_url)
    proxy = DatabaseProxy(url.host or "127.0.0.1", url.port or 5432)
    proxied = url.set(host="127.0.0.1", port=proxy.port, query={"sslmode": "disable"})
    server = Gunicorn(tmp_path, {**fault_app.env, "DATABASE_URL": proxied.render_as_string(hide_password=False)},
                      name="outage")
    figures = {}
    try:
        tablet = Tablet(server, fault_app.observer)
        raw, ids, base = tablet.batch("trước sự cố")
        tablet.accept(tablet.send(raw), base, status="applied")
        workers = server.live_workers()

        # the database goes away: pooled connections die, new ones are refused
        proxy.cut()
        unavailable(call(server.port, "GET", "/api/v1/health"))
        raw, ids, base = tablet.batch("trong sự cố")
        for _ in range(3):  # each worker, and again
            unavailable(tablet.send(raw))
            unavailable(call(server.port, "GET", "/api/v1/health"))
        unavailable(call_json(server.port, "GET", f"/api/v1/inspections/{ANSWERS_AT}", token=tablet.token))
        assert tablet.state(ids) == (0, 0)

        # it comes back: the next requests succeed, with no restart; the retried batch applies once
        proxy.restore()
        healthy(server)
        tablet.accept(tablet.send(raw), base, status="applied")
        tablet.accept(tablet.send(raw), base, status="duplicate")
        assert tablet.state(ids) == (BATCH, BATCH)

        # the connection drops as the app sends COMMIT: nothing committed, 503, the retry applies
        raw, ids, base = tablet.batch("mất kết nối trước COMMIT")
        proxy.trap_commit("before")
        unavailable(tablet.send(raw))
        assert proxy.sprung[-1:] == ["before"] and tablet.state(ids) == (0, 0)
        tablet.accept(tablet.send(raw), base, status="applied")

        # the server commits and the connection drops before the app hears: 503, the retry is a duplicate
        raw, ids, base = tablet.batch("mất kết nối sau COMMIT")
        proxy.trap_commit("after")
        unavailable(tablet.send(raw))
        assert proxy.sprung[-1:] == ["after"] and tablet.state(ids) == (BATCH, BATCH)
        tablet.accept(tablet.send(raw), base, status="duplicate")

        # a photo's last chunk: every byte stored, the commit of its row lost → 503, no row without bytes;
        # the tablet asks HEAD, sends the empty PATCH at the full offset, and the photo is ready once
        figures["photo"] = photo_commit_lost(server, tablet.token, proxy, fault_app)

        # the database goes away while a batch is being applied
        raw, ids, base = tablet.batch("sự cố giữa lô")
        started = time.monotonic()
        cutter = threading.Timer(0.02, proxy.cut)
        cutter.start()
        reply = tablet.send(raw)
        cutter.join()
        figures["mid-batch"] = f"{reply.status} after {(time.monotonic() - started) * 1000:.0f} ms"
        assert reply.status in (200, 503), (reply.status, reply.body[:500])
        logged = tablet.state(ids)
        assert logged in ((0, 0), (BATCH, BATCH)), logged
        proxy.restore()
        healthy(server)
        tablet.accept(tablet.send(raw), base, status="duplicate" if logged[0] else "applied")

        assert server.live_workers() == workers  # recovered without a restart (no worker died or was replaced)
        statuses = server.statuses()
        log = server.log()
    finally:
        server.stop()
        proxy.close()
    failures = [s for s in statuses if s[0] >= 500 and s[0] != 503]
    assert not failures, failures
    assert "unhandled error" not in log, log[-3000:]
    assert not dangling_rows(fault_app.observer, fault_app.media_root)
    assert not any(orphaned_bytes(fault_app.observer, fault_app.media_root).values())
    fault_report(f"database outage (proxy cut, COMMIT dropped before/after the server, cut mid-batch): "
                 f"{sum(1 for s in statuses if s[0] == 503)} answers 503 problem+json, 0 answers 500; recovered "
                 f"without restart; retried batches applied once; photo: {figures['photo']}; "
                 f"cut mid-batch: {figures['mid-batch']}")


def photo_commit_lost(server: Gunicorn, token: str, proxy: DatabaseProxy, fault_app) -> str:
    data = distinct(make_jpeg(1200, 900, seed=7), "outage photo")
    photo_id, sha = uuid.uuid4(), hashlib.sha256(data).hexdigest()
    auth = {"Authorization": f"Bearer {token}"}
    reply = call_json(server.port, "POST", "/api/v1/photos", {
        "id": str(photo_id), "inspection_id": str(PHOTOS_AT), "sha256": sha, "size": len(data),
        "content_type": "image/jpeg"}, token=token)
    assert reply.status == 201, reply.body[:500]
    path = f"/api/v1/photos/{photo_id}/upload"

    def patch(offset: int, chunk: bytes) -> Reply:
        return call(server.port, "PATCH", path, chunk, {**auth, "Upload-Offset": str(offset),
                                                         "Content-Type": "application/offset+octet-stream"})

    proxy.trap_commit("before")
    unavailable(patch(0, data))
    assert proxy.sprung[-1:] == ["before"] and not fault_app.observer.photo_recorded(photo_id)
    assert not dangling_rows(fault_app.observer, fault_app.media_root)
    offset = int(call(server.port, "HEAD", path, headers=auth).headers["Upload-Offset"])
    assert offset == len(data)
    reply = patch(offset, b"")
    assert reply.status == 204 and int(reply.headers["Upload-Offset"]) == len(data), reply.body[:500]
    view = call_json(server.port, "GET", f"/api/v1/photos/{photo_id}", token=token).json()
    assert view["status"] == "ready" and view["sha256"] == sha
    original = call(server.port, "GET", f"/api/v1/photos/{photo_id}/original", headers=auth)
    assert hashlib.sha256(original.body).hexdigest() == sha
    return "commit lost → 503, HEAD offset = size, empty PATCH → ready with its SHA-256"


def test_sqlite_write_lock_held_too_long(fault_app, fault_report, tmp_path):
    if fault_app.dialect != "sqlite":
        pytest.skip("SQLite only (the PostgreSQL leg runs test_postgresql_goes_away_and_returns)")
    server = Gunicorn(tmp_path, fault_app.env, name="locked")
    try:
        tablet = Tablet(server, fault_app.observer)
        raw, ids, base = tablet.batch("trước khi khóa")
        tablet.accept(tablet.send(raw), base, status="applied")
        workers = server.live_workers()
        locker = sqlite3.connect(fault_app.database_url.removeprefix("sqlite:///"), isolation_level=None)
        try:
            locker.execute("BEGIN IMMEDIATE")  # another process holds the write lock (WAL: readers go on)
            healthy(server)
            raw, ids, base = tablet.batch("trong khi khóa")
            started = time.monotonic()
            unavailable(tablet.send(raw))
            waited = time.monotonic() - started
            assert tablet.state(ids) == (0, 0)
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        tablet.accept(tablet.send(raw), base, status="applied")
        tablet.accept(tablet.send(raw), base, status="duplicate")
        assert server.live_workers() == workers
        statuses = server.statuses()
        log = server.log()
    finally:
        server.stop()
    assert not [s for s in statuses if s[0] >= 500 and s[0] != 503], statuses
    assert "unhandled error" not in log, log[-3000:]
    fault_report(f"database unavailable (SQLite write lock held by another process): the batch answered 503 "
                 f"problem+json after {waited:.1f} s (busy_timeout), health stayed 200, the retry applied once")
