"""Resumable, checksummed uploads of photos (tus-style: declare, then send bytes at offsets).

Order of events that keeps the database honest: bytes are staged in the media store chunk by chunk; when
the last byte arrives the SHA-256 and size the client declared are checked, the image is verified and its
derivatives made, the original and derivatives are stored, and only then is the Photo row written. A crash
anywhere before the commit leaves bytes without a row (the sweep removes them), never a row without bytes.
"""

from __future__ import annotations

import hashlib
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from .. import access
from ..errors import Conflict, DomainError, InvalidData
from ..extensions import db
from ..models import Inspection, Photo, Upload, User
from ..models.common import utcnow
from . import photo_links
from .changes import record_change

PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")


class TooLarge(DomainError):
    status = 413


class UploadRejected(DomainError):
    """The bytes are not what was declared, or not an acceptable image: nothing is kept but the refusal."""

    status = 422
    slug = "upload-rejected"
    title = "Tệp tải lên không hợp lệ"
    keeps_changes = True  # the upload's "rejected" status and reason stay, for GET /photos/<id>


class OffsetConflict(DomainError):
    status = 409
    slug = "upload-offset"
    title = "Sai vị trí tiếp tục tải lên"


def limits() -> dict:
    config = current_app.config
    return {
        "photo_max_bytes": config["PHOTO_MAX_BYTES"], "photo_max_pixels": config["PHOTO_MAX_PIXELS"],
        "upload_chunk_max_bytes": config["UPLOAD_CHUNK_MAX_BYTES"],
        "photos_per_inspection": config["PHOTOS_PER_INSPECTION"], "photo_types": list(PHOTO_TYPES),
        "sync_batch_max": config["SYNC_BATCH_MAX"], "body_max_bytes": config["MAX_CONTENT_LENGTH"],
    }


def store():
    return current_app.extensions["media_store"]


def keys(photo_id: uuid.UUID) -> dict[str, str]:
    """Object keys derive from the id only (never from a file name a user sent)."""
    hexid = photo_id.hex
    return {"original": f"originals/{hexid[:2]}/{hexid}", "display": f"display/{hexid[:2]}/{hexid}.jpg",
            "thumb": f"thumb/{hexid[:2]}/{hexid}.jpg"}


def _check_declaration(user: User, inspection: Inspection, data: dict) -> None:
    config = current_app.config
    if data["size"] > config["PHOTO_MAX_BYTES"]:
        raise TooLarge(f"Ảnh {data['size']:,} byte vượt giới hạn {config['PHOTO_MAX_BYTES']:,} byte.".replace(",", "."))
    if data["content_type"] not in PHOTO_TYPES:
        raise InvalidData(f"Định dạng {data['content_type']} không được nhận; dùng JPEG, PNG hoặc WebP.",
                          errors={"content_type": ["Không được hỗ trợ."]})
    if data.get("item_code"):
        section = next((s["code"] for s in inspection.checklist_version.definition["sections"]
                        for i in s["items"] if i["code"] == data["item_code"]), None)
        if section is None:
            raise InvalidData(f"Danh mục không có mục {data['item_code']}.", errors={"item_code": ["Không có."]})
        access.require_section_write(user, inspection, section)
    else:
        _require_writer(user, inspection)
    units = {inspection.host_unit_id, *(u.id for u in inspection.sub_units)}
    if data.get("unit_id") and data["unit_id"] not in units:
        raise InvalidData("Đơn vị không thuộc cuộc kiểm tra này.", errors={"unit_id": ["Không thuộc."]})
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Upload).filter_by(inspection_id=inspection.id))
    if count >= config["PHOTOS_PER_INSPECTION"]:
        raise InvalidData(f"Cuộc kiểm tra đã có {count} ảnh, tối đa {config['PHOTOS_PER_INSPECTION']}.")


def _require_writer(user: User, inspection: Inspection) -> None:
    if access.team_role(user, inspection.team_id) is None or inspection.status not in access.OPEN_FOR_ANSWERS:
        raise access.Forbidden("Chỉ thành viên Đoàn được tải ảnh lên khi cuộc kiểm tra đang mở.")


def declare(user: User, data: dict) -> Upload:
    """Create the upload, or return the existing one for the same id and bytes (a retried create)."""
    existing = db.session.get(Upload, data["id"])
    if existing is not None:
        access.require_inspection(user, db.session.get(Inspection, existing.inspection_id))
        if existing.sha256 != data["sha256"] or existing.size_bytes != data["size"]:
            raise Conflict("Mã ảnh này đã được dùng cho một tệp khác (khác SHA-256 hoặc kích thước).")
        if existing.status == "rejected":  # a refused or expired upload may start again, from byte 0
            existing.status, existing.reject_reason = "uploading", None
            db.session.flush()
        return existing
    inspection = access.require_inspection(user, db.session.get(Inspection, data["inspection_id"]))
    _check_declaration(user, inspection, data)
    upload = Upload(id=data["id"], inspection_id=inspection.id, sha256=data["sha256"], size_bytes=data["size"],
                    content_type=data["content_type"], item_code=data.get("item_code"), unit_id=data.get("unit_id"),
                    caption=data.get("caption"), created_by=user.id)
    db.session.add(upload)
    photo_links.seed(inspection, upload.id, item_code=upload.item_code, unit_id=upload.unit_id,
                     caption=upload.caption, user=user)
    db.session.flush()
    return upload


def offset_of(upload: Upload) -> int:
    return upload.size_bytes if upload.status == "ready" else store().staged_size(str(upload.id))


@dataclass(frozen=True)
class Job:
    """What the slow phases need of an upload, as plain values (no database session is open then)."""

    id: uuid.UUID
    inspection_id: uuid.UUID
    size: int
    sha256: str
    content_type: str
    kind: str
    user_id: uuid.UUID


@dataclass
class Processed:
    info: object


@dataclass
class Refused:
    reason: str


def check_receive(user: User, upload: Upload, offset: int, length: int) -> Job:
    """Phase 1 (reads only): may this user send these bytes now?"""
    _require_writer(user, db.session.get(Inspection, upload.inspection_id))
    if upload.status != "uploading":
        raise OffsetConflict("Tệp đã tải lên xong hoặc đã bị từ chối.", headers={"Upload-Offset": str(
            offset_of(upload))}, status_of_upload=upload.status)
    if length > current_app.config["UPLOAD_CHUNK_MAX_BYTES"]:
        raise TooLarge("Một lần gửi vượt giới hạn kích thước đoạn (chunk).")
    if offset + length > upload.size_bytes:
        raise TooLarge("Dữ liệu gửi lên vượt quá kích thước đã khai báo.")
    return Job(id=upload.id, inspection_id=upload.inspection_id, size=upload.size_bytes, sha256=upload.sha256,
               content_type=upload.content_type, kind=upload.kind, user_id=user.id)


def stage(job: Job, offset: int, chunk: bytes) -> int:
    """Phase 2 (no database): add the chunk to the staged bytes; returns how many are staged."""
    from ..storage import OffsetMismatch

    try:
        return store().append(str(job.id), offset, chunk)
    except OffsetMismatch as exc:
        raise OffsetConflict(f"Cần tiếp tục từ byte {exc.expected}, không phải {offset}.",
                             headers={"Upload-Offset": str(exc.expected)}, expected_offset=exc.expected) from exc


def process(job: Job) -> Processed | Refused:
    """Phase 3 (no database): check the bytes against the declaration, make and store the derivatives.
    Refused bytes are discarded here; recording the refusal is phase 4's."""
    from .. import images

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "upload"
        digest = hashlib.sha256()
        with store().open_staged(str(job.id)) as staged, open(path, "wb") as out:
            for block in iter(lambda: staged.read(1024 * 1024), b""):
                digest.update(block)
                out.write(block)
        if path.stat().st_size != job.size or digest.hexdigest() != job.sha256:
            store().discard_staged(str(job.id))
            return Refused("SHA-256 hoặc kích thước của tệp không khớp với khai báo (checksum mismatch).")
        try:
            info = images.inspect(path, declared_type=job.content_type,
                                  max_pixels=current_app.config["PHOTO_MAX_PIXELS"])
            display, thumb = images.derivatives(path, display_px=current_app.config["PHOTO_DISPLAY_PX"],
                                                thumb_px=current_app.config["PHOTO_THUMB_PX"])
        except images.ImageRejected as exc:
            store().discard_staged(str(job.id))
            return Refused(exc.reason)
        _store_objects(job.id, path, display, thumb, info.content_type)
    return Processed(info=info)


def record(job: Job, outcome: Processed | Refused) -> Upload:
    """Phase 4 (a short write): the Photo row, or the refusal, under a lock on the upload row; the status
    is checked again, since the slow phases ran without one."""
    upload = db.session.scalar(sa.select(Upload).filter_by(id=job.id).with_for_update()
                               .execution_options(populate_existing=True))
    if upload.status != "uploading":
        return upload
    if isinstance(outcome, Refused):
        upload.status, upload.reject_reason = "rejected", outcome.reason
        db.session.flush()
        raise UploadRejected(outcome.reason, upload_id=str(upload.id))
    info = outcome.info
    db.session.add(Photo(
        id=job.id, inspection_id=job.inspection_id, kind=job.kind, sha256=job.sha256, size_bytes=job.size,
        content_type=info.content_type, width=info.width, height=info.height, taken_at=info.taken_at,
        gps_lat=info.gps_lat, gps_lon=info.gps_lon, camera_model=info.camera_model, status="ready",
        uploaded_by=job.user_id, ready_at=utcnow(),
    ))
    upload.status = "ready"
    store().discard_staged(str(job.id))
    record_change(job.inspection_id, "photo", job.id)
    db.session.flush()
    return upload


def receive(user: User, upload: Upload, offset: int, chunk: bytes) -> Upload:
    """All four phases in one transaction (the CLI and tests; the API runs them apart, see api/photos.py)."""
    job = check_receive(user, upload, offset, len(chunk))
    if stage(job, offset, chunk) == job.size:
        record(job, process(job))
    return upload


def _store_objects(photo_id: uuid.UUID, path: Path, display, thumb, content_type: str) -> None:
    from ..storage import ObjectExists

    target = keys(photo_id)
    with open(path, "rb") as original:
        try:
            store().put(target["original"], original, content_type=content_type)
        except ObjectExists:  # stored by an attempt that crashed before its commit: same id, same checked bytes
            pass
    store().put(target["display"], display.data, content_type="image/jpeg", overwrite=True)
    store().put(target["thumb"], thumb.data, content_type="image/jpeg", overwrite=True)

