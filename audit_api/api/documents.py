"""Documents: drafts of minutes and conclusion notices, section edits, previews, downloads and issuing."""

from __future__ import annotations

import uuid

from flask import Response, current_app

from .. import access
from ..extensions import begin_writing, db, writes_late
from ..models import Document, Inspection, Plan
from ..schemas.documents import (
    ConclusionCreateSchema,
    DocumentListArgsSchema,
    DocumentListSchema,
    DocumentPatchSchema,
    DocumentSchema,
    IssueSchema,
    MinutesCreateSchema,
    StaleDocumentProblemSchema,
)
from ..services import documents as service
from ..services.pages import page_of
from ..storage import content_disposition
from .blueprint import Blueprint
from .preconditions import etag_of, require_if_match, versioned_edit, with_etag
from .views import document_view

URL_PREFIX = "/documents"
blp = Blueprint("documents", __name__, description="Văn bản: biên bản, thông báo kết luận / documents")
# Drafting routes live under their inspection and plan (same blueprint, registered at /api/v1).
scoped_blp = Blueprint("document_drafts", __name__, description="Lập dự thảo văn bản / drafting documents")

KIND = "document"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _document(document_id: uuid.UUID) -> Document:
    return service.require_document(access.me(), db.session.get(Document, document_id))


def _respond(document: Document, status: int = 200):
    response = current_app.json.response(DocumentSchema().dump(document_view(document)))
    response.status_code = status
    return with_etag(response, KIND, document)


def _check_version(document: Document) -> None:
    require_if_match(KIND, document, lambda: DocumentSchema().dump(document_view(document)))


@scoped_blp.post("/inspections/<uuid:inspection_id>/documents")
@access.signed_in(roles=access.STAFF)
@scoped_blp.arguments(MinutesCreateSchema)
@scoped_blp.response(201, DocumentSchema)
@scoped_blp.alt_response(404, response="NOT_FOUND")
def create_minutes(body, inspection_id: uuid.UUID):
    """Lập dự thảo Biên bản kiểm tra (Mẫu 1.9, BB) của một cuộc kiểm tra từ số liệu hiện tại."""
    document = service.create_minutes(access.me(), db.session.get(Inspection, inspection_id),
                                      provisional_number=body["provisional_number"])
    db.session.commit()
    return _respond(document, 201)


@scoped_blp.post("/plans/<uuid:plan_id>/documents")
@access.signed_in(roles=access.STAFF)
@scoped_blp.arguments(ConclusionCreateSchema)
@scoped_blp.response(201, DocumentSchema)
@scoped_blp.alt_response(404, response="NOT_FOUND")
def create_conclusion(body, plan_id: uuid.UUID):
    """Lập dự thảo Thông báo kết luận kiểm tra (Mẫu 1.4, TB) cho các đơn vị của một kế hoạch."""
    document = service.create_conclusion(access.me(), db.session.get(Plan, plan_id), body["unit_ids"],
                                         provisional_number=body["provisional_number"])
    db.session.commit()
    return _respond(document, 201)


@blp.get("")
@access.signed_in()
@blp.arguments(DocumentListArgsSchema, location="query")
@blp.response(200, DocumentListSchema)
def list_documents(args):
    """Văn bản người dùng được xem (đơn vị được kiểm tra: chỉ văn bản đã ban hành của mình)."""
    query = service.visible_query(access.me(), kind=args.get("kind"), status=args.get("status"),
                                  inspection_id=args.get("inspection_id"), plan_id=args.get("plan_id"),
                                  unit_id=args.get("unit_id"))
    rows, pagination = page_of(query, args["page"], args["page_size"])
    units = service.unit_ids_by_document(rows)
    return {"data": [document_view(d, with_view=False, unit_ids=units[d.id]) for d in rows],
            "pagination": pagination}


@blp.get("/<uuid:document_id>")
@access.signed_in()
@blp.response(200, DocumentSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_document(document_id: uuid.UUID):
    """Một văn bản: thông tin, các phần đã sửa và nội dung như khi in (ETag cho If-Match)."""
    return _respond(_document(document_id))


@blp.patch("/<uuid:document_id>")
@access.signed_in(roles=access.STAFF)
@versioned_edit(blp, StaleDocumentProblemSchema)
@blp.arguments(DocumentPatchSchema)
@blp.response(200, DocumentSchema)
def patch_document(body, document_id: uuid.UUID):
    """Sửa từng phần của bản dự thảo (căn cứ, thành phần, giải trình, nơi nhận, khối ký…); null: về mặc định."""
    document = _document(document_id)
    service.require_editable(access.me(), document)
    _check_version(document)
    service.edit_sections(access.me(), document, body["sections"])
    db.session.commit()
    return _respond(document)


@blp.post("/<uuid:document_id>/refresh")
@access.signed_in(roles=access.STAFF)
@versioned_edit(blp, StaleDocumentProblemSchema)
@blp.response(200, DocumentSchema)
def refresh_document(document_id: uuid.UUID):
    """Cập nhật số liệu của bản dự thảo từ hạn chế, kiến nghị, câu trả lời và ảnh hiện tại."""
    document = _document(document_id)
    service.require_editable(access.me(), document)
    _check_version(document)
    service.refresh(access.me(), document)
    db.session.commit()
    return _respond(document)


@blp.post("/<uuid:document_id>/issue")
@writes_late
@access.signed_in(roles=access.STAFF)
@versioned_edit(blp, StaleDocumentProblemSchema)
@blp.arguments(IssueSchema)
@blp.response(200, DocumentSchema)
def issue_document(body, document_id: uuid.UUID):
    """Ban hành (Trưởng đoàn): cấp số chính thức, ngày, người ký; lưu PDF kèm SHA-256; tạo việc khắc phục."""
    document = _document(document_id)
    service.require_issuer(access.me(), document)
    _check_version(document)
    version = document.version
    begin_writing()  # the read above ends; each write below is a short transaction of its own
    view = service.reserve(access.me(), _document(document_id), version=version, **body)
    db.session.commit()
    pdf, key = service.render_and_store(document_id, view)  # seconds of WeasyPrint, no lock held
    document = service.finish(access.me(), _document(document_id), view, pdf, key)
    db.session.commit()
    return _respond(document)


@blp.post("/<uuid:document_id>/corrections")
@access.signed_in(roles=access.STAFF)
@blp.response(201, DocumentSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def correct_document(document_id: uuid.UUID):
    """Lập dự thảo văn bản đính chính một văn bản đã ban hành (văn bản cũ giữ nguyên)."""
    document = service.correct(access.me(), _document(document_id))
    db.session.commit()
    return _respond(document, 201)


@blp.get("/<uuid:document_id>/html")
@access.signed_in()
@blp.response(200, description="Xem trước (HTML)", content_type="text/html")
@blp.alt_response(404, response="NOT_FOUND")
def preview_document(document_id: uuid.UUID):
    """Xem trước văn bản dạng HTML (ảnh thu nhỏ nhúng sẵn)."""
    return Response(service.html(_document(document_id)), mimetype="text/html")


@blp.get("/<uuid:document_id>/pdf")
@access.signed_in()
@blp.response(200, description="PDF (đã ban hành: đúng bản đã lưu khi ban hành)", content_type="application/pdf")
@blp.alt_response(404, response="NOT_FOUND")
def download_pdf(document_id: uuid.UUID):
    """Tải PDF: văn bản đã ban hành trả đúng các byte đã lưu (SHA-256 trong tiêu đề); dự thảo được dựng lại."""
    document = _document(document_id)
    response = Response(service.pdf(document), mimetype="application/pdf", headers={
        "Content-Disposition": content_disposition(service.filename(document, "pdf"))})
    if document.pdf_sha256:
        response.headers["X-Content-SHA256"] = document.pdf_sha256
        response.set_etag(document.pdf_sha256)
    return response


@blp.get("/<uuid:document_id>/docx")
@access.signed_in()
@blp.response(200, description="DOCX", content_type=DOCX_TYPE)
@blp.alt_response(404, response="NOT_FOUND")
def download_docx(document_id: uuid.UUID):
    """Tải DOCX (cùng mẫu với PDF)."""
    document = _document(document_id)
    return Response(service.docx(document), mimetype=DOCX_TYPE, headers={
        "Content-Disposition": content_disposition(service.filename(document, "docx"))})


__all__ = ["blp", "etag_of", "scoped_blp"]
