"""finding.create, finding.update, finding.delete from tablets (manual findings, edits of generated ones).

A finding a person edits is never overwritten by regeneration (rules.py flags it instead); deleting only
drops it with a reason, so nothing anyone wrote disappears.
"""

from __future__ import annotations

import sqlalchemy as sa
from marshmallow import fields, validate

from .. import access
from ..errors import Forbidden
from ..extensions import db
from ..models import Finding, Inspection
from ..models.findings import FINDING_KINDS, SEVERITIES
from ..schemas.common import StrictSchema, no_nul
from .mutations import Applied, Conflict, Context, Rejected, author, check_base_version, load_payload

TEXT = [validate.Length(min=1, max=10_000), no_nul]
LONG_TEXT = [validate.Length(max=10_000), no_nul]


class CreatePayload(StrictSchema):
    id = fields.UUID(required=True)
    kind = fields.String(load_default="finding", validate=validate.OneOf(FINDING_KINDS))
    unit_id = fields.UUID(load_default=None, allow_none=True)
    text = fields.String(required=True, validate=TEXT)
    item_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=16))
    section_code = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(r"^[A-H]$"))
    cause_subjective = fields.String(load_default=None, allow_none=True, validate=LONG_TEXT)
    cause_objective = fields.String(load_default=None, allow_none=True, validate=LONG_TEXT)
    severity = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(SEVERITIES))


class UpdatePayload(StrictSchema):
    finding_id = fields.UUID(required=True)
    text = fields.String(validate=TEXT)
    cause_subjective = fields.String(allow_none=True, validate=LONG_TEXT)
    cause_objective = fields.String(allow_none=True, validate=LONG_TEXT)
    severity = fields.String(allow_none=True, validate=validate.OneOf(SEVERITIES))
    status = fields.String(validate=validate.OneOf(("kept",)),
                           metadata={"description": "Giữ hạn chế (kể cả khôi phục hạn chế đã bỏ)"})


class DeletePayload(StrictSchema):
    finding_id = fields.UUID(required=True)
    reason = fields.String(load_default="Đã xóa trên máy tính bảng", validate=TEXT)


def current_state(finding: Finding) -> dict:
    return {
        "entity": "finding", "id": str(finding.id), "kind": finding.kind, "origin": finding.origin,
        "unit_id": str(finding.unit_id), "item_code": finding.item_code, "section_code": finding.section_code,
        "text": finding.text, "generated_text": finding.generated_text, "status": finding.status,
        "drop_reason": finding.drop_reason, "cause_subjective": finding.cause_subjective,
        "cause_objective": finding.cause_objective, "severity": finding.severity,
        "answer_changed_since_edit": finding.is_answer_changed_since_edit, "incomplete": finding.is_incomplete,
        "version": finding.version,
        "author": author(finding.created_by), "updated_at": finding.updated_at.isoformat(),
    }


def _require_write(ctx: Context, section_code: str | None) -> None:
    if section_code:
        access.require_section_write(ctx.user, ctx.inspection, section_code)
    elif access.team_role(ctx.user, ctx.inspection.team_id) is None or \
            ctx.inspection.status not in access.OPEN_FOR_ANSWERS:
        raise Forbidden("Chỉ thành viên Đoàn được ghi hạn chế khi cuộc kiểm tra đang mở.")


def _locked(ctx: Context, finding_id) -> Finding:
    # The inspection first, then the finding: the order regeneration and the lead's edits (finding_edits)
    # take them in, so a tablet's edit and the lead's on the same finding queue instead of deadlocking.
    db.session.execute(sa.select(Inspection.id).where(Inspection.id == ctx.inspection.id).with_for_update())
    finding = db.session.scalar(sa.select(Finding).filter_by(id=finding_id, inspection_id=ctx.inspection.id)
                                .with_for_update().execution_options(populate_existing=True))
    if finding is None:
        raise Rejected(404, "Không tìm thấy hạn chế trong cuộc kiểm tra này.", {"finding_id": ["Không tồn tại."]})
    return finding


def create_finding(ctx: Context) -> Applied:
    data = load_payload(CreatePayload(), ctx.payload)
    _require_write(ctx, data["section_code"])
    existing = db.session.get(Finding, data["id"])
    if existing is not None:  # the same client id created twice by different mutations
        raise Conflict(current_state(existing))
    units = {ctx.inspection.host_unit_id, *(unit.id for unit in ctx.inspection.sub_units)}
    unit_id = data["unit_id"] or ctx.inspection.host_unit_id
    if unit_id not in units:
        raise Rejected(422, "Đơn vị không thuộc cuộc kiểm tra này.", {"unit_id": ["Không thuộc cuộc kiểm tra."]})
    finding = Finding(id=data["id"], inspection_id=ctx.inspection.id, unit_id=unit_id, kind=data["kind"],
                      origin="manual", item_code=data["item_code"], section_code=data["section_code"],
                      text=data["text"], cause_subjective=data["cause_subjective"],
                      cause_objective=data["cause_objective"], severity=data["severity"], created_by=ctx.user.id)
    db.session.add(finding)
    db.session.flush()
    return Applied(version=finding.version, changes=[("finding", finding.id)], extra={"entity_id": str(finding.id)})


def update_finding(ctx: Context) -> Applied:
    data = load_payload(UpdatePayload(), ctx.payload)
    finding = _locked(ctx, data["finding_id"])
    _require_write(ctx, finding.section_code)
    check_base_version(ctx.base_version, finding.version, current_state(finding))
    for name in ("text", "cause_subjective", "cause_objective", "severity"):
        if name in data:
            setattr(finding, name, data[name])
    if data.get("status") == "kept":  # also how a dropped finding is restored
        finding.status, finding.drop_reason = "kept", None
    elif "text" in data and finding.origin == "rule" and finding.status != "dropped" \
            and data["text"] != finding.generated_text:
        finding.status = "edited"
    if "text" in data:  # the person has now written against the current figures
        finding.is_answer_changed_since_edit = False
    finding.version += 1
    db.session.flush()
    return Applied(version=finding.version, changes=[("finding", finding.id)], extra={"entity_id": str(finding.id)})


def delete_finding(ctx: Context) -> Applied:
    """Dropping, not erasing: the finding stays with its reason and can be restored by an update."""
    data = load_payload(DeletePayload(), ctx.payload)
    finding = _locked(ctx, data["finding_id"])
    _require_write(ctx, finding.section_code)
    check_base_version(ctx.base_version, finding.version, current_state(finding))
    finding.status, finding.drop_reason = "dropped", data["reason"]
    finding.version += 1
    db.session.flush()
    return Applied(version=finding.version, changes=[("finding", finding.id)], extra={"entity_id": str(finding.id)})
