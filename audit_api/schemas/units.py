"""Unit responses and query arguments."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields

from .common import PageArgsSchema, PaginationSchema


class UnitSchema(ma.Schema):
    id = fields.UUID(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    short_name = fields.String(allow_none=True)
    abbrev = fields.String(allow_none=True)
    unit_type = fields.String(required=True)
    unit_type_label = fields.String(required=True)
    parent_id = fields.UUID(allow_none=True)
    admin_code = fields.String(allow_none=True)
    place_name = fields.String(allow_none=True)
    valid_from = fields.Date(allow_none=True)
    valid_to = fields.Date(allow_none=True)
    depth = fields.Integer(required=True, metadata={"description": "Độ sâu trong cây (gốc = 0)"})


class UnitTreeNodeSchema(UnitSchema):
    children = fields.List(fields.Nested(lambda: UnitTreeNodeSchema()), required=True)


class UnitListSchema(ma.Schema):
    data = fields.List(fields.Nested(UnitSchema), required=True)
    pagination = fields.Nested(PaginationSchema, required=True)


class UnitTreeSchema(ma.Schema):
    data = fields.List(fields.Nested(UnitTreeNodeSchema), required=True)


class UnitListArgsSchema(PageArgsSchema):
    type = fields.String(metadata={"description": "Lọc theo loại đơn vị (ví dụ commune, district_legacy)"})
    valid_on = fields.Date(metadata={"description": "Chỉ các đơn vị có hiệu lực vào ngày này (YYYY-MM-DD)"})
    parent_id = fields.UUID(metadata={"description": "Chỉ các đơn vị trực thuộc đơn vị này"})


class UnitTreeArgsSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    valid_on = fields.Date(metadata={"description": "Chỉ các đơn vị có hiệu lực vào ngày này"})


class UnitNameSchema(ma.Schema):
    name = fields.String(required=True)
    valid_from = fields.Date(allow_none=True)
    valid_to = fields.Date(allow_none=True)


class SuccessionSchema(ma.Schema):
    kind = fields.String(required=True)
    effective_date = fields.Date(required=True)
    legal_basis = fields.String(allow_none=True)
    unit_id = fields.UUID(allow_none=True, metadata={"description": "Đơn vị bên kia của quan hệ kế thừa"})
    unit_name = fields.String(allow_none=True)


class UnitDetailSchema(UnitSchema):
    former_names = fields.List(fields.Nested(UnitNameSchema), required=True)
    successors = fields.List(fields.Nested(SuccessionSchema), required=True)
    predecessors = fields.List(fields.Nested(SuccessionSchema), required=True)
