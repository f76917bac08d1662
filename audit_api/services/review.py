"""Submitting sections, and the lead's review: return with a comment, approve, reopen.

Inspection status follows its sections: planned → in_progress with the first answer; submitted when every
section is submitted or approved; returned while any section is returned; approved (read-only) when the
lead approves; reopened to in_progress by the lead.
"""

from __future__ import annotations

import sqlalchemy as sa
from marshmallow import fields, validate

from .. import access
from ..errors import Conflict as ConflictError
from ..errors import Forbidden, InvalidData, NotFound
from ..extensions import db
from ..models import Answer, Inspection, SectionAssignment, User
from ..models.common import utcnow
from ..schemas.common import StrictSchema
from . import audit
from .changes import record_change, writers_take_turns
from .mutations import Applied, Context, Rejected, author, check_base_version, load_payload

REVIEWERS = ("lead", "deputy", "secretary")
APPROVERS = ("lead", "deputy")


class SubmitPayload(StrictSchema):
    section_code = fields.String(required=True, validate=validate.Regexp(r"^[A-H]$"))


def section_state(assignment: SectionAssignment) -> dict:
    return {
        "entity": "section", "id": str(assignment.id), "inspection_id": str(assignment.inspection_id),
        "section_code": assignment.section_code, "assignee": author(assignment.assignee_id),
        "status": assignment.status, "review_comment": assignment.review_comment,
        "submitted_at": assignment.submitted_at.isoformat() if assignment.submitted_at else None,
        "reviewed_at": assignment.reviewed_at.isoformat() if assignment.reviewed_at else None,
        "version": assignment.version,
    }


def _section_codes(inspection: Inspection) -> list[str]:
    return [section["code"] for section in inspection.checklist_version.definition["sections"]]


def submit_section(ctx: Context) -> Applied:
    """A member hands in their section; the lead then returns or approves it."""
    code = load_payload(SubmitPayload(), ctx.payload)["section_code"]
    if code not in _section_codes(ctx.inspection):
        raise Rejected(422, f"Danh mục không có phần {code}.", {"section_code": ["Không tồn tại."]})
    access.require_section_write(ctx.user, ctx.inspection, code)
    assignment = next((a for a in ctx.inspection.assignments if a.section_code == code), None)
    if assignment is None:  # an unassigned section is handed in by whoever filled it
        assignment = SectionAssignment(section_code=code, assignee_id=ctx.user.id, version=0)
        ctx.inspection.assignments.append(assignment)
    check_base_version(ctx.base_version if ctx.base_version is not None else assignment.version,
                       assignment.version, section_state(assignment) if assignment.id else {})
    assignment.status, assignment.submitted_at = "submitted", utcnow()
    assignment.version += 1
    db.session.flush()
    return Applied(version=assignment.version, changes=[("section", assignment.id)],
                   extra={"entity_id": str(assignment.id)})


# Built once (building a statement costs more than running it).
LOCK = sa.select(Inspection.id).where(Inspection.id == sa.bindparam("id")).with_for_update()
ANSWERED = sa.select(sa.exists().where(Answer.inspection_id == sa.bindparam("id")))


def after_answers_changed(inspection: Inspection, *, answers: dict | None = None) -> None:
    """Regenerate findings and move the inspection's status along after a batch touched it.

    The inspection row is locked first (where writers do not already take turns), so two batches on one
    inspection regenerate one after the other (never both inserting the same rule finding); sync.apply_batch
    visits inspections in id order, so two batches touching the same inspections cannot deadlock.

    `answers` ((item_code, unit_id) → row) are the inspection's answers when the caller knows them exactly
    (see rules.regenerate); otherwise they are read."""
    from .rules import regenerate

    if not writers_take_turns():  # (SQLite has no row locks: its writers already take turns)
        db.session.execute(LOCK, {"id": inspection.id})
    if inspection.status in ("minutes_issued", "closed"):  # issued documents never change
        return
    regenerate(inspection, answers=None if answers is None else answers.values())
    _refresh_status(inspection, answered=None if answers is None else bool(answers))


def _refresh_status(inspection: Inspection, *, answered: bool | None = None) -> None:
    """`answered`: whether the inspection has any answer, if the caller knows (None: ask the database)."""
    if inspection.status in ("approved", "minutes_issued", "closed"):
        return
    before = inspection.status
    statuses = {a.section_code: a.status for a in inspection.assignments}
    if "returned" in statuses.values():
        inspection.status = "returned"
    elif all(statuses.get(code) in ("submitted", "approved") for code in _section_codes(inspection)):
        inspection.status = "submitted"
    elif before != "planned" or (answered if answered is not None else db.session.scalar(
            ANSWERED, {"id": inspection.id})):
        inspection.status = "in_progress"
    if inspection.status != before:
        inspection.version += 1
        record_change(inspection.id, "inspection", inspection.id)
    db.session.flush()


def _require_role(user: User, inspection: Inspection, roles: tuple[str, ...], what: str) -> None:
    access.require_inspection(user, inspection)
    if access.team_role(user, inspection.team_id) not in roles:
        raise Forbidden(f"Chỉ {what} được thực hiện thao tác này.")


def review_section(user: User, inspection: Inspection, section_code: str, *, decision: str,
                   comment: str | None) -> SectionAssignment:
    """Return a submitted section to its author with a comment, or approve it."""
    _require_role(user, inspection, REVIEWERS, "Trưởng đoàn, Phó Trưởng đoàn hoặc Thư ký")
    if inspection.status in ("approved", "minutes_issued", "closed"):
        raise ConflictError("Cuộc kiểm tra đã được duyệt; Trưởng đoàn cần mở lại trước khi xem xét lại.")
    assignment = next((a for a in inspection.assignments if a.section_code == section_code), None)
    if assignment is None or assignment.status != "submitted":
        raise ConflictError(f"Phần {section_code} chưa được nộp nên chưa thể trả lại hoặc duyệt.")
    if decision == "return" and not (comment and comment.strip()):
        raise InvalidData("Trả lại phần kiểm tra cần ghi ý kiến.", errors={"comment": ["Bắt buộc khi trả lại."]})
    before = section_state(assignment)
    assignment.status = "returned" if decision == "return" else "approved"
    assignment.review_comment = comment
    assignment.reviewed_at, assignment.reviewed_by = utcnow(), user.id
    assignment.version += 1
    record_change(inspection.id, "section", assignment.id)
    _refresh_status(inspection)
    audit.record(f"section.{decision}", entity_type="inspection", entity_id=inspection.id, actor=user,
                 before={"section": section_code, "status": before["status"]},
                 after={"section": section_code, "status": assignment.status, "comment": comment})
    return assignment


def approve_inspection(user: User, inspection: Inspection) -> Inspection:
    _require_role(user, inspection, APPROVERS, "Trưởng đoàn hoặc Phó Trưởng đoàn")
    if inspection.status != "submitted":
        raise ConflictError("Chỉ duyệt được cuộc kiểm tra khi mọi phần đã nộp và không còn phần bị trả lại.")
    for assignment in inspection.assignments:
        if assignment.status != "approved":
            assignment.status, assignment.reviewed_at, assignment.reviewed_by = "approved", utcnow(), user.id
            assignment.version += 1
            record_change(inspection.id, "section", assignment.id)
    _set_status(user, inspection, "approved")
    return inspection


def reopen_inspection(user: User, inspection: Inspection) -> Inspection:
    _require_role(user, inspection, APPROVERS, "Trưởng đoàn hoặc Phó Trưởng đoàn")
    if inspection.status != "approved":
        raise ConflictError("Chỉ mở lại được cuộc kiểm tra đã duyệt (chưa ban hành biên bản).")
    for assignment in inspection.assignments:
        assignment.status = "open"
        assignment.version += 1
        record_change(inspection.id, "section", assignment.id)
    _set_status(user, inspection, "in_progress")
    return inspection


def _set_status(user: User, inspection: Inspection, status: str) -> None:
    before = inspection.status
    inspection.status = status
    inspection.version += 1
    record_change(inspection.id, "inspection", inspection.id)
    audit.record(f"inspection.{status}", entity_type="inspection", entity_id=inspection.id, actor=user,
                 before={"status": before}, after={"status": status})
    db.session.flush()


def get_section(inspection: Inspection, section_code: str) -> SectionAssignment:
    assignment = next((a for a in inspection.assignments if a.section_code == section_code), None)
    if assignment is None:
        raise NotFound(f"Phần {section_code} chưa được phân công hoặc nộp.")
    return assignment
