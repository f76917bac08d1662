"""Sync: the batch of mutations, its results, and the change feed."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from .common import StrictSchema

MUTATION_STATUSES = ("applied", "duplicate", "conflict", "rejected")


class _Items(fields.List):
    """A list of anything but null, taken as it is: the sync service checks each mutation itself (and answers
    every one, well-formed or not), so loading a 500-item list item by item through Raw would only cost time.
    Anything else (not a list, a null item) goes through List for the very same errors."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, list) and None not in value:
            return list(value)
        return super()._deserialize(value, attr, data, **kwargs)


class SyncRequestSchema(StrictSchema):
    device_id = fields.String(required=True, validate=validate.Length(min=1, max=128))
    mutations = _Items(fields.Raw(), required=True, metadata={
        "description": "[{id, type, inspection_id, base_version, payload, client_time}] — mỗi thay đổi một UUID"})


class MutationResultSchema(ma.Schema):
    id = fields.String(allow_none=True, required=True)
    status = fields.String(required=True, validate=validate.OneOf(MUTATION_STATUSES))
    original_status = fields.String(metadata={"description": "Với duplicate: kết quả lần đầu"})
    version = fields.Integer(allow_none=True)
    entity_id = fields.String()
    current = fields.Raw(metadata={
        "description": "Với conflict: giá trị, phiên bản, người sửa, thời điểm trên máy chủ"})
    problem = fields.Raw(metadata={"description": "Với rejected: lỗi dạng problem+json"})


class SyncResponseSchema(ma.Schema):
    results = fields.List(fields.Nested(MutationResultSchema), required=True)
    cursor = fields.String(required=True)


class ChangesArgsSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    cursor = fields.String(load_default="0", validate=validate.Regexp(r"^\d{1,19}$"))
    limit = fields.Integer(load_default=500, validate=validate.Range(min=1, max=1000))


class ChangeSchema(ma.Schema):
    seq = fields.Integer(required=True)
    inspection_id = fields.String(required=True)
    entity_type = fields.String(required=True)
    entity_id = fields.String(required=True)
    deleted = fields.Boolean(required=True)
    data = fields.Raw(allow_none=True, required=True)


class ChangesSchema(ma.Schema):
    changes = fields.List(fields.Nested(ChangeSchema), required=True)
    cursor = fields.String(required=True)
    has_more = fields.Boolean(required=True)


class BundleSchema(ma.Schema):
    inspection = fields.Raw(required=True)
    units = fields.List(fields.Raw(), required=True)
    sections = fields.List(fields.Raw(), required=True)
    answers = fields.List(fields.Raw(), required=True)
    findings = fields.List(fields.Raw(), required=True)
    recommendations = fields.List(fields.Raw(), required=True)
    photos = fields.List(fields.Raw(), required=True)
    carried_actions = fields.List(fields.Raw(), required=True)
    cursor = fields.String(required=True)


class SectionReviewSchema(StrictSchema):
    decision = fields.String(required=True, validate=validate.OneOf(("return", "approve")))
    comment = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=10_000))
