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


def register_commands(app: Flask) -> None:
    for group in (checklists_cli, users_cli, demo_cli):
        app.cli.add_command(group)
