"""Inspections (administration side: create, assign sections). Sync and review come with the sync issue."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from ..models.inspections import INSPECTION_STATUSES
from .common import PageArgsSchema, PaginationSchema, StrictInteger, StrictSchema


class UnitBriefSchema(ma.Schema):
    id = fields.UUID(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    unit_type = fields.String(required=True)


class ChecklistRefSchema(ma.Schema):
    key = fields.String(required=True)
    version = fields.Integer(required=True)
    sha256 = fields.String(required=True)


class AssignmentSchema(ma.Schema):
    section_code = fields.String(required=True)
    user_id = fields.UUID(required=True)
    full_name = fields.String(required=True)
    status = fields.String(required=True)


class InspectionSchema(ma.Schema):
    id = fields.UUID(required=True)
    plan_id = fields.UUID(allow_none=True)
    team_id = fields.UUID(required=True)
    host_unit = fields.Nested(UnitBriefSchema, required=True)
    sub_units = fields.List(fields.Nested(UnitBriefSchema), required=True)
    checklist = fields.Nested(ChecklistRefSchema, required=True)
    scheduled_on = fields.Date(required=True)
    ended_on = fields.Date(allow_none=True)
    location = fields.String(allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf(INSPECTION_STATUSES))
    version = fields.Integer(required=True)
    assignments = fields.List(fields.Nested(AssignmentSchema), required=True)
    created_at = fields.DateTime(required=True)


class InspectionListSchema(ma.Schema):
    data = fields.List(fields.Nested(InspectionSchema), required=True)
    pagination = fields.Nested(PaginationSchema, required=True)


class InspectionListArgsSchema(PageArgsSchema):
    status = fields.String(validate=validate.OneOf(INSPECTION_STATUSES))
    team_id = fields.UUID()


class InspectionCreateSchema(StrictSchema):
    team_id = fields.UUID(required=True)
    plan_id = fields.UUID(allow_none=True)
    host_unit_id = fields.UUID(required=True)
    sub_unit_ids = fields.List(fields.UUID(), load_default=list, validate=validate.Length(max=50))
    checklist_key = fields.String(required=True, validate=validate.Length(min=1, max=64))
    checklist_version = StrictInteger(validate=validate.Range(min=1, max=100_000),
                                       metadata={"description": "Mặc định: phiên bản mới nhất"})
    scheduled_on = fields.Date(required=True)
    location = fields.String(allow_none=True, validate=validate.Length(max=500))


class AssignmentInputSchema(StrictSchema):
    section_code = fields.String(required=True, validate=validate.Regexp(r"^[A-H]$"))
    user_id = fields.UUID(required=True)


class AssignmentsPutSchema(StrictSchema):
    assignments = fields.List(fields.Nested(AssignmentInputSchema), required=True, validate=validate.Length(max=26))
