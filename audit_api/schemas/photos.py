"""Photos and their uploads."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from .common import StrictInteger, StrictSchema, no_nul


class PhotoCreateSchema(StrictSchema):
    """A checklist photo names its inspection; an inspected unit's evidence file (photo or PDF) names the
    corrective action it answers instead."""

    id = fields.UUID(required=True, metadata={"description": "UUID do máy tính bảng tạo, không bao giờ đổi"})
    inspection_id = fields.UUID(load_default=None, allow_none=True)
    action_id = fields.UUID(load_default=None, allow_none=True,
                            metadata={"description": "Minh chứng khắc phục của đơn vị (ảnh hoặc PDF)"})
    sha256 = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))
    size = StrictInteger(required=True, validate=validate.Range(min=1, max=10**10))
    content_type = fields.String(required=True, validate=validate.Length(max=100))
    item_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=16))
    unit_id = fields.UUID(load_default=None, allow_none=True)
    caption = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=2000), no_nul])

    @ma.validates_schema
    def _one_owner(self, data, **_kwargs):
        if (data.get("inspection_id") is None) == (data.get("action_id") is None):
            raise ma.ValidationError("Ghi đúng một trong hai: inspection_id (ảnh kiểm tra) hoặc action_id "
                                     "(minh chứng khắc phục).", field_name="inspection_id")


class PhotoSchema(ma.Schema):
    id = fields.UUID(required=True)
    inspection_id = fields.UUID(required=True)
    action_id = fields.UUID(allow_none=True)
    kind = fields.String(required=True, metadata={"description": "photo | document (PDF)"})
    status = fields.String(required=True, metadata={"description": "uploading | ready | rejected"})
    offset = fields.Integer(required=True, metadata={"description": "Số byte máy chủ đã nhận"})
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    content_type = fields.String(required=True)
    upload_url = fields.String(required=True, metadata={"description": "Nơi gửi dữ liệu (HEAD/PATCH kiểu tus)"})
    reject_reason = fields.String(allow_none=True)
    item_code = fields.String(allow_none=True)
    unit_id = fields.UUID(allow_none=True)
    caption = fields.String(allow_none=True)
    width = fields.Integer(allow_none=True)
    height = fields.Integer(allow_none=True)
    taken_at = fields.DateTime(allow_none=True)
    gps_lat = fields.Float(allow_none=True)
    gps_lon = fields.Float(allow_none=True)
    camera_model = fields.String(allow_none=True)
    urls = fields.Dict(keys=fields.String(), values=fields.String(), allow_none=True)


class LimitsSchema(ma.Schema):
    photo_max_bytes = fields.Integer(required=True)
    photo_max_pixels = fields.Integer(required=True)
    upload_chunk_max_bytes = fields.Integer(required=True)
    photos_per_inspection = fields.Integer(required=True)
    photo_types = fields.List(fields.String(), required=True)
    sync_batch_max = fields.Integer(required=True)
    body_max_bytes = fields.Integer(required=True)
