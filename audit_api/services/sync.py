"""Batch sync: apply tablets' mutations exactly once, never overwrite silently, never lose what was typed.

Each mutation runs in its own savepoint and ends as one of:
- applied    — stored as a new version (with a revision row where the entity keeps history);
- duplicate  — its id was seen before: the stored result is returned and nothing changes, also when the
               retry races the original (the sync_mutations primary key decides, in the database);
- conflict   — its base_version is not the current version: nothing is overwritten and `current` carries
               the server's value, version, author and time so the tablet can offer keep mine / keep theirs;
- rejected   — invalid or not allowed: a problem object; the payload stays in sync_mutations with it.
A rejected or conflicting mutation never blocks the others.
"""

from __future__ import annotations

import uuid

import marshmallow as ma
import sqlalchemy as sa
from marshmallow import fields, validate
from sqlalchemy.exc import IntegrityError

from ..errors import DomainError, translate_messages
from ..extensions import db
from ..models import Inspection, SyncMutation, User
from ..schemas.common import StrictInteger, StrictSchema
from . import answer_batch, findings, photo_links, quick_parse, review
from .changes import record_change, record_changes, writers_take_turns
from .mutations import Applied, Conflict, Context, Rejected, problem, problem_of

# Answer mutations go through answer_batch (alone or in runs); these are applied one at a time.
HANDLERS = {
    "finding.create": findings.create_finding,
    "finding.update": findings.update_finding,
    "finding.delete": findings.delete_finding,
    "section.submit": review.submit_section,
    "photo.attach": photo_links.attach,
    "photo.detach": photo_links.detach,
    "photo.caption": photo_links.caption,
}


class MutationSchema(StrictSchema):
    id = fields.UUID(required=True)
    type = fields.String(required=True, validate=validate.OneOf(sorted([*HANDLERS, *answer_batch.ANSWER_TYPES])))
    inspection_id = fields.UUID(required=True)
    base_version = StrictInteger(load_default=None, allow_none=True, validate=validate.Range(min=0, max=2**31))
    payload = fields.Dict(required=True)
    client_time = fields.AwareDateTime(load_default=None, allow_none=True, default_timezone=None)


MUTATION_SCHEMA = MutationSchema()
# The batch's ids already stored (a statement built once, whatever the number of ids: building one costs more
# than running it).
_stored_id = SyncMutation.__table__.c.id
SEEN = sa.select(_stored_id).where(_stored_id.in_(sa.bindparam("ids", expanding=True)))


def apply_batch(*, user: User, device_id: str, mutations: list) -> list[dict]:
    """Apply mutations in order; one result each. Flushes; the caller commits once.

    Consecutive answer mutations not seen before go through answer_batch (bulk); everything else — other
    types, malformed envelopes, ids seen before or repeated in the batch — through the per-mutation path."""
    batch = _Batch()
    ids = {str(raw.get("id")) for raw in mutations if isinstance(raw, dict)}
    seen = {str(i) for i in db.session.scalars(SEEN, {"ids": _uuids(ids)})}
    run: list[dict] = []
    for raw in mutations:
        mutation = _fast_candidate(raw, seen)
        if mutation is not None:
            run.append(mutation)
            seen.add(str(mutation["id"]))
            continue
        _apply_run(user, device_id, run, batch)
        run = []
        batch.results.append(_apply_one(user, device_id, raw, batch))
    _apply_run(user, device_id, run, batch)
    # Where writers take turns (SQLite), the answers a run read and then changed are the inspection's answers
    # now, so the rules need not read them again. Where they do not (PostgreSQL), a concurrent batch may have
    # added answers since: the rules read them.
    known = batch.answers if writers_take_turns() else {}
    for inspection_id in sorted(batch.touched):  # id order: concurrent batches take inspection locks alike
        review.after_answers_changed(batch.touched[inspection_id], answers=known.get(inspection_id))
    return batch.results


class _Batch:
    """What a batch has done so far."""

    def __init__(self):
        self.results: list[dict] = []
        self.touched: dict[uuid.UUID, Inspection] = {}
        # inspection id → its answers ((item_code, unit_id) → row) as the last answer run left them; dropped
        # when anything else might have changed them
        self.answers: dict[uuid.UUID, dict] = {}


def _uuids(values) -> list[uuid.UUID]:
    found = []
    for value in values:
        parsed = quick_parse.uuid_of(value)
        if parsed is not None:
            found.append(parsed)
    return found


def _fast_candidate(raw, seen: set[str]) -> dict | None:
    """A well-formed answer mutation whose id nobody has seen: it can join a bulk run."""
    if not isinstance(raw, dict) or raw.get("type") not in answer_batch.ANSWER_TYPES or str(raw.get("id")) in seen:
        return None
    quick = quick_parse.envelope(raw, answer_batch.ANSWER_TYPES)
    if quick is not None:
        return quick
    try:
        return MUTATION_SCHEMA.load(raw)
    except ma.ValidationError:
        return None


def _apply_run(user: User, device_id: str, run: list[dict], batch: _Batch) -> None:
    if not run:
        return
    outcome = answer_batch.apply_run(user, device_id, run)
    if outcome is None:  # lost a race while writing in bulk: replay one by one, which sorts out who won
        batch.answers.clear()
        batch.results.extend(_apply_answer(user, device_id, mutation, batch) for mutation in run)
        return
    batch.results.extend(_accept(outcome, batch))


def _accept(outcome: answer_batch.RunOutcome, batch: _Batch) -> list[dict]:
    batch.touched.update(outcome.touched)
    batch.answers.update(outcome.answers)
    record_changes(outcome.changed)
    return outcome.results


def _apply_answer(user: User, device_id: str, mutation: dict, batch: _Batch) -> dict:
    """One answer mutation, racing others: a lost insert means the same mutation (→ duplicate) or the same
    new answer (→ the second attempt reads it and reports a conflict)."""
    for _attempt in range(2):
        outcome = answer_batch.apply_run(user, device_id, [mutation])
        if outcome is not None:
            return _accept(outcome, batch)[0]
        batch.answers.clear()
        stored = db.session.get(SyncMutation, mutation["id"])
        if stored is not None:
            return _duplicate(stored)
    raise RuntimeError(f"answer mutation {mutation['id']} lost the same race twice")


def _apply_one(user: User, device_id: str, raw, batch: _Batch) -> dict:
    try:
        mutation = MUTATION_SCHEMA.load(raw)
    except ma.ValidationError as exc:
        return _reject_malformed(user, device_id, raw, exc)
    stored = db.session.get(SyncMutation, mutation["id"])
    if stored is not None:
        return _duplicate(stored)
    if mutation["type"] in answer_batch.ANSWER_TYPES:
        return _apply_answer(user, device_id, mutation, batch)
    batch.answers.clear()  # whatever a handler does, the rules read the answers afresh
    for attempt in range(2):
        savepoint = db.session.begin_nested()
        try:
            inspection, applied = _run(user, mutation)
            result = {"id": str(mutation["id"]), "status": "applied", "version": applied.version, **applied.extra}
            _log(user, device_id, mutation, "applied", result)
            savepoint.commit()
        except Conflict as exc:
            savepoint.rollback()
            result = {"id": str(mutation["id"]), "status": "conflict", "current": exc.current}
            return _store_outcome(user, device_id, mutation, "conflict", result)
        except (Rejected, DomainError) as exc:
            savepoint.rollback()
            refusal = exc.problem if isinstance(exc, Rejected) else problem_of(exc)
            result = {"id": str(mutation["id"]), "status": "rejected", "problem": refusal}
            return _store_outcome(user, device_id, mutation, "rejected", result, refusal)
        except IntegrityError:
            # A concurrent request wrote first: the same mutation (→ duplicate) or the same new entity (→ the
            # retry sees it and reports a conflict).
            savepoint.rollback()
            stored = db.session.get(SyncMutation, mutation["id"])
            if stored is not None:
                return _duplicate(stored)
            if attempt:
                raise
            continue
        batch.touched[inspection.id] = inspection
        for entity_type, entity_id in applied.changes:
            record_change(inspection.id, entity_type, entity_id)
        return result
    raise AssertionError("unreachable")


def _run(user: User, mutation: dict) -> tuple[Inspection, Applied]:
    from .. import access

    inspection = access.require_inspection(user, db.session.get(Inspection, mutation["inspection_id"]))
    context = Context(user=user, inspection=inspection, mutation_id=mutation["id"],
                      base_version=mutation["base_version"], payload=mutation["payload"],
                      client_time=mutation["client_time"])
    return inspection, HANDLERS[mutation["type"]](context)


def _log(user, device_id, mutation, outcome, result, problem=None) -> None:
    db.session.add(SyncMutation(
        id=mutation["id"], device_id=device_id, user_id=user.id, inspection_id=mutation["inspection_id"],
        type=mutation["type"], base_version=mutation["base_version"], payload=mutation["payload"],
        client_time=mutation["client_time"], outcome=outcome, result=result, problem=problem,
    ))
    db.session.flush()


def _store_outcome(user, device_id, mutation, outcome, result, problem=None) -> dict:
    """Keep a conflict or rejection (and the payload) so a retry gets the same answer."""
    savepoint = db.session.begin_nested()
    try:
        if mutation["inspection_id"] is None or db.session.get(Inspection, mutation["inspection_id"]) is None:
            mutation = {**mutation, "inspection_id": None}
        _log(user, device_id, mutation, outcome, result, problem)
        savepoint.commit()
    except IntegrityError:
        savepoint.rollback()
        stored = db.session.get(SyncMutation, mutation["id"])
        if stored is not None:
            return _duplicate(stored)
        raise
    return result


def _duplicate(stored: SyncMutation) -> dict:
    return {**stored.result, "status": "duplicate", "original_status": stored.outcome}


def _reject_malformed(user: User, device_id: str, raw, error: ma.ValidationError) -> dict:
    """A mutation whose envelope is broken still gets a result, and what was sent is kept."""
    raw_id = raw.get("id") if isinstance(raw, dict) else None
    try:
        mutation_id = uuid.UUID(str(raw_id))
    except ValueError:
        mutation_id = None
    refusal = problem(422, "Thay đổi không đúng định dạng (malformed mutation).", translate_messages(error.messages))
    result = {"id": str(mutation_id) if mutation_id else raw_id, "status": "rejected", "problem": refusal}
    if mutation_id is not None and db.session.get(SyncMutation, mutation_id) is not None:
        return _duplicate(db.session.get(SyncMutation, mutation_id))
    kept = {"id": mutation_id or uuid.uuid4(), "type": str(raw.get("type", "?"))[:32] if isinstance(raw, dict) else "?",
            "inspection_id": None, "base_version": None, "payload": raw if isinstance(raw, dict) else {"raw": raw},
            "client_time": None}
    return _store_outcome(user, device_id, kept, "rejected", result, refusal)
