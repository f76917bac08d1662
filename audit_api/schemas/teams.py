"""Teams (Đoàn kiểm tra), members, and plans (Kế hoạch kiểm tra)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from ..models.teams import TEAM_ROLES
from .common import PageArgsSchema, PaginationSchema, StrictInteger, StrictSchema

TEXT = validate.Length(min=1, max=255)


class MemberSchema(ma.Schema):
    user_id = fields.UUID(required=True)
    username = fields.String(required=True)
    full_name = fields.String(required=True)
    team_role = fields.String(required=True)
    position = fields.String(allow_none=True)


class TeamSchema(ma.Schema):
    id = fields.UUID(required=True)
    name = fields.String(required=True)
    province_id = fields.UUID(required=True)
    plan_id = fields.UUID(allow_none=True)
    decision_number = fields.String(required=True)
    decision_date = fields.Date(required=True)
    decision_issuer = fields.String(required=True)
    members = fields.List(fields.Nested(MemberSchema), required=True)
    created_at = fields.DateTime(required=True)


class TeamListSchema(ma.Schema):
    data = fields.List(fields.Nested(TeamSchema), required=True)
    pagination = fields.Nested(PaginationSchema, required=True)


class TeamCreateSchema(StrictSchema):
    name = fields.String(required=True, validate=TEXT)
    province_id = fields.UUID(metadata={"description": "Mặc định: tỉnh của quản trị viên"})
    plan_id = fields.UUID(allow_none=True)
    decision_number = fields.String(required=True, validate=validate.Length(min=1, max=64))
    decision_date = fields.Date(required=True)
    decision_issuer = fields.String(required=True, validate=TEXT)


class TeamUpdateSchema(StrictSchema):
    name = fields.String(validate=TEXT)
    plan_id = fields.UUID(allow_none=True)
    decision_number = fields.String(validate=validate.Length(min=1, max=64))
    decision_date = fields.Date()
    decision_issuer = fields.String(validate=TEXT)


class MemberPutSchema(StrictSchema):
    team_role = fields.String(required=True, validate=validate.OneOf(TEAM_ROLES))
    position = fields.String(allow_none=True, validate=validate.Length(max=500))


class PlanSchema(ma.Schema):
    id = fields.UUID(required=True)
    province_id = fields.UUID(required=True)
    number = fields.String(required=True)
    title = fields.String(required=True)
    issuer = fields.String(required=True)
    issued_on = fields.Date(required=True)
    year = fields.Integer(required=True)
    period_from = fields.Date(allow_none=True)
    period_to = fields.Date(allow_none=True)
    unit_ids = fields.List(fields.UUID(), required=True)
    created_at = fields.DateTime(required=True)


class PlanListSchema(ma.Schema):
    data = fields.List(fields.Nested(PlanSchema), required=True)
    pagination = fields.Nested(PaginationSchema, required=True)


class PlanCreateSchema(StrictSchema):
    province_id = fields.UUID(metadata={"description": "Mặc định: tỉnh của quản trị viên"})
    number = fields.String(required=True, validate=validate.Length(min=1, max=64))
    title = fields.String(required=True, validate=validate.Length(min=1, max=500))
    issuer = fields.String(required=True, validate=TEXT)
    issued_on = fields.Date(required=True)
    year = StrictInteger(required=True, validate=validate.Range(min=2000, max=2100))
    period_from = fields.Date(allow_none=True)
    period_to = fields.Date(allow_none=True)
    unit_ids = fields.List(fields.UUID(), load_default=list, validate=validate.Length(max=500))


class PlanUpdateSchema(StrictSchema):
    number = fields.String(validate=validate.Length(min=1, max=64))
    title = fields.String(validate=validate.Length(min=1, max=500))
    issuer = fields.String(validate=TEXT)
    issued_on = fields.Date()
    year = StrictInteger(validate=validate.Range(min=2000, max=2100))
    period_from = fields.Date(allow_none=True)
    period_to = fields.Date(allow_none=True)
    unit_ids = fields.List(fields.UUID(), validate=validate.Length(max=500))


class ListArgsSchema(PageArgsSchema):
    pass
