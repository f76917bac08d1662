"""A second province beside the Lạng Sơn demo: the "other team / other unit" of the access tests."""

from __future__ import annotations

from datetime import date

from audit_api.extensions import db
from audit_api.models import Unit
from audit_api.services.demo import demo_id
from audit_api.services.inspections import create_inspection, set_assignments
from audit_api.services.teams import create_plan, create_team, put_member
from audit_api.services.users import create_user

OTHER_PROVINCE = "TNG"


def build_other_province(password: str) -> None:
    province = Unit(id=demo_id("unit:TNG"), code=OTHER_PROVINCE, name="Tỉnh Thái Nguyên",
                    short_name="tỉnh Thái Nguyên", unit_type="province", place_name="Thái Nguyên")
    commune = Unit(id=demo_id("unit:TNG-X-1"), code="TNG-X-1", name="UBND xã Phú Thông", short_name="xã Phú Thông",
                   unit_type="commune", parent=province, valid_from=date(2025, 7, 1), place_name="Thái Nguyên")
    db.session.add_all([province, commune])
    db.session.flush()
    admin = create_user(username="admin-tng", full_name="Quản trị Thái Nguyên", password=password, roles={"admin"},
                        province_code=OTHER_PROVINCE)
    lead = create_user(username="truongdoan-tng", full_name="Trưởng đoàn Thái Nguyên", password=password,
                       roles={"lead"}, province_code=OTHER_PROVINCE)
    member = create_user(username="kiemtra-tng", full_name="Thành viên Thái Nguyên", password=password,
                         roles={"inspector"}, province_code=OTHER_PROVINCE)
    create_user(username="dv-phuthong", full_name="UBND xã Phú Thông", password=password, roles={"unit"},
                unit_code="TNG-X-1", province_code=OTHER_PROVINCE)
    plan = create_plan({"province_id": province.id, "number": "12/KH-UBND", "title": "Kế hoạch kiểm tra năm 2026",
                        "issuer": "UBND tỉnh Thái Nguyên", "issued_on": date(2026, 2, 1), "year": 2026,
                        "unit_ids": [commune.id]}, actor=admin)
    team = create_team({"province_id": province.id, "plan_id": plan.id, "name": "Đoàn kiểm tra Thái Nguyên",
                        "decision_number": "45/QĐ-UBND", "decision_date": date(2026, 3, 1),
                        "decision_issuer": "Chủ tịch UBND tỉnh Thái Nguyên"}, actor=admin)
    put_member(team, lead, team_role="lead", position=None, actor=admin)
    put_member(team, member, team_role="member", position=None, actor=admin)
    inspection = create_inspection({"host_unit_id": commune.id, "checklist_key": "tthc-2025",
                                    "scheduled_on": date(2026, 11, 10)}, team=team, actor=admin)
    set_assignments(inspection, [{"section_code": "A", "user_id": member.id}], actor=admin)
