"""How model objects are shown by the API (plain dicts for the response schemas)."""

from __future__ import annotations

import sqlalchemy as sa

from ..extensions import db
from ..models import Inspection, Plan, Team, TeamMember, Unit, User


def unit_ref(unit: Unit | None) -> dict | None:
    return None if unit is None else {"id": unit.id, "code": unit.code, "name": unit.name,
                                      "unit_type": unit.unit_type}


def user_view(user: User) -> dict:
    return {
        "id": user.id, "username": user.username, "full_name": user.full_name, "title": user.title,
        "organization": user.organization, "email": user.email, "roles": sorted(user.roles),
        "unit": unit_ref(user.unit), "province_id": user.province_id, "is_active": user.is_active,
        "created_at": user.created_at,
    }


def me_view(user: User) -> dict:
    rows = db.session.execute(
        sa.select(Team.id, Team.name, TeamMember.team_role).join(TeamMember).where(TeamMember.user_id == user.id)
    ).all()
    return {**user_view(user), "teams": [{"team_id": r.id, "team_name": r.name, "team_role": r.team_role}
                                         for r in rows]}


def team_view(team: Team) -> dict:
    return {
        "id": team.id, "name": team.name, "province_id": team.province_id, "plan_id": team.plan_id,
        "decision_number": team.decision_number, "decision_date": team.decision_date,
        "decision_issuer": team.decision_issuer, "created_at": team.created_at,
        "members": [{"user_id": m.user_id, "username": m.user.username, "full_name": m.user.full_name,
                     "team_role": m.team_role, "position": m.position} for m in team.members],
    }


def plan_view(plan: Plan) -> dict:
    return {
        "id": plan.id, "province_id": plan.province_id, "number": plan.number, "title": plan.title,
        "issuer": plan.issuer, "issued_on": plan.issued_on, "year": plan.year, "period_from": plan.period_from,
        "period_to": plan.period_to, "unit_ids": [unit.id for unit in plan.units], "created_at": plan.created_at,
    }


def inspection_view(inspection: Inspection) -> dict:
    version = inspection.checklist_version
    names = dict(db.session.execute(
        sa.select(User.id, User.full_name).where(User.id.in_([a.assignee_id for a in inspection.assignments]))
    ).all())
    return {
        "id": inspection.id, "plan_id": inspection.plan_id, "team_id": inspection.team_id,
        "host_unit": unit_ref(inspection.host_unit), "sub_units": [unit_ref(u) for u in inspection.sub_units],
        "checklist": {"key": version.key, "version": version.version, "sha256": version.sha256},
        "scheduled_on": inspection.scheduled_on, "ended_on": inspection.ended_on, "location": inspection.location,
        "status": inspection.status, "version": inspection.version, "created_at": inspection.created_at,
        "assignments": [{"section_code": a.section_code, "user_id": a.assignee_id,
                         "full_name": names.get(a.assignee_id, ""), "status": a.status}
                        for a in sorted(inspection.assignments, key=lambda a: a.section_code)],
    }


def document_view(document, *, with_view: bool = True, unit_ids: list | None = None) -> dict:
    """`unit_ids`: the document's units when a list has read them for the whole page."""
    from ..services import documents

    shown = {
        "id": document.id, "kind": document.kind, "status": document.status,
        "inspection_id": document.inspection_id, "plan_id": document.plan_id,
        "unit_ids": documents.unit_ids_of(document) if unit_ids is None else unit_ids,
        "number": document.number, "symbol": document.symbol,
        "display_number": documents.display_number(document), "provisional_number": document.provisional_number,
        "issued_on": document.issued_on, "signer_name": document.signer_name, "signer_title": document.signer_title,
        "pdf_sha256": document.pdf_sha256, "corrects_id": document.corrects_id,
        "template_version": document.template_version, "version": document.version,
        "created_at": document.created_at, "updated_at": document.updated_at, "sections": document.content or {},
    }
    if with_view:
        shown["view"] = documents.current_view(document)
    return shown


def action_views(actions_: list) -> list[dict]:
    """Corrective actions with their responses (and evidence files) and reviews: one query per kind of row
    for the whole page, not per action."""
    from ..models import ActionResponse, ActionReview, Document, action_response_files
    from ..services import actions, documents
    from ..services.mutations import author

    if not actions_:
        return []
    ids = [a.id for a in actions_]
    responses: dict = {}
    for r in db.session.scalars(sa.select(ActionResponse).where(ActionResponse.action_id.in_(ids))
                                .order_by(ActionResponse.created_at, ActionResponse.id)):
        responses.setdefault(r.action_id, []).append(r)
    files: dict = {}
    response_ids = [r.id for rows in responses.values() for r in rows]
    if response_ids:
        for response_id, photo_id in db.session.execute(sa.select(action_response_files).where(
                action_response_files.c.response_id.in_(response_ids))):
            files.setdefault(response_id, []).append(photo_id)
    reviews: dict = {}
    for r in db.session.scalars(sa.select(ActionReview).where(ActionReview.action_id.in_(ids))
                                .order_by(ActionReview.created_at, ActionReview.id)):
        reviews.setdefault(r.action_id, []).append(r)
    units = {u.id: u for u in db.session.scalars(sa.select(Unit).where(Unit.id.in_({a.unit_id for a in actions_})))}
    numbers = {d.id: documents.display_number(d) for d in db.session.scalars(
        sa.select(Document).where(Document.id.in_({a.document_id for a in actions_})))}
    authors: dict = {}
    return [{
        "id": a.id, "document_id": a.document_id, "document_number": numbers[a.document_id],
        "unit": unit_ref(units[a.unit_id]), "text": a.text, "deadline": a.deadline, "status": a.status,
        "is_overdue": actions.is_overdue(a), "is_closed": a.closed_at is not None,
        "cannot_fix_reason": a.cannot_fix_reason, "closed_at": a.closed_at, "version": a.version,
        "responses": [{"id": r.id, "kind": r.kind, "text": r.text, "author": author(r.author_id, authors),
                       "file_ids": files.get(r.id, []), "created_at": r.created_at} for r in responses.get(a.id, [])],
        "reviews": [{"id": r.id, "decision": r.decision, "comment": r.comment,
                     "reviewer": author(r.reviewer_id, authors), "created_at": r.created_at}
                    for r in reviews.get(a.id, [])],
    } for a in actions_]


def action_view(action) -> dict:
    return action_views([action])[0]
