"""Real concurrency: two requests at the same instant, on separate connections (threads, own sessions).

Runs on SQLite (writers queue on BEGIN IMMEDIATE) and, in CI's second leg, on PostgreSQL, where the two
transactions truly overlap: the answer row lock and the unique keys decide.
"""

from __future__ import annotations

import threading
import uuid
from datetime import date

import pytest
import sqlalchemy as sa

from audit_api.extensions import db
from audit_api.models import Answer, AnswerRevision, SyncMutation, Team, User
from audit_api.services.auth import open_session
from audit_api.services.demo import demo_id
from audit_api.services.inspections import create_inspection

pytestmark = pytest.mark.no_db_transaction
ROUNDS = 8


@pytest.fixture(scope="module")
def count_items(app) -> list[str]:
    """Count items of tthc-2018 that apply to a district and are always visible: 3 × ROUNDS fresh slots."""
    from audit_api.services.checklists import get_version

    with app.app_context():
        definition = get_version("tthc-2018", 1).definition
        db.session.remove()
    codes = [item["code"] for section in definition["sections"] for item in section["items"]
             if item["answer_type"] == "count" and "district_legacy" in item["applies_to"]
             and not item.get("visible_if")]
    assert len(codes) >= 3 * ROUNDS
    return codes


@pytest.fixture(scope="module")
def world(app):
    """A fresh inspection (committed: the threads must see it) and tokens for two team members."""
    with app.app_context():
        team = db.session.get(Team, demo_id("team-2024"))
        inspection = create_inspection({"host_unit_id": demo_id("unit:LSN-H-TRANGDINH"), "checklist_key": "tthc-2018",
                                        "scheduled_on": date(2024, 6, 26)}, team=team, actor=None)
        tokens = {}
        for username in ("kiemtra1", "thuky"):
            user = db.session.scalar(sa.select(User).filter_by(username=username))
            tokens[username] = open_session(user).access_token
        db.session.commit()
        return {"inspection": str(inspection.id), "tokens": tokens}


def answer(world, code: str, value: int, *, base=None, mutation_id=None) -> dict:
    return {"id": str(mutation_id or uuid.uuid4()), "type": "answer.set", "inspection_id": world["inspection"],
            "base_version": base, "payload": {"item_code": code, "value": value}}


def at_once(app, world, *calls: tuple[str, dict]) -> list[dict]:
    """Send each (username, mutation) in its own thread; a barrier releases them together."""
    barrier = threading.Barrier(len(calls))
    results: list[dict | Exception] = [None] * len(calls)

    def send(index: int, username: str, mutation: dict):
        client = app.test_client()
        headers = {"Authorization": f"Bearer {world['tokens'][username]}"}
        barrier.wait()
        try:
            response = client.post("/api/v1/sync", headers=headers,
                                   json={"device_id": f"{username}-tablet", "mutations": [mutation]})
            results[index] = response.get_json()["results"][0] if response.status_code == 200 else \
                RuntimeError(response.get_data(as_text=True))
        except Exception as exc:  # noqa: BLE001 — reported below
            results[index] = exc

    threads = [threading.Thread(target=send, args=(i, user, m)) for i, (user, m) in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    failures = [r for r in results if isinstance(r, Exception)]
    assert failures == []
    return results


def rows(app, world, code: str) -> tuple[list[Answer], int]:
    with app.app_context():
        answers = db.session.scalars(sa.select(Answer).filter_by(inspection_id=uuid.UUID(world["inspection"]),
                                                                 item_code=code)).all()
        revisions = db.session.scalar(sa.select(sa.func.count()).select_from(AnswerRevision)
                                      .where(AnswerRevision.answer_id.in_([a.id for a in answers])))
        db.session.remove()
        return answers, revisions


def test_the_same_mutation_twice_at_once_is_applied_once_and_reported_duplicate(app, world, count_items):
    for code in count_items[:ROUNDS]:
        round_ = count_items.index(code)
        mutation = answer(world, code, 10 + round_)
        results = at_once(app, world, ("kiemtra1", mutation), ("kiemtra1", mutation))
        assert sorted(r["status"] for r in results) == ["applied", "duplicate"], results
        answers, revisions = rows(app, world, code)
        assert len(answers) == 1 and answers[0].version == 1 and revisions == 1
        with app.app_context():
            assert db.session.scalar(sa.select(sa.func.count()).select_from(SyncMutation)
                                     .filter_by(id=uuid.UUID(mutation["id"]))) == 1
            db.session.remove()


def test_two_new_answers_for_the_same_slot_at_once_make_one_applied_one_conflict(app, world, count_items):
    for code in count_items[ROUNDS:2 * ROUNDS]:
        results = at_once(app, world, ("kiemtra1", answer(world, code, 1)), ("thuky", answer(world, code, 2)))
        assert sorted(r["status"] for r in results) == ["applied", "conflict"], results
        conflict = next(r for r in results if r["status"] == "conflict")
        assert conflict["current"]["version"] == 1
        answers, revisions = rows(app, world, code)
        assert len(answers) == 1 and answers[0].version == 1 and revisions == 1


def test_two_edits_on_one_base_version_at_once_make_one_applied_one_conflict(app, world, count_items):
    for code in count_items[2 * ROUNDS:3 * ROUNDS]:
        assert at_once(app, world, ("kiemtra1", answer(world, code, 1)))[0]["status"] == "applied"
        results = at_once(app, world, ("kiemtra1", answer(world, code, 2, base=1)),
                          ("thuky", answer(world, code, 3, base=1)))
        assert sorted(r["status"] for r in results) == ["applied", "conflict"], results
        answers, revisions = rows(app, world, code)
        assert len(answers) == 1 and answers[0].version == 2 and revisions == 2
