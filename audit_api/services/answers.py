"""answer.set and answer.clear: one answer per (inspection, item, unit), every version kept as a revision."""

from __future__ import annotations

import sqlalchemy as sa
from marshmallow import fields, validate

from .. import access
from ..answer_values import InvalidValue
from ..answer_values import validate as validate_value
from ..checklist_format import DATA_SOURCES
from ..extensions import db
from ..models import Answer, AnswerRevision, Unit
from ..schemas.common import StrictSchema, no_nul
from .mutations import Applied, Context, Rejected, author, check_base_version, load_payload


class PeriodSchema(StrictSchema):
    from_ = fields.Date(required=True, data_key="from")
    to = fields.Date(required=True)


class SetPayload(StrictSchema):
    item_code = fields.String(required=True, validate=validate.Length(min=1, max=16))
    unit_id = fields.UUID(load_default=None, allow_none=True)
    value = fields.Raw(required=True, allow_none=False)
    note = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=10_000), no_nul])
    period = fields.Nested(PeriodSchema, load_default=None, allow_none=True)
    source = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(DATA_SOURCES))


class ClearPayload(StrictSchema):
    item_code = fields.String(required=True, validate=validate.Length(min=1, max=16))
    unit_id = fields.UUID(load_default=None, allow_none=True)


def find_item(definition: dict, item_code: str) -> tuple[dict, str] | tuple[None, None]:
    for section in definition["sections"]:
        for item in section["items"]:
            if item["code"] == item_code:
                return item, section["code"]
    return None, None


def _target(ctx: Context, data: dict) -> tuple[dict, Unit]:
    """The checklist item and the unit an answer is about; refuses what the inspection does not cover."""
    inspection = ctx.inspection
    item, section_code = find_item(inspection.checklist_version.definition, data["item_code"])
    if item is None:
        raise Rejected(422, f"Danh mục {inspection.checklist_version.key} không có mục {data['item_code']}.",
                       {"item_code": ["Không có trong danh mục của cuộc kiểm tra."]})
    units = {unit.id: unit for unit in [inspection.host_unit, *inspection.sub_units]}
    unit = units.get(data["unit_id"] or inspection.host_unit_id)
    if unit is None:
        raise Rejected(422, "Đơn vị không thuộc cuộc kiểm tra này.", {"unit_id": ["Không thuộc cuộc kiểm tra."]})
    if unit.unit_type not in item["applies_to"]:
        raise Rejected(422, f"Mục {item['code']} không áp dụng cho {unit.name}.",
                       {"item_code": ["Không áp dụng cho loại đơn vị này."]})
    access.require_section_write(ctx.user, inspection, section_code)
    return item, unit


def _locked(inspection_id, item_code: str, unit_id) -> Answer | None:
    """The answer row, locked until commit (PostgreSQL) so two writers cannot both pass the version check."""
    query = (sa.select(Answer).filter_by(inspection_id=inspection_id, item_code=item_code, unit_id=unit_id)
             .with_for_update().execution_options(populate_existing=True))
    return db.session.scalar(query)


def current_state(answer: Answer | None, item_code: str, unit_id) -> dict:
    """What the server holds, as a conflict reports it and the change feed sends it."""
    if answer is None:
        return {"entity": "answer", "item_code": item_code, "unit_id": str(unit_id), "value": None, "version": 0}
    return {
        "entity": "answer", "id": str(answer.id), "item_code": answer.item_code, "unit_id": str(answer.unit_id),
        "value": answer.value, "note": answer.note, "source": answer.source,
        "period": {"from": answer.period_from.isoformat(), "to": answer.period_to.isoformat()}
        if answer.period_from and answer.period_to else None,
        "version": answer.version, "author": author(answer.author_id),
        "client_time": answer.client_time.isoformat() if answer.client_time else None,
        "updated_at": answer.updated_at.isoformat(),
    }


def _write(ctx: Context, item: dict, unit: Unit, fields_: dict) -> Applied:
    answer = _locked(ctx.inspection.id, item["code"], unit.id)
    check_base_version(ctx.base_version, answer.version if answer else 0, current_state(answer, item["code"], unit.id))
    if answer is None:
        answer = Answer(inspection_id=ctx.inspection.id, item_code=item["code"], unit_id=unit.id, version=0)
        db.session.add(answer)
    for name, value in fields_.items():
        setattr(answer, name, value)
    answer.version += 1
    answer.author_id = ctx.user.id
    answer.client_time = ctx.client_time
    db.session.flush()
    db.session.add(AnswerRevision(
        answer_id=answer.id, version=answer.version, value=answer.value, note=answer.note,
        period_from=answer.period_from, period_to=answer.period_to, source=answer.source, author_id=ctx.user.id,
        client_time=ctx.client_time, mutation_id=ctx.mutation_id,
    ))
    db.session.flush()
    return Applied(version=answer.version, changes=[("answer", answer.id)], extra={"entity_id": str(answer.id)})


def set_answer(ctx: Context) -> Applied:
    data = load_payload(SetPayload(), ctx.payload)
    item, unit = _target(ctx, data)
    try:
        value = validate_value(item, data["value"])
    except InvalidValue as exc:
        raise Rejected(422, str(exc), {"value": [str(exc)]}) from exc
    period = data["period"]
    if period and period["to"] < period["from_"]:
        raise Rejected(422, "Kỳ số liệu: ngày kết thúc trước ngày bắt đầu.", {"period": ["Không hợp lệ."]})
    _require_visible(ctx, item, unit)
    return _write(ctx, item, unit, {
        "value": value, "note": data["note"], "source": data["source"],
        "period_from": period["from_"] if period else None, "period_to": period["to"] if period else None,
    })


def clear_answer(ctx: Context) -> Applied:
    data = load_payload(ClearPayload(), ctx.payload)
    item, unit = _target(ctx, data)
    return _write(ctx, item, unit, {"value": None})


def _require_visible(ctx: Context, item: dict, unit: Unit) -> None:
    """An item hidden by its visibility condition takes no answer (the tablet hides it too)."""
    if not item.get("visible_if"):
        return
    from .rules import is_visible

    if not is_visible(ctx.inspection, item, unit.id):
        raise Rejected(422, f"Mục {item['code']} đang ẩn theo điều kiện hiển thị; không nhận câu trả lời.",
                       {"item_code": ["Mục đang ẩn."]})
