"""Model check of the offline sync protocol (notes/performance-and-reliability.md §7.4, goal R3).

Three simulated tablets (kiemtra1 deputy, thuky secretary, truongdoan lead: each may write every section)
edit four answers of the Văn Lãng inspection (counts D1, D3, D5 and the yes/no item E3, host unit) offline.
Each tablet keeps the server state it last saw (value + version per answer) and an outbox of mutations
whose ids are never regenerated. The network loses responses after the server committed, replays
requests, reorders batches and repeats mutations inside one batch; tablets pull the change feed and
resolve conflicts "keep mine" (resend with the server's version as base) or "keep theirs". Now and then a
tablet also sends an edit of a finding the server does not have: it is rejected through the one-by-one path
(a savepoint rollback) and splits the server's bulk run of answer mutations (services/answer_batch.py).

The server model predicts every result from the protocol rules alone (duplicate if the id was seen,
else rejected if invalid, else conflict unless base_version is the current version, else applied as
version + 1), and the database is compared with it after every step. At the end every tablet syncs until
its outbox is empty and nothing a user typed may be lost.

Pytest fixtures cannot reach a `RuleBasedStateMachine.TestCase`, so one test function takes them and runs
the machine with `run_state_machine_as_test`. Tokens are made once per test; every example runs inside a
savepoint of the test's connection that teardown rolls back, so each example starts from the same state.

SYNC_MODEL_EXAMPLES / SYNC_MODEL_STEPS raise the budget (the R3 target, 500 × 50, takes about 75 s on
SQLite and 110 s on PostgreSQL on the 2-core box; the default 200 × 25 about 17 s and 26 s).
"""

from __future__ import annotations

import functools
import itertools
import os
import uuid
from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from audit_api.extensions import db
from audit_api.models import Answer, AnswerRevision, Inspection, SyncMutation, User
from audit_api.services.changes import current_cursor
from audit_api.services.demo import demo_id

VAN_LANG = demo_id("insp-vanlang-2024")  # tthc-2018
TABLETS = ("kiemtra1", "thuky", "truongdoan")  # deputy, secretary, lead: may write any section
COUNT_ITEMS = ("D1", "D3", "D5")
YES_NO_ITEMS = ("E3",)
ITEMS = COUNT_ITEMS + YES_NO_ITEMS
OUTCOMES = ("applied", "conflict", "rejected")
STATUSES = (*OUTCOMES, "duplicate")
CLIENT_TIME = "2024-06-24T09:30:00+07:00"
MAX_DRAIN_ROUNDS = 50

SETTINGS = settings(
    max_examples=int(os.environ.get("SYNC_MODEL_EXAMPLES", "200")),
    stateful_step_count=int(os.environ.get("SYNC_MODEL_STEPS", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# ---------------------------------------------------------------------------------------------------------
# What tablets send, and what they and the server model remember


@dataclass(eq=False)
class Mutation:
    number: int  # order of creation in the example, for readable counterexamples
    id: str
    tablet: str
    item: str | None
    kind: str  # answer.set | answer.clear | finding.update (of a finding the server does not have)
    sent: object  # the value as typed (None for a clear; the finding id for a finding.update)
    value: object  # what the server must store (counts normalised to int; None for a clear)
    valid: bool
    base: int | None
    explicit_unit: bool  # payload names the host unit instead of leaving unit_id out
    follow_up_of: str | None = None  # the conflict this "keep mine" resend resolves
    follow_up_of_number: int | None = None
    follow_up: str | None = None
    resolution: str | None = None  # "mine" | "theirs", once a conflict is resolved
    seen_by_tablet: str | None = None  # the outcome the tablet itself learned (applied/conflict/rejected)

    def wire(self, host_unit: str) -> dict:
        if self.kind == "finding.update":
            return {"id": self.id, "type": self.kind, "inspection_id": str(VAN_LANG), "base_version": self.base,
                    "payload": {"finding_id": self.sent, "text": "Sửa nội dung hạn chế."}, "client_time": CLIENT_TIME}
        payload: dict = {"item_code": self.item}
        if self.explicit_unit:
            payload["unit_id"] = host_unit
        if self.kind == "answer.set":
            payload["value"] = self.sent
        return {"id": self.id, "type": self.kind, "inspection_id": str(VAN_LANG), "base_version": self.base,
                "payload": payload, "client_time": CLIENT_TIME}

    def __repr__(self) -> str:
        if self.kind == "finding.update":
            return f"#{self.number} {self.tablet} edits a finding the server does not have"
        what = "clear" if self.kind == "answer.clear" else f"set {self.sent!r}{'' if self.valid else ' (invalid)'}"
        again = f" resends #{self.follow_up_of_number}" if self.follow_up_of else ""
        return f"#{self.number} {self.tablet} {self.item} {what} base={self.base}{again}"

    def _repr_pretty_(self, printer, cycle) -> None:  # Hypothesis prints draws with this
        printer.text(repr(self))


@dataclass
class Revision:
    mutation_id: str | None
    value: object
    author_id: str | None


@dataclass
class Tablet:
    username: str
    device: str
    headers: dict = field(repr=False)
    user_id: str
    view: dict  # item → (value, version): the server state this tablet last saw
    cursor: str  # change feed position
    pulled: dict  # item → the model's version when this tablet last pulled the feed
    outbox: list = field(default_factory=list)
    conflicts: list = field(default_factory=list)  # (mutation, current) awaiting keep mine / keep theirs
    deferred: dict = field(default_factory=dict)  # item → feed state held back while a mutation of it is pending
    keeps_mine: bool = True  # how it resolves conflicts in the final drain

    def pending(self, item: str) -> bool:
        return any(m.item == item for m in self.outbox) or any(m.item == item for m, _ in self.conflicts)

    def learn(self, item: str, value, version: int) -> None:
        if version > self.view[item][1]:
            self.view[item] = (value, version)

    def settle(self) -> None:
        """Feed states held back for an answer apply once nothing of it is pending any more."""
        for item in [item for item in self.deferred if not self.pending(item)]:
            self.learn(item, *self.deferred.pop(item))


class ServerModel:
    """The answers as the protocol says they must be, and the first result the server gave each mutation."""

    def __init__(self, chains: dict[str, list[Revision]]):
        self.chains = chains
        self.first: dict[str, dict] = {}

    def version(self, item: str) -> int:
        return len(self.chains[item])

    def value(self, item: str):
        return self.chains[item][-1].value if self.chains[item] else None

    def check(self, m: Mutation, result: dict, author_id: str) -> None:
        """Compare one result with what the protocol predicts, then apply it to the model."""
        assert result["id"] == m.id and result["status"] in STATUSES, result
        if m.id in self.first:
            original = self.first[m.id]
            assert result["status"] == "duplicate", (m, result, original)
            assert result["original_status"] == original["status"], (m, result, original)
            assert _without_status(result) == _without_status(original), (m, result, original)
            return
        if not m.valid:
            assert result["status"] == "rejected", (m, result)
            assert result["problem"]["status"] == (404 if m.kind == "finding.update" else 422), (m, result)
            self.first[m.id] = result
            return
        version = self.version(m.item)
        if (m.base or 0) != version:
            assert result["status"] == "conflict", (m, version, result)
            current = result["current"]
            assert (current["item_code"], current["version"], current["value"]) == (m.item, version, self.value(m.item))
            if version:
                assert current["author"]["id"] == self.chains[m.item][-1].author_id, (m, current)
        else:
            assert result["status"] == "applied" and result["version"] == version + 1, (m, version, result)
            self.chains[m.item].append(Revision(m.id, m.value, author_id))
        self.first[m.id] = result


def _str(value) -> str | None:
    return None if value is None else str(value)


def _without_status(result: dict) -> dict:
    return {k: v for k, v in result.items() if k not in ("status", "original_status")}


def _step(function):
    """Mark the machine broken while a step runs, so teardown does not pile a second failure on the first."""

    @functools.wraps(function)
    def wrapper(self, **kwargs):
        self.broken = True
        function(self, **kwargs)
        self.broken = False

    return wrapper


def _value(draw_from: st.DataObject, item: str, kind: str):
    """(typed value, stored value, valid) for an answer.set."""
    if item in COUNT_ITEMS:
        if kind == "invalid":
            sent = draw_from.draw(st.sampled_from([-1, -7, 2.5, "mười", True]), label="invalid count")
            return sent, None, False
        sent = draw_from.draw(st.one_of(st.integers(0, 30), st.integers(0, 30).map(float)), label="count")
        return sent, int(sent), True
    if kind == "invalid":
        return draw_from.draw(st.sampled_from(["maybe", "YES", 1]), label="invalid yes/no"), None, False
    sent = draw_from.draw(st.sampled_from(["yes", "no", "na"]), label="yes/no")
    return sent, sent, True


# ---------------------------------------------------------------------------------------------------------
# The machine


@dataclass
class Env:
    client: object
    connection: object
    host_unit: str
    users: dict  # username → (headers, user id)


class SyncMachine(RuleBasedStateMachine):
    def __init__(self, env: Env):
        super().__init__()
        self.env = env
        self.broken = False
        self.numbers = itertools.count(1)
        self.mutations: dict[str, Mutation] = {}
        db.session.remove()
        self.savepoint = env.connection.begin_nested()
        try:
            self._load()
        except BaseException:
            self._rollback()
            raise

    def _load(self) -> None:
        """The model starts from what the database holds (nothing for these items in the demo data)."""
        answers = db.session.scalars(sa.select(Answer).where(
            Answer.inspection_id == VAN_LANG, Answer.item_code.in_(ITEMS),
            Answer.unit_id == uuid.UUID(self.env.host_unit))).all()
        chains: dict[str, list[Revision]] = {item: [] for item in ITEMS}
        for answer in answers:
            chains[answer.item_code] = [Revision(_str(r.mutation_id), r.value, _str(r.author_id))
                                        for r in answer.revisions]
        self.model = ServerModel(chains)
        cursor = str(current_cursor())
        self.tablets = {
            name: Tablet(username=name, device=f"tablet-{name}", headers=headers, user_id=user_id,
                         view={item: (self.model.value(item), self.model.version(item)) for item in ITEMS},
                         cursor=cursor, pulled={item: self.model.version(item) for item in ITEMS})
            for name, (headers, user_id) in self.env.users.items()
        }

    def _rollback(self) -> None:
        db.session.remove()
        if self.savepoint.is_active:
            self.savepoint.rollback()

    # -- talking to the server ---------------------------------------------------------------------------

    def _post(self, tablet: Tablet, batch: list[Mutation]) -> list[dict]:
        """One POST /sync; the harness checks every result even when the network loses the response."""
        response = self.env.client.post("/api/v1/sync", headers=tablet.headers, json={
            "device_id": tablet.device, "mutations": [m.wire(self.env.host_unit) for m in batch]})
        assert response.status_code == 200, response.get_data(as_text=True)
        results = response.get_json()["results"]
        assert len(results) == len(batch), results
        for m, result in zip(batch, results, strict=True):
            self.model.check(m, result, tablet.user_id)
        return results

    def _receive(self, tablet: Tablet, batch: list[Mutation], results: list[dict]) -> None:
        """The tablet reads a response: the first result for each of its pending mutations settles it."""
        for m, result in zip(batch, results, strict=True):
            if m not in tablet.outbox:
                continue  # repeated in the batch, already settled
            tablet.outbox.remove(m)
            status = result["original_status"] if result["status"] == "duplicate" else result["status"]
            m.seen_by_tablet = status
            if status == "applied":
                tablet.learn(m.item, m.value, result["version"])
            elif status == "conflict":
                tablet.conflicts.append((m, result["current"]))
        tablet.settle()

    def _pull(self, tablet: Tablet) -> None:
        latest: dict[str, dict] = {}
        while True:
            response = self.env.client.get(f"/api/v1/sync/changes?cursor={tablet.cursor}", headers=tablet.headers)
            assert response.status_code == 200, response.get_data(as_text=True)
            body = response.get_json()
            for change in body["changes"]:
                data = change["data"]
                if change["entity_type"] == "answer" and data and data["item_code"] in ITEMS:
                    assert change["inspection_id"] == str(VAN_LANG) and not change["deleted"], change
                    latest[data["item_code"]] = data
            assert int(body["cursor"]) >= int(tablet.cursor), (tablet.cursor, body["cursor"])
            tablet.cursor = body["cursor"]
            if not body["has_more"]:
                break
        for item in ITEMS:
            version = self.model.version(item)
            changed, shown = version > tablet.pulled[item], item in latest
            what = f"feed for {tablet.username}: {item} v{tablet.pulled[item]}→v{version}"
            assert changed or not shown, f"{what} repeats a change already seen"
            assert shown or not changed, f"{what} skips a change"
            if shown:
                data = latest[item]
                assert (data["value"], data["version"], data["unit_id"]) == \
                    (self.model.value(item), version, self.env.host_unit), (item, data)
                tablet.deferred[item] = (data["value"], data["version"])
            tablet.pulled[item] = version
        tablet.settle()

    def _new(self, tablet: Tablet, item: str, kind: str, sent, value, valid: bool, base: int | None,
             explicit_unit: bool, follow_up_of: Mutation | None = None) -> Mutation:
        m = Mutation(number=next(self.numbers), id=str(uuid.uuid4()), tablet=tablet.username, item=item, kind=kind,
                     sent=sent, value=value, valid=valid, base=base, explicit_unit=explicit_unit,
                     follow_up_of=follow_up_of.id if follow_up_of else None,
                     follow_up_of_number=follow_up_of.number if follow_up_of else None)
        self.mutations[m.id] = m
        tablet.outbox.append(m)
        return m

    def _resolve(self, tablet: Tablet, index: int, keep_mine: bool) -> None:
        """The user chooses; a resend that conflicts again is resent again (the choice was already made)."""
        m, current = tablet.conflicts.pop(index)
        tablet.learn(m.item, current["value"], current["version"])
        if keep_mine or m.follow_up_of:
            m.resolution = "mine"
            m.follow_up = self._new(tablet, m.item, m.kind, m.sent, m.value, m.valid, current["version"],
                                    m.explicit_unit, follow_up_of=m).id
        else:
            m.resolution = "theirs"
        tablet.settle()

    # -- rules -------------------------------------------------------------------------------------------

    @initialize(keeps_mine=st.tuples(*(st.booleans() for _ in TABLETS)))
    @_step
    def choose_final_resolutions(self, keeps_mine):
        for tablet, choice in zip(self.tablets.values(), keeps_mine, strict=True):
            tablet.keeps_mine = choice

    @rule(data=st.data(), tablet=st.sampled_from(TABLETS), item=st.sampled_from(ITEMS),
          kind=st.sampled_from(["set", "set", "set", "set", "invalid", "clear", "finding"]),
          chained=st.booleans(), none_for_zero=st.booleans(), explicit_unit=st.booleans())
    @_step
    def edit_offline(self, data, tablet, item, kind, chained, none_for_zero, explicit_unit):
        """A user types an answer (or clears it) with no network: a new mutation on the tablet's known base.
        `chained`: a second offline edit of the same answer counts on the first one being applied.
        "finding": an edit of a finding the server does not have (404). Not an answer mutation, it splits
        the server's bulk run of answers and goes through the one-by-one path, whose savepoint rolls back."""
        tablet = self.tablets[tablet]
        if kind == "finding":
            self._new(tablet, None, "finding.update", str(uuid.uuid4()), None, False, 1, False)
            return
        base = tablet.view[item][1]
        if chained:
            base += sum(1 for m in tablet.outbox if m.item == item)
        if kind == "clear":
            sent = value = None
            valid = True
        else:
            sent, value, valid = _value(data, item, kind)
        self._new(tablet, item, "answer.clear" if kind == "clear" else "answer.set", sent, value, valid,
                  None if base == 0 and none_for_zero else base, explicit_unit)

    @precondition(lambda self: any(t.outbox for t in self.tablets.values()))
    @rule(data=st.data(), fault=st.sampled_from(["deliver", "lose_response", "replay"]), reorder=st.booleans())
    @_step
    def sync_batch(self, data, fault, reorder):
        """Send (some of) the outbox; the network may lose the response after the server committed, or
        deliver the request twice and only the second response; mutations may be repeated and reordered."""
        tablet = self.tablets[data.draw(st.sampled_from([n for n, t in self.tablets.items() if t.outbox]),
                                        label="tablet")]
        batch = list(tablet.outbox)
        if len(batch) > 1 and data.draw(st.booleans(), label="partial"):
            kept = data.draw(st.sets(st.integers(0, len(batch) - 1), min_size=1), label="kept")
            batch = [m for i, m in enumerate(batch) if i in kept]
        batch += data.draw(st.lists(st.sampled_from(batch), max_size=2), label="repeated")
        if reorder:
            batch = list(data.draw(st.permutations(batch), label="order"))
        results = self._post(tablet, batch)
        if fault == "replay":
            results = self._post(tablet, batch)
            assert all(r["status"] == "duplicate" for r in results), results
        if fault != "lose_response":
            self._receive(tablet, batch, results)

    @precondition(lambda self: any(t.outbox for t in self.tablets.values()))
    @rule(tablet=st.sampled_from(TABLETS))
    @_step
    def retry_outbox(self, tablet):
        """The connection is back: the whole outbox, in order, and the response arrives."""
        tablet = self.tablets[tablet]
        if tablet.outbox:
            batch = list(tablet.outbox)
            self._receive(tablet, batch, self._post(tablet, batch))

    @rule(tablet=st.sampled_from(TABLETS))
    @_step
    def pull_changes(self, tablet):
        self._pull(self.tablets[tablet])

    @precondition(lambda self: any(t.conflicts for t in self.tablets.values()))
    @rule(data=st.data(), keep_mine=st.booleans())
    @_step
    def resolve_conflict(self, data, keep_mine):
        tablet = self.tablets[data.draw(st.sampled_from([n for n, t in self.tablets.items() if t.conflicts]),
                                        label="tablet")]
        self._resolve(tablet, data.draw(st.integers(0, len(tablet.conflicts) - 1), label="conflict"), keep_mine)

    # -- invariants --------------------------------------------------------------------------------------

    @invariant()
    @_step
    def server_matches_model(self):
        self._check_server()

    @invariant()
    @_step
    def tablets_only_know_real_states(self):
        for tablet in self.tablets.values():
            for item, (value, version) in tablet.view.items():
                assert version <= self.model.version(item), (tablet.username, item, version)
                if version:
                    assert value == self.model.chains[item][version - 1].value, (tablet.username, item, value)
        for m in self.mutations.values():
            if m.seen_by_tablet is not None:
                assert m.seen_by_tablet == self.model.first[m.id]["status"], m

    def _check_server(self) -> None:
        answers = db.session.scalars(sa.select(Answer).where(
            Answer.inspection_id == VAN_LANG, Answer.item_code.in_(ITEMS))
            .execution_options(populate_existing=True)).all()
        assert all(str(a.unit_id) == self.env.host_unit for a in answers), "an answer landed on another unit"
        by_item = {a.item_code: a for a in answers}
        assert len(by_item) == len(answers), "two answers for one (inspection, item, unit)"
        revisions = db.session.scalars(sa.select(AnswerRevision).where(
            AnswerRevision.answer_id.in_([a.id for a in answers]))
            .order_by(AnswerRevision.answer_id, AnswerRevision.version)).all()
        applied_ids = [str(r.mutation_id) for r in revisions if r.mutation_id]
        assert len(applied_ids) == len(set(applied_ids)), "a mutation was applied twice"
        for item in ITEMS:
            chain = self.model.chains[item]
            answer = by_item.get(item)
            if not chain:
                assert answer is None, (item, answer.value)
                continue
            assert answer is not None, f"{item} lost"
            stored = [(r.version, _str(r.mutation_id), r.value, _str(r.author_id))
                      for r in revisions if r.answer_id == answer.id]
            expected = [(n, rev.mutation_id, rev.value, rev.author_id) for n, rev in enumerate(chain, 1)]
            assert stored == expected, (item, stored, expected)
            assert (answer.version, answer.value) == (len(chain), chain[-1].value), (item, answer.version, answer.value)
            assert str(answer.author_id) == chain[-1].author_id, item
        rows = db.session.scalars(sa.select(SyncMutation).where(
            SyncMutation.device_id.in_([t.device for t in self.tablets.values()]))
            .execution_options(populate_existing=True)).all()
        by_id = {str(row.id): row for row in rows}
        assert len(by_id) == len(rows) and set(by_id) == set(self.model.first), "sync_mutations ≠ mutations seen"
        for mutation_id, row in by_id.items():
            m, first = self.mutations[mutation_id], self.model.first[mutation_id]
            assert row.outcome == first["status"] and row.outcome in OUTCOMES, (m, row.outcome, first)
            assert row.result == first, (m, row.result, first)
            assert (row.type, row.base_version, row.payload) == (m.kind, m.base, m.wire(self.env.host_unit)["payload"])
            assert str(row.user_id) == self.env.users[m.tablet][1], m
            if first["status"] == "applied":
                assert first["entity_id"] == str(by_item[m.item].id), m

    # -- the end of the day ------------------------------------------------------------------------------

    def teardown(self):
        try:
            if not self.broken:
                self._drain()
        finally:
            self._rollback()

    def _drain(self) -> None:
        """Every tablet syncs until its outbox is empty, then nothing typed may be lost."""
        for _ in range(MAX_DRAIN_ROUNDS):
            busy = False
            for tablet in self.tablets.values():
                while tablet.conflicts:
                    self._resolve(tablet, 0, tablet.keeps_mine)
                if tablet.outbox:
                    busy = True
                    batch = list(tablet.outbox)
                    self._receive(tablet, batch, self._post(tablet, batch))
            if not busy:
                break
        assert not any(t.outbox or t.conflicts for t in self.tablets.values()), "sync never settles"
        self._check_server()
        for tablet in self.tablets.values():
            self._pull(tablet)
            for item in ITEMS:
                assert tablet.view[item] == (self.model.value(item), self.model.version(item)), \
                    (tablet.username, item, tablet.view[item])
        for m in self.mutations.values():
            status = self.model.first[m.id]["status"]
            assert status in OUTCOMES and m.seen_by_tablet == status, m
            assert m.valid or status == "rejected", m
            if status == "conflict":
                assert m.resolution in ("mine", "theirs"), m
            end = m
            while end.resolution == "mine":
                end = self.mutations[end.follow_up]
            if m.resolution == "mine":
                assert self.model.first[end.id]["status"] == "applied", (m, end)


def test_sync_protocol_holds_under_lost_responses_retries_and_conflicts(app, client, headers_for, db_session):
    users = {}
    for username in TABLETS:
        user = db.session.scalar(sa.select(User).filter_by(username=username))
        users[username] = (headers_for(username), str(user.id))
    env = Env(client=client, connection=db.engines[None],
              host_unit=str(db.session.get(Inspection, VAN_LANG).host_unit_id), users=users)
    run_state_machine_as_test(lambda: SyncMachine(env), settings=SETTINGS)


# ---------------------------------------------------------------------------------------------------------
# What the machine found, as plain regression tests


@pytest.mark.parametrize("failure", ["rejected", "conflict"])
def test_answers_of_a_bulk_run_reach_the_feed_when_a_later_mutation_of_the_batch_rolls_back(client, headers_for,
                                                                                            failure):
    """Found by the machine: a conflicting or rejected mutation rolls back its savepoint, which used to discard
    the change-feed rows recorded by everything applied before it in the request (fixed in changes.py)."""
    headers = headers_for("kiemtra1")

    def sync(*mutations) -> list[dict]:
        response = client.post("/api/v1/sync", headers=headers, json={"device_id": "t", "mutations": list(mutations)})
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()["results"]

    def mutation(kind: str, payload: dict, base=None) -> dict:
        return {"id": str(uuid.uuid4()), "type": kind, "inspection_id": str(VAN_LANG), "base_version": base,
                "payload": payload, "client_time": CLIENT_TIME}

    finding_id = str(uuid.uuid4())
    if failure == "conflict":
        created = sync(mutation("finding.create", {"id": finding_id, "text": "Sổ ghi tay.", "section_code": "D"}))
        assert created[0]["status"] == "applied"
    cursor = current_cursor()
    results = sync(mutation("answer.set", {"item_code": "D1", "value": 5}),  # the bulk path
                   mutation("answer.set", {"item_code": "D3", "value": 6}),
                   mutation("finding.update", {"finding_id": finding_id, "text": "Sửa."}, base=7))  # one by one
    assert [r["status"] for r in results] == ["applied", "applied", failure]
    feed = client.get(f"/api/v1/sync/changes?cursor={cursor}", headers=headers).get_json()
    assert {c["data"]["item_code"] for c in feed["changes"] if c["entity_type"] == "answer"} == {"D1", "D3"}, feed
