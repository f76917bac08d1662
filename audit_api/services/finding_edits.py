"""What the team lead, deputy lead and secretary do to findings (hạn chế) and strengths through the API: edit,
keep, drop with a reason and restore, merge several into one, split one into several.

Nothing anyone wrote disappears: a drop keeps the finding with its reason, a merge drops the others with
"Gộp vào hạn chế …" and moves their recommendations and photos to the target (their answer links are
copied), a split drops the original with "Tách thành …". A rule finding a person edits gets status
`edited`, which the rules engine never overwrites (it flags the finding when the figures under it change).

Every change bumps the entity's version, is announced on the change feed (tablets see it after sync) and
is an audit event with before and after. Functions flush, never commit; the route commits once.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from .. import access
from ..errors import Conflict, Forbidden, InvalidData, NotFound
from ..extensions import db
from ..models import Finding, Inspection, PhotoLink, Recommendation, User, finding_answers
from . import audit
from .changes import record_change

EDITORS = ("lead", "deputy", "secretary")
READ_ONLY = ("approved", "minutes_issued", "closed")
EDITABLE = ("text", "cause_subjective", "cause_objective", "severity", "unit_id", "sort_order")
CONTENT = ("text", "cause_subjective", "cause_objective", "severity", "unit_id")  # what makes a rule finding `edited`
NOT_FOUND = "Không tìm thấy hạn chế."


# --- loading, with the access rules ---------------------------------------------------------------


def visible_finding(user: User, finding_id: uuid.UUID) -> Finding:
    """A finding of an inspection the user's team holds (or an admin's province); else 404."""
    finding = db.session.get(Finding, finding_id)
    if finding is None or not access.can_see_team(user, inspection_of(finding).team):
        raise NotFound(NOT_FOUND)
    return finding


def inspection_of(finding: Finding) -> Inspection:
    return db.session.get(Inspection, finding.inspection_id)


def require_editor(user: User, inspection: Inspection) -> None:
    """The team's lead, deputy lead and secretary edit findings (admins administer, they do not review)."""
    if access.team_role(user, inspection.team_id) not in EDITORS:
        raise Forbidden("Chỉ Trưởng đoàn, Phó Trưởng đoàn hoặc Thư ký được sửa hạn chế và kiến nghị.")


def lock_for_edit(inspection_id: uuid.UUID) -> Inspection:
    """Lock the inspection as regeneration does (review.after_answers_changed), so a sync batch's rules run and
    a person's edit never interleave, then refuse edits once the inspection is approved or further (409)."""
    inspection = db.session.scalar(sa.select(Inspection).filter_by(id=inspection_id).with_for_update()
                                   .execution_options(populate_existing=True))
    if inspection.status in READ_ONLY:
        raise Conflict("Cuộc kiểm tra đã được duyệt hoặc đã ban hành biên bản: hạn chế và kiến nghị chỉ được xem. "
                       "Trưởng đoàn cần mở lại cuộc kiểm tra trước khi sửa.")
    return inspection


def editable_finding(user: User, finding_id: uuid.UUID) -> Finding:
    """The finding, locked for a change by `user`: 404 unseen, 403 not an editor, 409 read-only inspection."""
    finding = visible_finding(user, finding_id)
    require_editor(user, inspection_of(finding))
    lock_for_edit(finding.inspection_id)
    return _locked(finding.id)


def _locked(finding_id: uuid.UUID) -> Finding:
    return db.session.scalar(sa.select(Finding).filter_by(id=finding_id).with_for_update()
                             .execution_options(populate_existing=True))


def list_query(inspection: Inspection, *, kind: str | None = None, status: str | None = None,
               unit_id: uuid.UUID | None = None) -> sa.Select:
    query = sa.select(Finding).filter_by(inspection_id=inspection.id)
    for column, value in ((Finding.kind, kind), (Finding.status, status), (Finding.unit_id, unit_id)):
        if value is not None:
            query = query.where(column == value)
    return query.order_by(Finding.sort_order, Finding.created_at, Finding.id)


# --- snapshots and bookkeeping --------------------------------------------------------------------


def snapshot(finding: Finding) -> dict:
    """What the audit trail keeps of a finding before and after a change."""
    return {name: getattr(finding, name) for name in (
        "text", "cause_subjective", "cause_objective", "severity", "status", "drop_reason", "unit_id",
        "sort_order", "merged_into_id", "is_answer_changed_since_edit", "version")}


def recommendation_snapshot(recommendation: Recommendation) -> dict:
    return {name: getattr(recommendation, name) for name in (
        "finding_id", "responsible_unit_id", "origin", "text", "deadline", "report_form", "sort_order", "version")}


def answer_ids(finding_id: uuid.UUID) -> set[uuid.UUID]:
    return set(db.session.scalars(sa.select(finding_answers.c.answer_id)
                                  .where(finding_answers.c.finding_id == finding_id)))


def changed(finding: Finding, action: str, before: dict, *, actor: User, **extra) -> None:
    """A new version of the finding: on the change feed and in the audit trail."""
    finding.version += 1
    record_change(finding.inspection_id, "finding", finding.id)
    db.session.flush()
    audit.record(action, entity_type="finding", entity_id=finding.id, actor=actor, before=before,
                 after={**snapshot(finding), **extra})


def recommendation_changed(recommendation: Recommendation, action: str, before: dict | None, *, actor: User) -> None:
    if before is not None:  # a new one starts at version 1
        recommendation.version += 1
    record_change(recommendation.inspection_id, "recommendation", recommendation.id)
    db.session.flush()
    audit.record(action, entity_type="recommendation", entity_id=recommendation.id, actor=actor, before=before,
                 after=recommendation_snapshot(recommendation))


def inspection_unit_ids(inspection: Inspection) -> set[uuid.UUID]:
    return {inspection.host_unit_id, *(unit.id for unit in inspection.sub_units)}


def require_unit(inspection: Inspection, unit_id: uuid.UUID, field: str) -> None:
    if unit_id not in inspection_unit_ids(inspection):
        raise InvalidData("Đơn vị không thuộc cuộc kiểm tra này.", errors={field: ["Không thuộc cuộc kiểm tra."]})


def require_not_dropped(finding: Finding, what: str = "sửa") -> None:
    if finding.status == "dropped":
        raise Conflict(f"Hạn chế đã bị bỏ ({finding.drop_reason}); khôi phục hạn chế trước khi {what}.")


def label(finding: Finding) -> str:
    """How a drop reason names another finding: its item code and the start of its text."""
    text = finding.text if len(finding.text) <= 80 else finding.text[:79].rstrip() + "…"
    return f"{finding.item_code} “{text}”" if finding.item_code else f"“{text}”"


# --- edit, keep, drop, restore --------------------------------------------------------------------


def update_finding(finding: Finding, changes: dict, *, actor: User) -> Finding:
    """Edit text, causes, severity, unit (one of the inspection's) or sort order; `status: kept` keeps a draft.
    Changing the content of a rule finding makes it `edited`: regeneration never overwrites it from then on."""
    require_not_dropped(finding)
    if "unit_id" in changes:
        require_unit(inspection_of(finding), changes["unit_id"], "unit_id")
    before = snapshot(finding)
    edited = {name for name in EDITABLE if name in changes and getattr(finding, name) != changes[name]}
    for name in edited:
        setattr(finding, name, changes[name])
    if "text" in changes:  # the person has now written against the current figures
        finding.is_answer_changed_since_edit = False
    if finding.origin == "rule" and edited & set(CONTENT):
        finding.status = "edited"
    elif changes.get("status") == "kept" and finding.status == "draft":
        finding.status = "kept"
    if snapshot(finding) != before:
        changed(finding, "finding.update", before, actor=actor)
    return finding


def drop_finding(finding: Finding, reason: str, *, actor: User) -> Finding:
    """Leave a finding out of the documents; it stays, with its reason, and can be restored."""
    if finding.status == "dropped":
        raise Conflict(f"Hạn chế đã bị bỏ trước đó ({finding.drop_reason}).")
    before = snapshot(finding)
    finding.status, finding.drop_reason = "dropped", reason.strip()
    changed(finding, "finding.drop", before, actor=actor)
    return finding


def restore_finding(finding: Finding, *, actor: User) -> Finding:
    """Bring a dropped (or merged-away) finding back: `edited` if a person rewrote a rule's text, else `kept`.
    Recommendations that went to a merge target stay there."""
    if finding.status != "dropped":
        raise Conflict("Hạn chế chưa bị bỏ nên không cần khôi phục.")
    before = snapshot(finding)
    rewritten = finding.origin == "rule" and finding.text != finding.generated_text
    finding.status, finding.drop_reason, finding.merged_into_id = ("edited" if rewritten else "kept"), None, None
    changed(finding, "finding.restore", before, actor=actor)
    return finding


# --- merge and split ------------------------------------------------------------------------------


def merge_findings(target: Finding, finding_ids: list[uuid.UUID], *, text: str | None, actor: User) -> Finding:
    """Merge others into `target` (all in its inspection, same kind, none dropped): the target gets their answer
    links, recommendations and photos, and optionally a new text; each other is dropped with "Gộp vào hạn chế …"
    and `merged_into_id`. All or nothing: any refusal leaves every finding as it was."""
    require_not_dropped(target, "gộp")
    sources = _merge_sources(target, finding_ids)
    before = {**snapshot(target), "answer_ids": answer_ids(target.id)}
    links = set(before["answer_ids"])
    for source in sources:
        for answer_id in answer_ids(source.id) - links:
            db.session.execute(sa.insert(finding_answers).values(finding_id=target.id, answer_id=answer_id))
            links.add(answer_id)
    _take_recommendations(target, sources, actor=actor)
    _take_photos(target, sources, actor=actor)
    if text is not None:
        target.text, target.is_answer_changed_since_edit = text, False
    reason = f"Gộp vào hạn chế {label(target)}"
    for source in sources:
        source_before = snapshot(source)
        source.status, source.drop_reason, source.merged_into_id = "dropped", reason, target.id
        changed(source, "finding.merged_away", source_before, actor=actor)
    if target.origin == "rule" and target.text != target.generated_text:
        target.status = "edited"
    elif target.status == "draft":  # choosing it as the one to keep is a decision to keep it
        target.status = "kept"
    changed(target, "finding.merge", before, actor=actor, merged=[source.id for source in sources], answer_ids=links)
    return target


def _merge_sources(target: Finding, finding_ids: list[uuid.UUID]) -> list[Finding]:
    errors: dict[str, list[str]] = {}
    for index, finding_id in enumerate(finding_ids):
        if finding_id == target.id:
            errors[str(index)] = ["Không gộp hạn chế vào chính nó."]
        elif finding_id in finding_ids[:index]:
            errors[str(index)] = ["Bị lặp."]
    found = {f.id: f for f in db.session.scalars(
        sa.select(Finding).where(Finding.id.in_(finding_ids), Finding.inspection_id == target.inspection_id)
        .with_for_update().execution_options(populate_existing=True))}
    for index, finding_id in enumerate(finding_ids):
        source = found.get(finding_id)
        if source is None:
            errors.setdefault(str(index), []).append("Không có hạn chế này trong cuộc kiểm tra.")
        elif source.kind != target.kind:
            errors.setdefault(str(index), []).append("Không gộp hạn chế với kết quả đạt được.")
    if errors:
        raise InvalidData("Không gộp được: có hạn chế không hợp lệ trong danh sách; xem 'errors'.",
                          errors={"finding_ids": errors})
    dropped = [f for f in found.values() if f.status == "dropped"]
    if dropped:
        raise Conflict(f"Hạn chế {label(dropped[0])} đã bị bỏ; khôi phục trước khi gộp.")
    return [found[finding_id] for finding_id in finding_ids]


def _take_recommendations(target: Finding, sources: list[Finding], *, actor: User) -> None:
    """Recommendations follow their finding. They become a person's (origin manual): the rules engine matches
    a rule finding's recommendations against its own templates and must not rewrite one that came from
    another finding."""
    order = max((r.sort_order for r in target.recommendations), default=-1) + 1
    for source in sources:
        for recommendation in sorted(source.recommendations, key=lambda r: (r.sort_order, r.created_at)):
            before = recommendation_snapshot(recommendation)
            recommendation.finding, recommendation.origin, recommendation.sort_order = target, "manual", order
            order += 1
            recommendation_changed(recommendation, "recommendation.move", before, actor=actor)


def _take_photos(target: Finding, sources: list[Finding], *, actor: User) -> None:
    photos = db.session.scalars(sa.select(PhotoLink).where(PhotoLink.finding_id.in_([s.id for s in sources])))
    for link in photos:
        _move_photo(link, target, actor=actor)


def _move_photo(link: PhotoLink, finding: Finding, *, actor: User) -> None:
    link.finding_id, link.updated_by = finding.id, actor.id
    link.version += 1
    record_change(link.inspection_id, "photo", link.photo_id)


def split_finding(finding: Finding, parts: list[dict], *, actor: User) -> list[Finding]:
    """Split a finding into new manual ones (`parts`: text and optionally unit_id), each kept, with the
    original's item, causes, severity and answer links, and copies of its recommendations (addressed to the
    part's unit where they were addressed to the original's). A photo goes to the one part of its unit, if
    there is exactly one. The original is dropped with "Tách thành …"."""
    require_not_dropped(finding, "tách")
    inspection = inspection_of(finding)
    for index, part in enumerate(parts):
        if part.get("unit_id") is not None and part["unit_id"] not in inspection_unit_ids(inspection):
            raise InvalidData("Đơn vị không thuộc cuộc kiểm tra này.",
                              errors={"parts": {str(index): {"unit_id": ["Không thuộc cuộc kiểm tra."]}}})
    links = answer_ids(finding.id)
    created = [_part(finding, part, order, links, actor=actor) for order, part in enumerate(parts)]
    _share_photos(finding, created, actor=actor)
    before = snapshot(finding)
    finding.status = "dropped"
    finding.drop_reason = f"Tách thành {len(created)} hạn chế: " + "; ".join(label(part) for part in created)
    changed(finding, "finding.split", before, actor=actor, parts=[part.id for part in created])
    return created


def _part(original: Finding, part: dict, order: int, links: set[uuid.UUID], *, actor: User) -> Finding:
    new = Finding(id=uuid.uuid4(), inspection_id=original.inspection_id, kind=original.kind, origin="manual",
                  unit_id=part.get("unit_id") or original.unit_id, item_code=original.item_code,
                  section_code=original.section_code, text=part["text"], cause_subjective=original.cause_subjective,
                  cause_objective=original.cause_objective, severity=original.severity, status="kept",
                  sort_order=original.sort_order + order, version=1, created_by=actor.id)
    db.session.add(new)
    db.session.flush()
    for answer_id in links:
        db.session.execute(sa.insert(finding_answers).values(finding_id=new.id, answer_id=answer_id))
    record_change(new.inspection_id, "finding", new.id)
    audit.record("finding.create", entity_type="finding", entity_id=new.id, actor=actor,
                 after={**snapshot(new), "split_from": original.id, "answer_ids": links})
    for recommendation in sorted(original.recommendations, key=lambda r: (r.sort_order, r.created_at)):
        unit_id = new.unit_id if recommendation.responsible_unit_id == original.unit_id \
            else recommendation.responsible_unit_id
        copy = Recommendation(id=uuid.uuid4(), inspection_id=new.inspection_id, finding=new, origin="manual",
                              responsible_unit_id=unit_id, text=recommendation.text, deadline=recommendation.deadline,
                              report_form=recommendation.report_form, sort_order=recommendation.sort_order, version=1)
        db.session.add(copy)
        recommendation_changed(copy, "recommendation.create", None, actor=actor)
    return new


def _share_photos(original: Finding, parts: list[Finding], *, actor: User) -> None:
    for link in db.session.scalars(sa.select(PhotoLink).filter_by(finding_id=original.id)):
        same_unit = [part for part in parts if part.unit_id == (link.unit_id or original.unit_id)]
        if len(same_unit) == 1:
            _move_photo(link, same_unit[0], actor=actor)
