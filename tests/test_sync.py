"""Batch sync, the change feed, bundles and review, through the API against a real database."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from audit_api.extensions import db
from audit_api.models import Answer, AnswerRevision, ChangeLogEntry, Finding, Inspection, SyncMutation
from audit_api.services.demo import SECTION_ASSIGNEES, demo_id

VAN_LANG = demo_id("insp-vanlang-2024")  # tthc-2018; A–C kiemtra1 (deputy), D–F kiemtra2, G–H thuky
TAN_THANH_2024 = demo_id("unit:LSN-X-TANTHANH-2024")


def mutation(kind: str, payload: dict, *, base: int | None = None, inspection=VAN_LANG, id=None) -> dict:
    return {"id": str(id or uuid.uuid4()), "type": kind, "inspection_id": str(inspection), "base_version": base,
            "payload": payload, "client_time": "2024-06-24T09:30:00+07:00"}


def answer(code: str, value, *, base=None, unit=None, **extra) -> dict:
    payload = {"item_code": code, "value": value, **extra}
    if unit:
        payload["unit_id"] = str(unit)
    return mutation("answer.set", payload, base=base)


@pytest.fixture
def sync(client, headers_for):
    def post(username: str, *mutations, device: str = "tablet-1"):
        response = client.post("/api/v1/sync", headers=headers_for(username),
                               json={"device_id": device, "mutations": list(mutations)})
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    return post


def stored(code: str, unit=None) -> Answer | None:
    inspection = db.session.get(Inspection, VAN_LANG)
    return db.session.scalar(sa.select(Answer).filter_by(inspection_id=VAN_LANG, item_code=code,
                                                         unit_id=unit or inspection.host_unit_id))


def test_an_answer_is_applied_as_version_1_with_a_revision(sync):
    m = answer("D3", 93, note="Sổ theo dõi hồ sơ", period={"from": "2024-01-01", "to": "2024-06-20"},
               source="information_system")
    result = sync("kiemtra2", m)["results"][0]
    assert result["status"] == "applied" and result["version"] == 1
    row = stored("D3")
    assert (row.value, row.version, row.note, row.source) == (93, 1, "Sổ theo dõi hồ sơ", "information_system")
    assert str(row.period_from) == "2024-01-01" and row.client_time.isoformat() == "2024-06-24T02:30:00+00:00"
    revision = db.session.scalar(sa.select(AnswerRevision).filter_by(answer_id=row.id))
    assert revision.version == 1 and str(revision.mutation_id) == m["id"]


def test_a_retried_mutation_is_a_duplicate_and_changes_nothing(sync):
    m = answer("D3", 93)
    first = sync("kiemtra2", m)["results"][0]
    again = sync("kiemtra2", m, device="tablet-1")["results"][0]
    assert again["status"] == "duplicate" and again["original_status"] == "applied"
    assert again["version"] == first["version"] == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AnswerRevision)
                             .join(Answer).where(Answer.item_code == "D3", Answer.inspection_id == VAN_LANG)) == 1


def test_an_edit_on_a_stale_base_is_a_conflict_and_overwrites_nothing(sync):
    sync("kiemtra2", answer("D3", 93))
    second_tablet = sync("kiemtra1", answer("D3", 90), device="tablet-2")["results"][0]  # also created offline
    assert second_tablet["status"] == "conflict"
    current = second_tablet["current"]
    assert current["value"] == 93 and current["version"] == 1 and current["author"]["full_name"] == "Hoàng Văn Nam"
    assert stored("D3").value == 93
    keep_mine = sync("kiemtra1", answer("D3", 90, base=1), device="tablet-2")["results"][0]
    assert keep_mine["status"] == "applied" and keep_mine["version"] == 2 and stored("D3").value == 90


def test_invalid_values_are_rejected_kept_and_do_not_block_the_batch(sync):
    bad = answer("H2", {"numerator": 18, "denominator": 17})
    good = answer("D3", 93)
    results = sync("kiemtra1", bad, good)["results"]
    assert [r["status"] for r in results] == ["rejected", "applied"]
    problem = results[0]["problem"]
    assert problem["status"] == 422 and "Tử số (18) không được lớn hơn mẫu số (17)" in problem["detail"]
    kept = db.session.get(SyncMutation, uuid.UUID(bad["id"]))
    assert kept.outcome == "rejected" and kept.payload == bad["payload"] and kept.problem["status"] == 422


@pytest.mark.parametrize(("username", "payload", "status", "words"), [
    ("kiemtra2", {"item_code": "Z99", "value": 1}, 422, "không có mục Z99"),
    ("kiemtra2", {"item_code": "D3", "value": -1}, 422, "lớn hơn hoặc bằng 0"),
    ("kiemtra2", {"item_code": "D3", "value": 1, "unit_id": str(demo_id("unit:TNG-X-1"))}, 422, "không thuộc"),
    ("kiemtra2", {"item_code": "A5", "value": "yes"}, 403, "thành viên khác"),
    ("kiemtra2", {"item_code": "D3", "value": 1, "colour": "red"}, 422, "không hợp lệ"),
    ("kiemtra-tng", {"item_code": "D3", "value": 1}, 404, "Không tìm thấy"),
])
def test_mutations_that_may_not_apply_are_rejected_with_a_problem(sync, username, payload, status, words):
    result = sync(username, mutation("answer.set", payload))["results"][0]
    assert result["status"] == "rejected" and result["problem"]["status"] == status
    assert words in result["problem"]["detail"] or words in str(result["problem"].get("errors"))


def test_a_malformed_mutation_gets_a_result_and_is_kept(sync):
    results = sync("kiemtra2", {"type": "answer.set", "payload": {"item_code": "D3"}}, answer("D3", 5))["results"]
    assert results[0]["status"] == "rejected" and "id" in results[0]["problem"]["errors"]
    assert results[1]["status"] == "applied"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SyncMutation)
                             .where(SyncMutation.outcome == "rejected", SyncMutation.type == "answer.set")) >= 1


def test_a_batch_over_the_cap_is_413_and_applies_nothing(client, app, headers_for):
    cap = app.config["SYNC_BATCH_MAX"]
    mutations = [answer("D3", n) for n in range(cap + 1)]
    response = client.post("/api/v1/sync", headers=headers_for("kiemtra2"),
                           json={"device_id": "t", "mutations": mutations})
    assert response.status_code == 413 and response.mimetype == "application/problem+json"
    assert str(cap) in response.get_json()["detail"]
    assert stored("D3") is None


def test_answers_may_concern_a_sub_unit(sync):
    result = sync("kiemtra1", answer("B2", "no", unit=TAN_THANH_2024))["results"][0]
    assert result["status"] == "applied"
    assert stored("B2", TAN_THANH_2024).value == "no" and stored("B2") is None


def test_clearing_an_answer_keeps_its_history(sync):
    sync("kiemtra2", answer("D3", 93))
    cleared = sync("kiemtra2", mutation("answer.clear", {"item_code": "D3"}, base=1))["results"][0]
    assert cleared["status"] == "applied" and cleared["version"] == 2
    row = stored("D3")
    assert row.value is None and [r.value for r in row.revisions] == [93, None]


def test_manual_findings_are_created_edited_with_versions_and_dropped_not_erased(sync):
    finding_id = str(uuid.uuid4())
    create = mutation("finding.create", {"id": finding_id, "text": "Sổ theo dõi hồ sơ ghi chép không đầy đủ.",
                                         "section_code": "D"})
    assert sync("kiemtra2", create)["results"][0]["status"] == "applied"
    stale = sync("kiemtra2", mutation("finding.update", {"finding_id": finding_id, "text": "x"}, base=0))
    assert stale["results"][0]["status"] == "conflict"
    edit = sync("kiemtra2", mutation("finding.update", {"finding_id": finding_id, "text": "Sổ ghi chép thiếu."},
                                     base=1))
    assert edit["results"][0]["version"] == 2
    drop = sync("kiemtra2", mutation("finding.delete", {"finding_id": finding_id, "reason": "Trùng với D6"}, base=2))
    assert drop["results"][0]["status"] == "applied"
    finding = db.session.get(Finding, uuid.UUID(finding_id))
    assert (finding.status, finding.drop_reason, finding.text) == ("dropped", "Trùng với D6", "Sổ ghi chép thiếu.")


def test_review_returns_a_section_with_a_comment_the_author_sees_after_the_next_sync(client, sync, headers_for):
    sync("kiemtra2", answer("D3", 93))
    cursor = sync("kiemtra2", mutation("section.submit", {"section_code": "D"}))["cursor"]
    locked = sync("kiemtra2", answer("D3", 94, base=1))["results"][0]
    assert locked["status"] == "rejected" and locked["problem"]["status"] == 403
    returned = client.post(f"/api/v1/inspections/{VAN_LANG}/sections/D/review", headers=headers_for("truongdoan"),
                           json={"decision": "return", "comment": "Bổ sung số liệu hồ sơ quá hạn cấp xã."})
    assert returned.status_code == 200 and returned.get_json()["status"] == "returned"
    feed = client.get(f"/api/v1/sync/changes?cursor={cursor}", headers=headers_for("kiemtra2")).get_json()
    section = next(c["data"] for c in feed["changes"] if c["entity_type"] == "section")
    assert section["status"] == "returned" and section["review_comment"].startswith("Bổ sung số liệu")
    assert sync("kiemtra2", answer("D3", 94, base=1))["results"][0]["status"] == "applied"


def test_returning_needs_a_comment_and_only_reviewers_review(client, sync, headers_for):
    sync("kiemtra2", mutation("section.submit", {"section_code": "D"}))
    url = f"/api/v1/inspections/{VAN_LANG}/sections/D/review"
    assert client.post(url, headers=headers_for("truongdoan"), json={"decision": "return"}).status_code == 422
    assert client.post(url, headers=headers_for("kiemtra2"), json={"decision": "approve"}).status_code == 403


def test_an_approved_inspection_is_read_only_until_the_lead_reopens_it(client, sync, headers_for):
    lead = headers_for("truongdoan")
    for code, owner in SECTION_ASSIGNEES.items():
        assert sync(owner, mutation("section.submit", {"section_code": code}))["results"][0]["status"] == "applied"
    assert db.session.get(Inspection, VAN_LANG).status == "submitted"
    assert client.post(f"/api/v1/inspections/{VAN_LANG}/approve", headers=lead).get_json()["status"] == "approved"
    refused = sync("kiemtra2", answer("D3", 1))["results"][0]
    assert refused["status"] == "rejected" and refused["problem"]["status"] == 403
    assert client.post(f"/api/v1/inspections/{VAN_LANG}/reopen", headers=lead).get_json()["status"] == "in_progress"
    assert sync("kiemtra2", answer("D3", 1))["results"][0]["status"] == "applied"


def test_the_change_feed_pages_and_never_repeats_what_was_seen(client, sync, headers_for):
    start = sync("kiemtra2", answer("D1", 100))["cursor"]
    sync("kiemtra2", answer("D3", 93), answer("D5", 0))
    headers = headers_for("kiemtra2")
    first = client.get(f"/api/v1/sync/changes?cursor={start}&limit=1", headers=headers).get_json()
    assert len(first["changes"]) == 1 and first["has_more"] is True
    rest = client.get(f"/api/v1/sync/changes?cursor={first['cursor']}", headers=headers).get_json()
    seen = [c["data"]["item_code"] for c in first["changes"] + rest["changes"] if c["entity_type"] == "answer"]
    assert sorted(seen) == ["D3", "D5"]
    after = client.get(f"/api/v1/sync/changes?cursor={rest['cursor']}", headers=headers).get_json()
    assert after["changes"] == [] and after["has_more"] is False and int(after["cursor"]) >= int(rest["cursor"])


def test_the_feed_shows_only_what_the_caller_may_see(client, sync, headers_for):
    start = sync("kiemtra2", answer("D1", 100))["cursor"]
    sync("kiemtra2", answer("D3", 93))
    outsider = client.get(f"/api/v1/sync/changes?cursor={int(start) - 1}", headers=headers_for("kiemtra-tng"))
    assert all(c["inspection_id"] != str(VAN_LANG) for c in outsider.get_json()["changes"])


def test_change_log_rows_are_written_once_per_entity_per_commit(sync):
    before = db.session.scalar(sa.select(sa.func.max(ChangeLogEntry.seq))) or 0
    d3 = answer("D3", 1)
    sync("kiemtra2", d3, answer("D3", 2, base=1), answer("D3", 3, base=2))
    rows = db.session.scalars(sa.select(ChangeLogEntry).where(ChangeLogEntry.seq > before,
                                                              ChangeLogEntry.entity_type == "answer")).all()
    assert len(rows) == 1


def test_bundle_has_everything_offline_work_needs_with_an_etag(client, sync, headers_for):
    sync("kiemtra2", answer("D3", 93))
    headers = headers_for("kiemtra2")
    response = client.get(f"/api/v1/inspections/{VAN_LANG}/bundle", headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["inspection"]["checklist"]["key"] == "tthc-2018"
    assert {u["role"] for u in body["units"]} == {"host", "sub_unit"} and len(body["units"]) == 3
    assert any(a["item_code"] == "D3" and a["version"] == 1 for a in body["answers"])
    assert {s["section_code"] for s in body["sections"]} == set("ABCDEFGH")
    assert int(body["cursor"]) > 0 and "carried_actions" in body and "photos" in body
    etag = response.headers["ETag"]
    assert client.get(f"/api/v1/inspections/{VAN_LANG}/bundle", headers={**headers, "If-None-Match": etag}) \
        .status_code == 304
    sync("kiemtra2", answer("D3", 94, base=1))
    changed = client.get(f"/api/v1/inspections/{VAN_LANG}/bundle", headers={**headers, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_unit_accounts_cannot_sync(client, headers_for):
    response = client.post("/api/v1/sync", headers=headers_for("dv-vanlang"),
                           json={"device_id": "x", "mutations": [answer("D3", 1)]})
    assert response.status_code == 403


def test_the_van_lang_figures_entered_on_tablets_produce_the_worked_example(client, sync, headers_for):
    """DOMAIN.md §3.11 end to end: seed 001's figures sent as sync batches, findings read from the bundle."""
    bac_viet = demo_id("unit:LSN-X-BACVIET")
    sync("kiemtra1", answer("B2", "no", unit=TAN_THANH_2024), answer("B2", "no", unit=bac_viet),
         answer("C11", {"numerator": 85, "denominator": 320}))
    sync("kiemtra2", answer("D3", 93), answer("D6", {"numerator": 6118, "denominator": 6118}), answer("D13", 14),
         answer("E3", "no"), answer("F6", {"numerator": 12, "denominator": 6118}))
    sync("thuky", answer("H2", {"numerator": 15, "denominator": 17}))
    body = client.get(f"/api/v1/inspections/{VAN_LANG}/bundle", headers=headers_for("truongdoan")).get_json()
    findings = {(f["kind"], f["item_code"], f["unit_id"]): f for f in body["findings"]}
    host = str(db.session.get(Inspection, VAN_LANG).host_unit_id)
    texts = {key: f["text"] for key, f in findings.items()}
    assert texts[("finding", "H2", host)] == \
        "Còn 02/17 nhiệm vụ được UBND tỉnh, Chủ tịch UBND tỉnh giao chưa hoàn thành đúng hạn."
    assert texts[("finding", "D3", host)].endswith("còn nhiều (93 hồ sơ).")
    assert texts[("finding", "E3", host)] == "Việc khai thác hồ sơ đã được số hóa để tái sử dụng chưa đảm bảo."
    assert "bưu chính công ích" in texts[("finding", "F6", host)]
    assert texts[("finding", "C11", host)] == "Còn 85 cán bộ, công chức cấp xã chưa đạt chuẩn theo quy định."
    assert "xã Tân Thanh" in texts[("finding", "B2", str(TAN_THANH_2024))]
    assert "xã Bắc Việt" in texts[("finding", "B2", str(bac_viet))]
    assert texts[("strength", "D6", host)].startswith("100% hồ sơ TTHC")
    assert "14 thủ tục hành chính" in texts[("strength", "D13", host)]
    d3 = findings[("finding", "D3", host)]["id"]
    assert len([r for r in body["recommendations"] if r["finding_id"] == d3]) == 2  # D3 and the apology letter


def test_a_rejected_mutation_does_not_hide_earlier_changes_of_the_batch_from_the_feed(client, sync, headers_for):
    """Regression (found by the sync state machine): a rolled-back savepoint dropped the feed entries of the
    mutations applied before it in the same request."""
    start = sync("kiemtra1", answer("D1", 1))["cursor"]
    finding_id = str(uuid.uuid4())
    create = mutation("finding.create", {"id": finding_id, "text": "Hạn chế ghi tay.", "section_code": "D"})
    stale = mutation("finding.update", {"finding_id": finding_id, "text": "Sửa."}, base=7)  # conflict: slow path
    results = sync("kiemtra1", create, stale)["results"]
    assert [r["status"] for r in results] == ["applied", "conflict"]
    feed = client.get(f"/api/v1/sync/changes?cursor={start}", headers=headers_for("thuky")).get_json()
    assert finding_id in {c["entity_id"] for c in feed["changes"] if c["entity_type"] == "finding"}


def test_a_hidden_item_takes_no_answer_until_an_earlier_answer_of_the_batch_reveals_it(sync):
    """D4 (apology letters for overdue dossiers) is asked only when D3 (overdue dossiers) is above 0."""
    hidden = sync("kiemtra2", answer("D4", {"numerator": 1, "denominator": 3}))["results"][0]
    assert hidden["status"] == "rejected" and "đang ẩn" in hidden["problem"]["detail"]
    revealed = sync("kiemtra2", answer("D3", 3), answer("D4", {"numerator": 1, "denominator": 3}))["results"]
    assert [r["status"] for r in revealed] == ["applied", "applied"]


TAN_THANH_2026 = demo_id("insp-tanthanh-2026")  # tthc-2025, a commune and its public-service centre
VALID_AND_INVALID = {  # item → (a valid value, an invalid one), one item per answer type the checklists use
    "A5": ("na", "maybe"),
    "A7": (0, 2.5),
    "B2a": (45.5, "rộng"),
    "G5": (92.5, 101),
    "A4": ({"numerator": 9, "denominator": 10}, {"numerator": 11, "denominator": 10}),
    "B8": ("not_connected", "connected-ish"),
    "A6": (["touch_screen", "board"], ["board", "board"]),
    "C1": ({"number": "15/QĐ-UBND", "date": "2025-08-01", "issuer": "UBND xã Tân Thanh"}, {"date": "2025-08-01"}),
    "D10": ([{"dossier_code": "H49.01-250801-0001", "received_on": "2025-08-01"}], [{"nope": 1}]),
}


@pytest.mark.parametrize("code", sorted(VALID_AND_INVALID))
def test_every_answer_type_takes_a_valid_value_and_refuses_an_invalid_one(sync, code):
    valid, invalid = VALID_AND_INVALID[code]
    good = mutation("answer.set", {"item_code": code, "value": valid}, inspection=TAN_THANH_2026)
    bad = mutation("answer.set", {"item_code": code, "value": invalid}, inspection=TAN_THANH_2026)
    results = sync("kiemtra1", good, bad)["results"]
    assert [r["status"] for r in results] == ["applied", "rejected"], results
    assert results[1]["problem"]["status"] == 422 and results[1]["problem"]["errors"]["value"]
    stored_value = db.session.scalar(sa.select(Answer.value).filter_by(inspection_id=TAN_THANH_2026, item_code=code))
    assert stored_value == (["board", "touch_screen"] if code == "A6" else valid)  # options keep checklist order


def test_a_text_answer(sync):
    result = sync("thuky", answer("H10a", "Xếp hạng Chỉ số CCHC năm 2023: 5/11 huyện."))["results"][0]
    assert result["status"] == "applied"
    assert sync("thuky", answer("H10a", "", base=1))["results"][0]["status"] == "rejected"


def test_open_corrective_actions_of_the_unit_come_with_its_next_inspection(client, headers_for):
    from audit_api.models import CorrectiveAction, Document, Recommendation

    host = db.session.get(Inspection, TAN_THANH_2026).host_unit_id
    document = Document(kind="minutes", status="draft", inspection_id=VAN_LANG)
    db.session.add(document)
    db.session.flush()
    actions = []
    for text, status in (("Bổ sung camera kết nối cấp trên.", "open"), ("Niêm yết lại TTHC.", "accepted")):
        recommendation = Recommendation(inspection_id=VAN_LANG, responsible_unit_id=host, text=text)
        db.session.add(recommendation)
        db.session.flush()
        actions.append(CorrectiveAction(recommendation_id=recommendation.id, document_id=document.id, unit_id=host,
                                        text=text, status=status))
    db.session.add_all(actions)
    db.session.commit()
    bundle = client.get(f"/api/v1/inspections/{TAN_THANH_2026}/bundle", headers=headers_for("kiemtra1")).get_json()
    assert [a["text"] for a in bundle["carried_actions"]] == ["Bổ sung camera kết nối cấp trên."]


# --- the rules after a batch: answers held by the run, or read afresh -------------------------------------


def rule_state() -> dict:
    """Every rule finding of Văn Lãng with its wording, flags, recommendations and linked answers."""
    from audit_api.models import Recommendation, finding_answers

    db.session.expire_all()
    found = db.session.scalars(sa.select(Finding).filter_by(inspection_id=VAN_LANG, origin="rule")).all()
    return {f.rule_key: (f.text, f.generated_text, f.status, f.is_incomplete, f.version,
                         sorted(db.session.scalars(sa.select(Recommendation.text).filter_by(finding_id=f.id))),
                         sorted(map(str, db.session.scalars(sa.select(finding_answers.c.answer_id)
                                                            .where(finding_answers.c.finding_id == f.id)))))
            for f in found}


def ratio(numerator: int, denominator: int) -> dict:
    return {"numerator": numerator, "denominator": denominator}


MIXED_BATCH = (  # after D3 = 5, E1 = 3/10 and E3 = "no" were applied (each at version 1)
    ("applied", lambda: answer("D4", ratio(1, 5))),  # visible: D3 > 0 as read under the lock
    ("applied", lambda: answer("D3", 2, base=1)),  # an update
    ("applied", lambda: mutation("answer.clear", {"item_code": "E3"}, base=1)),  # a clear
    ("conflict", lambda: answer("E1", ratio(9, 10))),  # stale base
    ("rejected", lambda: answer("E1", ratio(18, 17), base=1)),  # invalid value
    ("applied", lambda: answer("D3", 4, unit=TAN_THANH_2024)),  # a new answer on a sub-unit
    ("applied", lambda: answer("D3", 0, base=2)),  # D3 back to 0: its finding goes, D4 is hidden again
)


@pytest.mark.parametrize(("finding_at", "reads_on_sqlite"), [(None, 0), (3, 0), (len(MIXED_BATCH), 1)],
                         ids=["answers only", "a finding between two runs", "a finding after the last run"])
def test_the_rules_after_a_batch_agree_with_a_fresh_read_of_the_answers(sync, monkeypatch, finding_at,
                                                                        reads_on_sqlite):
    """Where writers take turns (SQLite) the rules take the answers the batch's last run read under the lock
    and changed in memory, unless another kind of mutation came after it; otherwise (and on PostgreSQL) they
    read them. Either way they produce what a fresh read produces."""
    from audit_api.services import rules

    sync("kiemtra1", answer("D3", 5), answer("E1", ratio(3, 10)), answer("E3", "no"))
    reads, read = [], rules.answer_rows
    monkeypatch.setattr(rules, "answer_rows", lambda *args, **kwargs: reads.append(args) or read(*args, **kwargs))
    mutations, expected = [make() for _, make in MIXED_BATCH], [status for status, _ in MIXED_BATCH]
    if finding_at is not None:
        mutations.insert(finding_at, mutation("finding.create", {"id": str(uuid.uuid4()), "text": "Ghi tay.",
                                                                 "section_code": "D"}))
        expected.insert(finding_at, "applied")
    assert [r["status"] for r in sync("kiemtra1", *mutations)["results"]] == expected
    assert len(reads) == (reads_on_sqlite if db.engine.dialect.name == "sqlite" else 1)
    after_batch = rule_state()
    assert any(key.startswith("D3:") for key in after_batch) and not any(key.startswith("E3:") for key in after_batch)
    monkeypatch.undo()
    report = rules.regenerate(db.session.get(Inspection, VAN_LANG))  # reads the answers
    assert (report.created, report.updated, report.flagged, report.removed) == ([], [], [], [])
    assert rule_state() == after_batch


def test_the_cursor_a_batch_returns_covers_its_own_changes_and_nothing_later(client, sync, headers_for):
    cursor = sync("kiemtra2", answer("D3", 93), answer("D1", 4))["cursor"]
    assert int(cursor) == db.session.scalar(sa.select(sa.func.max(ChangeLogEntry.seq)))
    feed = client.get(f"/api/v1/sync/changes?cursor={cursor}", headers=headers_for("kiemtra2")).get_json()
    assert feed["changes"] == []
    sync("kiemtra2", answer("D3", 94, base=1))
    feed = client.get(f"/api/v1/sync/changes?cursor={cursor}", headers=headers_for("kiemtra2")).get_json()
    assert [(c["entity_type"], c["data"]["item_code"]) for c in feed["changes"] if c["entity_type"] == "answer"] == [
        ("answer", "D3")]
