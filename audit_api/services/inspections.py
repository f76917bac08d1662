"""Inspections: creating one for a host unit and sub-units on a checklist version, assigning sections."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from ..errors import Conflict, InvalidData
from ..extensions import db
from ..models import ChecklistVersion, Inspection, Plan, SectionAssignment, Team, TeamMember, Unit, User
from . import audit
from .units import require_in_province

EDITABLE_STATUSES = ("planned", "in_progress", "returned")


def inspection_snapshot(inspection: Inspection) -> dict:
    return {
        "team_id": inspection.team_id, "plan_id": inspection.plan_id, "host_unit_id": inspection.host_unit_id,
        "sub_unit_ids": sorted(str(unit.id) for unit in inspection.sub_units),
        "checklist_version_id": inspection.checklist_version_id, "scheduled_on": inspection.scheduled_on,
        "location": inspection.location, "status": inspection.status,
    }


def _checklist(key: str, version: int | None) -> ChecklistVersion:
    query = sa.select(ChecklistVersion).filter_by(key=key)
    query = query.filter_by(version=version) if version else query.order_by(ChecklistVersion.version.desc())
    found = db.session.scalar(query.limit(1))
    if found is None:
        raise InvalidData(f"Không có danh mục {key}" + (f" phiên bản {version}." if version else "."),
                          errors={"checklist_key": ["Không tồn tại."]})
    return found


def _unit_on(unit_id: uuid.UUID, day, field: str) -> Unit:
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        raise InvalidData("Đơn vị không tồn tại.", errors={field: ["Không tồn tại."]})
    if not unit.is_valid_on(day):
        raise InvalidData(f"{unit.name} không còn (hoặc chưa) tồn tại vào ngày kiểm tra {day:%d/%m/%Y}.",
                          errors={field: ["Đơn vị không có hiệu lực vào ngày kiểm tra."]})
    return unit


def create_inspection(data: dict, *, team: Team, actor: User | None) -> Inspection:
    """A visit of `team` to a host unit (and sub-units) on a date, pinned to a checklist version."""
    day = data["scheduled_on"]
    host = require_in_province(_unit_on(data["host_unit_id"], day, "host_unit_id"), team.province_id, "host_unit_id")
    subs = [require_in_province(_unit_on(unit_id, day, "sub_unit_ids"), team.province_id, "sub_unit_ids")
            for unit_id in dict.fromkeys(data.get("sub_unit_ids", []))]
    if host in subs:
        raise InvalidData("Đơn vị chủ trì không đồng thời là đơn vị con.", errors={"sub_unit_ids": ["Trùng."]})
    version = _checklist(data["checklist_key"], data.get("checklist_version"))
    regime_to = version.regime_valid_to
    if day < version.regime_valid_from or (regime_to and day > regime_to):
        raise InvalidData(f"Danh mục {version.key} áp dụng từ {version.regime_valid_from:%d/%m/%Y}"
                          + (f" đến {regime_to:%d/%m/%Y}" if regime_to else "")
                          + f"; ngày kiểm tra {day:%d/%m/%Y} nằm ngoài thời kỳ này.",
                          errors={"checklist_key": ["Không áp dụng cho ngày kiểm tra."]})
    plan = None
    if data.get("plan_id"):
        plan = db.session.get(Plan, data["plan_id"])
        if plan is None or plan.province_id != team.province_id:
            raise InvalidData("Kế hoạch không hợp lệ.", errors={"plan_id": ["Không hợp lệ."]})
    inspection = Inspection(team=team, plan=plan or team.plan, host_unit=host, checklist_version=version,
                            scheduled_on=day, location=data.get("location"), status="planned",
                            created_by=actor.id if actor else None)
    inspection.sub_units = subs
    db.session.add(inspection)
    db.session.flush()
    audit.record("inspection.create", entity_type="inspection", entity_id=inspection.id,
                 after=inspection_snapshot(inspection), actor=actor)
    return inspection


def set_assignments(inspection: Inspection, assignments: list[dict], *, actor: User | None) -> Inspection:
    """Replace the section assignments; every assignee must be a member of the inspection's team."""
    if inspection.status not in EDITABLE_STATUSES:
        raise Conflict("Cuộc kiểm tra đã nộp hoặc đã duyệt; không thể phân công lại.")
    sections = {section["code"] for section in inspection.checklist_version.definition["sections"]}
    members = set(db.session.scalars(sa.select(TeamMember.user_id).filter_by(team_id=inspection.team_id)))
    seen: set[str] = set()
    for index, row in enumerate(assignments):
        if row["section_code"] not in sections:
            raise InvalidData(f"Danh mục không có phần {row['section_code']}.",
                              errors={f"assignments.{index}.section_code": ["Không tồn tại."]})
        if row["section_code"] in seen:
            raise InvalidData(f"Phần {row['section_code']} được phân công hai lần.",
                              errors={f"assignments.{index}.section_code": ["Trùng."]})
        if row["user_id"] not in members:
            raise InvalidData("Người được phân công không phải thành viên Đoàn.",
                              errors={f"assignments.{index}.user_id": ["Không phải thành viên Đoàn."]})
        seen.add(row["section_code"])
    before = {a.section_code: str(a.assignee_id) for a in inspection.assignments}
    current = {a.section_code: a for a in inspection.assignments}
    kept = []
    for row in assignments:
        existing = current.get(row["section_code"])
        if existing is None:
            existing = SectionAssignment(section_code=row["section_code"], assignee_id=row["user_id"])
        elif existing.assignee_id != row["user_id"]:
            existing.assignee_id = row["user_id"]
            existing.version += 1
        kept.append(existing)
    inspection.assignments = kept
    db.session.flush()
    after = {a.section_code: str(a.assignee_id) for a in inspection.assignments}
    if before != after:
        audit.record("inspection.assign", entity_type="inspection", entity_id=inspection.id,
                     before=before, after=after, actor=actor)
    return inspection


def visible_query(user: User, *, status: str | None = None, team_id: uuid.UUID | None = None) -> sa.Select:
    """Inspections the user may see: their teams', or the province's for an admin."""
    from ..access import scoped, user_team_ids

    query = scoped(sa.select(Inspection).join(Team).order_by(Inspection.scheduled_on.desc(), Inspection.id), user,
                   province_column=Team.province_id, membership=Team.id.in_(user_team_ids(user)))
    if status:
        query = query.where(Inspection.status == status)
    if team_id:
        query = query.where(Inspection.team_id == team_id)
    return query
