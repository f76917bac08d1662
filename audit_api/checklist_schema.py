"""The shape of a checklist file: marshmallow schemas that refuse unknown keys and wrong types.

check_semantics() in checklists.py does the rest (cross-references, metrics, placeholders, legal refs).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import marshmallow as ma
from marshmallow import fields, validate

from . import checklist_format as fmt
from .errors import translate_messages


@dataclass
class Problem:
    where: str  # "mục D3", "phần A", "đầu tệp"
    field: str
    reason: str

    def format(self, filename: str) -> str:
        location = f"{self.where}, {self.field}" if self.field else self.where
        return f"{filename}: {location}: {self.reason}"


SECTION_CODE = re.compile(r"^[A-H]$")
KEY = re.compile(r"^[a-z0-9][a-z0-9-]*$")
OPTION_CODE = re.compile(r"^[a-z0-9_]+$")


class _Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class LegalRefSchema(_Strict):
    title = fields.String(required=True, validate=validate.Length(min=1))
    short = fields.String(required=True, validate=validate.Length(min=1))
    effective_from = fields.Date(required=True)
    effective_to = fields.Date(load_default=None, allow_none=True)
    note = fields.String()


class RegimeSchema(_Strict):
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(load_default=None, allow_none=True)
    label = fields.String(required=True)


class OptionSchema(_Strict):
    code = fields.String(required=True, validate=validate.Regexp(OPTION_CODE))
    label = fields.String(required=True, validate=validate.Length(min=1))


class ColumnSchema(_Strict):
    code = fields.String(required=True, validate=validate.Regexp(OPTION_CODE))
    label = fields.String(required=True)
    type = fields.String(required=True, validate=validate.OneOf(fmt.SAMPLE_COLUMN_TYPES))
    pass_value = fields.String(data_key="pass", validate=validate.OneOf(("yes", "no")))


class EvidenceSchema(_Strict):
    photo = fields.String(load_default="none", validate=validate.OneOf(fmt.EVIDENCE_RULES))
    document = fields.String(load_default="none", validate=validate.OneOf(fmt.EVIDENCE_RULES))


class ValidationRuleSchema(_Strict):
    min = fields.Float()
    max = fields.Float()


class ThresholdSchema(_Strict):
    metric = fields.String(required=True)
    op = fields.String(required=True, validate=validate.OneOf(fmt.OPERATORS))
    value = fields.Raw(required=True, allow_none=False)
    source = fields.String(required=True, validate=validate.Length(min=1))
    year = fields.Integer(required=True, validate=validate.Range(min=1990, max=2100))
    note = fields.String()


class LegalCiteSchema(_Strict):
    doc = fields.String(required=True)
    cite = fields.String(load_default=None, allow_none=True)


class VarSchema(_Strict):
    item = fields.String(required=True)
    metric = fields.String(load_default="value")


class RuleSchema(_Strict):
    kind = fields.String(required=True, validate=validate.OneOf(("finding", "strength")))
    when = fields.Raw(required=True)
    text = fields.String(required=True, validate=validate.Length(min=1))
    recommendations = fields.List(fields.String(validate=validate.Length(min=1)), load_default=list)
    severity = fields.String(validate=validate.OneOf(fmt.SEVERITIES))
    vars = fields.Dict(keys=fields.String(), values=fields.Nested(VarSchema), load_default=dict)


class ItemSchema(_Strict):
    code = fields.String(required=True)
    question = fields.String(required=True, validate=validate.Length(min=1))
    question_en = fields.String()
    help = fields.String()
    answer_type = fields.String(required=True, validate=validate.OneOf(fmt.ANSWER_TYPES))
    required = fields.Boolean(load_default=False)
    unit_label = fields.String()
    unit = fields.String()
    numerator_label = fields.String()
    denominator_label = fields.String()
    options = fields.List(fields.Nested(OptionSchema))
    columns = fields.List(fields.Nested(ColumnSchema))
    evidence = fields.Nested(EvidenceSchema, load_default=lambda: {"photo": "none", "document": "none"})
    applies_to = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    period_bound = fields.Boolean(load_default=False)
    data_sources = fields.List(fields.String(validate=validate.OneOf(fmt.DATA_SOURCES)), load_default=list)
    visible_if = fields.Raw()
    validation = fields.Nested(ValidationRuleSchema)
    threshold = fields.Nested(ThresholdSchema)
    legal_refs = fields.List(fields.Nested(LegalCiteSchema), required=True, validate=validate.Length(min=1))
    severity = fields.String(load_default="major", validate=validate.OneOf(fmt.SEVERITIES))
    rules = fields.List(fields.Nested(RuleSchema), load_default=list)


class SectionSchema(_Strict):
    code = fields.String(required=True, validate=validate.Regexp(SECTION_CODE))
    title = fields.String(required=True)
    title_en = fields.String()
    items = fields.List(fields.Nested(ItemSchema), required=True, validate=validate.Length(min=1))


class ChecklistSchema(_Strict):
    key = fields.String(required=True, validate=validate.Regexp(KEY))
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    title = fields.String(required=True)
    title_en = fields.String()
    regime = fields.Nested(RegimeSchema, required=True)
    legal_refs = fields.Dict(keys=fields.String(), values=fields.Nested(LegalRefSchema), required=True)
    closing_recommendations = fields.List(fields.String(), load_default=list)
    sections = fields.List(fields.Nested(SectionSchema), required=True, validate=validate.Length(min=1))


def shape_problems(messages: dict, raw: dict) -> list[Problem]:
    """Turn marshmallow's nested error dict into problems that name items by code, not by index."""
    problems: list[Problem] = []
    raw_sections = raw.get("sections") if isinstance(raw, dict) else None

    def walk(node, path: list, where: str):
        if isinstance(node, list):
            for message in node:
                problems.append(Problem(where, ".".join(str(part) for part in path), _vi(message)))
        elif isinstance(node, dict):
            for key, child in node.items():
                walk(child, [*path, key], where)

    for key, node in messages.items():
        if key != "sections" or not isinstance(node, dict) or not isinstance(raw_sections, list):
            walk(node, [key], "đầu tệp")
            continue
        for s_index, s_node in node.items():
            section = raw_sections[s_index] if isinstance(s_index, int) and s_index < len(raw_sections) else {}
            s_where = f"phần {section.get('code', s_index)}" if isinstance(section, dict) else f"phần {s_index}"
            if not isinstance(s_node, dict):
                walk(s_node, [], s_where)
                continue
            for s_key, s_child in s_node.items():
                items = section.get("items") if isinstance(section, dict) else None
                if s_key != "items" or not isinstance(s_child, dict) or not isinstance(items, list):
                    walk(s_child, [s_key], s_where)
                    continue
                for i_index, i_node in s_child.items():
                    item = items[i_index] if isinstance(i_index, int) and i_index < len(items) else {}
                    code = item.get("code") if isinstance(item, dict) else None
                    walk(i_node, [], f"mục {code}" if code else f"phần {section.get('code')}, mục thứ {i_index + 1}")
    return problems


def _vi(message) -> str:
    return str(translate_messages(message))
