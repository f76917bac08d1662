"""What tablets download: an inspection bundle, and the current state of changed entities for the feed."""

from __future__ import annotations

import hashlib
import json
import uuid

import sqlalchemy as sa

from ..extensions import db
from ..models import (
    Answer,
    ChangeLogEntry,
    CorrectiveAction,
    Finding,
    Inspection,
    PhotoLink,
    Recommendation,
    SectionAssignment,
)
from ..services.answers import current_state as answer_state
from ..services.audit import jsonable
from ..services.findings import current_state as finding_state
from ..services.photo_links import link_state, photos_of
from ..services.review import section_state
from .views import inspection_view

OPEN_ACTION_STATUSES = ("open", "responded", "rejected")


def recommendation_state(rec: Recommendation) -> dict:
    return {"entity": "recommendation", "id": str(rec.id),
            "finding_id": str(rec.finding_id) if rec.finding_id else None,
            "responsible_unit_id": str(rec.responsible_unit_id), "origin": rec.origin, "text": rec.text,
            "deadline": rec.deadline.isoformat() if rec.deadline else None, "sort_order": rec.sort_order,
            "version": rec.version}


def inspection_state(inspection: Inspection) -> dict:
    return {"entity": "inspection", "id": str(inspection.id), "status": inspection.status,
            "version": inspection.version}


def bundle(inspection: Inspection) -> dict:
    """Everything a tablet needs to work on an inspection offline (the checklist comes from its own URL)."""
    units = [inspection.host_unit, *inspection.sub_units]
    links = list(db.session.scalars(sa.select(PhotoLink).filter_by(inspection_id=inspection.id)
                                    .order_by(PhotoLink.photo_id)))
    photos = photos_of(links)
    findings = list(db.session.scalars(sa.select(Finding).filter_by(inspection_id=inspection.id)
                                       .order_by(Finding.section_code, Finding.item_code, Finding.created_at)))
    return {
        "inspection": jsonable(inspection_view(inspection)),
        "units": [{"id": str(u.id), "code": u.code, "name": u.name, "short_name": u.short_name,
                   "unit_type": u.unit_type, "role": "host" if u.id == inspection.host_unit_id else "sub_unit"}
                  for u in units],
        "sections": [section_state(a) for a in sorted(inspection.assignments, key=lambda a: a.section_code)],
        "answers": [answer_state(a, a.item_code, a.unit_id) for a in db.session.scalars(
            sa.select(Answer).filter_by(inspection_id=inspection.id).order_by(Answer.item_code, Answer.unit_id))],
        "findings": [finding_state(f) for f in findings],
        "recommendations": [recommendation_state(r) for r in db.session.scalars(
            sa.select(Recommendation).filter_by(inspection_id=inspection.id).order_by(Recommendation.sort_order))],
        "photos": [link_state(link, photos) for link in links],
        "carried_actions": [
            {"id": str(a.id), "unit_id": str(a.unit_id), "text": a.text, "status": a.status,
             "deadline": a.deadline.isoformat() if a.deadline else None, "document_id": str(a.document_id)}
            for a in db.session.scalars(
                sa.select(CorrectiveAction)
                .where(CorrectiveAction.unit_id.in_([u.id for u in units]),
                       CorrectiveAction.status.in_(OPEN_ACTION_STATUSES))
                .order_by(CorrectiveAction.deadline))
        ],
    }


def bundle_etag(content: dict) -> str:
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


_STATE_OF = {
    "answer": (Answer, lambda a: answer_state(a, a.item_code, a.unit_id)),
    "finding": (Finding, finding_state),
    "recommendation": (Recommendation, recommendation_state),
    "section": (SectionAssignment, section_state),
    "inspection": (Inspection, inspection_state),
    "photo": (PhotoLink, link_state),
}


def feed_page(rows: list[ChangeLogEntry]) -> list[dict]:
    """The latest state of each entity in a page of change-log rows, once, in the order of its last change."""
    latest: dict[tuple[str, str], ChangeLogEntry] = {}
    for row in rows:
        latest.pop((row.entity_type, row.entity_id), None)
        latest[(row.entity_type, row.entity_id)] = row
    loaded: dict[str, dict[str, object]] = {}
    for entity_type, (model, _state) in _STATE_OF.items():
        ids = [entity_id for kind, entity_id in latest if kind == entity_type]
        if ids:
            key = model.__mapper__.primary_key[0]
            found = db.session.scalars(sa.select(model).where(key.in_([uuid.UUID(i) for i in ids]))).all()
            loaded[entity_type] = {str(getattr(obj, key.key)): obj for obj in found}
    photos = photos_of(loaded.get("photo", {}).values())
    changes = []
    for (entity_type, entity_id), row in latest.items():
        obj = loaded.get(entity_type, {}).get(entity_id)
        state = None
        if obj is not None and not row.deleted:
            state = link_state(obj, photos) if entity_type == "photo" else _STATE_OF[entity_type][1](obj)
        changes.append({"seq": row.seq, "inspection_id": str(row.inspection_id), "entity_type": entity_type,
                        "entity_id": entity_id, "deleted": state is None, "data": state})
    return changes
