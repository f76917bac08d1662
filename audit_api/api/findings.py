"""Findings and recommendations for the team lead, deputy lead and secretary: list and read them; edit, keep,
drop, restore, merge and split findings; add, edit and delete recommendations; the readiness check that
documents rely on. Other team members read; unit users see none of it.

Single-resource edits need `If-Match` with the resource's ETag (preconditions.py: 428 without it, 412 with a
stale one and the current representation under `current`).
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import url_for
from werkzeug.http import quote_etag

from .. import access
from ..extensions import db
from ..models import Finding, Inspection, PhotoLink, Recommendation, Unit, finding_answers
from ..schemas.findings import (
    FindingDetailSchema,
    FindingDropSchema,
    FindingListArgsSchema,
    FindingListSchema,
    FindingMergeSchema,
    FindingReadinessSchema,
    FindingSchema,
    FindingSplitResultSchema,
    FindingSplitSchema,
    FindingUpdateSchema,
    RecommendationCreateSchema,
    RecommendationSchema,
    RecommendationUpdateSchema,
    StaleFindingProblemSchema,
    StaleRecommendationProblemSchema,
)
from ..services import finding_edits as edits
from ..services import recommendations as advice
from ..services.mutations import author
from ..services.pages import page_of
from .blueprint import Blueprint
from .preconditions import edit_link, etag_of, links, require_if_match, versioned_edit
from .views import unit_ref

URL_PREFIX = ""  # routes under /inspections/<id>/findings, /findings/<id> and /recommendations/<id>
blp = Blueprint("findings", __name__, description="Hạn chế và kiến nghị / findings and recommendations")
FINDING, RECOMMENDATION = "finding", "recommendation"
ETAG_HEADER = {"ETag": {"schema": {"type": "string"}, "description": "Phiên bản; gửi lại trong If-Match khi sửa"}}
FINDING_PATH, RECOMMENDATION_PATH = "/findings/{finding_id}", "/recommendations/{recommendation_id}"
FINDING_EDITS = {  # what a client may do next with a finding and its ETag
    name: edit_link(FINDING_PATH + suffix, method, finding_id="$response.body#/id")
    for name, suffix, method in (("update", "", "patch"), ("drop", "/drop", "post"), ("restore", "/restore", "post"))}
RECOMMENDATION_EDITS = {
    name: edit_link(RECOMMENDATION_PATH, method, recommendation_id="$response.body#/id")
    for name, method in (("update", "patch"), ("delete", "delete"))}


# --- views ----------------------------------------------------------------------------------------


def _units(ids: set) -> dict:
    return {unit.id: unit for unit in db.session.scalars(sa.select(Unit).where(Unit.id.in_(ids)))} if ids else {}


def recommendation_view(recommendation: Recommendation, units: dict | None = None) -> dict:
    unit_id = recommendation.responsible_unit_id
    unit = (units or {}).get(unit_id) or db.session.get(Unit, unit_id)
    return {
        "id": recommendation.id, "inspection_id": recommendation.inspection_id,
        "finding_id": recommendation.finding_id, "responsible_unit": unit_ref(unit), "origin": recommendation.origin,
        "text": recommendation.text, "deadline": recommendation.deadline, "report_form": recommendation.report_form,
        "sort_order": recommendation.sort_order, "version": recommendation.version,
        "etag": quote_etag(etag_of(RECOMMENDATION, recommendation)),
        "created_at": recommendation.created_at, "updated_at": recommendation.updated_at,
    }


def finding_views(findings: list[Finding]) -> list[dict]:
    """Findings with their answer and photo links and recommendations, read in a few queries for a whole page."""
    ids = [finding.id for finding in findings]
    if not ids:
        return []
    answers, photos, recommendations = {}, {}, {}
    for finding_id, answer_id in db.session.execute(sa.select(finding_answers).where(
            finding_answers.c.finding_id.in_(ids)).order_by(finding_answers.c.answer_id)):
        answers.setdefault(finding_id, []).append(answer_id)
    for finding_id, photo_id in db.session.execute(sa.select(PhotoLink.finding_id, PhotoLink.photo_id).where(
            PhotoLink.finding_id.in_(ids)).order_by(PhotoLink.photo_id)):
        photos.setdefault(finding_id, []).append(photo_id)
    for recommendation in db.session.scalars(sa.select(Recommendation).where(Recommendation.finding_id.in_(ids))
                                             .order_by(Recommendation.sort_order, Recommendation.created_at)):
        recommendations.setdefault(recommendation.finding_id, []).append(recommendation)
    responsible = {r.responsible_unit_id for listed in recommendations.values() for r in listed}
    units = _units({f.unit_id for f in findings} | responsible)
    authors: dict = {}
    return [{
        "id": f.id, "inspection_id": f.inspection_id, "kind": f.kind, "origin": f.origin, "item_code": f.item_code,
        "section_code": f.section_code, "unit": unit_ref(units.get(f.unit_id)), "text": f.text,
        "generated_text": f.generated_text, "cause_subjective": f.cause_subjective,
        "cause_objective": f.cause_objective, "severity": f.severity, "status": f.status,
        "drop_reason": f.drop_reason, "merged_into_id": f.merged_into_id, "sort_order": f.sort_order,
        "is_answer_changed_since_edit": f.is_answer_changed_since_edit, "is_incomplete": f.is_incomplete,
        "answer_ids": answers.get(f.id, []), "photo_ids": photos.get(f.id, []),
        "recommendations": [recommendation_view(r, units) for r in recommendations.get(f.id, [])],
        "version": f.version, "etag": quote_etag(etag_of(FINDING, f)), "created_by": author(f.created_by, authors),
        "created_at": f.created_at, "updated_at": f.updated_at,
    } for f in findings]


def _finding_ref(finding: Finding) -> dict:
    return {"id": finding.id, "item_code": finding.item_code, "unit": unit_ref(db.session.get(Unit, finding.unit_id)),
            "text": finding.text, "status": finding.status, "version": finding.version}


def _etag(kind: str, entity) -> dict:
    return {"ETag": quote_etag(etag_of(kind, entity))}


def _finding(finding: Finding, status: int = 200):
    return finding_views([finding])[0], status, _etag(FINDING, finding)


def _editable_finding(finding_id: uuid.UUID) -> Finding:
    finding = edits.editable_finding(access.me(), finding_id)
    require_if_match(FINDING, finding, lambda: FindingSchema().dump(finding_views([finding])[0]))
    return finding


def _editable_recommendation(recommendation_id: uuid.UUID) -> Recommendation:
    recommendation = advice.editable_recommendation(access.me(), recommendation_id)
    require_if_match(RECOMMENDATION, recommendation,
                     lambda: RecommendationSchema().dump(recommendation_view(recommendation)))
    return recommendation


def _inspection(inspection_id: uuid.UUID) -> Inspection:
    return access.require_inspection(access.me(), db.session.get(Inspection, inspection_id))


# --- findings of an inspection --------------------------------------------------------------------


@blp.get("/inspections/<uuid:inspection_id>/findings")
@access.signed_in(roles=access.STAFF)
@blp.arguments(FindingListArgsSchema, location="query")
@blp.response(200, FindingListSchema)
@blp.alt_response(404, response="NOT_FOUND")
def list_findings(args, inspection_id: uuid.UUID):
    """Hạn chế và kết quả đạt được của cuộc kiểm tra, kèm kiến nghị; lọc theo kind, status, unit_id."""
    query = edits.list_query(_inspection(inspection_id), kind=args.get("kind"), status=args.get("status"),
                             unit_id=args.get("unit_id"))
    rows, pagination = page_of(query, args["page"], args["page_size"])
    return {"data": finding_views(rows), "pagination": pagination}


@blp.get("/inspections/<uuid:inspection_id>/findings/readiness")
@access.signed_in(roles=access.STAFF)
@blp.response(200, FindingReadinessSchema)
@blp.alt_response(404, response="NOT_FOUND")
def readiness(inspection_id: uuid.UUID):
    """Sẵn sàng lập văn bản chưa: hạn chế đã giữ/sửa mà chưa có kiến nghị, và hạn chế còn dự thảo."""
    inspection = _inspection(inspection_id)
    missing = advice.findings_missing_recommendations(inspection)
    return {"ready": not missing, "missing_recommendations": [_finding_ref(f) for f in missing],
            "undecided": [_finding_ref(f) for f in advice.undecided_findings(inspection)]}


# --- one finding ----------------------------------------------------------------------------------


@blp.get("/findings/<uuid:finding_id>")
@access.signed_in(roles=access.STAFF)
@blp.response(200, FindingDetailSchema, headers=ETAG_HEADER)
@links(blp, 200, **FINDING_EDITS)
@blp.alt_response(404, response="NOT_FOUND")
def get_finding(finding_id: uuid.UUID):
    """Một hạn chế, kèm câu chữ kiến nghị danh mục gợi ý (ETag cho If-Match)."""
    finding = edits.visible_finding(access.me(), finding_id)
    view = {**finding_views([finding])[0], "suggested_recommendations": advice.suggested_recommendations(finding)}
    return view, 200, _etag(FINDING, finding)


@blp.patch("/findings/<uuid:finding_id>")
@access.signed_in(roles=access.STAFF)
@versioned_edit(blp, StaleFindingProblemSchema)
@blp.arguments(FindingUpdateSchema)
@blp.response(200, FindingSchema, headers=ETAG_HEADER)
@links(blp, 200, **FINDING_EDITS)
def update_finding(body, finding_id: uuid.UUID):
    """Sửa câu chữ, nguyên nhân, mức độ, đơn vị, thứ tự; `status: kept` để giữ. Sửa hạn chế do quy tắc sinh
    thì trạng thái thành `edited`: sinh lại không ghi đè."""
    finding = _editable_finding(finding_id)
    edits.update_finding(finding, body, actor=access.me())
    db.session.commit()
    return _finding(finding)


@blp.post("/findings/<uuid:finding_id>/drop")
@access.signed_in(roles=access.STAFF)
@versioned_edit(blp, StaleFindingProblemSchema)
@blp.arguments(FindingDropSchema)
@blp.response(200, FindingSchema, headers=ETAG_HEADER)
def drop_finding(body, finding_id: uuid.UUID):
    """Bỏ hạn chế (bắt buộc ghi lý do); hạn chế vẫn được lưu và khôi phục được."""
    finding = _editable_finding(finding_id)
    edits.drop_finding(finding, body["reason"], actor=access.me())
    db.session.commit()
    return _finding(finding)


@blp.post("/findings/<uuid:finding_id>/restore")
@access.signed_in(roles=access.STAFF)
@versioned_edit(blp, StaleFindingProblemSchema)
@blp.response(200, FindingSchema, headers=ETAG_HEADER)
def restore_finding(finding_id: uuid.UUID):
    """Khôi phục hạn chế đã bỏ (hoặc đã gộp vào hạn chế khác)."""
    finding = _editable_finding(finding_id)
    edits.restore_finding(finding, actor=access.me())
    db.session.commit()
    return _finding(finding)


@blp.post("/findings/<uuid:finding_id>/merge")
@access.signed_in(roles=access.STAFF)
@versioned_edit(blp, StaleFindingProblemSchema)
@blp.arguments(FindingMergeSchema)
@blp.response(200, FindingSchema, headers=ETAG_HEADER)
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def merge_findings(body, finding_id: uuid.UUID):
    """Gộp các hạn chế khác vào hạn chế này: liên kết câu trả lời, kiến nghị và ảnh chuyển sang; các hạn chế kia
    bị bỏ với lý do "Gộp vào hạn chế …". Tất cả hoặc không gì cả."""
    finding = _editable_finding(finding_id)
    edits.merge_findings(finding, body["finding_ids"], text=body.get("text"), actor=access.me())
    db.session.commit()
    return _finding(finding)


@blp.post("/findings/<uuid:finding_id>/split")
@access.signed_in(roles=access.STAFF)
@versioned_edit(blp, StaleFindingProblemSchema)
@blp.arguments(FindingSplitSchema)
@blp.response(201, FindingSplitResultSchema, headers=ETAG_HEADER)
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def split_finding(body, finding_id: uuid.UUID):
    """Tách hạn chế thành các hạn chế mới (mỗi phần một câu chữ, có thể một đơn vị), sao chép liên kết và kiến
    nghị; hạn chế gốc bị bỏ với lý do "Tách thành …". ETag trả về là của hạn chế gốc."""
    finding = _editable_finding(finding_id)
    parts = edits.split_finding(finding, body["parts"], actor=access.me())
    db.session.commit()
    original, *created = finding_views([finding, *parts])
    return {"original": original, "parts": created}, 201, _etag(FINDING, finding)


# --- recommendations ------------------------------------------------------------------------------


@blp.post("/findings/<uuid:finding_id>/recommendations")
@access.signed_in(roles=access.STAFF)
@blp.arguments(RecommendationCreateSchema)
@blp.response(201, RecommendationSchema, headers={**ETAG_HEADER, "Location": {"schema": {"type": "string"}}})
@links(blp, 201, **RECOMMENDATION_EDITS)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def add_recommendation(body, finding_id: uuid.UUID):
    """Thêm kiến nghị cho hạn chế. Không gửi `text`: dùng câu chữ danh mục gợi ý cho mục của hạn chế; đơn vị
    thực hiện mặc định là đơn vị của hạn chế; thời hạn mặc định theo cấu hình (DEADLINE_DAYS, DEADLINE_COUNTING)."""
    actor = access.me()
    recommendation = advice.add_recommendation(edits.editable_finding(actor, finding_id), body, actor=actor)
    db.session.commit()
    location = url_for("findings.get_recommendation", recommendation_id=recommendation.id)
    return recommendation_view(recommendation), 201, {**_etag(RECOMMENDATION, recommendation), "Location": location}


@blp.get("/recommendations/<uuid:recommendation_id>")
@access.signed_in(roles=access.STAFF)
@blp.response(200, RecommendationSchema, headers=ETAG_HEADER)
@links(blp, 200, **RECOMMENDATION_EDITS)
@blp.alt_response(404, response="NOT_FOUND")
def get_recommendation(recommendation_id: uuid.UUID):
    """Một kiến nghị (ETag cho If-Match)."""
    recommendation = advice.visible_recommendation(access.me(), recommendation_id)
    return recommendation_view(recommendation), 200, _etag(RECOMMENDATION, recommendation)


@blp.patch("/recommendations/<uuid:recommendation_id>")
@access.signed_in(roles=access.STAFF)
@versioned_edit(blp, StaleRecommendationProblemSchema)
@blp.arguments(RecommendationUpdateSchema)
@blp.response(200, RecommendationSchema, headers=ETAG_HEADER)
@links(blp, 200, **RECOMMENDATION_EDITS)
def update_recommendation(body, recommendation_id: uuid.UUID):
    """Sửa kiến nghị: câu chữ, đơn vị thực hiện, thời hạn, hình thức báo cáo, thứ tự."""
    recommendation = _editable_recommendation(recommendation_id)
    advice.update_recommendation(recommendation, body, actor=access.me())
    db.session.commit()
    return recommendation_view(recommendation), 200, _etag(RECOMMENDATION, recommendation)


@blp.delete("/recommendations/<uuid:recommendation_id>")
@access.signed_in(roles=access.STAFF)
@versioned_edit(blp, StaleRecommendationProblemSchema)
@blp.response(204)
def delete_recommendation(recommendation_id: uuid.UUID):
    """Xóa kiến nghị."""
    advice.delete_recommendation(_editable_recommendation(recommendation_id), actor=access.me())
    db.session.commit()
