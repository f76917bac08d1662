"""Demo data (seed 001, Lạng Sơn) and the user command."""

from __future__ import annotations

import flask_migrate
import pytest
import sqlalchemy as sa

from audit_api import create_app
from audit_api.extensions import db
from audit_api.models import Inspection, Team, TeamMember, Unit, User
from audit_api.services.demo import demo_id, seed
from audit_api.services.users import verify_password
from tests.support import CHECKLISTS_DIR, DEMO_PASSWORD

COUNTED = (Unit, User, Team, TeamMember, Inspection)


def counts() -> dict[str, int]:
    return {model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model)) for model in COUNTED}


def inspection(name: str) -> Inspection:
    return db.session.get(Inspection, demo_id(name))


def test_van_lang_is_inspected_with_two_communes_on_the_pre_2025_checklist(app):
    van_lang = inspection("insp-vanlang-2024")
    assert van_lang.host_unit.name == "UBND huyện Văn Lãng"
    assert {unit.short_name for unit in van_lang.sub_units} == {"xã Tân Thanh", "xã Bắc Việt"}
    assert van_lang.checklist_version.key == "tthc-2018"
    assert str(van_lang.scheduled_on) == "2024-06-24"
    assert {a.section_code for a in van_lang.assignments} == {
        s["code"] for s in van_lang.checklist_version.definition["sections"]}
    for name in ("insp-trangdinh-2024", "insp-bacson-2024"):
        assert inspection(name).checklist_version.key == "tthc-2018"


def test_post_reform_example_is_a_commune_and_its_centre_on_the_2025_checklist(app):
    example = inspection("insp-tanthanh-2026")
    assert example.checklist_version.key == "tthc-2025"
    assert example.host_unit.unit_type == "commune" and example.host_unit.valid_from.isoformat() == "2025-07-01"
    assert [unit.unit_type for unit in example.sub_units] == ["one_stop_center_commune"]


def test_team_has_lead_deputy_secretary_and_member_set_up_by_a_decision(app):
    team = inspection("insp-vanlang-2024").team
    assert team.decision_number and team.decision_date
    roles = {member.user.username: member.team_role for member in team.members}
    assert roles == {"truongdoan": "lead", "kiemtra1": "deputy", "thuky": "secretary", "kiemtra2": "member"}


def test_users_exist_with_roles_and_units(app):
    users = {u.username: u for u in db.session.scalars(sa.select(User))}
    for username in ("admin", "truongdoan", "thuky", "kiemtra1", "kiemtra2"):
        assert verify_password(users[username].password_hash, DEMO_PASSWORD)
    assert users["admin"].roles == {"admin"} and users["truongdoan"].roles == {"lead"}
    for host in ("insp-vanlang-2024", "insp-trangdinh-2024", "insp-bacson-2024", "insp-tanthanh-2026"):
        host_unit = inspection(host).host_unit
        assert any(u.unit_id == host_unit.id and u.roles == {"unit"} for u in users.values()), host_unit.name


def test_seeding_again_changes_nothing(app):
    before = counts()
    report = seed(password="khác")
    db.session.flush()
    assert counts() == before
    assert not any(created for _name, _roles, created in report.users)
    admin = db.session.scalar(sa.select(User).filter_by(username="admin"))
    assert verify_password(admin.password_hash, DEMO_PASSWORD)  # existing passwords are not reset


def test_users_create_command(runner):
    result = runner.invoke(args=["users", "create", "--username", "thanhtra", "--full-name", "Phạm Văn Tra",
                                 "--role", "inspector", "--role", "secretary", "--password", "bí-mật-dài"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).filter_by(username="thanhtra"))
    assert user.roles == {"inspector", "secretary"} and verify_password(user.password_hash, "bí-mật-dài")
    again = runner.invoke(args=["users", "create", "--username", "thanhtra", "--full-name", "X",
                                "--role", "inspector", "--password", "x"])
    assert again.exit_code == 1 and "đã tồn tại" in again.output and "Traceback" not in again.output
    unit_without_unit = runner.invoke(args=["users", "create", "--username", "dv", "--full-name", "X",
                                            "--role", "unit", "--password", "x"])
    assert unit_without_unit.exit_code == 1 and "chỉ rõ đơn vị" in unit_without_unit.output


@pytest.mark.no_db_transaction
def test_fresh_database_from_the_command_line(tmp_path, monkeypatch):
    """What `make run` does on a new machine: migrate, sync, seed (twice: the second is a no-op)."""
    monkeypatch.setenv("DEMO_PASSWORD", "mat-khau-demo")
    app = create_app({"APP_ENV": "development", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
                      "CHECKLISTS_DIR": str(CHECKLISTS_DIR)})
    with app.app_context():
        flask_migrate.upgrade()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["checklists", "sync"]).exit_code == 0
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    assert "truongdoan" in first.output and "mật khẩu: mat-khau-demo" in first.output
    second = runner.invoke(args=["demo", "seed"])
    assert second.exit_code == 0 and "mật khẩu không đổi" in second.output


@pytest.mark.no_db_transaction
def test_demo_password_is_required_outside_development(tmp_path, monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("JWT_SECRET_KEY", "j" * 40)
    app = create_app({"APP_ENV": "production", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.sqlite3'}"})
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code == 1 and "DEMO_PASSWORD" in result.output
