"""Photos: declare, send bytes resumably (tus-style HEAD/PATCH), read metadata and images."""

from __future__ import annotations

import uuid

from flask import Response, current_app, redirect, request, stream_with_context, url_for

from .. import access
from ..errors import InvalidData, NotFound
from ..extensions import begin_writing, db, writes_late
from ..models import Inspection, Photo, PhotoLink, Upload
from ..schemas.photos import LimitsSchema, PhotoCreateSchema, PhotoSchema
from ..services import uploads as service
from .blueprint import Blueprint
from .preconditions import links

URL_PREFIX = "/photos"
blp = Blueprint("photos", __name__, description="Ảnh minh chứng / evidence photos")
config_blp = Blueprint("config", __name__, description="Giới hạn cho máy tính bảng / client limits")
TUS = {"Tus-Resumable": "1.0.0"}
OFFSET_TYPE = "application/offset+octet-stream"
VARIANTS = ("thumb", "display", "original")


def upload_link(method: str, **parameters: str) -> dict:
    """An OpenAPI link from a declaration to its upload (clients and schemathesis follow it)."""
    return {"operationRef": "#/paths/~1api~1v1~1photos~1{photo_id}~1upload/" + method,
            "parameters": {"photo_id": "$response.body#/id", **parameters}}


def _upload(photo_id: uuid.UUID) -> Upload:
    """The upload, if the caller may see it: a checklist photo to its team; a unit's evidence file to that
    unit and the team (404 to anyone else)."""
    upload = db.session.get(Upload, photo_id)
    if upload is None:
        raise NotFound("Không tìm thấy ảnh.")
    if upload.action_id is not None:
        service.evidence_action(access.me(), upload.action_id)
    else:
        access.require_inspection(access.me(), db.session.get(Inspection, upload.inspection_id))
    return upload


def _view(upload: Upload) -> dict:
    photo = db.session.get(Photo, upload.id) if upload.status == "ready" else None
    link = db.session.get(PhotoLink, upload.id)
    view = {"id": upload.id, "inspection_id": upload.inspection_id, "action_id": upload.action_id,
            "kind": upload.kind, "status": upload.status,
            "offset": service.offset_of(upload), "size": upload.size_bytes, "sha256": upload.sha256,
            "content_type": upload.content_type, "reject_reason": upload.reject_reason,
            "upload_url": url_for("photos.upload_offset", photo_id=upload.id),
            "item_code": link.item_code if link else None, "unit_id": link.unit_id if link else None,
            "caption": link.caption if link else upload.caption, "urls": None}  # evidence: no link, its own caption
    if photo is not None:
        view.update(width=photo.width, height=photo.height, taken_at=photo.taken_at, gps_lat=photo.gps_lat,
                    gps_lon=photo.gps_lon, camera_model=photo.camera_model,
                    urls={v: url_for("photos.get_image", photo_id=photo.id, variant=v)
                          for v in (("original",) if photo.kind == "document" else VARIANTS)})
    return view


@blp.post("")
@writes_late
@access.signed_in()  # staff for checklist photos, the unit for its evidence (checked per object)
@blp.arguments(PhotoCreateSchema)
@blp.response(201, PhotoSchema, headers={"Location": {"schema": {"type": "string"}}})
@links(blp, 201, send=upload_link("patch", **{"header.Upload-Offset": "$response.body#/offset"}),
       resume=upload_link("head"))
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
def create_photo(body):
    """Khai báo một ảnh (UUID, SHA-256, kích thước, định dạng); khai báo lại cùng UUID và SHA-256 trả về
    lượt tải hiện có với vị trí đã nhận, cùng UUID khác SHA-256 là 409."""
    user = access.me()
    service.check_declaration(user, body)  # reads first: SQLite's write lock is held only for the insert
    begin_writing()
    upload = service.declare(user, body, checked=True)
    view = _view(upload)  # before the commit, which would expire the row: reloading it would take the lock again
    db.session.commit()
    return view, 201, {"Location": view["upload_url"], **TUS}


@blp.route("/<uuid:photo_id>/upload", methods=["HEAD"])
@access.signed_in()  # staff for checklist photos, the unit for its evidence (checked per object)
@blp.response(200)
@blp.alt_response(404, response="NOT_FOUND")
def upload_offset(photo_id: uuid.UUID):
    """Vị trí đã nhận (Upload-Offset) để tiếp tục sau khi mất kết nối."""
    upload = _upload(photo_id)
    return Response(status=200, headers={"Upload-Offset": str(service.stored_offset(upload)),
                                         "Upload-Length": str(upload.size_bytes), "Cache-Control": "no-store", **TUS})


@blp.route("/<uuid:photo_id>/upload", methods=["PATCH"])
@writes_late
@access.signed_in()  # staff for checklist photos, the unit for its evidence (checked per object)
@blp.doc(
    parameters=[{"in": "header", "name": "Upload-Offset", "required": True,
                 "description": "Vị trí của đoạn này trong tệp (byte đã gửi trước đó).",
                 "schema": {"type": "integer", "minimum": 0}}],
    requestBody={"required": True, "description": "Một đoạn của tệp, tối đa UPLOAD_CHUNK_MAX_BYTES.",
                 "content": {OFFSET_TYPE: {"schema": {"type": "string", "format": "binary"}}}})
@blp.response(204, headers={"Upload-Offset": {"description": "Số byte đã nhận.", "schema": {"type": "integer"}}})
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
@blp.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def upload_chunk(photo_id: uuid.UUID):
    """Gửi một đoạn dữ liệu tại Upload-Offset (Content-Type: application/offset+octet-stream); đoạn cuối
    được kiểm tra SHA-256, xử lý ảnh và lưu."""
    if request.mimetype != OFFSET_TYPE:
        return _problem(415, f"Content-Type phải là {OFFSET_TYPE}.")
    try:
        offset = int(request.headers.get("Upload-Offset", ""))
    except ValueError:
        raise InvalidData("Thiếu hoặc sai tiêu đề Upload-Offset.") from None
    limit = current_app.config["UPLOAD_CHUNK_MAX_BYTES"]
    if (request.content_length or 0) > limit:
        return _problem(413, f"Một đoạn tối đa {limit} byte.")
    chunk = request.get_data(cache=False)  # a chunked body (no Content-Length) is capped by security._bound_body
    job = service.check_receive(access.me(), _upload(photo_id), offset, len(chunk))
    # Staging, hashing and Pillow run with no transaction open: on SQLite a write lock held through them
    # would make every other worker's write wait for this photo (bench/README.md, photos). The writes after
    # them are short: the staged offset, or the Photo row.
    begin_writing()
    records = service.records_staging()
    try:
        staged = service.stage(job, offset, chunk)
    except service.OffsetConflict as conflict:
        if records and conflict.staged is not None:  # the row catches up with what the store found
            service.note_staged(job.id, conflict.staged)
            db.session.commit()
        raise
    if staged.size < job.size:
        if records:  # after the chunk is durable, before its offset is acknowledged
            service.note_staged(job.id, staged)
            db.session.commit()
        return Response(status=204, headers={"Upload-Offset": str(staged.size), **TUS})
    try:
        outcome = service.process(job, staged, tail=chunk or None)
    except Exception:  # every byte arrived, the processing failed (the store is down…): keep them, then fail
        service.secure(job, offset, chunk)
        raise
    service.record(job, outcome)
    db.session.commit()
    service.discard(job, staged)  # after the commit: at worst staged bytes are left, never a row without bytes
    return Response(status=204, headers={"Upload-Offset": str(staged.size), **TUS})


@blp.get("/<uuid:photo_id>")
@access.signed_in()  # staff for checklist photos, the unit for its evidence (checked per object)
@blp.response(200, PhotoSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_photo(photo_id: uuid.UUID):
    """Thông tin và trạng thái của ảnh (uploading, ready, rejected kèm lý do)."""
    return _view(_upload(photo_id))


@blp.get("/<uuid:photo_id>/<any(thumb, display, original):variant>")
@access.signed_in()  # staff for checklist photos, the unit for its evidence (checked per object)
@blp.response(200, description="Ảnh (hoặc chuyển hướng tới URL ký sẵn khi lưu trên S3)")
@blp.alt_response(302, description="Chuyển hướng tới URL ký sẵn (S3), hiệu lực tối đa 15 phút")
@blp.alt_response(404, response="NOT_FOUND")
def get_image(photo_id: uuid.UUID, variant: str):
    """Ảnh thu nhỏ, ảnh hiển thị hoặc bản gốc — sau khi kiểm tra quyền xem cuộc kiểm tra."""
    upload = _upload(photo_id)  # the access check comes first: no URL is handed out before it
    if upload.status != "ready":
        raise NotFound("Ảnh chưa tải lên xong.")
    if upload.kind == "document" and variant != "original":
        raise NotFound("Tệp PDF chỉ có bản gốc (original).")
    key = service.keys(upload.id)[variant]
    content_type = upload.content_type if variant == "original" else "image/jpeg"
    presigned = service.store().url(key, expires_in=600, content_type=content_type)
    if presigned:
        return redirect(presigned, code=302)
    return Response(stream_with_context(_chunks(service.store().open(key))), mimetype=content_type,
                    headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"})


def _chunks(stream):
    with stream:
        yield from iter(lambda: stream.read(256 * 1024), b"")


@config_blp.get("/limits")
@access.signed_in()
@config_blp.response(200, LimitsSchema)
def get_limits():
    """Các giới hạn (kích thước ảnh, số điểm ảnh, đoạn tải lên, số ảnh mỗi cuộc kiểm tra, lô đồng bộ)."""
    return service.limits()


def _problem(status: int, detail: str):
    from ..errors import problem_response

    return problem_response(status, detail=detail)
