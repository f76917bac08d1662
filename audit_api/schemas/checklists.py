"""Checklist responses. The definition documents the normalized file format (checklists/README.md); the parts
that keep their authored shape reuse the file schemas of checklist_schema.py."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from ..checklist_schema import LegalCiteSchema, LegalRefSchema, OptionSchema, RegimeSchema, ThresholdSchema
from .common import PaginationSchema, StrictSchema


class ChecklistSummarySchema(ma.Schema):
    key = fields.String(required=True)
    version = fields.Integer(required=True)
    title = fields.String(required=True)
    title_en = fields.String(allow_none=True)
    sha256 = fields.String(required=True)
    regime_valid_from = fields.Date(allow_none=True)
    regime_valid_to = fields.Date(allow_none=True)
    section_count = fields.Integer(required=True)
    item_count = fields.Integer(required=True)
    source_file = fields.String(required=True)
    loaded_at = fields.DateTime(required=True)


class ChecklistListSchema(ma.Schema):
    data = fields.List(fields.Nested(ChecklistSummarySchema), required=True)
    pagination = fields.Nested(PaginationSchema, required=True)


class ChecklistListArgsSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    key = fields.String(metadata={"description": "Chỉ lấy các phiên bản của danh mục này"})



class ColumnSchema(ma.Schema):
    code = fields.String(required=True)
    label = fields.String(required=True)
    type = fields.String(required=True)
    pass_value = fields.String(data_key="pass")


class EvidenceSchema(ma.Schema):
    photo = fields.String(required=True)
    document = fields.String(required=True)




class RuleSchema(ma.Schema):
    kind = fields.String(required=True)
    when = fields.Raw(required=True, metadata={"description": "fails_threshold | meets_threshold | [điều kiện]"})
    text = fields.String(required=True)
    recommendations = fields.List(fields.String(), required=True)
    severity = fields.String(required=True)
    vars = fields.Dict(keys=fields.String(), values=fields.Raw(), required=True)


class ItemSchema(ma.Schema):
    code = fields.String(required=True)
    question = fields.String(required=True)
    question_en = fields.String()
    help = fields.String()
    answer_type = fields.String(required=True)
    required = fields.Boolean(required=True)
    unit_label = fields.String()
    unit = fields.String()
    numerator_label = fields.String()
    denominator_label = fields.String()
    options = fields.List(fields.Nested(OptionSchema))
    columns = fields.List(fields.Nested(ColumnSchema))
    evidence = fields.Nested(EvidenceSchema, required=True)
    applies_to = fields.List(fields.String(), required=True)
    period_bound = fields.Boolean(required=True)
    data_sources = fields.List(fields.String(), required=True)
    visible_if = fields.List(fields.Raw())
    validation = fields.Dict(keys=fields.String(), values=fields.Float())
    threshold = fields.Nested(ThresholdSchema)
    legal_refs = fields.List(fields.Nested(LegalCiteSchema), required=True)
    severity = fields.String(required=True)
    rules = fields.List(fields.Nested(RuleSchema), required=True)


class SectionSchema(ma.Schema):
    code = fields.String(required=True)
    title = fields.String(required=True)
    title_en = fields.String(allow_none=True)
    items = fields.List(fields.Nested(ItemSchema), required=True)




class ChecklistDefinitionSchema(ma.Schema):
    key = fields.String(required=True)
    version = fields.Integer(required=True)
    title = fields.String(required=True)
    title_en = fields.String(allow_none=True)
    sha256 = fields.String(required=True)
    regime = fields.Nested(RegimeSchema, required=True)
    legal_refs = fields.Dict(keys=fields.String(), values=fields.Nested(LegalRefSchema), required=True)
    closing_recommendations = fields.List(fields.String(), required=True)
    sections = fields.List(fields.Nested(SectionSchema), required=True)


class ChecklistValidationRequestSchema(StrictSchema):
    yaml = fields.String(required=True, validate=validate.Length(min=1, max=2_000_000),
                         metadata={"description": "Nội dung tệp danh mục (YAML)"})
    filename = fields.String(load_default="checklist.yaml", validate=validate.Length(max=255))


class ChecklistValidationSchema(ma.Schema):
    valid = fields.Boolean(required=True)
    key = fields.String(allow_none=True)
    version = fields.Integer(allow_none=True)
    sha256 = fields.String(allow_none=True)
    section_count = fields.Integer(allow_none=True)
    item_count = fields.Integer(allow_none=True)
    problems = fields.List(fields.String(), required=True, metadata={"description": "Tệp, mục, lý do"})
