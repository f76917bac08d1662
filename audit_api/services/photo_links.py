"""photo.attach, photo.detach, photo.caption: what a photo belongs to, synced like any other entity.

A link is keyed by the photo's client id and needs neither the upload nor the bytes to exist yet: a tablet
that attaches a photo offline and uploads it later, in whichever order the network allows, ends the same.
"""

from __future__ import annotations

import sqlalchemy as sa
from marshmallow import fields, validate

from .. import access
from ..extensions import db
from ..models import Finding, Inspection, Photo, PhotoLink
from ..schemas.common import StrictSchema, no_nul
from .answers import find_item
from .mutations import Applied, Context, Rejected, author, check_base_version, load_payload


class AttachPayload(StrictSchema):
    photo_id = fields.UUID(required=True)
    item_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=16))
    unit_id = fields.UUID(load_default=None, allow_none=True)
    finding_id = fields.UUID(load_default=None, allow_none=True)


class DetachPayload(StrictSchema):
    photo_id = fields.UUID(required=True)


class CaptionPayload(StrictSchema):
    photo_id = fields.UUID(required=True)
    caption = fields.String(required=True, allow_none=True, validate=[validate.Length(max=2000), no_nul])


def photos_of(links) -> dict:
    """The stored photos of some links, in one query (lists pass this to link_state)."""
    ids = [link.photo_id for link in links]
    return {p.id: p for p in db.session.scalars(sa.select(Photo).where(Photo.id.in_(ids)))} if ids else {}


def link_state(link: PhotoLink, photos: dict | None = None) -> dict:
    """The photo as tablets see it: its links, and its bytes' status and metadata once stored."""
    photo = photos.get(link.photo_id) if photos is not None else db.session.get(Photo, link.photo_id)
    state = {"entity": "photo", "id": str(link.photo_id), "inspection_id": str(link.inspection_id),
             "item_code": link.item_code, "unit_id": str(link.unit_id) if link.unit_id else None,
             "finding_id": str(link.finding_id) if link.finding_id else None, "caption": link.caption,
             "version": link.version, "status": photo.status if photo else "uploading", "author": author(
                 link.updated_by)}
    if photo is not None:
        state.update(sha256=photo.sha256, size_bytes=photo.size_bytes, content_type=photo.content_type,
                     width=photo.width, height=photo.height,
                     taken_at=photo.taken_at.isoformat() if photo.taken_at else None)
    return state


def seed(inspection: Inspection, photo_id, *, item_code, unit_id, caption, user) -> None:
    """The declaration's item, unit and caption, unless the tablet's own photo.attach came first."""
    if db.session.get(PhotoLink, photo_id) is None:
        db.session.add(PhotoLink(photo_id=photo_id, inspection_id=inspection.id, item_code=item_code,
                                 unit_id=unit_id, caption=caption, updated_by=user.id))
        db.session.flush()


def _locked(ctx: Context, photo_id) -> PhotoLink | None:
    link = db.session.scalar(sa.select(PhotoLink).filter_by(photo_id=photo_id).with_for_update()
                             .execution_options(populate_existing=True))
    if link is not None and link.inspection_id != ctx.inspection.id:
        raise Rejected(409, "Ảnh này thuộc cuộc kiểm tra khác.", {"photo_id": ["Thuộc cuộc kiểm tra khác."]})
    return link


def _write(ctx: Context, photo_id, changes: dict) -> Applied:
    access.require_section_write(ctx.user, ctx.inspection, _section_of(ctx, changes.get("item_code")))
    link = _locked(ctx, photo_id)
    empty = {"entity": "photo", "id": str(photo_id), "version": 0}
    check_base_version(ctx.base_version, link.version if link else 0, link_state(link) if link else empty)
    if link is None:
        link = PhotoLink(photo_id=photo_id, inspection_id=ctx.inspection.id, version=0)
        db.session.add(link)
    for name, value in changes.items():
        setattr(link, name, value)
    link.version += 1
    link.updated_by = ctx.user.id
    db.session.flush()
    return Applied(version=link.version, changes=[("photo", photo_id)], extra={"entity_id": str(photo_id)})


def _section_of(ctx: Context, item_code: str | None) -> str:
    """The section whose writers may touch this link (an unlinked photo: the first section, i.e. any
    member of an open inspection with nothing assigned there — leads, deputies and secretaries always)."""
    if item_code:
        item, section = find_item(ctx.inspection.checklist_version.definition, item_code)
        if item is None:
            raise Rejected(422, f"Danh mục không có mục {item_code}.", {"item_code": ["Không có."]})
        return section
    role = access.team_role(ctx.user, ctx.inspection.team_id)
    if role is None or ctx.inspection.status not in access.OPEN_FOR_ANSWERS:
        raise access.Forbidden("Chỉ thành viên Đoàn được gắn ảnh khi cuộc kiểm tra đang mở.")
    assigned = {a.section_code for a in ctx.inspection.assignments if a.assignee_id == ctx.user.id}
    return sorted(assigned)[0] if assigned else ctx.inspection.checklist_version.definition["sections"][0]["code"]


def attach(ctx: Context) -> Applied:
    data = load_payload(AttachPayload(), ctx.payload)
    units = {ctx.inspection.host_unit_id, *(u.id for u in ctx.inspection.sub_units)}
    if data["unit_id"] and data["unit_id"] not in units:
        raise Rejected(422, "Đơn vị không thuộc cuộc kiểm tra này.", {"unit_id": ["Không thuộc."]})
    if data["finding_id"]:
        finding = db.session.get(Finding, data["finding_id"])
        if finding is None or finding.inspection_id != ctx.inspection.id:
            raise Rejected(404, "Không tìm thấy hạn chế trong cuộc kiểm tra này.", {"finding_id": ["Không có."]})
    return _write(ctx, data["photo_id"], {k: data[k] for k in ("item_code", "unit_id", "finding_id")})


def detach(ctx: Context) -> Applied:
    data = load_payload(DetachPayload(), ctx.payload)
    return _write(ctx, data["photo_id"], {"item_code": None, "unit_id": None, "finding_id": None})


def caption(ctx: Context) -> Applied:
    data = load_payload(CaptionPayload(), ctx.payload)
    return _write(ctx, data["photo_id"], {"caption": data["caption"]})
