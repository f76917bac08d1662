"""Demo data: the Lạng Sơn inspections of June 2024 (seed 001) and one post-reform example.

Places, dates and the three district inspections follow the news article. People's names, decision and
plan numbers are invented for the demo (the article names no decision numbers, and printing a real
official's name on a made-up document would misrepresent them). The post-July-2025 commune "xã Tân Thanh"
illustrates the succession model; its exact composition after the 2025 reorganisation is not verified.

Every row has a deterministic id (uuid5 of a stable name), so seeding twice changes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from ..errors import InvalidData
from ..extensions import db
from ..models import (
    ChecklistVersion,
    Inspection,
    Plan,
    SectionAssignment,
    Team,
    TeamMember,
    Unit,
    UnitSuccession,
    User,
)
from .users import create_user

NAMESPACE = uuid.UUID("6f1d2a52-8c57-4c77-9d7c-3f0a4d2b9e10")
REFORM_DAY = date(2025, 7, 1)
LAST_DAY_BEFORE_REFORM = date(2025, 6, 30)


def demo_id(name: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, name)


# code, name, short name, type, parent code, valid_from, valid_to
UNITS = [
    ("LSN", "Tỉnh Lạng Sơn", "tỉnh Lạng Sơn", "province", None, None, None),
    ("LSN-VP", "Văn phòng UBND tỉnh Lạng Sơn", "Văn phòng UBND tỉnh", "provincial_agency", "LSN", None, None),
    ("LSN-TTPVHCC", "Trung tâm Phục vụ hành chính công tỉnh Lạng Sơn", "Trung tâm Phục vụ hành chính công tỉnh",
     "one_stop_center_province", "LSN", None, None),
    ("LSN-SNV", "Sở Nội vụ tỉnh Lạng Sơn", "Sở Nội vụ", "provincial_department", "LSN", None, None),
    ("LSN-H-VANLANG", "UBND huyện Văn Lãng", "huyện Văn Lãng", "district_legacy", "LSN", None, LAST_DAY_BEFORE_REFORM),
    ("LSN-H-TRANGDINH", "UBND huyện Tràng Định", "huyện Tràng Định", "district_legacy", "LSN", None,
     LAST_DAY_BEFORE_REFORM),
    ("LSN-H-BACSON", "UBND huyện Bắc Sơn", "huyện Bắc Sơn", "district_legacy", "LSN", None, LAST_DAY_BEFORE_REFORM),
    ("LSN-X-TANTHANH-2024", "UBND xã Tân Thanh", "xã Tân Thanh", "commune", "LSN-H-VANLANG", None,
     LAST_DAY_BEFORE_REFORM),
    ("LSN-X-BACVIET", "UBND xã Bắc Việt", "xã Bắc Việt", "commune", "LSN-H-VANLANG", None, LAST_DAY_BEFORE_REFORM),
    ("LSN-X-QUOCVIET", "UBND xã Quốc Việt", "xã Quốc Việt", "commune", "LSN-H-TRANGDINH", None,
     LAST_DAY_BEFORE_REFORM),
    ("LSN-X-CHILANG", "UBND xã Chi Lăng", "xã Chi Lăng", "commune", "LSN-H-TRANGDINH", None, LAST_DAY_BEFORE_REFORM),
    ("LSN-X-DETHAM", "UBND xã Đề Thám", "xã Đề Thám", "commune", "LSN-H-TRANGDINH", None, LAST_DAY_BEFORE_REFORM),
    ("LSN-X-TANHUONG", "UBND xã Tân Hương", "xã Tân Hương", "commune", "LSN-H-BACSON", None, LAST_DAY_BEFORE_REFORM),
    ("LSN-X-TANLAP", "UBND xã Tân Lập", "xã Tân Lập", "commune", "LSN-H-BACSON", None, LAST_DAY_BEFORE_REFORM),
    ("LSN-X-TANTHANH", "UBND xã Tân Thanh", "xã Tân Thanh", "commune", "LSN", REFORM_DAY, None),
    ("LSN-X-TANTHANH-TTPVHCC", "Trung tâm Phục vụ hành chính công xã Tân Thanh",
     "Trung tâm Phục vụ hành chính công xã Tân Thanh", "one_stop_center_commune", "LSN-X-TANTHANH", REFORM_DAY, None),
]

REFORM_BASIS = "Luật Tổ chức chính quyền địa phương số 72/2025/QH15"
# from code, to code (None: dissolved), kind, legal basis
SUCCESSIONS = [
    ("LSN-H-VANLANG", None, "dissolve", REFORM_BASIS),
    ("LSN-H-TRANGDINH", None, "dissolve", REFORM_BASIS),
    ("LSN-H-BACSON", None, "dissolve", REFORM_BASIS),
    ("LSN-X-TANTHANH-2024", "LSN-X-TANTHANH", "merge",
     "Nghị quyết của Ủy ban Thường vụ Quốc hội về sắp xếp đơn vị hành chính cấp xã tỉnh Lạng Sơn năm 2025 "
     "(minh họa — cần đối chiếu)"),
]

# username, full name, roles, title, unit code (unit users)
STAFF = [
    ("admin", "Quản trị hệ thống", {"admin"}, "Chuyên viên Văn phòng UBND tỉnh", None),
    ("truongdoan", "Nguyễn Văn Hùng", {"lead"}, "Phó Chủ tịch Thường trực UBND tỉnh, Phó Trưởng Ban Chỉ đạo CCHC tỉnh",
     None),
    ("thuky", "Lê Thu Hà", {"secretary"}, "Chuyên viên Sở Nội vụ", None),
    ("kiemtra1", "Trần Thị Mai", {"inspector"}, "Phó Giám đốc Sở Nội vụ", None),
    ("kiemtra2", "Hoàng Văn Nam", {"inspector"}, "Phó Giám đốc Trung tâm Phục vụ hành chính công tỉnh", None),
    ("dv-vanlang", "UBND huyện Văn Lãng", {"unit"}, None, "LSN-H-VANLANG"),
    ("dv-trangdinh", "UBND huyện Tràng Định", {"unit"}, None, "LSN-H-TRANGDINH"),
    ("dv-bacson", "UBND huyện Bắc Sơn", {"unit"}, None, "LSN-H-BACSON"),
    ("dv-tanthanh", "UBND xã Tân Thanh", {"unit"}, None, "LSN-X-TANTHANH"),
    ("dv-ttpvhcc-tanthanh", "Trung tâm Phục vụ hành chính công xã Tân Thanh", {"unit"}, None,
     "LSN-X-TANTHANH-TTPVHCC"),
]

# team role per username, with the line printed in the minutes' composition
TEAM = [
    ("truongdoan", "lead"),
    ("kiemtra1", "deputy"),
    ("thuky", "secretary"),
    ("kiemtra2", "member"),
]

PLANS = [
    {
        "name": "plan-2024", "number": "35/KH-UBND", "issued_on": date(2024, 1, 15), "year": 2024,
        "title": "Kế hoạch kiểm tra công tác cải cách hành chính năm 2024",
        "period_from": date(2024, 1, 1), "period_to": date(2024, 12, 31),
        "units": ["LSN-H-VANLANG", "LSN-H-TRANGDINH", "LSN-H-BACSON"],
        "team": {"name": "team-2024", "title": "Đoàn kiểm tra công tác cải cách hành chính tỉnh năm 2024",
                 "decision_number": "980/QĐ-UBND", "decision_date": date(2024, 6, 10)},
    },
    {
        "name": "plan-2026", "number": "21/KH-UBND", "issued_on": date(2026, 1, 20), "year": 2026,
        "title": "Kế hoạch kiểm tra công tác kiểm soát thủ tục hành chính, thực hiện cơ chế một cửa năm 2026",
        "period_from": date(2026, 1, 1), "period_to": date(2026, 12, 31),
        "units": ["LSN-X-TANTHANH"],
        "team": {"name": "team-2026", "title": "Đoàn kiểm tra công tác kiểm soát thủ tục hành chính năm 2026",
                 "decision_number": "1124/QĐ-UBND", "decision_date": date(2026, 11, 2)},
    },
]

SECTION_ASSIGNEES = {"A": "kiemtra1", "B": "kiemtra1", "C": "kiemtra1", "D": "kiemtra2", "E": "kiemtra2",
                     "F": "kiemtra2", "G": "thuky", "H": "thuky"}

# name, plan, host, sub-units, checklist key, date, status, location
INSPECTIONS = [
    ("insp-vanlang-2024", "plan-2024", "LSN-H-VANLANG", ["LSN-X-TANTHANH-2024", "LSN-X-BACVIET"], "tthc-2018",
     date(2024, 6, 24), "in_progress", "Trụ sở UBND huyện Văn Lãng"),
    ("insp-trangdinh-2024", "plan-2024", "LSN-H-TRANGDINH", ["LSN-X-QUOCVIET", "LSN-X-CHILANG", "LSN-X-DETHAM"],
     "tthc-2018", date(2024, 6, 24), "in_progress", "Trụ sở UBND huyện Tràng Định"),
    ("insp-bacson-2024", "plan-2024", "LSN-H-BACSON", ["LSN-X-TANHUONG", "LSN-X-TANLAP"], "tthc-2018",
     date(2024, 6, 24), "in_progress", "Trụ sở UBND huyện Bắc Sơn"),
    ("insp-tanthanh-2026", "plan-2026", "LSN-X-TANTHANH", ["LSN-X-TANTHANH-TTPVHCC"], "tthc-2025",
     date(2026, 12, 3), "planned", "Trung tâm Phục vụ hành chính công xã Tân Thanh"),
]


@dataclass
class SeedReport:
    units: int = 0
    inspections: int = 0
    users: list[tuple[str, str, bool]] = field(default_factory=list)  # username, roles, newly created


def seed(*, password: str) -> SeedReport:
    """Create whatever of the demo data is missing; never changes what exists. Flushes, caller commits."""
    report = SeedReport()
    units = _seed_units()
    report.units = len(units)
    users = _seed_users(password, report)
    for spec in PLANS:
        plan, team = _seed_plan_and_team(spec, units, users)
        for name, plan_name, host, subs, key, day, status, location in INSPECTIONS:
            if plan_name == spec["name"]:
                _seed_inspection(name, plan, team, units[host], [units[c] for c in subs], key, day, status,
                                 location, users)
                report.inspections += 1
    db.session.flush()
    return report


def _get_or_add(model, demo_key: str, **values):
    row = db.session.get(model, demo_id(demo_key))
    if row is None:
        row = model(id=demo_id(demo_key), **values)
        db.session.add(row)
    return row


def _seed_units() -> dict[str, Unit]:
    units: dict[str, Unit] = {}
    for code, name, short, unit_type, parent, valid_from, valid_to in UNITS:
        units[code] = _get_or_add(
            Unit, f"unit:{code}", code=code, name=name, short_name=short, unit_type=unit_type,
            parent=units.get(parent), place_name="Lạng Sơn", valid_from=valid_from, valid_to=valid_to,
        )
    db.session.flush()
    for from_code, to_code, kind, basis in SUCCESSIONS:
        exists = db.session.scalar(sa.select(UnitSuccession.id).filter_by(
            from_unit_id=units[from_code].id, to_unit_id=units[to_code].id if to_code else None, kind=kind))
        if exists is None:
            db.session.add(UnitSuccession(from_unit=units[from_code], to_unit=units.get(to_code), kind=kind,
                                          effective_date=REFORM_DAY, legal_basis=basis))
    return units


def _seed_users(password: str, report: SeedReport) -> dict[str, User]:
    users: dict[str, User] = {}
    for username, full_name, roles, title, unit_code in STAFF:
        user = db.session.scalar(sa.select(User).filter_by(username=username))
        created = user is None
        if created:
            user = create_user(username=username, full_name=full_name, password=password, roles=roles,
                               unit_code=unit_code, province_code="LSN", title=title)
        users[username] = user
        report.users.append((username, ", ".join(sorted(user.roles)), created))
    return users


def _seed_plan_and_team(spec: dict, units: dict[str, Unit], users: dict[str, User]) -> tuple[Plan, Team]:
    plan = _get_or_add(
        Plan, spec["name"], province=units["LSN"], number=spec["number"], title=spec["title"],
        issuer="Ủy ban nhân dân tỉnh Lạng Sơn", issued_on=spec["issued_on"], year=spec["year"],
        period_from=spec["period_from"], period_to=spec["period_to"], created_by=users["admin"].id,
    )
    if not plan.units:
        plan.units = [units[code] for code in spec["units"]]
    team_spec = spec["team"]
    team = _get_or_add(
        Team, team_spec["name"], province_id=units["LSN"].id, plan=plan, name=team_spec["title"],
        decision_number=team_spec["decision_number"], decision_date=team_spec["decision_date"],
        decision_issuer="Chủ tịch Ủy ban nhân dân tỉnh Lạng Sơn",
    )
    db.session.flush()
    for username, team_role in TEAM:
        member = users[username]
        _get_or_add(TeamMember, f"{team_spec['name']}:{username}", team_id=team.id, user_id=member.id,
                    team_role=team_role, position=member.title)
    return plan, team


def _seed_inspection(name, plan, team, host, sub_units, checklist_key, day, status, location, users) -> None:
    version = db.session.scalar(
        sa.select(ChecklistVersion).filter_by(key=checklist_key).order_by(ChecklistVersion.version.desc()).limit(1)
    )
    if version is None:
        raise InvalidData(
            f"Chưa có danh mục '{checklist_key}': chạy 'flask checklists sync' trước khi tạo dữ liệu mẫu."
        )
    inspection = db.session.get(Inspection, demo_id(name))
    if inspection is not None:
        return
    inspection = Inspection(
        id=demo_id(name), plan=plan, team=team, host_unit=host, checklist_version=version,
        scheduled_on=day, status=status, location=location, created_by=users["admin"].id,
    )
    inspection.sub_units = sub_units
    inspection.assignments = [
        SectionAssignment(id=demo_id(f"{name}:{section['code']}"), section_code=section["code"],
                          assignee_id=users[SECTION_ASSIGNEES[section["code"]]].id)
        for section in version.definition["sections"]
    ]
    db.session.add(inspection)
