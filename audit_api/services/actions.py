"""Corrective actions: what an inspected unit must fix after a document is issued, its answers, and the
team's verification.

    open ──respond──▶ responded ──accept──▶ accepted (closed)
      ▲                   │
      └────reject─────────┘            (a rejection reopens the action, with the team's comment)
    open ──cannot_fix (reason)──▶ cannot_fix ──accept──▶ closed as cannot_fix │ reject ──▶ open

An action is overdue while it is open past its deadline (a response waiting for the team is not). Open
actions travel into the unit's next inspection bundle. Every change is an audit event.
"""

from __future__ import annotations

import uuid
from datetime import date

import sqlalchemy as sa

from .. import access
from ..errors import Conflict, Forbidden, InvalidData, NotFound
from ..extensions import db
from ..models import (
    ActionResponse,
    ActionReview,
    CorrectiveAction,
    Document,
    Inspection,
    Photo,
    Recommendation,
    Team,
    User,
    action_response_files,
)
from ..models.common import utcnow
from . import audit
from .deadlines import today

OPEN = ("open",)
AWAITING_REVIEW = ("responded", "cannot_fix")
REVIEWERS = ("lead", "deputy", "secretary")


def state(action: CorrectiveAction) -> dict:
    return {"status": action.status, "version": action.version, "cannot_fix_reason": action.cannot_fix_reason,
            "closed_at": action.closed_at.isoformat() if action.closed_at else None}


def create_for_document(user: User, document: Document, view: dict) -> list[CorrectiveAction]:
    """One action per recommendation the issued document prints, unless an earlier document (the minutes
    before the conclusion, an original before its correction) already made it."""
    entries = {entry["recommendation_id"]: entry for entry in view["recommendations"]}
    if not entries:
        return []
    ids = [uuid.UUID(key) for key in entries]
    existing = set(db.session.scalars(sa.select(CorrectiveAction.recommendation_id)
                                      .where(CorrectiveAction.recommendation_id.in_(ids))))
    recommendations = {r.id: r for r in db.session.scalars(sa.select(Recommendation).where(Recommendation.id.in_(ids)))}
    created = []
    for key, entry in entries.items():
        recommendation = recommendations.get(uuid.UUID(key))
        if recommendation is None or recommendation.id in existing:
            continue
        action = CorrectiveAction(recommendation_id=recommendation.id, document_id=document.id,
                                  unit_id=recommendation.responsible_unit_id, text=entry["text"],
                                  deadline=date.fromisoformat(entry["deadline"]) if entry["deadline"] else None,
                                  status="open", version=1)
        db.session.add(action)
        created.append(action)
    db.session.flush()
    for action in created:
        audit.record("action.open", entity_type="corrective_action", entity_id=action.id, actor=user,
                     after={"unit_id": str(action.unit_id), "deadline": action.deadline, "text": action.text})
    return created


def is_overdue(action: CorrectiveAction, on: date | None = None) -> bool:
    return action.status in OPEN and action.deadline is not None and action.deadline < (on or today())


# --- who sees what ---------------------------------------------------------------------------------------------


def _team_of(action: CorrectiveAction) -> Team:
    return db.session.scalar(sa.select(Team).join(Inspection, Inspection.team_id == Team.id)
                             .join(Recommendation, Recommendation.inspection_id == Inspection.id)
                             .where(Recommendation.id == action.recommendation_id))


def visible_query(user: User, *, unit_id=None, status: str | None = None, overdue: bool | None = None) -> sa.Select:
    query = sa.select(CorrectiveAction).order_by(CorrectiveAction.deadline, CorrectiveAction.created_at,
                                                 CorrectiveAction.id)
    if access.is_unit_user(user):
        query = query.where(CorrectiveAction.unit_id == user.unit_id)
    else:
        teams = (sa.select(Recommendation.id).join(Inspection, Inspection.id == Recommendation.inspection_id)
                 .join(Team, Team.id == Inspection.team_id))
        teams = access.scoped(teams, user, province_column=Team.province_id,
                              membership=Team.id.in_(access.user_team_ids(user)))
        query = query.where(CorrectiveAction.recommendation_id.in_(teams))
    if unit_id is not None:
        query = query.where(CorrectiveAction.unit_id == unit_id)
    if status is not None:
        query = query.where(CorrectiveAction.status == status)
    if overdue is not None:
        late = sa.and_(CorrectiveAction.status.in_(OPEN), CorrectiveAction.deadline < today())
        query = query.where(late if overdue else sa.not_(late) | CorrectiveAction.deadline.is_(None))
    return query


def require_action(user: User, action: CorrectiveAction | None) -> CorrectiveAction:
    if action is None:
        raise NotFound("Không tìm thấy việc khắc phục.")
    if access.is_unit_user(user):
        if action.unit_id != user.unit_id:
            raise NotFound("Không tìm thấy việc khắc phục.")
        return action
    if not access.can_see_team(user, _team_of(action)):
        raise NotFound("Không tìm thấy việc khắc phục.")
    return action


def _lock(action: CorrectiveAction) -> CorrectiveAction:
    return db.session.scalar(sa.select(CorrectiveAction).where(CorrectiveAction.id == action.id)
                             .with_for_update().execution_options(populate_existing=True))


# --- the unit answers -------------------------------------------------------------------------------------------


def _evidence(user: User, action: CorrectiveAction, file_ids: list[uuid.UUID]) -> list[Photo]:
    """Evidence files the unit uploaded for this action (photos or PDFs through the upload path), ready."""
    files = list(db.session.scalars(sa.select(Photo).where(Photo.id.in_(file_ids)))) if file_ids else []
    found = {f.id: f for f in files}
    bad = [str(i) for i in file_ids if i not in found or found[i].uploaded_by != user.id
           or found[i].status != "ready" or found[i].action_id != action.id]
    if bad:
        raise InvalidData("Tệp minh chứng chưa tải lên xong hoặc không thuộc việc khắc phục này.",
                          errors={"file_ids": bad})
    return [found[i] for i in file_ids]


def respond(user: User, action: CorrectiveAction, *, kind: str, text: str,
            file_ids: list[uuid.UUID] | None = None) -> ActionResponse:
    """The unit reports what it did (with evidence), or that it cannot fix the problem and why."""
    if not access.is_unit_user(user) or action.unit_id != user.unit_id:
        raise Forbidden("Chỉ đơn vị được kiểm tra trả lời việc khắc phục của mình.")
    action = _lock(action)
    if action.status not in OPEN:
        raise Conflict("Việc khắc phục đang chờ Đoàn xem xét hoặc đã đóng; không thể gửi thêm trả lời.",
                       current=state(action))
    text = (text or "").strip()
    if not text:
        what = "lý do không thể khắc phục" if kind == "cannot_fix" else "nội dung đã khắc phục"
        raise InvalidData(f"Cần ghi {what}.", errors={"text": ["Bắt buộc."]})
    files = _evidence(user, action, list(dict.fromkeys(file_ids or [])))
    before = state(action)
    response = ActionResponse(action_id=action.id, author_id=user.id, kind=kind, text=text)
    db.session.add(response)
    db.session.flush()
    if files:
        db.session.execute(action_response_files.insert(),
                           [{"response_id": response.id, "photo_id": f.id} for f in files])
    if kind == "cannot_fix":
        action.status, action.cannot_fix_reason = "cannot_fix", text
    else:
        action.status = "responded"
    action.version += 1
    audit.record(f"action.{kind}", entity_type="corrective_action", entity_id=action.id, actor=user,
                 before=before, after={**state(action), "response_id": str(response.id),
                                       "files": [str(f.id) for f in files]})
    return response


# --- the team verifies ------------------------------------------------------------------------------------------


def review(user: User, action: CorrectiveAction, *, decision: str, comment: str | None) -> ActionReview:
    """Accept (close) or reject (reopen, with a comment) the unit's answer."""
    if access.is_unit_user(user) or access.team_role(user, _team_of(action).id) not in REVIEWERS:
        raise Forbidden("Chỉ Trưởng đoàn, Phó Trưởng đoàn hoặc Thư ký xem xét kết quả khắc phục.")
    action = _lock(action)
    if action.status not in AWAITING_REVIEW or action.closed_at is not None:
        raise Conflict("Việc khắc phục không có trả lời đang chờ xem xét.", current=state(action))
    comment = (comment or "").strip() or None
    if decision == "reject" and comment is None:
        raise InvalidData("Trả lại kết quả khắc phục cần ghi ý kiến.", errors={"comment": ["Bắt buộc khi trả lại."]})
    before = state(action)
    if decision == "accept":
        action.status = "accepted" if action.status == "responded" else "cannot_fix"
        action.closed_at = utcnow()
    else:
        action.status, action.cannot_fix_reason, action.closed_at = "open", None, None
    action.version += 1
    record = ActionReview(action_id=action.id, reviewer_id=user.id, decision=decision, comment=comment)
    db.session.add(record)
    db.session.flush()
    audit.record(f"action.{decision}", entity_type="corrective_action", entity_id=action.id, actor=user,
                 before=before, after={**state(action), "comment": comment})
    return record
