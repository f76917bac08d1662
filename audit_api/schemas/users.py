"""Users: what clients see, and what administrators may send."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from ..models.users import ROLES
from .common import PageArgsSchema, PaginationSchema, StrictBoolean, StrictSchema

USERNAME = validate.Regexp(r"^[a-z0-9][a-z0-9._-]{1,63}$",
                           error="Tên đăng nhập: chữ thường, số, dấu . _ - (2–64 ký tự).")
PASSWORD = validate.Length(min=8, max=256, error="Mật khẩu dài 8–256 ký tự.")
NAME = validate.Length(min=1, max=255)


class UnitRefSchema(ma.Schema):
    id = fields.UUID(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)


class TeamMembershipSchema(ma.Schema):
    team_id = fields.UUID(required=True)
    team_name = fields.String(required=True)
    team_role = fields.String(required=True)


class UserSchema(ma.Schema):
    id = fields.UUID(required=True)
    username = fields.String(required=True)
    full_name = fields.String(required=True)
    title = fields.String(allow_none=True)
    organization = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    roles = fields.List(fields.String(), required=True)
    unit = fields.Nested(UnitRefSchema, allow_none=True)
    province_id = fields.UUID(allow_none=True)
    is_active = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)


class MeSchema(UserSchema):
    teams = fields.List(fields.Nested(TeamMembershipSchema), required=True)


class UserListSchema(ma.Schema):
    data = fields.List(fields.Nested(UserSchema), required=True)
    pagination = fields.Nested(PaginationSchema, required=True)


class UserListArgsSchema(PageArgsSchema):
    role = fields.String(validate=validate.OneOf(ROLES))
    is_active = fields.Boolean()


class UserCreateSchema(StrictSchema):
    username = fields.String(required=True, validate=USERNAME)
    full_name = fields.String(required=True, validate=NAME)
    password = fields.String(required=True, load_only=True, validate=PASSWORD)
    roles = fields.List(fields.String(validate=validate.OneOf(ROLES)), required=True,
                        validate=validate.Length(min=1))
    unit_id = fields.UUID(allow_none=True)
    province_id = fields.UUID(allow_none=True)
    title = fields.String(allow_none=True, validate=validate.Length(max=255))
    organization = fields.String(allow_none=True, validate=validate.Length(max=255))
    email = fields.Email(allow_none=True)


class UserUpdateSchema(StrictSchema):
    full_name = fields.String(validate=NAME)
    roles = fields.List(fields.String(validate=validate.OneOf(ROLES)), validate=validate.Length(min=1))
    unit_id = fields.UUID(allow_none=True)
    title = fields.String(allow_none=True, validate=validate.Length(max=255))
    organization = fields.String(allow_none=True, validate=validate.Length(max=255))
    email = fields.Email(allow_none=True)
    is_active = StrictBoolean()


class PasswordResetSchema(StrictSchema):
    password = fields.String(required=True, load_only=True, validate=PASSWORD)

