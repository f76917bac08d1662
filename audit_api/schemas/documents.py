"""Documents (Biên bản, Thông báo kết luận) and corrective actions."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from ..models.actions import ACTION_STATUSES, RESPONSE_KINDS, REVIEW_DECISIONS
from ..models.documents import DOCUMENT_KINDS, DOCUMENT_STATUSES
from ..problem_api import ProblemSchema
from .common import PageArgsSchema, PaginationSchema, StrictSchema, no_nul

PROVISIONAL = validate.Regexp(r"^[0-9A-Za-zĐđ._-]{1,32}$", error="Số tạm chỉ gồm chữ, số, dấu chấm, gạch (tối đa 32).")


class MinutesCreateSchema(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf(["minutes"]))
    provisional_number = fields.String(load_default=None, allow_none=True, validate=PROVISIONAL,
                                       metadata={"description": "Số tạm của bản dự thảo lập ngoại tuyến"})


class ConclusionCreateSchema(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf(["conclusion"]))
    unit_ids = fields.List(fields.UUID(), required=True, validate=validate.Length(min=1, max=100))
    provisional_number = fields.String(load_default=None, allow_none=True, validate=PROVISIONAL)


class PersonSchema(StrictSchema):
    name = fields.String(required=True, validate=[validate.Length(min=1, max=255), no_nul])
    position = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=500), no_nul])
    role = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=100), no_nul])


class CompositionSchema(StrictSchema):
    team = fields.List(fields.Nested(PersonSchema), load_default=list, validate=validate.Length(max=50))
    unit = fields.List(fields.Nested(PersonSchema), load_default=list, validate=validate.Length(max=50))


class SignatureSchema(StrictSchema):
    authority = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=100), no_nul],
                              metadata={"description": "TM., KT., TL., Q., TUQ. …"})
    title = fields.String(required=True, validate=[validate.Length(min=1, max=200), no_nul])
    hint = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=200), no_nul])
    name = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=255), no_nul])


def _text(limit: int = 20_000, **kwargs):
    return fields.String(validate=[validate.Length(max=limit), no_nul], allow_none=True, **kwargs)


def _lines(limit: int = 50):
    return fields.List(fields.String(validate=[validate.Length(min=1, max=2_000), no_nul]), allow_none=True,
                       validate=validate.Length(max=limit))


class SectionsSchema(StrictSchema):
    """Prose sections of a draft; null puts a section back to the text generated from the data.
    `{host}` and `{unit:<id>}` print the unit's name as it is on the signing date."""

    summary = _lines(4)
    bases = _lines()
    opening = _text()
    composition = fields.Nested(CompositionSchema, allow_none=True)
    unit_explanation = _text()
    report_back = _text()
    implementation = _lines()
    closing = _text()
    recipients = _lines()
    signatures = fields.List(fields.Nested(SignatureSchema), allow_none=True, validate=validate.Length(max=4))


class DocumentPatchSchema(StrictSchema):
    sections = fields.Nested(SectionsSchema, required=True)


class IssueSchema(StrictSchema):
    issued_on = fields.Date(load_default=None, allow_none=True,
                            metadata={"description": "Ngày ký; mặc định hôm nay (giờ Việt Nam)"})
    signer_name = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=255), no_nul])
    signer_title = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=255), no_nul])


class DocumentListArgsSchema(PageArgsSchema):
    kind = fields.String(validate=validate.OneOf(DOCUMENT_KINDS))
    status = fields.String(validate=validate.OneOf(DOCUMENT_STATUSES))
    inspection_id = fields.UUID()
    plan_id = fields.UUID()
    unit_id = fields.UUID()


class DocumentSchema(ma.Schema):
    id = fields.UUID(required=True)
    kind = fields.String(required=True)
    status = fields.String(required=True)
    inspection_id = fields.UUID(allow_none=True)
    plan_id = fields.UUID(allow_none=True)
    unit_ids = fields.List(fields.UUID(), required=True)
    number = fields.Integer(allow_none=True)
    symbol = fields.String(allow_none=True)
    display_number = fields.String(required=True, metadata={"description": "Số: 05/BB-ĐKT (dự thảo: …/BB-ĐKT)"})
    provisional_number = fields.String(allow_none=True)
    issued_on = fields.Date(allow_none=True)
    signer_name = fields.String(allow_none=True)
    signer_title = fields.String(allow_none=True)
    pdf_sha256 = fields.String(allow_none=True)
    corrects_id = fields.UUID(allow_none=True)
    template_version = fields.String(allow_none=True)
    version = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    sections = fields.Dict(required=True, metadata={"description": "Các phần đã sửa (chưa sửa: không có khóa)"})
    view = fields.Dict(required=True, metadata={"description": "Nội dung văn bản như khi in"})


class StaleDocumentProblemSchema(ProblemSchema):
    current = fields.Nested(DocumentSchema, metadata={"description": "Bản hiện tại trên máy chủ"})


class DocumentSummarySchema(DocumentSchema):
    class Meta:
        exclude = ("view",)


class DocumentListSchema(ma.Schema):
    data = fields.List(fields.Nested(DocumentSummarySchema), required=True)
    pagination = fields.Nested(PaginationSchema, required=True)


# --- corrective actions -----------------------------------------------------------------------------------------


class ActionListArgsSchema(PageArgsSchema):
    unit_id = fields.UUID()
    status = fields.String(validate=validate.OneOf(ACTION_STATUSES))
    overdue = fields.Boolean()


class ActionResponseCreateSchema(StrictSchema):
    kind = fields.String(load_default="response", validate=validate.OneOf(RESPONSE_KINDS),
                         metadata={"description": "response: đã khắc phục; "
                                                  "cannot_fix: không thể khắc phục (ghi lý do)"})
    text = fields.String(required=True, validate=[validate.Length(min=1, max=20_000), no_nul])
    file_ids = fields.List(fields.UUID(), load_default=list, validate=validate.Length(max=50),
                           metadata={"description": "Tệp minh chứng đã tải lên qua /api/v1/photos (ảnh hoặc PDF)"})


class ActionReviewCreateSchema(StrictSchema):
    decision = fields.String(required=True, validate=validate.OneOf(REVIEW_DECISIONS))
    comment = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=20_000), no_nul])


class ActionResponseSchema(ma.Schema):
    id = fields.UUID(required=True)
    kind = fields.String(required=True)
    text = fields.String(required=True)
    author = fields.Dict(required=True)
    file_ids = fields.List(fields.UUID(), required=True)
    created_at = fields.DateTime(required=True)


class ActionReviewSchema(ma.Schema):
    id = fields.UUID(required=True)
    decision = fields.String(required=True)
    comment = fields.String(allow_none=True)
    reviewer = fields.Dict(required=True)
    created_at = fields.DateTime(required=True)


class ActionSchema(ma.Schema):
    id = fields.UUID(required=True)
    document_id = fields.UUID(required=True)
    document_number = fields.String(required=True)
    unit = fields.Dict(required=True)
    text = fields.String(required=True)
    deadline = fields.Date(allow_none=True)
    status = fields.String(required=True)
    is_overdue = fields.Boolean(required=True)
    is_closed = fields.Boolean(required=True)
    cannot_fix_reason = fields.String(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    version = fields.Integer(required=True)
    responses = fields.List(fields.Nested(ActionResponseSchema), required=True)
    reviews = fields.List(fields.Nested(ActionReviewSchema), required=True)


class ActionListSchema(ma.Schema):
    data = fields.List(fields.Nested(ActionSchema), required=True)
    pagination = fields.Nested(PaginationSchema, required=True)
