"""Answers: the payload schemas of answer.set / answer.clear and the state a conflict or the feed reports.

Answer mutations are applied by answer_batch.py (in runs, or one at a time): one answer per
(inspection, item, unit), every version kept as a revision."""

from __future__ import annotations

from collections.abc import Mapping

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


ANSWER_FIELDS = ("id", "item_code", "unit_id", "value", "note", "source", "period_from", "period_to", "version",
                 "author_id", "client_time", "updated_at")


def current_state(answer: Answer | Mapping | None, item_code: str, unit_id, authors: dict | None = None) -> dict:
    """What the server holds, as a conflict reports it and the change feed sends it. `answer` is a model
    or a row mapping (the bulk path works on plain rows)."""
    if answer is None:
        return {"entity": "answer", "item_code": item_code, "unit_id": str(unit_id), "value": None, "version": 0}
    row = answer if isinstance(answer, Mapping) else {name: getattr(answer, name) for name in ANSWER_FIELDS}
    return {
        "entity": "answer", "id": str(row["id"]), "item_code": row["item_code"], "unit_id": str(row["unit_id"]),
        "value": row["value"], "note": row["note"], "source": row["source"],
        "period": {"from": row["period_from"].isoformat(), "to": row["period_to"].isoformat()}
        if row["period_from"] and row["period_to"] else None,
        "version": row["version"], "author": author(row["author_id"], authors),
        "client_time": row["client_time"].isoformat() if row["client_time"] else None,
        "updated_at": row["updated_at"].isoformat() if row["updated_at"] else None,
    }
