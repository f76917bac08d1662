"""Answers: the payload schemas of answer.set / answer.clear and the state a conflict or the feed reports.

Answer mutations are applied by answer_batch.py (in runs, or one at a time): one answer per
(inspection, item, unit), every version kept as a revision."""

from __future__ import annotations

from marshmallow import fields, validate

from ..checklist_format import DATA_SOURCES
from ..models import Answer
from ..schemas.common import StrictSchema, no_nul
from .mutations import author


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
