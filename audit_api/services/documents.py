"""Documents: drafts of minutes (Biên bản, per inspection) and conclusion notices (Thông báo kết luận, per
plan and units), their section edits, and issuing — the official number, the PDF rendered once and kept
with its SHA-256, the corrective actions — after which a document never changes.

Who: the team's lead, deputy lead and secretary draft and edit (the secretary writes the minutes, DOMAIN
§5); only the lead issues. Team members read drafts; an inspected unit reads only its issued documents.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import date

import sqlalchemy as sa
from flask import current_app

from .. import access, rendering
from ..errors import Conflict, Forbidden, InvalidData, NotFound
from ..extensions import db
from ..models import Document, Inspection, Plan, Team, Unit, User, document_units, inspection_units
from ..models.common import utcnow
from ..rendering import formats
from . import actions, audit, deadlines, numbering
from .changes import record_change
from .document_content import (
    EDITABLE_SECTIONS,
    SYMBOL_OF_KIND,
    conclusion_snapshot,
    minutes_snapshot,
    team_symbol,
    view_of,
)

DRAFTERS = ("lead", "deputy", "secretary")


def pdf_key(document_id: uuid.UUID, sha256: str) -> str:
    return f"documents/{document_id.hex[:2]}/{document_id.hex}-{sha256[:16]}.pdf"


# --- who may see and do what ----------------------------------------------------------------------------


def _team_of(document: Document) -> Team:
    return db.session.get(Team, uuid.UUID(document.snapshot["team_id"]))


def _unit_ids(document: Document) -> set[uuid.UUID]:
    return set(db.session.scalars(sa.select(document_units.c.unit_id).where(
        document_units.c.document_id == document.id)))


def can_see(user: User, document: Document) -> bool:
    if access.is_unit_user(user):
        return document.status == "issued" and user.unit_id is not None and user.unit_id in _unit_ids(document)
    return access.can_see_team(user, _team_of(document))


def require_document(user: User, document: Document | None) -> Document:
    if document is None or not can_see(user, document):
        raise NotFound("Không tìm thấy văn bản.")
    return document


def _require_drafter(user: User, team: Team) -> None:
    if access.team_role(user, team.id) not in DRAFTERS:
        raise Forbidden("Chỉ Trưởng đoàn, Phó Trưởng đoàn hoặc Thư ký được soạn văn bản của Đoàn.")


def _require_draft(document: Document) -> None:
    if document.status != "draft":
        raise Conflict("Văn bản đã ban hành; không thể sửa. Muốn đính chính, hãy lập văn bản đính chính.")


def _require_unnumbered(document: Document) -> None:
    """A draft that holds an official number is being issued: what was numbered is what gets issued."""
    _require_draft(document)
    if document.number is not None:
        raise Conflict("Văn bản đã được cấp số và đang ban hành; không thể sửa (hãy ban hành lại để hoàn tất).")


def require_editable(user: User, document: Document) -> None:
    _require_drafter(user, _team_of(document))
    _require_unnumbered(document)


def require_issuer(user: User, document: Document) -> None:
    if access.team_role(user, _team_of(document).id) != "lead":
        raise Forbidden("Chỉ Trưởng đoàn được ký ban hành văn bản.")
    _require_draft(document)


def display_number(document: Document) -> str:
    """As printed: 'Số: 05/BB-ĐKT', 'Số: …/BB-ĐKT' for a draft, a provisional number marked as such."""
    provisional = document.number is None and document.provisional_number
    return (f"Số: {formats.document_number(document.number, document.provisional_number, document.symbol)}"
            + (" (số tạm)" if provisional else ""))


def unit_ids_by_document(documents: list[Document]) -> dict[uuid.UUID, list[uuid.UUID]]:
    """The units of a page of documents in one query, each list in the document's own order."""
    found: dict = {d.id: set() for d in documents}
    if found:
        for document_id, unit_id in db.session.execute(sa.select(document_units).where(
                document_units.c.document_id.in_(list(found)))):
            found[document_id].add(unit_id)
    return {d.id: _ordered(d, found[d.id]) for d in documents}


def _ordered(document: Document, unit_ids) -> list[uuid.UUID]:
    order = {u: i for i, u in enumerate((document.snapshot or {}).get("unit_ids") or [])}
    return sorted(unit_ids, key=lambda u: order.get(str(u), len(order)))


def unit_ids_of(document: Document) -> list[uuid.UUID]:
    return _ordered(document, _unit_ids(document))


def visible_query(user: User, *, kind: str | None = None, status: str | None = None,
                  inspection_id=None, plan_id=None, unit_id=None) -> sa.Select:
    query = sa.select(Document).order_by(Document.created_at.desc(), Document.id)
    if access.is_unit_user(user):
        query = query.where(Document.status == "issued", Document.id.in_(
            sa.select(document_units.c.document_id).where(document_units.c.unit_id == user.unit_id)))
    else:
        team_ids = sa.select(Team.id).where(sa.or_(Team.id.in_(access.user_team_ids(user)),
                                                   _admin_scope(user)))
        query = query.where(sa.or_(
            Document.inspection_id.in_(sa.select(Inspection.id).where(Inspection.team_id.in_(team_ids))),
            Document.plan_id.in_(sa.select(Team.plan_id).where(Team.id.in_(team_ids)))))
    for column, value in ((Document.kind, kind), (Document.status, status), (Document.inspection_id, inspection_id),
                          (Document.plan_id, plan_id)):
        if value is not None:
            query = query.where(column == value)
    if unit_id is not None:
        query = query.where(Document.id.in_(sa.select(document_units.c.document_id)
                                            .where(document_units.c.unit_id == unit_id)))
    return query


def _admin_scope(user: User):
    if "admin" not in user.roles:
        return sa.false()
    return sa.true() if user.province_id is None else Team.province_id == user.province_id


# --- drafts -----------------------------------------------------------------------------------------------


def _new_document(*, kind: str, team: Team, snapshot: dict, unit_ids, user: User, provisional_number: str | None,
                  inspection_id=None, plan_id=None, corrects: Document | None = None) -> Document:
    document = Document(kind=kind, status="draft", inspection_id=inspection_id, plan_id=plan_id,
                        symbol=f"{SYMBOL_OF_KIND[kind]}-{team_symbol()}", provisional_number=provisional_number,
                        snapshot=snapshot, content=dict(corrects.content) if corrects else {},
                        template_version=rendering.TEMPLATE_VERSION, corrects_id=corrects.id if corrects else None,
                        created_by=user.id, version=1)
    db.session.add(document)
    db.session.flush()
    db.session.execute(document_units.insert(), [{"document_id": document.id, "unit_id": u} for u in unit_ids])
    audit.record("document.draft", entity_type="document", entity_id=document.id, actor=user,
                 after={"kind": kind, "corrects": str(corrects.id) if corrects else None})
    return document


def create_minutes(user: User, inspection: Inspection, *, provisional_number: str | None = None) -> Document:
    access.require_inspection(user, inspection)
    _require_drafter(user, inspection.team)
    return _new_document(kind="minutes", team=inspection.team, snapshot=minutes_snapshot(inspection),
                         unit_ids=[inspection.host_unit_id, *(u.id for u in inspection.sub_units)], user=user,
                         provisional_number=provisional_number, inspection_id=inspection.id)


def _plan_inspections(plan: Plan, unit_ids: list[uuid.UUID]) -> list[Inspection]:
    covering = sa.select(inspection_units.c.inspection_id).where(inspection_units.c.unit_id.in_(unit_ids))
    return list(db.session.scalars(sa.select(Inspection).where(
        Inspection.plan_id == plan.id, sa.or_(Inspection.host_unit_id.in_(unit_ids), Inspection.id.in_(covering)))
        .order_by(Inspection.scheduled_on)))


def create_conclusion(user: User, plan: Plan, unit_ids: list[uuid.UUID], *,
                      provisional_number: str | None = None) -> Document:
    access.require_plan(user, plan)
    unit_ids = list(dict.fromkeys(unit_ids))
    inspections = _plan_inspections(plan, unit_ids)
    covered = {i.host_unit_id for i in inspections} | {u.id for i in inspections for u in i.sub_units}
    missing = [str(u) for u in unit_ids if u not in covered]
    if missing:
        raise InvalidData("Đơn vị chưa được kiểm tra theo kế hoạch này.", errors={"unit_ids": missing})
    teams = {i.team_id for i in inspections}
    if len(teams) != 1:
        raise InvalidData("Các đơn vị do nhiều Đoàn kiểm tra; mỗi thông báo kết luận thuộc một Đoàn.",
                          errors={"unit_ids": ["Thuộc nhiều Đoàn kiểm tra."]})
    team = inspections[0].team
    _require_drafter(user, team)
    units = [db.session.get(Unit, u) for u in unit_ids]
    inspections = [i for i in inspections if i.host_unit_id in unit_ids or any(u.id in unit_ids for u in i.sub_units)]
    return _new_document(kind="conclusion", team=team, snapshot=conclusion_snapshot(plan, team, inspections, units),
                         unit_ids=unit_ids, user=user, provisional_number=provisional_number, plan_id=plan.id)


def _source_snapshot(document: Document) -> dict:
    if document.kind == "minutes":
        return minutes_snapshot(db.session.get(Inspection, document.inspection_id))
    plan = db.session.get(Plan, document.plan_id)
    unit_ids = sorted(_unit_ids(document), key=lambda u: document.snapshot["unit_ids"].index(str(u)))
    inspections = [i for i in _plan_inspections(plan, unit_ids) if i.team_id == _team_of(document).id]
    return conclusion_snapshot(plan, _team_of(document), inspections, [db.session.get(Unit, u) for u in unit_ids])


def _bump(document: Document) -> None:
    document.version += 1
    document.updated_at = utcnow()


def edit_sections(user: User, document: Document, sections: dict) -> Document:
    """Rewrite prose sections of a draft; a section set to null goes back to the snapshot's default."""
    require_editable(user, document)
    unknown = sorted(set(sections) - set(EDITABLE_SECTIONS))
    if unknown:
        raise InvalidData("Phần không sửa được trong văn bản; sửa hạn chế, kiến nghị rồi cập nhật số liệu.",
                          errors={key: ["Không sửa trực tiếp."] for key in unknown})
    before = {key: (document.content or {}).get(key) for key in sections}
    content = dict(document.content or {})
    for key, value in sections.items():
        if value is None:
            content.pop(key, None)
        else:
            content[key] = value
    document.content = content
    _bump(document)
    audit.record("document.edit", entity_type="document", entity_id=document.id, actor=user, before=before,
                 after=sections)
    return document


def refresh(user: User, document: Document) -> Document:
    """Take the snapshot again from the current findings, answers and photos (edited prose is kept)."""
    require_editable(user, document)
    document.snapshot = _source_snapshot(document)
    _bump(document)
    audit.record("document.refresh", entity_type="document", entity_id=document.id, actor=user)
    return document


def correct(user: User, original: Document) -> Document:
    """A correction is a new draft pointing at the issued document it corrects (which stays as it was)."""
    team = _team_of(original)
    _require_drafter(user, team)
    if original.status != "issued":
        raise Conflict("Chỉ đính chính văn bản đã ban hành; bản dự thảo thì sửa trực tiếp.")
    return _new_document(kind=original.kind, team=team, snapshot=dict(original.snapshot), user=user,
                         unit_ids=sorted(_unit_ids(original)), provisional_number=None,
                         inspection_id=original.inspection_id, plan_id=original.plan_id, corrects=original)


# --- issuing ------------------------------------------------------------------------------------------------


def _check_ready(document: Document) -> None:
    if document.kind == "minutes":
        inspection = db.session.get(Inspection, document.inspection_id)
        if inspection.status != "approved":
            raise Conflict("Cuộc kiểm tra chưa được Trưởng đoàn duyệt; chưa thể ban hành biên bản.")
    else:
        plan = db.session.get(Plan, document.plan_id)
        pending = [i for i in _plan_inspections(plan, sorted(_unit_ids(document)))
                   if i.status not in ("approved", "minutes_issued", "closed")]
        if pending:
            raise Conflict("Còn cuộc kiểm tra chưa được duyệt; chưa thể ban hành thông báo kết luận.",
                           inspections=[str(i.id) for i in pending])
    covered = {entry["finding_id"] for entry in document.snapshot.get("recommendations") or []}
    bare = [entry for entry in document.snapshot.get("findings") or [] if entry["finding_id"] not in covered]
    if bare:
        raise Conflict("Mỗi hạn chế cần ít nhất một kiến nghị; bổ sung kiến nghị rồi cập nhật số liệu văn bản.",
                       findings=[entry["finding_id"] for entry in bare])


def reserve(user: User, document: Document, *, version: int, issued_on: date | None = None,
            signer_name: str | None = None, signer_title: str | None = None) -> dict:
    """Issuing, step 1 of 3 (a short write transaction): check the document may be issued, give it the next
    number of its issuer's series for the year, and return the view to print.

    Issuing is split so that rendering (seconds, with photos) never holds SQLite's write lock or the series
    lock: (1) reserve the number, commit; (2) render and store the PDF with no transaction open; (3) finish.
    A reserved number belongs to its document from then on — a draft holding it can no longer be edited, and
    issuing it again after a failure keeps the same number — so the series has no gap and no number twice."""
    require_issuer(user, document)
    if document.version != version:
        raise Conflict("Văn bản vừa được sửa; tải lại rồi ban hành.")
    today = deadlines.today()
    day = issued_on or today
    if day > today:
        raise InvalidData("Ngày ban hành không được sau ngày hôm nay.", errors={"issued_on": ["Ngày trong tương lai."]})
    _check_ready(document)
    team = _team_of(document)
    if document.number is None:
        series, number = numbering.take_number(f"team:{team.id}", team.name, day.year)
        document.series_id, document.number = series.id, number
        audit.record("document.number", entity_type="document", entity_id=document.id, actor=user,
                     after={"number": number, "symbol": document.symbol, "year": day.year})
    elif document.issued_on is not None and document.issued_on.year != day.year:
        raise Conflict(f"Văn bản đã được cấp số năm {document.issued_on.year}; ngày ban hành phải trong năm đó.")
    document.issued_on, document.signer_id = day, user.id
    document.signer_name = signer_name or user.full_name
    document.signer_title = signer_title or "Trưởng đoàn"
    return {**view_of(document, day), "status": "issued"}


def render_and_store(document_id: uuid.UUID, view: dict) -> tuple[bytes, str]:
    """Issuing, step 2 of 3 (no database): the PDF, stored under a key naming its SHA-256. Bytes are stored
    before any row points to them; an attempt that loses leaves an unreferenced object for `media sweep`."""
    pdf = rendering.render_pdf(view, thumbnail=thumbnail)
    key = pdf_key(document_id, hashlib.sha256(pdf).hexdigest())
    _store().put(key, pdf, content_type="application/pdf", overwrite=True)
    return pdf, key


def finish(user: User, document: Document, view: dict, pdf: bytes, key: str) -> Document:
    """Issuing, step 3 of 3 (a short write transaction): freeze the document with its PDF's SHA-256, turn its
    recommendations into corrective actions, and mark the inspection's minutes issued."""
    document = db.session.scalar(sa.select(Document).where(Document.id == document.id).with_for_update()
                                 .execution_options(populate_existing=True))
    if document.status != "draft" or document.number != view["number"]:
        raise Conflict("Văn bản vừa được ban hành bởi thao tác khác.")
    document.status, document.place_name, document.issued_view = "issued", view["place"], view
    document.pdf_sha256, document.pdf_key = hashlib.sha256(pdf).hexdigest(), key
    document.issued_at = utcnow()
    _bump(document)
    created = actions.create_for_document(user, document, view)
    if document.kind == "minutes":
        inspection = db.session.get(Inspection, document.inspection_id)
        inspection.status = "minutes_issued"
        inspection.version += 1
        record_change(inspection.id, "inspection", inspection.id)
    audit.record("document.issue", entity_type="document", entity_id=document.id, actor=user,
                 after={"number": document.number, "symbol": document.symbol,
                        "issued_on": document.issued_on.isoformat(), "pdf_sha256": document.pdf_sha256,
                        "actions": [str(a.id) for a in created]})
    return document


# --- output ---------------------------------------------------------------------------------------------------


def _store():
    return current_app.extensions["media_store"]


def thumbnail(photo_id: str) -> bytes:
    """The stored ~320 px thumbnail (the renderer never sees an original)."""
    from .uploads import keys

    with _store().open(keys(uuid.UUID(photo_id))["thumb"]) as stream:
        return stream.read()


def current_view(document: Document) -> dict:
    return document.issued_view if document.status == "issued" else view_of(document)


def html(document: Document) -> str:
    """The preview: thumbnails inline, so the page shows them without a signed-in image request."""
    def inline(photo_id: str) -> str:
        return "data:image/jpeg;base64," + base64.b64encode(thumbnail(photo_id)).decode("ascii")

    return rendering.render_html(current_view(document), image_src=inline)


def pdf(document: Document) -> bytes:
    """An issued document's stored bytes, checked against the SHA-256 recorded at issue; a draft rendered now."""
    if document.status != "issued":
        return rendering.render_pdf(view_of(document), thumbnail=thumbnail)
    with _store().open(document.pdf_key) as stream:
        data = stream.read()
    if hashlib.sha256(data).hexdigest() != document.pdf_sha256:
        raise RuntimeError(f"stored PDF of document {document.id} does not match its SHA-256")
    return data


def docx(document: Document) -> bytes:
    return rendering.render_docx(current_view(document), thumbnail=thumbnail)


def filename(document: Document, extension: str) -> str:
    if document.number is not None:
        return f"{document.number:02d}-{document.symbol}.{extension}"
    return f"du-thao-{document.symbol}-{document.id.hex[:8]}.{extension}"
