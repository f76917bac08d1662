"""flask commands: thin wrappers that call the services and commit once."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from .errors import DomainError
from .extensions import db

checklists_cli = AppGroup("checklists", help="Danh mục kiểm tra dạng tệp (checklists/*.yaml).")
users_cli = AppGroup("users", help="Người dùng.")
demo_cli = AppGroup("demo", help="Dữ liệu mẫu.")
teams_cli = AppGroup("teams", help="Đoàn kiểm tra.")
plans_cli = AppGroup("plans", help="Kế hoạch kiểm tra.")
inspections_cli = AppGroup("inspections", help="Cuộc kiểm tra.")
audit_cli = AppGroup("audit", help="Nhật ký kiểm toán (audit trail).")
media_cli = AppGroup("media", help="Kho ảnh và tệp minh chứng.")


@media_cli.command("sweep")
@click.option("--grace-hours", default=48, show_default=True, type=click.IntRange(min=1),
              help="Chỉ xóa những gì cũ hơn chừng này giờ.")
@click.option("--grace-minutes", type=click.IntRange(min=0), default=None,
              help="Thay cho --grace-hours, tính bằng phút; 0 xóa ngay, chỉ dùng khi không có lượt tải lên nào "
                   "đang chạy (kiểm thử, máy chủ đã dừng) (instead of --grace-hours; 0 only with no upload running).")
@click.option("--apply", "apply_", is_flag=True, help="Xóa thật (mặc định chỉ liệt kê).")
def sweep_media(grace_hours: int, grace_minutes: int | None, apply_: bool) -> None:
    """Xóa lượt tải lên bị bỏ dở và tệp không còn bản ghi nào tham chiếu (mặc định: chỉ liệt kê)."""
    from datetime import timedelta

    from .services.media import sweep

    grace = timedelta(hours=grace_hours) if grace_minutes is None else timedelta(minutes=grace_minutes)
    report = sweep(grace=grace, apply=apply_)
    db.session.commit()
    verb = "Đã xóa" if apply_ else "Sẽ xóa"
    for upload_id in report.interrupted:
        click.echo(f"{verb} lượt tải lên bỏ dở  {upload_id}")
    for key in report.orphans:
        click.echo(f"{verb} tệp không tham chiếu  {key}")
    click.echo(f"{len(report.interrupted)} lượt tải lên bỏ dở, {len(report.orphans)} tệp không tham chiếu"
               + (f", {report.leftovers} tệp tạm của lần ghi dở." if apply_ else ".")
               + ("" if apply_ else " Chạy lại với --apply để xóa."))


def domain_errors_as_messages(command):
    """A rule broken on the command line is a one-line message and exit code 1, not a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except DomainError as exc:
            db.session.rollback()
            raise click.ClickException(exc.detail) from exc

    return wrapper


@checklists_cli.command("validate")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def validate_checklists(files: tuple[Path, ...]) -> None:
    """Kiểm tra các tệp danh mục (mặc định: mọi checklists/*.yaml) mà không ghi gì."""
    from .services.checklists import validate_files

    loaded, errors = validate_files(Path(current_app.config["CHECKLISTS_DIR"]), list(files) or None)
    for checklist in loaded:
        items = sum(len(section["items"]) for section in checklist.definition["sections"])
        click.echo(f"OK  {checklist.path.name}: {checklist.key} v{checklist.version}, "
                   f"{len(checklist.definition['sections'])} phần, {items} mục, sha256 {checklist.sha256[:12]}")
    for message in errors:
        click.echo(f"LỖI {message}", err=True)
    if errors:
        sys.exit(1)


@checklists_cli.command("sync")
def sync_checklists() -> None:
    """Nạp danh mục, loại đơn vị và ngưỡng của tỉnh vào cơ sở dữ liệu (chạy lại nhiều lần vẫn an toàn)."""
    from .services.checklists import sync_checklists as sync

    report = sync(Path(current_app.config["CHECKLISTS_DIR"]))
    if report.errors:
        db.session.rollback()
        for message in report.errors:
            click.echo(f"LỖI {message}", err=True)
        click.echo("Không ghi thay đổi nào.", err=True)
        sys.exit(1)
    db.session.commit()
    for label in report.created:
        click.echo(f"mới        {label}")
    for label in report.unchanged:
        click.echo(f"không đổi  {label}")
    click.echo(f"{report.unit_types} loại đơn vị, {report.thresholds} ngưỡng riêng của tỉnh.")


@users_cli.command("create")
@click.option("--username", required=True)
@click.option("--full-name", required=True)
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice(["admin", "lead", "secretary", "inspector", "unit"]))
@click.option("--unit", "unit_code", help="Mã đơn vị (với tài khoản của đơn vị được kiểm tra).")
@click.option("--province", "province_code", help="Mã tỉnh mà tài khoản thuộc về.")
@click.option("--title", help="Chức vụ.")
@click.password_option(help="Mật khẩu (hỏi khi không truyền).")
@domain_errors_as_messages
def create_user(username, full_name, roles, unit_code, province_code, title, password) -> None:
    """Tạo một người dùng."""
    from .services.users import create_user as create

    user = create(username=username, full_name=full_name, password=password, roles=set(roles),
                  unit_code=unit_code, province_code=province_code, title=title)
    db.session.commit()
    click.echo(f"Đã tạo người dùng {user.username} ({', '.join(sorted(user.roles))}).")


@demo_cli.command("seed")
@domain_errors_as_messages
def seed_demo() -> None:
    """Tạo dữ liệu mẫu Lạng Sơn (chạy lại nhiều lần vẫn an toàn)."""
    from .services.demo import seed

    password = current_app.config.get("DEMO_PASSWORD")
    if not password:
        if current_app.config["APP_ENV"] != "development":
            click.echo("Đặt DEMO_PASSWORD để tạo dữ liệu mẫu ngoài môi trường phát triển.", err=True)
            sys.exit(1)
        password = "demo"  # noqa: S105 — documented development default
    report = seed(password=password)
    db.session.commit()
    click.echo(f"Dữ liệu mẫu: {report.units} đơn vị, {report.inspections} cuộc kiểm tra.")
    click.echo("Tài khoản:")
    for username, roles, created in report.users:
        state = f"mật khẩu: {password}" if created else "đã có, mật khẩu không đổi"
        click.echo(f"  {username:<21} {roles:<12} {state}")


@users_cli.command("deactivate")
@click.argument("username")
@domain_errors_as_messages
def deactivate_user(username: str) -> None:
    """Khóa tài khoản và thu hồi mọi phiên đăng nhập."""
    from .services.users import by_username, update_user

    update_user(by_username(username), {"is_active": False}, actor=None)
    db.session.commit()
    click.echo(f"Đã khóa {username} và thu hồi các phiên đăng nhập.")


@users_cli.command("reset-password")
@click.argument("username")
@click.password_option(help="Mật khẩu mới (hỏi khi không truyền).")
@domain_errors_as_messages
def reset_password(username: str, password: str) -> None:
    """Đặt lại mật khẩu và thu hồi mọi phiên đăng nhập."""
    from .services.users import by_username
    from .services.users import reset_password as reset

    reset(by_username(username), password, actor=None)
    db.session.commit()
    click.echo(f"Đã đặt lại mật khẩu của {username}.")


@users_cli.command("roles")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice(["admin", "lead", "secretary", "inspector", "unit"]))
@domain_errors_as_messages
def set_roles(username: str, roles: tuple[str, ...]) -> None:
    """Đặt vai trò (thay toàn bộ); phiên đăng nhập cũ bị thu hồi."""
    from .services.users import by_username, update_user

    user = update_user(by_username(username), {"roles": list(roles)}, actor=None)
    db.session.commit()
    click.echo(f"{username}: {', '.join(sorted(user.roles))}.")


@teams_cli.command("create")
@click.option("--name", required=True)
@click.option("--province", "province_code", required=True, help="Mã tỉnh, ví dụ LSN.")
@click.option("--decision-number", required=True, help="Số quyết định thành lập, ví dụ 980/QĐ-UBND.")
@click.option("--decision-date", required=True, type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--decision-issuer", required=True)
@domain_errors_as_messages
def create_team(name, province_code, decision_number, decision_date, decision_issuer) -> None:
    """Lập Đoàn kiểm tra."""
    from .services.teams import create_team as create

    team = create({"name": name, "province_id": _unit_id(province_code), "decision_number": decision_number,
                   "decision_date": decision_date.date(), "decision_issuer": decision_issuer}, actor=None)
    db.session.commit()
    click.echo(f"Đã lập Đoàn {team.name} (id {team.id}).")


@teams_cli.command("member")
@click.argument("team_id", type=click.UUID)
@click.argument("username")
@click.option("--role", "team_role", required=True, type=click.Choice(["lead", "deputy", "secretary", "member"]))
@click.option("--position", help="Chức vụ, cơ quan (in trong biên bản).")
@domain_errors_as_messages
def put_member(team_id, username, team_role, position) -> None:
    """Thêm thành viên vào Đoàn hoặc đổi vai trò."""
    from .models import Team
    from .services.teams import put_member as put
    from .services.users import by_username

    team = db.session.get(Team, team_id)
    if team is None:
        raise click.ClickException("Không có Đoàn này.")
    put(team, by_username(username), team_role=team_role, position=position, actor=None)
    db.session.commit()
    click.echo(f"{username}: {team_role} của {team.name}.")


@plans_cli.command("create")
@click.option("--province", "province_code", required=True)
@click.option("--number", required=True, help="Số kế hoạch, ví dụ 35/KH-UBND.")
@click.option("--title", required=True)
@click.option("--issuer", required=True)
@click.option("--issued-on", required=True, type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--unit", "unit_codes", multiple=True, help="Mã đơn vị được kiểm tra (nhiều lần).")
@domain_errors_as_messages
def create_plan(province_code, number, title, issuer, issued_on, unit_codes) -> None:
    """Tạo kế hoạch kiểm tra."""
    from .services.teams import create_plan as create

    plan = create({"province_id": _unit_id(province_code), "number": number, "title": title, "issuer": issuer,
                   "issued_on": issued_on.date(), "year": issued_on.year,
                   "unit_ids": [_unit_id(code) for code in unit_codes]}, actor=None)
    db.session.commit()
    click.echo(f"Đã tạo kế hoạch {plan.number} (id {plan.id}).")


@inspections_cli.command("create")
@click.option("--team", "team_id", required=True, type=click.UUID)
@click.option("--host", "host_code", required=True, help="Mã đơn vị chủ trì.")
@click.option("--sub-unit", "sub_codes", multiple=True, help="Mã đơn vị con (nhiều lần).")
@click.option("--checklist", "checklist_key", required=True)
@click.option("--date", "scheduled_on", required=True, type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--location")
@domain_errors_as_messages
def create_inspection(team_id, host_code, sub_codes, checklist_key, scheduled_on, location) -> None:
    """Lập cuộc kiểm tra."""
    from .models import Team
    from .services.inspections import create_inspection as create

    team = db.session.get(Team, team_id)
    if team is None:
        raise click.ClickException("Không có Đoàn này.")
    inspection = create({"host_unit_id": _unit_id(host_code), "sub_unit_ids": [_unit_id(c) for c in sub_codes],
                         "checklist_key": checklist_key, "scheduled_on": scheduled_on.date(),
                         "location": location}, team=team, actor=None)
    db.session.commit()
    click.echo(f"Đã lập cuộc kiểm tra {inspection.id}.")


@inspections_cli.command("assign")
@click.argument("inspection_id", type=click.UUID)
@click.argument("assignments", nargs=-1, required=True)
@domain_errors_as_messages
def assign_sections(inspection_id, assignments) -> None:
    """Phân công các phần, dạng PHẦN=tên_đăng_nhập, ví dụ: A=kiemtra1 B=kiemtra2."""
    from .models import Inspection
    from .services.inspections import set_assignments
    from .services.users import by_username

    inspection = db.session.get(Inspection, inspection_id)
    if inspection is None:
        raise click.ClickException("Không có cuộc kiểm tra này.")
    rows = []
    for pair in assignments:
        section, _, username = pair.partition("=")
        rows.append({"section_code": section.strip().upper(), "user_id": by_username(username.strip()).id})
    set_assignments(inspection, rows, actor=None)
    db.session.commit()
    click.echo(f"Đã phân công {len(rows)} phần.")


@audit_cli.command("verify")
def verify_audit() -> None:
    """Kiểm tra chuỗi băm của nhật ký; chỉ ra sự kiện đầu tiên bị sửa, xóa hoặc chèn."""
    from .services.audit import verify_chain

    report = verify_chain()
    if report.broken_id is not None:
        click.echo(f"LỖI: chuỗi nhật ký bị phá vỡ tại sự kiện #{report.broken_id}: {report.reason} "
                   f"({report.checked} sự kiện trước đó hợp lệ).", err=True)
        sys.exit(1)
    click.echo(f"Nhật ký hợp lệ: {report.checked} sự kiện, chuỗi băm liền mạch.")


def _unit_id(code: str):
    from .services.users import find_unit

    return find_unit(None, code).id


def register_commands(app: Flask) -> None:
    for group in (checklists_cli, users_cli, demo_cli, teams_cli, plans_cli, inspections_cli, audit_cli, media_cli):
        app.cli.add_command(group)
