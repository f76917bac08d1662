"""Findings (hạn chế), strengths (kết quả đạt được) and recommendations (kiến nghị) as the lead and secretary
edit them."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from ..models.findings import FINDING_KINDS, FINDING_STATUSES, ORIGINS, SEVERITIES
from ..problem_api import ProblemSchema
from .common import PageArgsSchema, PaginationSchema, StrictInteger, StrictSchema, no_nul
from .inspections import UnitBriefSchema


def not_blank(value: str) -> None:
    if not value.strip():
        raise ma.ValidationError("Không được để trống (empty).")


TEXT = [validate.Length(min=1, max=10_000), no_nul, not_blank]
LONG_TEXT = [validate.Length(max=10_000), no_nul]
SORT_ORDER = validate.Range(min=0, max=1_000_000)
ETAG = {"description": "ETag của bản này (kèm dấu nháy), gửi lại trong If-Match khi sửa"}


class FindingAuthorSchema(ma.Schema):
    id = fields.UUID(required=True)
    full_name = fields.String(required=True)


class RecommendationSchema(ma.Schema):
    id = fields.UUID(required=True)
    inspection_id = fields.UUID(required=True)
    finding_id = fields.UUID(allow_none=True)
    responsible_unit = fields.Nested(UnitBriefSchema, required=True, metadata={"description": "Đơn vị thực hiện"})
    origin = fields.String(required=True, validate=validate.OneOf(ORIGINS),
                           metadata={"description": "rule: câu chữ của danh mục (được cập nhật số liệu); "
                                                    "manual: do người viết hoặc đã sửa"})
    text = fields.String(required=True)
    deadline = fields.Date(allow_none=True, metadata={"description": "Thời hạn khắc phục"})
    report_form = fields.String(allow_none=True, metadata={"description": "Hình thức báo cáo"})
    sort_order = fields.Integer(required=True)
    version = fields.Integer(required=True)
    etag = fields.String(required=True, metadata=ETAG)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class FindingSchema(ma.Schema):
    id = fields.UUID(required=True)
    inspection_id = fields.UUID(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(FINDING_KINDS),
                         metadata={"description": "finding: hạn chế; strength: kết quả đạt được"})
    origin = fields.String(required=True, validate=validate.OneOf(ORIGINS))
    item_code = fields.String(allow_none=True)
    section_code = fields.String(allow_none=True)
    unit = fields.Nested(UnitBriefSchema, required=True, metadata={"description": "Đơn vị mà hạn chế nói đến"})
    text = fields.String(required=True)
    generated_text = fields.String(allow_none=True, metadata={"description": "Câu chữ quy tắc sinh ra (giữ khi sửa)"})
    cause_subjective = fields.String(allow_none=True, metadata={"description": "Nguyên nhân chủ quan"})
    cause_objective = fields.String(allow_none=True, metadata={"description": "Nguyên nhân khách quan"})
    severity = fields.String(allow_none=True, validate=validate.OneOf(SEVERITIES))
    status = fields.String(required=True, validate=validate.OneOf(FINDING_STATUSES),
                           metadata={"description": "draft: chưa xem; kept: giữ; edited: đã sửa (quy tắc không "
                                                    "ghi đè); dropped: bỏ, có lý do"})
    drop_reason = fields.String(allow_none=True)
    merged_into_id = fields.UUID(allow_none=True, metadata={"description": "Hạn chế mà hạn chế này được gộp vào"})
    sort_order = fields.Integer(required=True)
    is_answer_changed_since_edit = fields.Boolean(
        required=True, metadata={"description": "Số liệu đã đổi sau khi người sửa câu chữ: cần xem lại"})
    is_incomplete = fields.Boolean(required=True, metadata={"description": "Còn chỗ '[chưa có số liệu]'"})
    answer_ids = fields.List(fields.UUID(), required=True)
    photo_ids = fields.List(fields.UUID(), required=True)
    recommendations = fields.List(fields.Nested(RecommendationSchema), required=True)
    version = fields.Integer(required=True)
    etag = fields.String(required=True, metadata=ETAG)
    created_by = fields.Nested(FindingAuthorSchema, allow_none=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class FindingDetailSchema(FindingSchema):
    suggested_recommendations = fields.List(
        fields.String(), required=True,
        metadata={"description": "Câu chữ kiến nghị danh mục gợi ý cho mục này, điền số liệu hiện tại; "
                                 "POST .../recommendations không kèm text sẽ dùng câu đầu tiên chưa có"})


class FindingListArgsSchema(PageArgsSchema):
    kind = fields.String(validate=validate.OneOf(FINDING_KINDS))
    status = fields.String(validate=validate.OneOf(FINDING_STATUSES))
    unit_id = fields.UUID()


class FindingListSchema(ma.Schema):
    data = fields.List(fields.Nested(FindingSchema), required=True)
    pagination = fields.Nested(PaginationSchema, required=True)


class FindingRefSchema(ma.Schema):
    id = fields.UUID(required=True)
    item_code = fields.String(allow_none=True)
    unit = fields.Nested(UnitBriefSchema, required=True)
    text = fields.String(required=True)
    status = fields.String(required=True)
    version = fields.Integer(required=True)


class FindingReadinessSchema(ma.Schema):
    ready = fields.Boolean(required=True, metadata={"description": "Mọi hạn chế đã giữ/sửa đều có kiến nghị"})
    missing_recommendations = fields.List(
        fields.Nested(FindingRefSchema), required=True,
        metadata={"description": "Hạn chế đã giữ hoặc đã sửa nhưng chưa có kiến nghị (văn bản chưa ban hành được)"})
    undecided = fields.List(fields.Nested(FindingRefSchema), required=True,
                            metadata={"description": "Hạn chế còn ở dạng dự thảo (chưa giữ, sửa hay bỏ)"})


class FindingUpdateSchema(StrictSchema):
    text = fields.String(validate=TEXT)
    cause_subjective = fields.String(allow_none=True, validate=LONG_TEXT)
    cause_objective = fields.String(allow_none=True, validate=LONG_TEXT)
    severity = fields.String(allow_none=True, validate=validate.OneOf(SEVERITIES))
    unit_id = fields.UUID(metadata={"description": "Một trong các đơn vị của cuộc kiểm tra"})
    sort_order = StrictInteger(validate=SORT_ORDER)
    status = fields.String(validate=validate.OneOf(("kept",)), metadata={"description": "Giữ hạn chế dự thảo"})


class FindingDropSchema(StrictSchema):
    reason = fields.String(required=True, validate=[validate.Length(min=1, max=2000), no_nul, not_blank],
                           metadata={"description": "Lý do bỏ (bắt buộc)"})


class FindingMergeSchema(StrictSchema):
    finding_ids = fields.List(fields.UUID(), required=True, validate=validate.Length(min=1, max=50),
                              metadata={"description": "Các hạn chế gộp vào hạn chế này"})
    text = fields.String(validate=TEXT, metadata={"description": "Câu chữ mới của hạn chế sau khi gộp"})


class FindingSplitPartSchema(StrictSchema):
    text = fields.String(required=True, validate=TEXT)
    unit_id = fields.UUID(metadata={"description": "Mặc định: đơn vị của hạn chế gốc"})


class FindingSplitSchema(StrictSchema):
    parts = fields.List(fields.Nested(FindingSplitPartSchema), required=True, validate=validate.Length(min=2, max=20))


class FindingSplitResultSchema(ma.Schema):
    original = fields.Nested(FindingSchema, required=True, metadata={"description": "Hạn chế gốc, đã bỏ"})
    parts = fields.List(fields.Nested(FindingSchema), required=True)


class RecommendationCreateSchema(StrictSchema):
    text = fields.String(validate=TEXT, metadata={"description": "Bỏ trống: dùng câu chữ danh mục gợi ý"})
    responsible_unit_id = fields.UUID(metadata={"description": "Mặc định: đơn vị của hạn chế"})
    deadline = fields.Date(allow_none=True, metadata={
        "description": "Mặc định: DEADLINE_DAYS ngày (làm việc hoặc ngày lịch, theo DEADLINE_COUNTING) kể từ hôm nay"})
    report_form = fields.String(allow_none=True, validate=[validate.Length(max=255), no_nul])


class RecommendationUpdateSchema(StrictSchema):
    text = fields.String(validate=TEXT)
    responsible_unit_id = fields.UUID()
    deadline = fields.Date(allow_none=True)
    report_form = fields.String(allow_none=True, validate=[validate.Length(max=255), no_nul])
    sort_order = StrictInteger(validate=SORT_ORDER)


class StaleFindingProblemSchema(ProblemSchema):
    current = fields.Nested(FindingSchema, metadata={"description": "Bản hiện tại trên máy chủ"})


class StaleRecommendationProblemSchema(ProblemSchema):
    current = fields.Nested(RecommendationSchema, metadata={"description": "Bản hiện tại trên máy chủ"})
