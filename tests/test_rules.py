"""The rules engine (services/rules.py) on the demo inspections: DOMAIN.md §3.11 worked example, the data
reconciliation, visibility and applicability, province thresholds, and regeneration that never overwrites
a person's work."""

from __future__ import annotations

import copy
from datetime import date

import pytest
import sqlalchemy as sa

from audit_api.extensions import db
from audit_api.models import (
    Answer,
    ChangeLogEntry,
    ChecklistVersion,
    Finding,
    Inspection,
    Recommendation,
    ThresholdOverride,
    Unit,
    finding_answers,
)
from audit_api.services.demo import demo_id
from audit_api.services.rules import Evaluation, answer_rows, regenerate

TAN_THANH = demo_id("unit:LSN-X-TANTHANH-2024")
BAC_VIET = demo_id("unit:LSN-X-BACVIET")


@pytest.fixture
def van_lang() -> Inspection:
    return db.session.get(Inspection, demo_id("insp-vanlang-2024"))


@pytest.fixture
def tan_thanh_2026() -> Inspection:
    return db.session.get(Inspection, demo_id("insp-tanthanh-2026"))


def answer(inspection: Inspection, code: str, value, unit=None, **extra) -> Answer:
    row = Answer(inspection_id=inspection.id, item_code=code, unit_id=unit or inspection.host_unit_id, value=value,
                 version=1, **extra)
    db.session.add(row)
    db.session.flush()
    return row


def ratio(numerator: int, denominator: int) -> dict:
    return {"numerator": numerator, "denominator": denominator}


def findings(inspection: Inspection, code: str | None = None) -> list[Finding]:
    query = sa.select(Finding).filter_by(inspection_id=inspection.id, origin="rule").order_by(Finding.sort_order)
    if code:
        query = query.filter_by(item_code=code)
    return list(db.session.scalars(query))


def only(inspection: Inspection, code: str) -> Finding:
    found = findings(inspection, code)
    assert len(found) == 1, [f.text for f in found]
    return found[0]


def linked_answers(finding: Finding) -> set:
    return set(db.session.scalars(sa.select(finding_answers.c.answer_id).where(
        finding_answers.c.finding_id == finding.id)))


def recommendations(finding: Finding) -> list[Recommendation]:
    return list(db.session.scalars(sa.select(Recommendation).filter_by(finding_id=finding.id)
                                   .order_by(Recommendation.sort_order)))


# --- DOMAIN.md §3.11: UBND huyện Văn Lãng, 24/6/2024 --------------------------------------------------


def test_h2_unfinished_provincial_tasks_become_a_finding_with_padded_figures(van_lang):
    h2 = answer(van_lang, "H2", ratio(15, 17))
    regenerate(van_lang)
    finding = only(van_lang, "H2")
    assert finding.text == "Còn 02/17 nhiệm vụ được UBND tỉnh, Chủ tịch UBND tỉnh giao chưa hoàn thành đúng hạn."
    assert (finding.kind, finding.unit_id, finding.section_code, finding.status) == (
        "finding", van_lang.host_unit_id, "H", "draft")
    assert finding.generated_text == finding.text and finding.severity == "major" and finding.version == 1
    assert finding.rule_key == f"H2:0:{van_lang.host_unit_id}"
    assert len(recommendations(finding)) == 1 and linked_answers(finding) == {h2.id}


def test_d6_all_dossiers_on_the_system_is_a_strength(van_lang):
    answer(van_lang, "D6", ratio(6118, 6118))
    regenerate(van_lang)
    strength = only(van_lang, "D6")
    assert strength.kind == "strength"
    assert strength.text == "100% hồ sơ TTHC được cập nhật lên Hệ thống thông tin giải quyết TTHC của tỉnh."
    assert recommendations(strength) == []


def test_d13_procedures_proposed_for_shorter_deadlines_is_a_strength(van_lang):
    answer(van_lang, "D13", 14)
    regenerate(van_lang)
    strength = only(van_lang, "D13")
    assert strength.kind == "strength" and "14 thủ tục hành chính" in strength.text


def test_d3_overdue_dossiers_finding_carries_the_d3_and_apology_recommendations(van_lang):
    answer(van_lang, "D3", 93)
    regenerate(van_lang)
    finding = only(van_lang, "D3")
    assert finding.text == "Số lượng hồ sơ giải quyết chậm hạn tại huyện Văn Lãng còn nhiều (93 hồ sơ)."
    recs = recommendations(finding)
    assert len(recs) == 2
    assert recs[0].text.startswith("Tăng cường kiểm tra, giám sát, đôn đốc") and "Phiếu xin lỗi" in recs[1].text
    assert all(r.origin == "rule" and r.responsible_unit_id == van_lang.host_unit_id and r.version == 1 for r in recs)
    assert [r.sort_order for r in recs] == [0, 1]


def test_e3_reuse_of_digitised_dossiers_judged_insufficient(van_lang):
    answer(van_lang, "E3", "no")
    regenerate(van_lang)
    assert only(van_lang, "E3").text == "Việc khai thác hồ sơ đã được số hóa để tái sử dụng chưa đảm bảo."


def test_f6_low_public_postal_share_prints_one_decimal(van_lang):
    answer(van_lang, "F6", ratio(12, 6118))
    regenerate(van_lang)
    text = only(van_lang, "F6").text
    assert "bưu chính công ích" in text and "(0,2%)" in text


def test_b2_findings_attach_to_each_sub_unit(van_lang):
    tan_thanh = answer(van_lang, "B2", "no", unit=TAN_THANH)
    answer(van_lang, "B2", "no", unit=BAC_VIET)
    regenerate(van_lang)
    by_unit = {f.unit_id: f for f in findings(van_lang, "B2")}
    assert set(by_unit) == {TAN_THANH, BAC_VIET}
    assert by_unit[TAN_THANH].text == "Cơ sở vật chất, diện tích Bộ phận Một cửa xã Tân Thanh chưa đáp ứng yêu cầu."
    assert by_unit[BAC_VIET].text == "Cơ sở vật chất, diện tích Bộ phận Một cửa xã Bắc Việt chưa đáp ứng yêu cầu."
    assert linked_answers(by_unit[TAN_THANH]) == {tan_thanh.id}
    assert [r.responsible_unit_id for r in recommendations(by_unit[BAC_VIET])] == [BAC_VIET]


def test_c11_commune_officials_below_standard(van_lang):
    answer(van_lang, "C11", ratio(85, 320))
    regenerate(van_lang)
    finding = only(van_lang, "C11")
    assert finding.text == "Còn 85 cán bộ, công chức cấp xã chưa đạt chuẩn theo quy định."
    assert len(recommendations(finding)) == 1


def test_worked_example_as_a_whole(van_lang):
    for code, value in (("H2", ratio(15, 17)), ("D6", ratio(6118, 6118)), ("D13", 14), ("D3", 93), ("E3", "no"),
                        ("F6", ratio(12, 6118)), ("C11", ratio(85, 320))):
        answer(van_lang, code, value)
    for unit in (TAN_THANH, BAC_VIET):
        answer(van_lang, "B2", "no", unit=unit)
    report = regenerate(van_lang)
    got = sorted((f.item_code, f.kind, len(recommendations(f))) for f in findings(van_lang))
    assert got == [("B2", "finding", 1), ("B2", "finding", 1), ("C11", "finding", 1), ("D13", "strength", 0),
                   ("D3", "finding", 2), ("D6", "strength", 0), ("E3", "finding", 1), ("F6", "finding", 1),
                   ("H2", "finding", 1)]
    assert len(report.created) == 9 and not (report.updated or report.flagged or report.removed)


# --- reconciliation (seed 000 figures) ---------------------------------------------------------------


def seed_000_figures(inspection: Inspection, received: int) -> list[Answer]:
    return [answer(inspection, code, value)
            for code, value in (("D1", received), ("D1e", 70320), ("D1f", 1759), ("D1g", 0))]


def test_figures_that_do_not_add_up_become_a_data_quality_finding(van_lang):
    used = seed_000_figures(van_lang, 72076)
    regenerate(van_lang)
    finding = only(van_lang, "D14")
    assert finding.text == ("Số liệu báo cáo chưa khớp: tiếp nhận 72.076 hồ sơ ≠ đã giải quyết 70.320 "
                            "+ đang giải quyết 1.759 + rút, dừng 0 hồ sơ.")
    assert finding.section_code == "D" and finding.severity == "minor"
    assert linked_answers(finding) == {a.id for a in used}


def test_figures_that_add_up_give_no_data_quality_finding(van_lang):
    seed_000_figures(van_lang, 72079)
    regenerate(van_lang)
    assert findings(van_lang, "D14") == []


# --- when rules do not fire --------------------------------------------------------------------------


def pin_e3_variant(inspection: Inspection, **rule_changes) -> None:
    """Pin the inspection to a copy of its checklist whose E3 rule is changed (a case no real file has)."""
    definition = copy.deepcopy(inspection.checklist_version.definition)
    e3 = next(i for s in definition["sections"] for i in s["items"] if i["code"] == "E3")
    e3["rules"][0].update(rule_changes)
    version = ChecklistVersion(key="tthc-rules-test", version=1, title="test", regime_valid_from=date(2018, 1, 1),
                               sha256="0" * 64, definition=definition, source_file="test.yaml")
    db.session.add(version)
    inspection.checklist_version = version


def test_na_never_fires_a_threshold(van_lang):
    """No yes/no item of the checklists uses fails_threshold, so a copy of tthc-2018 gets one for E3."""
    pin_e3_variant(van_lang, when="fails_threshold")
    na = answer(van_lang, "E3", "na")
    answer(van_lang, "E3", "no", unit=TAN_THANH)
    regenerate(van_lang)
    assert [f.unit_id for f in findings(van_lang, "E3")] == [TAN_THANH]
    na.value = "yes"
    regenerate(van_lang)
    assert [f.unit_id for f in findings(van_lang, "E3")] == [TAN_THANH]


def test_na_answer_fires_none_of_the_items_rules(van_lang):
    answer(van_lang, "B2", "na")
    answer(van_lang, "E3", "na")
    regenerate(van_lang)
    assert findings(van_lang) == []


def test_item_hidden_by_visible_if_does_not_fire(van_lang):
    """D4 (apology letters) is asked only when D3 (overdue dossiers) > 0."""
    d3 = answer(van_lang, "D3", 0)
    answer(van_lang, "D4", ratio(0, 5))
    regenerate(van_lang)
    assert findings(van_lang, "D4") == []
    d3.value = 5
    regenerate(van_lang)
    assert only(van_lang, "D4").text == (
        "Chưa thực hiện Phiếu xin lỗi và hẹn lại ngày trả kết quả đối với 5/5 hồ sơ quá hạn.")


def test_visibility_reads_the_condition_on_the_same_unit(van_lang):
    d4 = next(i for s in van_lang.checklist_version.definition["sections"] for i in s["items"] if i["code"] == "D4")
    h2 = next(i for s in van_lang.checklist_version.definition["sections"] for i in s["items"] if i["code"] == "H2")

    def visible(item, unit_id) -> bool:
        return Evaluation(van_lang, answer_rows(van_lang.id)).visible(item, db.session.get(Unit, unit_id))

    assert not visible(d4, van_lang.host_unit_id)  # D3 unanswered: the condition is not met
    answer(van_lang, "D3", 4, unit=TAN_THANH)
    assert visible(d4, TAN_THANH) and not visible(d4, BAC_VIET)
    assert visible(h2, BAC_VIET)  # no visible_if


def test_unit_type_outside_applies_to_is_skipped(van_lang):
    """H2 (tasks given by the province) applies to districts and provincial bodies, not to communes."""
    answer(van_lang, "H2", ratio(15, 17), unit=TAN_THANH)
    regenerate(van_lang)
    assert findings(van_lang, "H2") == []


def test_ratio_over_zero_has_no_percent_and_fires_no_threshold(van_lang):
    answer(van_lang, "F6", ratio(0, 0))
    regenerate(van_lang)
    assert findings(van_lang, "F6") == []


# --- placeholders and province thresholds ------------------------------------------------------------


def test_unanswered_var_prints_a_gap_and_marks_the_rule_incomplete(tan_thanh_2026):
    answer(tan_thanh_2026, "B2", "no")
    area = answer(tan_thanh_2026, "B2a", 25)
    report = regenerate(tan_thanh_2026)
    finding = only(tan_thanh_2026, "B2")
    assert finding.text == ("Cơ sở vật chất, diện tích Bộ phận Một cửa xã Tân Thanh chưa đáp ứng yêu cầu "
                            "(25 m² cho bình quân [chưa có số liệu] lượt giao dịch/ngày).")
    assert report.incomplete == [finding.rule_key]
    assert area.id in linked_answers(finding)


def test_period_placeholder_prints_the_answer_period(van_lang):
    pin_e3_variant(van_lang, text="Trong kỳ ({period}), {unit} chưa tái sử dụng hồ sơ đã số hóa.")
    answer(van_lang, "E3", "no", period_from=date(2023, 7, 1), period_to=date(2024, 6, 15))
    answer(van_lang, "E3", "no", unit=BAC_VIET)
    regenerate(van_lang)
    assert {f.text for f in findings(van_lang, "E3")} == {
        "Trong kỳ (từ 01/07/2023 đến 15/06/2024), huyện Văn Lãng chưa tái sử dụng hồ sơ đã số hóa.",
        "Trong kỳ (), xã Bắc Việt chưa tái sử dụng hồ sơ đã số hóa.",
    }


def test_province_override_changes_the_outcome(tan_thanh_2026):
    answer(tan_thanh_2026, "E3", ratio(60, 100))
    regenerate(tan_thanh_2026)
    assert only(tan_thanh_2026, "E3").text == (
        "Việc khai thác hồ sơ đã được số hóa để tái sử dụng chưa đảm bảo (đạt 60%, mức yêu cầu 80%).")
    db.session.add(ThresholdOverride(province_code="LSN", checklist_key="tthc-2025", item_code="E3", value=50,
                                     year=2026, source="Kế hoạch CCHC năm 2026", source_file="test.yaml"))
    report = regenerate(tan_thanh_2026)
    assert findings(tan_thanh_2026, "E3") == [] and len(report.removed) == 1


def test_threshold_placeholder_prints_the_province_value(tan_thanh_2026):
    db.session.add(ThresholdOverride(province_code="LSN", checklist_key="tthc-2025", item_code="E3", value=70,
                                     year=2025, source="Kế hoạch CCHC năm 2025", source_file="test.yaml"))
    answer(tan_thanh_2026, "E3", ratio(2, 3))
    regenerate(tan_thanh_2026)
    assert only(tan_thanh_2026, "E3").text.endswith("(đạt 66,7%, mức yêu cầu 70%).")


def test_override_of_another_province_does_not_apply(tan_thanh_2026):
    db.session.add(ThresholdOverride(province_code="LDG-TEST", checklist_key="tthc-2025", item_code="E3", value=50,
                                     year=2025, source="Tỉnh khác", source_file="test.yaml"))
    answer(tan_thanh_2026, "E3", ratio(60, 100))
    regenerate(tan_thanh_2026)
    assert "mức yêu cầu 80%" in only(tan_thanh_2026, "E3").text


# --- regeneration keeps people's work -----------------------------------------------------------------


def test_regenerating_twice_changes_nothing(van_lang):
    answer(van_lang, "D3", 93)
    answer(van_lang, "B2", "no", unit=TAN_THANH)
    seed_000_figures(van_lang, 72076)
    regenerate(van_lang)
    before = {(f.id, f.version, f.text) for f in findings(van_lang)}
    recs_before = {(r.id, r.version) for f in findings(van_lang) for r in recommendations(f)}
    report = regenerate(van_lang)
    assert not (report.created or report.updated or report.flagged or report.removed)
    assert {(f.id, f.version, f.text) for f in findings(van_lang)} == before
    assert {(r.id, r.version) for f in findings(van_lang) for r in recommendations(f)} == recs_before


def test_new_figures_update_an_untouched_draft(van_lang):
    d3 = answer(van_lang, "D3", 93)
    regenerate(van_lang)
    d3.value = 40
    report = regenerate(van_lang)
    finding = only(van_lang, "D3")
    assert finding.text == finding.generated_text == (
        "Số lượng hồ sơ giải quyết chậm hạn tại huyện Văn Lãng còn nhiều (40 hồ sơ).")
    assert finding.version == 2 and report.updated == [finding.rule_key]
    assert not finding.is_answer_changed_since_edit


def test_edited_finding_keeps_its_text_and_is_flagged_when_figures_change(van_lang):
    d3 = answer(van_lang, "D3", 93)
    regenerate(van_lang)
    finding = only(van_lang, "D3")
    finding.text, finding.status, finding.version = "Còn 93 hồ sơ chậm hạn, chủ yếu lĩnh vực đất đai.", "edited", 2
    d3.value = 95
    report = regenerate(van_lang)
    assert finding.text == "Còn 93 hồ sơ chậm hạn, chủ yếu lĩnh vực đất đai." and finding.status == "edited"
    assert finding.generated_text == "Số lượng hồ sơ giải quyết chậm hạn tại huyện Văn Lãng còn nhiều (95 hồ sơ)."
    assert finding.is_answer_changed_since_edit and finding.version == 3
    assert report.flagged == [finding.rule_key]


def test_edited_finding_stays_flagged_when_the_rule_stops_firing(van_lang):
    d3 = answer(van_lang, "D3", 93)
    regenerate(van_lang)
    finding = only(van_lang, "D3")
    finding.status = "kept"
    d3.value = 0
    regenerate(van_lang)
    assert only(van_lang, "D3") is finding and finding.is_answer_changed_since_edit
    assert len(recommendations(finding)) == 2


def test_dropped_finding_keeps_status_and_reason(van_lang):
    d3 = answer(van_lang, "D3", 93)
    regenerate(van_lang)
    finding = only(van_lang, "D3")
    finding.status, finding.drop_reason = "dropped", "Hồ sơ chậm do lỗi phần mềm của tỉnh."
    d3.value = 95
    regenerate(van_lang)
    assert (finding.status, finding.drop_reason) == ("dropped", "Hồ sơ chậm do lỗi phần mềm của tỉnh.")
    assert finding.text.endswith("(93 hồ sơ).") and finding.generated_text.endswith("(95 hồ sơ).")
    d3.value = 0
    regenerate(van_lang)
    assert only(van_lang, "D3") is finding
    assert (finding.status, finding.drop_reason) == ("dropped", "Hồ sơ chậm do lỗi phần mềm của tỉnh.")


def test_untouched_finding_disappears_with_its_recommendations_when_the_rule_stops_firing(van_lang):
    d3 = answer(van_lang, "D3", 93)
    regenerate(van_lang)
    finding_id = only(van_lang, "D3").id
    d3.value = 0
    report = regenerate(van_lang)
    assert findings(van_lang, "D3") == [] and len(report.removed) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Recommendation).filter_by(
        finding_id=finding_id)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(finding_answers).where(
        finding_answers.c.finding_id == finding_id)) == 0


def test_edited_recommendation_keeps_its_finding_and_text(van_lang):
    d3 = answer(van_lang, "D3", 93)
    regenerate(van_lang)
    finding = only(van_lang, "D3")
    first = recommendations(finding)[0]
    first.text, first.version = "Chấn chỉnh việc giải quyết hồ sơ lĩnh vực đất đai.", 2
    d3.value = 0
    regenerate(van_lang)
    assert only(van_lang, "D3") is finding and finding.is_answer_changed_since_edit
    assert first.text == "Chấn chỉnh việc giải quyết hồ sơ lĩnh vực đất đai." and first.version == 2


def test_draft_with_causes_written_is_kept_when_the_rule_stops_firing(van_lang):
    e3 = answer(van_lang, "E3", "no")
    regenerate(van_lang)
    finding = only(van_lang, "E3")
    finding.cause_subjective = "Công chức chưa quen khai thác Kho dữ liệu."
    e3.value = "yes"
    regenerate(van_lang)
    assert only(van_lang, "E3") is finding and finding.is_answer_changed_since_edit


def test_answer_cleared_removes_the_finding(van_lang):
    e3 = answer(van_lang, "E3", "no")
    regenerate(van_lang)
    e3.value = None
    regenerate(van_lang)
    assert findings(van_lang, "E3") == []


def test_regeneration_reads_answers_and_findings_once(van_lang):
    """Called once per sync batch: the number of statements must not grow with the answers."""
    for code, value in (("H2", ratio(15, 17)), ("D3", 93), ("E3", "no"), ("C11", ratio(85, 320)), ("D13", 14)):
        for unit in (None, TAN_THANH, BAC_VIET):
            answer(van_lang, code, value, unit=unit)
    regenerate(van_lang)
    db.session.expire_all()
    statements = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    connection = db.session.connection()
    sa.event.listen(connection, "before_cursor_execute", record)
    try:
        regenerate(van_lang)
    finally:
        sa.event.remove(connection, "before_cursor_execute", record)
    assert len(statements) <= 12, statements


# --- change feed --------------------------------------------------------------------------------------


def test_changes_are_recorded_for_findings_and_recommendations(van_lang):
    d3 = answer(van_lang, "D3", 93)
    regenerate(van_lang)
    finding = only(van_lang, "D3")
    recs = recommendations(finding)
    db.session.commit()
    entries = {(e.entity_type, e.entity_id, e.deleted) for e in db.session.scalars(
        sa.select(ChangeLogEntry).filter_by(inspection_id=van_lang.id))}
    assert ("finding", str(finding.id), False) in entries
    assert {("recommendation", str(r.id), False) for r in recs} <= entries
    d3.value = 0
    regenerate(van_lang)
    db.session.commit()
    deleted = {(e.entity_type, e.entity_id) for e in db.session.scalars(
        sa.select(ChangeLogEntry).filter_by(inspection_id=van_lang.id, deleted=True))}
    assert {("finding", str(finding.id))} | {("recommendation", str(r.id)) for r in recs} <= deleted


# --- wording ------------------------------------------------------------------------------------------

FILL_VALUES = {"unit": "UBND huyện Văn Lãng", "percent": 88.235, "numerator": 15, "denominator": 17, "missing": 2,
               "value": None, "names": ["a", "b"], "flag": True, "answer": "na"}


@pytest.mark.parametrize("template", [
    "{unit} có {numerator}/{denominator} hồ sơ ({percent}%), thiếu {missing:02}; {value}.",  # plain fields
    "{{literal}} {names} {flag} {answer} {unknown}", "no field", "",
    "{}", "{0}", "{unit!r}", "{unit[0]}", "{names.count}", "{percent:{missing}}", "{ unit }",  # what _Filler decides
])
def test_fill_words_a_template_as_the_formatter_does(template):
    from audit_api.services.rules import _Filler, fill

    assert fill(template, FILL_VALUES) == _Filler().vformat(template, (), FILL_VALUES)


@pytest.mark.parametrize("template", ["a } b", "{unit"])
def test_fill_refuses_a_broken_template_as_the_formatter_does(template):
    from audit_api.services.rules import _Filler, fill

    with pytest.raises(ValueError) as formatter:
        _Filler().vformat(template, (), FILL_VALUES)
    with pytest.raises(ValueError) as filled:
        fill(template, FILL_VALUES)
    assert str(filled.value) == str(formatter.value)
