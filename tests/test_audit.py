"""The audit trail: what is recorded, and the hash chain that `flask audit verify` checks."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from audit_api.extensions import db
from audit_api.models import AuditEvent, User
from audit_api.services import audit
from tests.support import DEMO_PASSWORD


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).filter_by(action=action).order_by(AuditEvent.id)))


def some_activity(client, admin) -> User:
    client.post("/api/v1/auth/login", json={"username": "thuky", "password": "sai"})
    client.post("/api/v1/auth/login", json={"username": "thuky", "password": DEMO_PASSWORD})
    created = client.post("/api/v1/users", headers=admin, json={
        "username": "chuyenvien", "full_name": "Chuyên viên mới", "password": "mật-khẩu-dài-1", "roles": ["inspector"],
    }).get_json()
    client.patch(f"/api/v1/users/{created['id']}", headers=admin, json={"roles": ["inspector", "secretary"]})
    return db.session.scalar(sa.select(User).filter_by(username=created["username"]))


def test_sign_ins_and_administration_are_recorded_with_actor_entity_before_and_after(client, admin):
    user = some_activity(client, admin)
    failed = events("auth.login_failed")[-1]
    assert failed.actor_id is None and failed.after == {"username": "thuky"}
    success = events("auth.login")[-1]
    assert success.actor_id is not None and success.entity_type == "user"
    created = events("user.create")[-1]
    assert created.entity_id == str(user.id) and created.after["roles"] == ["inspector"]
    changed = events("user.roles_change")[-1]
    assert changed.before["roles"] == ["inspector"] and changed.after["roles"] == ["inspector", "secretary"]
    admin_id = db.session.scalar(sa.select(User.id).filter_by(username="admin"))
    assert changed.actor_id == admin_id and changed.occurred_at.tzinfo is not None


def test_each_event_carries_the_hash_of_the_previous_one(client, admin):
    some_activity(client, admin)
    last_two = list(db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(2)))
    assert last_two[0].prev_hash == last_two[1].hash
    assert audit.event_hash(last_two[0]) == last_two[0].hash


def test_verify_passes_on_a_database_with_activity(client, admin, runner):
    some_activity(client, admin)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "Nhật ký hợp lệ" in result.output


def test_verify_names_the_event_that_was_edited_in_the_database(client, admin, runner):
    some_activity(client, admin)
    target = events("user.roles_change")[-1]
    db.session.execute(sa.update(AuditEvent).where(AuditEvent.id == target.id).values(after={"roles": ["admin"]}))
    db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"sự kiện #{target.id}" in result.output and "bị sửa" in result.output


def test_verify_detects_a_deleted_event(client, admin, runner):
    some_activity(client, admin)
    victim, follower = list(db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(2)))[::-1]
    db.session.execute(sa.delete(AuditEvent).where(AuditEvent.id == victim.id))
    db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and f"sự kiện #{follower.id}" in result.output


@pytest.mark.no_db_transaction
def test_concurrent_writers_never_fork_the_chain(app):
    """Four sessions append at once; the chain stays one line (advisory lock / BEGIN IMMEDIATE)."""
    errors: list[Exception] = []

    def writer(index: int):
        with app.app_context():
            try:
                for step in range(10):
                    audit.record("test.concurrent", entity_type="test", entity_id=f"{index}-{step}")
                    db.session.commit()
            except Exception as exc:  # noqa: BLE001 — every failure is the finding
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=writer, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with app.app_context():
        report = audit.verify_chain()
        assert report.broken_id is None, report
        prev_hashes = db.session.scalars(sa.select(AuditEvent.prev_hash)).all()
        assert len(prev_hashes) == len(set(prev_hashes))  # no two events claim the same predecessor
