"""Resumable, checksummed uploads of photos (tus-style: declare, then send bytes at offsets).

Order of events that keeps the database honest: bytes are staged in the media store chunk by chunk; when
the last byte arrives the SHA-256 and size the client declared are checked, the image is verified and its
derivatives made, the original and derivatives are stored, and only then is the Photo row written. A crash
anywhere before the commit leaves bytes without a row (the sweep removes them), never a row without bytes.

Where asking the store what is staged costs a request (S3), the uploads row records it (`staged_offset`,
`staged_parts`) once a chunk is durable, so views answer from the row and the store is told where the chunks
are instead of listing them. The store remains the judge of offsets: a chunk at another offset than the row's
is checked against the store itself, and the row then catches up with what the store found (after a crash
between staging and the row's write, or on rows older than the columns). HEAD always asks the store. Where
asking is an fstat (local), the row is not written per chunk: that write would take SQLite's write lock.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import uuid
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from types import SimpleNamespace

import sqlalchemy as sa
from flask import current_app

from .. import access
from ..errors import Conflict, DomainError, InvalidData
from ..extensions import db
from ..models import Inspection, Photo, Upload, User
from ..models.common import utcnow
from ..storage import ObjectExists, OffsetMismatch, Staged
from . import photo_links
from .changes import record_change

PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")
# An inspected unit's evidence on a corrective action: photos, or a scanned report as PDF (checked by signature).
EVIDENCE_TYPES = (*PHOTO_TYPES, "application/pdf")
EVIDENCE_PER_ACTION = 50
log = logging.getLogger(__name__)


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
    staged: Staged | None = None  # what the store found staged, when it looked (for note_staged)


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
    _check_count(inspection.id)


def _check_count(inspection_id: uuid.UUID) -> None:
    limit = current_app.config["PHOTOS_PER_INSPECTION"]
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Upload).filter_by(inspection_id=inspection_id))
    if count >= limit:
        raise InvalidData(f"Cuộc kiểm tra đã có {count} ảnh, tối đa {limit}.")


def _require_writer(user: User, inspection: Inspection) -> None:
    if access.team_role(user, inspection.team_id) is None or inspection.status not in access.OPEN_FOR_ANSWERS:
        raise access.Forbidden("Chỉ thành viên Đoàn được tải ảnh lên khi cuộc kiểm tra đang mở.")


def evidence_action(user: User, action_id: uuid.UUID, *, writing: bool = False):
    """The corrective action an evidence file answers: visible to the team and its unit (404 otherwise);
    only the unit sends the bytes, and only while the action waits for its answer."""
    from ..models import CorrectiveAction
    from . import actions

    action = actions.require_action(user, db.session.get(CorrectiveAction, action_id))
    if writing and (not access.is_unit_user(user) or action.unit_id != user.unit_id):
        raise access.Forbidden("Chỉ đơn vị được kiểm tra tải minh chứng cho việc khắc phục của mình.")
    return action


def _check_evidence(user: User, action, data: dict) -> None:
    from . import actions

    if action.status not in actions.OPEN:
        raise Conflict("Việc khắc phục không chờ trả lời; không nhận thêm minh chứng.")
    if data["size"] > current_app.config["PHOTO_MAX_BYTES"]:
        raise TooLarge(f"Tệp vượt giới hạn {current_app.config['PHOTO_MAX_BYTES']:,} byte.".replace(",", "."))
    if data["content_type"] not in EVIDENCE_TYPES:
        raise InvalidData(f"Định dạng {data['content_type']} không được nhận; dùng PDF, JPEG, PNG hoặc WebP.",
                          errors={"content_type": ["Không được hỗ trợ."]})
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Upload).filter_by(action_id=action.id))
    if count >= EVIDENCE_PER_ACTION:
        raise InvalidData(f"Việc khắc phục đã có {count} tệp minh chứng, tối đa {EVIDENCE_PER_ACTION}.")


def _check_existing(user: User, existing: Upload, data: dict) -> None:
    if existing.action_id is not None:
        evidence_action(user, existing.action_id, writing=True)
    else:
        access.require_inspection(user, db.session.get(Inspection, existing.inspection_id))
    if existing.sha256 != data["sha256"] or existing.size_bytes != data["size"]:
        raise Conflict("Mã ảnh này đã được dùng cho một tệp khác (khác SHA-256 hoặc kích thước).")


def check_declaration(user: User, data: dict) -> None:
    """Phase 1 of a declaration (reads only): may this user declare these bytes? The API runs it before it
    takes SQLite's write lock, then declare(checked=True) writes."""
    existing = db.session.get(Upload, data["id"])
    if existing is not None:
        _check_existing(user, existing, data)
        return
    if data.get("action_id"):
        _check_evidence(user, evidence_action(user, data["action_id"], writing=True), data)
        return
    _check_declaration(user, access.require_inspection(user, db.session.get(Inspection, data["inspection_id"])), data)


def declare(user: User, data: dict, *, checked: bool = False) -> Upload:
    """Create the upload, or return the existing one for the same id and bytes (a retried create).
    `checked`: check_declaration ran already; what another request may have changed since (the id taken, the
    photo count) is checked again here."""
    existing = db.session.get(Upload, data["id"])
    if existing is not None:
        _check_existing(user, existing, data)
        if existing.status == "rejected":  # a refused or expired upload may start again, from byte 0
            store().discard_staged(str(existing.id))  # usually gone already; never resume on stale bytes
            existing.status, existing.reject_reason = "uploading", None
            existing.staged_offset, existing.staged_parts = 0, []
            db.session.flush()
        return existing
    if data.get("action_id"):
        return _declare_evidence(user, data, checked=checked)
    if checked:
        inspection = db.session.get(Inspection, data["inspection_id"])
        _check_count(inspection.id)
    else:
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


def records_staging() -> bool:
    """Does the row keep what is staged (the store would need a request to say)?"""
    return not store().cheap_staged_lookup


def offset_of(upload: Upload) -> int:
    """Where the upload stands (views): from the row where it keeps it."""
    if upload.status == "ready":
        return upload.size_bytes
    if upload.status != "uploading":
        return 0
    return upload.staged_offset if records_staging() else store().staged_size(str(upload.id))


def stored_offset(upload: Upload) -> int:
    """Where to resume, from the store itself (HEAD): right even if the row has not caught up."""
    if upload.status != "uploading":
        return offset_of(upload)
    return store().staged_size(str(upload.id))


def staged_of(upload: Upload) -> Staged:
    return Staged(upload.staged_offset, tuple(upload.staged_parts or ()))


def _declare_evidence(user: User, data: dict, *, checked: bool) -> Upload:
    from ..models import Recommendation

    action = evidence_action(user, data["action_id"], writing=True)
    if not checked:
        _check_evidence(user, action, data)
    inspection_id = db.session.scalar(sa.select(Recommendation.inspection_id).filter_by(id=action.recommendation_id))
    upload = Upload(id=data["id"], inspection_id=inspection_id, action_id=action.id, sha256=data["sha256"],
                    kind="document" if data["content_type"] == "application/pdf" else "photo",
                    size_bytes=data["size"], content_type=data["content_type"], caption=data.get("caption"),
                    created_by=user.id)
    db.session.add(upload)
    db.session.flush()
    return upload


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
    staged: Staged | None  # as the row records it, when the chunk continues from there; else the store looks
    action_id: uuid.UUID | None = None  # an inspected unit's evidence on a corrective action


@dataclass
class Processed:
    info: object


@dataclass
class Refused:
    reason: str


def check_receive(user: User, upload: Upload, offset: int, length: int) -> Job:
    """Phase 1 (reads only): may this user send these bytes now?"""
    if upload.action_id is not None:
        evidence_action(user, upload.action_id, writing=True)
    else:
        _require_writer(user, db.session.get(Inspection, upload.inspection_id))
    if upload.status != "uploading":
        raise OffsetConflict("Tệp đã tải lên xong hoặc đã bị từ chối.", headers={"Upload-Offset": str(
            offset_of(upload))}, status_of_upload=upload.status)
    if length > current_app.config["UPLOAD_CHUNK_MAX_BYTES"]:
        raise TooLarge("Một lần gửi vượt giới hạn kích thước đoạn (chunk).")
    if offset + length > upload.size_bytes:
        raise TooLarge("Dữ liệu gửi lên vượt quá kích thước đã khai báo.")
    staged = staged_of(upload) if offset == upload.staged_offset else None
    return Job(id=upload.id, inspection_id=upload.inspection_id, size=upload.size_bytes, sha256=upload.sha256,
               content_type=upload.content_type, kind=upload.kind, user_id=user.id, staged=staged,
               action_id=upload.action_id)


def stage(job: Job, offset: int, chunk: bytes) -> Staged:
    """Phase 2 (no database): add the chunk to the staged bytes (durably); returns what is staged now.
    A wrong offset is a 409 naming the right one; its `staged` is what the store found, for note_staged.

    The chunk that completes the upload, at the offset the row records, is not staged where the store
    prefers it from memory (S3): process() gets it as `tail`, and `secure` stages it if processing fails.
    Its offset is acknowledged only once the original holding it is stored and the Photo row committed."""
    if (chunk and offset + len(chunk) == job.size and job.staged is not None
            and store().last_chunk_from_memory):
        return Staged(job.size, (*job.staged.starts, offset))
    try:
        return store().stage_chunk(str(job.id), offset, chunk, known=job.staged)
    except OffsetMismatch as exc:
        conflict = OffsetConflict(f"Cần tiếp tục từ byte {exc.expected}, không phải {offset}.",
                                  headers={"Upload-Offset": str(exc.expected)}, expected_offset=exc.expected)
        conflict.staged = exc.staged
        raise conflict from exc


def note_staged(job_id: uuid.UUID, staged: Staged) -> None:
    """A short write: the row records what is staged. Only forward (a slower request that staged less, or a
    row another request already moved on, is left alone) and only while uploading."""
    db.session.execute(sa.update(Upload).where(
        Upload.id == job_id, Upload.status == "uploading", Upload.staged_offset < staged.size,
    ).values(staged_offset=staged.size, staged_parts=list(staged.starts)).execution_options(
        synchronize_session=False))


def process(job: Job, staged: Staged | None = None, tail: bytes | None = None) -> Processed | Refused:
    """Phase 3 (no database): check the bytes against the declaration, make and store the derivatives.
    Refused bytes are discarded here; recording the refusal is phase 4's. `staged`: what stage() returned
    (None: the row's record or the store's); `tail`: the last chunk, which this request has in memory.

    Once the header has passed (type, pixel count), the work runs on three threads: one hashes the bytes
    and, if the SHA-256 matches, stores the original (on S3 its put is the largest); one decodes the whole
    file to check it is not cut off; this one makes the derivatives (Pillow releases the GIL while it
    decodes). A mismatch refuses the photo whatever Pillow said; an image Pillow refuses has its original
    deleted again; the derivatives are stored only once all three agree."""
    from .. import images
    from ..storage import reopen

    media, config, target = store(), current_app.config, keys(job.id)  # the second thread has no app context
    try:
        opened = media.open_staged(str(job.id), known=staged or job.staged, tail=tail)
    except KeyError:
        return _refuse(job, "Chưa nhận được dữ liệu của tệp; hãy tải lên lại (nothing staged).")
    mismatch = "SHA-256 hoặc kích thước của tệp không khớp với khai báo (checksum mismatch)."
    with opened as staged_file:
        if staged_file.seek(0, io.SEEK_END) != job.size:
            return _refuse(job, mismatch)
        if job.kind == "document":
            return _process_document(media, job, target["original"], staged_file, mismatch)
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="photo") as background:
            checked = background.submit(_check_and_keep, media, job, target["original"], staged_file)
            try:
                info = images.inspect_header(staged_file, declared_type=job.content_type,
                                             max_pixels=config["PHOTO_MAX_PIXELS"])
                decodes = background.submit(images.check_decodes, reopen(staged_file), info)
                display, thumb = images.derivatives(staged_file, display_px=config["PHOTO_DISPLAY_PX"],
                                                    thumb_px=config["PHOTO_THUMB_PX"])
                decodes.result()
            except images.ImageRejected as exc:
                wait([checked])
                if checked.exception() is None and not checked.result():
                    return _refuse(job, mismatch)  # not the declared bytes: that is the reason to give
                with contextlib.suppress(Exception):  # else the sweep removes it: no row will refer to it
                    media.delete(target["original"])  # these bytes are refused, whoever stored them
                return _refuse(job, exc.reason)
            if not checked.result():  # its exception, if any, is this request's
                return _refuse(job, mismatch)
            display_put = background.submit(media.put, target["display"], display.data, content_type="image/jpeg",
                                            overwrite=True)
            media.put(target["thumb"], thumb.data, content_type="image/jpeg", overwrite=True)
            display_put.result()
    return Processed(info=info)


def _process_document(media, job: Job, key: str, staged_file, mismatch: str) -> Processed | Refused:
    """An evidence PDF: its signature, its SHA-256, then the original kept as it came; no derivatives."""
    from ..images import is_pdf

    if not is_pdf(staged_file):
        return _refuse(job, "Tệp không phải PDF hợp lệ (thiếu chữ ký %PDF- hoặc %%EOF).")
    if not _check_and_keep(media, job, key, staged_file):
        return _refuse(job, mismatch)
    return Processed(info=SimpleNamespace(content_type="application/pdf", width=None, height=None, taken_at=None,
                                          gps_lat=None, gps_lon=None, camera_model=None))


def _check_and_keep(media, job: Job, key: str, staged_file) -> bool:
    """On the second thread: do the bytes have the declared SHA-256? If so, store them as the original."""
    from ..images import canonical_type  # the declared type: Pillow checks it matches the bytes
    from ..storage import independent_reader

    data, digest = independent_reader(staged_file), hashlib.sha256()
    if isinstance(data, bytes):
        digest.update(data)
    else:
        for block in iter(lambda: data.read(1024 * 1024), b""):
            digest.update(block)
    if digest.hexdigest() != job.sha256:
        return False
    try:  # local: a hard link to the staged file, no copy
        media.keep_staged(str(job.id), key, content_type=canonical_type(job.content_type), staged=staged_file)
    except ObjectExists:  # stored by an attempt that crashed before its commit: same id, same checked bytes
        pass
    return True


def _refuse(job: Job, reason: str) -> Refused:
    store().discard_staged(str(job.id))  # every chunk, whatever the row says
    return Refused(reason)


def secure(job: Job, offset: int, chunk: bytes) -> None:
    """Processing failed with every byte sent (the store is down…): the last chunk is staged if it was not,
    and the row records what is staged, so the client only has to send an empty PATCH at the full offset.
    Best effort: the failure to report is the first one."""
    try:
        try:
            staged = store().stage_chunk(str(job.id), offset, chunk, known=job.staged)
        except OffsetMismatch as exc:  # staged already (or the store says otherwise): note what it found
            staged = exc.staged
        if staged is not None and records_staging():
            note_staged(job.id, staged)
            db.session.commit()
    except Exception:  # noqa: BLE001 — HEAD asks the store anyway
        db.session.rollback()


def record(job: Job, outcome: Processed | Refused) -> Upload:
    """Phase 4 (a short write): the Photo row, or the refusal, under a lock on the upload row; the status
    is checked again, since the slow phases ran without one. The staged bytes stay until `discard` runs
    after the commit."""
    upload = db.session.scalar(sa.select(Upload).filter_by(id=job.id).with_for_update()
                               .execution_options(populate_existing=True))
    if upload.status != "uploading":
        return upload
    if isinstance(outcome, Refused):
        upload.status, upload.reject_reason = "rejected", outcome.reason
        upload.staged_offset, upload.staged_parts = 0, []
        db.session.flush()
        raise UploadRejected(outcome.reason, upload_id=str(upload.id))
    info = outcome.info
    db.session.add(Photo(
        id=job.id, inspection_id=job.inspection_id, kind=job.kind, sha256=job.sha256, size_bytes=job.size,
        content_type=info.content_type, width=info.width, height=info.height, taken_at=info.taken_at,
        gps_lat=info.gps_lat, gps_lon=info.gps_lon, camera_model=info.camera_model, status="ready",
        uploaded_by=job.user_id, ready_at=utcnow(), action_id=job.action_id,
    ))
    upload.status = "ready"
    upload.staged_offset, upload.staged_parts = job.size, []  # whole; the staged chunks go after the commit
    if job.action_id is None:  # a checklist photo reaches the team's tablets; a unit's evidence is not theirs
        record_change(job.inspection_id, "photo", job.id)
    db.session.flush()
    return upload


def discard(job: Job, staged: Staged | None = None) -> None:
    """After the Photo row is committed: the staged bytes are no longer needed (the original is stored). The
    photo is ready whatever happens here, so a failure is logged, not returned."""
    try:
        store().discard_staged(str(job.id), known=staged)
    except Exception:  # leftover staged bytes cost space, never evidence
        log.warning("could not discard the staged bytes of upload %s", job.id, exc_info=True)


def receive(user: User, upload: Upload, offset: int, chunk: bytes) -> Upload:
    """All four phases in one transaction (the CLI and tests; the API runs them apart, see api/photos.py)."""
    job = check_receive(user, upload, offset, len(chunk))
    staged = stage(job, offset, chunk)
    if staged.size == job.size:
        record(job, process(job, staged, tail=chunk or None))
        discard(job, staged)
    elif records_staging():
        note_staged(job.id, staged)
    return upload
