"""Teams (Đoàn kiểm tra), their members, and plans."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from ..errors import Conflict, InvalidData, NotFound
from ..extensions import db
from ..models import Inspection, Plan, SectionAssignment, Team, TeamMember, Unit, User
from . import audit
from .units import require_in_province


def team_snapshot(team: Team) -> dict:
    return {"name": team.name, "province_id": team.province_id, "plan_id": team.plan_id,
            "decision_number": team.decision_number, "decision_date": team.decision_date,
            "decision_issuer": team.decision_issuer}


def plan_snapshot(plan: Plan) -> dict:
    return {"number": plan.number, "title": plan.title, "issuer": plan.issuer, "issued_on": plan.issued_on,
            "year": plan.year, "period_from": plan.period_from, "period_to": plan.period_to,
            "unit_ids": sorted(str(unit.id) for unit in plan.units)}


def _province(province_id: uuid.UUID | None, actor: User | None) -> Unit:
    province_id = province_id or (actor.province_id if actor else None)
    province = db.session.get(Unit, province_id) if province_id else None
    if province is None or province.unit_type not in ("province", "municipality"):
        raise InvalidData("Cần chỉ rõ tỉnh (province_id).", errors={"province_id": ["Không phải đơn vị cấp tỉnh."]})
    return province


def _plan_in(plan_id: uuid.UUID | None, province: Unit) -> Plan | None:
    if plan_id is None:
        return None
    plan = db.session.get(Plan, plan_id)
    if plan is None or plan.province_id != province.id:
        raise InvalidData("Kế hoạch không thuộc tỉnh này.", errors={"plan_id": ["Không hợp lệ."]})
    return plan


def create_team(data: dict, *, actor: User | None) -> Team:
    province = _province(data.get("province_id"), actor)
    team = Team(province_id=province.id, plan=_plan_in(data.get("plan_id"), province), name=data["name"],
                decision_number=data["decision_number"], decision_date=data["decision_date"],
                decision_issuer=data["decision_issuer"])
    db.session.add(team)
    db.session.flush()
    audit.record("team.create", entity_type="team", entity_id=team.id, after=team_snapshot(team), actor=actor)
    return team


def update_team(team: Team, changes: dict, *, actor: User | None) -> Team:
    before = team_snapshot(team)
    for field in ("name", "decision_number", "decision_date", "decision_issuer"):
        if field in changes:
            setattr(team, field, changes[field])
    if "plan_id" in changes:
        team.plan = _plan_in(changes["plan_id"], db.session.get(Unit, team.province_id))
    db.session.flush()
    audit.record("team.update", entity_type="team", entity_id=team.id, before=before,
                 after=team_snapshot(team), actor=actor)
    return team


def put_member(team: Team, user: User | None, *, team_role: str, position: str | None,
               actor: User | None) -> TeamMember:
    """Add a member or change their team role (idempotent)."""
    if user is None or not user.is_active:
        raise InvalidData("Người dùng không tồn tại hoặc đã bị khóa.", errors={"user_id": ["Không hợp lệ."]})
    if "unit" in user.roles:
        raise InvalidData("Tài khoản của đơn vị được kiểm tra không thể là thành viên Đoàn.")
    if user.province_id != team.province_id:
        raise InvalidData("Người dùng thuộc tỉnh khác, không thể là thành viên Đoàn này.",
                          errors={"user_id": ["Người dùng thuộc tỉnh khác."]})
    member = db.session.scalar(sa.select(TeamMember).filter_by(team_id=team.id, user_id=user.id))
    before = {"team_role": member.team_role, "position": member.position} if member else None
    if member is None:
        member = TeamMember(team_id=team.id, user_id=user.id, team_role=team_role)
        db.session.add(member)
    member.team_role = team_role
    member.position = position if position is not None else (member.position or user.title)
    db.session.flush()
    after = {"team_role": member.team_role, "position": member.position}
    if before != after:
        audit.record("team.member_put", entity_type="team", entity_id=team.id, actor=actor,
                     before={"user_id": user.id, **(before or {})}, after={"user_id": user.id, **after})
    return member


def remove_member(team: Team, user_id: uuid.UUID, *, actor: User | None) -> None:
    member = db.session.scalar(sa.select(TeamMember).filter_by(team_id=team.id, user_id=user_id))
    if member is None:
        raise NotFound("Người dùng không phải thành viên của Đoàn.")
    held = db.session.execute(
        sa.select(Inspection.id, SectionAssignment.section_code).join(SectionAssignment)
        .where(Inspection.team_id == team.id, SectionAssignment.assignee_id == user_id,
               Inspection.status.not_in(("minutes_issued", "closed")))
        .order_by(SectionAssignment.section_code)
    ).all()
    if held:
        sections = ", ".join(sorted({code for _inspection, code in held}))
        inspections = len({inspection for inspection, _code in held})
        raise Conflict(f"Thành viên đang được phân công các phần {sections} tại {inspections} cuộc kiểm tra chưa "
                       "kết thúc; hãy phân công lại các phần này trước khi rút thành viên khỏi Đoàn.",
                       sections=[{"inspection_id": str(i), "section_code": c} for i, c in held])
    audit.record("team.member_remove", entity_type="team", entity_id=team.id, actor=actor,
                 before={"user_id": user_id, "team_role": member.team_role})
    db.session.delete(member)
    db.session.flush()


def _units(unit_ids: list[uuid.UUID], province_id: uuid.UUID) -> list[Unit]:
    units = list(db.session.scalars(sa.select(Unit).where(Unit.id.in_(unit_ids)))) if unit_ids else []
    if len(units) != len(set(unit_ids)):
        raise InvalidData("Có đơn vị không tồn tại.", errors={"unit_ids": ["Có đơn vị không tồn tại."]})
    return [require_in_province(unit, province_id, "unit_ids") for unit in units]


def create_plan(data: dict, *, actor: User | None) -> Plan:
    province = _province(data.get("province_id"), actor)
    plan = Plan(province_id=province.id, number=data["number"], title=data["title"], issuer=data["issuer"],
                issued_on=data["issued_on"], year=data["year"], period_from=data.get("period_from"),
                period_to=data.get("period_to"), created_by=actor.id if actor else None)
    _check_period(plan)
    plan.units = _units(data.get("unit_ids", []), province.id)
    db.session.add(plan)
    db.session.flush()
    audit.record("plan.create", entity_type="plan", entity_id=plan.id, after=plan_snapshot(plan), actor=actor)
    return plan


def update_plan(plan: Plan, changes: dict, *, actor: User | None) -> Plan:
    before = plan_snapshot(plan)
    for field in ("number", "title", "issuer", "issued_on", "year", "period_from", "period_to"):
        if field in changes:
            setattr(plan, field, changes[field])
    _check_period(plan)
    if "unit_ids" in changes:
        plan.units = _units(changes["unit_ids"], plan.province_id)
    db.session.flush()
    audit.record("plan.update", entity_type="plan", entity_id=plan.id, before=before,
                 after=plan_snapshot(plan), actor=actor)
    return plan


def _check_period(plan: Plan) -> None:
    if plan.period_from and plan.period_to and plan.period_to < plan.period_from:
        raise InvalidData("Kỳ kiểm tra: ngày kết thúc trước ngày bắt đầu.", errors={"period_to": ["Không hợp lệ."]})
