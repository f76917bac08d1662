"""Sign-in and tokens."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from .common import StrictSchema
from .users import MeSchema


class LoginSchema(StrictSchema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=256))
    device_id = fields.String(validate=validate.Length(max=128),
                              metadata={"description": "Mã thiết bị (máy tính bảng)"})


class TokenPairSchema(ma.Schema):
    access_token = fields.String(required=True)
    refresh_token = fields.String(required=True)
    token_type = fields.String(required=True)
    expires_in = fields.Integer(required=True, metadata={"description": "Số giây còn hiệu lực của access token"})
    user = fields.Nested(MeSchema, required=True)
