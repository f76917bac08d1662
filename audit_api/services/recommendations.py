"""Recommendations (kiến nghị): add one to a finding (with no text given, the wording the checklist suggests
for the finding's item is accepted), edit, delete; and the readiness rule documents rely on: every finding the
team kept or edited has at least one recommendation (DOMAIN.md §3.10 rule 2).

Who may change what, and when, is finding_edits' rule (lead, deputy lead, secretary; not once approved).
Functions flush, never commit.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from .. import access
from ..errors import Conflict, InvalidData, NotFound
from ..extensions import db
from ..models import Finding, Inspection, Recommendation, Unit, User
from . import audit, deadlines
from .changes import record_change
from .finding_edits import (
    inspection_of,
    lock_for_edit,
    recommendation_changed,
    recommendation_snapshot,
    require_editor,
    require_not_dropped,
    require_unit,
)
from .rules import Evaluation, answer_rows

DECIDED = ("kept", "edited")
EDITABLE = ("text", "responsible_unit_id", "deadline", "report_form", "sort_order")


# --- readiness ------------------------------------------------------------------------------------


def findings_missing_recommendations(inspection: Inspection) -> list[Finding]:
    """Findings (not strengths) the team kept or edited that have no recommendation yet. Documents refuse to
    issue while this list is not empty."""
    return list(db.session.scalars(_findings(inspection).where(
        Finding.status.in_(DECIDED), ~sa.exists().where(Recommendation.finding_id == Finding.id))))


def undecided_findings(inspection: Inspection) -> list[Finding]:
    """Findings still `draft`: nobody has kept, edited or dropped them yet."""
    return list(db.session.scalars(_findings(inspection).where(Finding.status == "draft")))


def _findings(inspection: Inspection) -> sa.Select:
    return (sa.select(Finding).filter_by(inspection_id=inspection.id, kind="finding")
            .order_by(Finding.sort_order, Finding.created_at, Finding.id))


# --- suggested wording ----------------------------------------------------------------------------


def suggested_recommendations(finding: Finding) -> list[str]:
    """The recommendation wording the pinned checklist gives for the finding's item (its rule's, for a rule
    finding; every finding rule's of the item, for a manual one), filled with the unit's current figures
    as the rules engine fills them ("[chưa có số liệu]" where a figure is unanswered)."""
    if finding.kind != "finding" or not finding.item_code:
        return []
    inspection = inspection_of(finding)
    evaluation = Evaluation(inspection, answer_rows(inspection.id, unit_id=finding.unit_id))
    item = evaluation.items.get(finding.item_code)
    if item is None:
        return []
    unit = db.session.get(Unit, finding.unit_id)
    texts: list[str] = []
    for index in _rule_indexes(finding, item):
        draft = evaluation.draft(item, index, item["rules"][index], unit, sort_order=0)
        texts += [text for text in draft.recommendations if text not in texts]
    return texts


def _rule_indexes(finding: Finding, item: dict) -> list[int]:
    rules = item.get("rules") or []
    key = (finding.rule_key or "").split(":")  # item code : rule index : unit id
    if finding.origin == "rule" and len(key) == 3 and key[1].isdigit() and int(key[1]) < len(rules):
        return [int(key[1])]
    return [index for index, rule in enumerate(rules) if rule["kind"] == "finding"]


def _accepted_wording(finding: Finding) -> str:
    suggestions = suggested_recommendations(finding)
    if not suggestions:
        raise InvalidData("Danh mục không có câu chữ kiến nghị gợi ý cho hạn chế này; hãy nhập nội dung kiến nghị.",
                          errors={"text": ["Bắt buộc với hạn chế này."]})
    present = {recommendation.text for recommendation in finding.recommendations}
    unused = [text for text in suggestions if text not in present]
    if not unused:
        raise InvalidData("Các kiến nghị gợi ý cho hạn chế này đều đã có; hãy nhập nội dung kiến nghị mới.",
                          errors={"text": ["Bắt buộc: không còn câu chữ gợi ý chưa dùng."]})
    return unused[0]


# --- loading, with the access rules ---------------------------------------------------------------


def visible_recommendation(user: User, recommendation_id: uuid.UUID) -> Recommendation:
    recommendation = db.session.get(Recommendation, recommendation_id)
    if recommendation is None or not access.can_see_team(
            user, db.session.get(Inspection, recommendation.inspection_id).team):
        raise NotFound("Không tìm thấy kiến nghị.")
    return recommendation


def editable_recommendation(user: User, recommendation_id: uuid.UUID) -> Recommendation:
    """Locked for a change by `user`: 404 unseen, 403 not an editor, 409 read-only inspection or dropped finding."""
    recommendation = visible_recommendation(user, recommendation_id)
    require_editor(user, db.session.get(Inspection, recommendation.inspection_id))
    lock_for_edit(recommendation.inspection_id)
    recommendation = db.session.scalar(sa.select(Recommendation).filter_by(id=recommendation_id).with_for_update()
                                       .execution_options(populate_existing=True))
    if recommendation.finding is not None:
        require_not_dropped(recommendation.finding, "sửa kiến nghị của nó")
    return recommendation


# --- add, edit, delete ----------------------------------------------------------------------------


def add_recommendation(finding: Finding, data: dict, *, actor: User) -> Recommendation:
    """Add a recommendation to a finding. Without `text` the checklist's suggested wording not used yet is
    accepted (origin `rule`, so regeneration keeps its figures current until a person edits it). The
    responsible unit defaults to the finding's unit; the deadline, when not given, to default_deadline(today)."""
    require_not_dropped(finding, "thêm kiến nghị")
    if finding.kind != "finding":
        raise Conflict("Kết quả đạt được không có kiến nghị; chỉ thêm kiến nghị cho hạn chế.")
    accepted = data.get("text") is None
    text = _accepted_wording(finding) if accepted else data["text"]
    unit_id = data.get("responsible_unit_id") or finding.unit_id
    require_unit(inspection_of(finding), unit_id, "responsible_unit_id")
    recommendation = Recommendation(
        id=uuid.uuid4(), inspection_id=finding.inspection_id, finding=finding, responsible_unit_id=unit_id,
        origin="rule" if accepted else "manual", text=text, report_form=data.get("report_form"),
        deadline=data["deadline"] if "deadline" in data else deadlines.default_deadline(deadlines.today()),
        sort_order=max((r.sort_order for r in finding.recommendations), default=-1) + 1, version=1,
    )
    db.session.add(recommendation)
    recommendation_changed(recommendation, "recommendation.create", None, actor=actor)
    return recommendation


def update_recommendation(recommendation: Recommendation, changes: dict, *, actor: User) -> Recommendation:
    """Edit text, responsible unit (one of the inspection's), deadline, report form or order. Rewritten text
    becomes a person's (origin manual): regeneration never touches it again."""
    if "responsible_unit_id" in changes:
        require_unit(db.session.get(Inspection, recommendation.inspection_id), changes["responsible_unit_id"],
                     "responsible_unit_id")
    before = recommendation_snapshot(recommendation)
    for name in EDITABLE:
        if name in changes and getattr(recommendation, name) != changes[name]:
            setattr(recommendation, name, changes[name])
    if recommendation.text != before["text"]:
        recommendation.origin = "manual"
    if recommendation_snapshot(recommendation) != before:
        recommendation_changed(recommendation, "recommendation.update", before, actor=actor)
    return recommendation


def delete_recommendation(recommendation: Recommendation, *, actor: User) -> None:
    """Delete a recommendation (a rule's stays deleted: regeneration only refreshes ones that exist)."""
    before = recommendation_snapshot(recommendation)
    record_change(recommendation.inspection_id, "recommendation", recommendation.id, deleted=True)
    audit.record("recommendation.delete", entity_type="recommendation", entity_id=recommendation.id, actor=actor,
                 before=before, after=None)
    db.session.delete(recommendation)
    db.session.flush()
