"""Users: create, change, deactivate, reset passwords. Role changes and deactivation revoke tokens."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from ..errors import Conflict, InvalidData
from ..extensions import db
from ..models import Unit, User, UserRole
from ..models.common import utcnow
from ..models.users import ROLES
from . import audit
from .units import province_of, require_in_province

# scrypt: memory-hard, in the standard library (hashlib), parameters in the stored hash.
PASSWORD_METHOD = "scrypt:32768:8:1"  # noqa: S105 — a hashing method, not a password


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=PASSWORD_METHOD)


def verify_password(password_hash: str | None, password: str) -> bool:
    return bool(password_hash) and check_password_hash(password_hash, password)


def snapshot(user: User) -> dict:
    return {
        "username": user.username, "full_name": user.full_name, "title": user.title,
        "organization": user.organization, "email": user.email, "roles": sorted(user.roles),
        "unit_id": user.unit_id, "province_id": user.province_id, "is_active": user.is_active,
    }


def find_unit(unit_id: uuid.UUID | None = None, code: str | None = None, what: str = "unit") -> Unit | None:
    if unit_id is None and code is None:
        return None
    unit = db.session.get(Unit, unit_id) if unit_id else db.session.scalar(sa.select(Unit).filter_by(code=code))
    if unit is None:
        raise InvalidData(f"Không có đơn vị {code or unit_id}.", errors={f"{what}_id": ["Đơn vị không tồn tại."]})
    return unit


def _check_roles(roles: set[str], unit: Unit | None) -> None:
    unknown = roles - set(ROLES)
    if unknown:
        raise InvalidData(f"Vai trò không hợp lệ: {', '.join(sorted(unknown))}.", errors={"roles": ["Không hợp lệ."]})
    if "unit" in roles and unit is None:
        raise InvalidData("Tài khoản của đơn vị được kiểm tra cần chỉ rõ đơn vị (unit).",
                          errors={"unit_id": ["Bắt buộc với vai trò unit."]})
    if "unit" in roles and roles != {"unit"}:
        raise InvalidData("Tài khoản đơn vị không kiêm vai trò của Đoàn kiểm tra.", errors={"roles": ["Không hợp lệ."]})


def create_user(*, username: str, full_name: str, password: str, roles: set[str], unit_code: str | None = None,
                unit_id: uuid.UUID | None = None, province_code: str | None = None,
                province_id: uuid.UUID | None = None, title: str | None = None, organization: str | None = None,
                email: str | None = None, actor: User | None = None) -> User:
    """Create a user with roles; a `unit` user must name the unit it answers for."""
    unit = find_unit(unit_id, unit_code, "unit")
    province = find_unit(province_id, province_code, "province") or (province_of(unit) if unit else None)
    if unit is not None:
        require_in_province(unit, province.id if province else None, "unit_id")
    _check_roles(set(roles), unit)
    if db.session.scalar(sa.select(User.id).filter_by(username=username)):
        raise Conflict(f"Tên đăng nhập '{username}' đã tồn tại.", errors={"username": ["Đã tồn tại."]})
    user = User(username=username, full_name=full_name, title=title, organization=organization, email=email,
                password_hash=hash_password(password), unit=unit, province=province)
    user.role_rows = [UserRole(role=role) for role in sorted(roles)]
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", entity_type="user", entity_id=user.id, after=snapshot(user), actor=actor)
    return user


def update_user(user: User, changes: dict, *, actor: User | None) -> User:
    """Apply administrator changes. New roles, a new unit or deactivation revoke the user's tokens."""
    from .auth import revoke_user_tokens

    before = snapshot(user)
    for field in ("full_name", "title", "organization", "email"):
        if field in changes:
            setattr(user, field, changes[field])
    if "unit_id" in changes:
        user.unit = find_unit(changes["unit_id"], None, "unit")
        if user.unit is not None:
            require_in_province(user.unit, user.province_id, "unit_id")
    roles = set(changes.get("roles", user.roles))
    _check_roles(roles, user.unit)
    if roles != user.roles:
        user.role_rows = [row for row in user.role_rows if row.role in roles] + [
            UserRole(role=role) for role in sorted(roles - user.roles)
        ]
    if "is_active" in changes and changes["is_active"] != user.is_active:
        user.is_active = changes["is_active"]
        user.deactivated_at = None if user.is_active else utcnow()
    db.session.flush()
    after = snapshot(user)
    if after == before:
        return user
    revoking = after["roles"] != before["roles"] or after["unit_id"] != before["unit_id"] or not user.is_active
    if revoking:
        revoke_user_tokens(user, "deactivated" if not user.is_active else "roles_changed")
    action = "user.roles_change" if after["roles"] != before["roles"] else "user.update"
    audit.record(action, entity_type="user", entity_id=user.id, before=before, after=after, actor=actor)
    return user


def reset_password(user: User, password: str, *, actor: User | None) -> None:
    from .auth import revoke_user_tokens

    user.password_hash = hash_password(password)
    revoke_user_tokens(user, "password_reset")
    audit.record("user.password_reset", entity_type="user", entity_id=user.id, actor=actor)
    db.session.flush()


def list_users(*, province_id: uuid.UUID | None, role: str | None = None, is_active: bool | None = None) -> sa.Select:
    query = sa.select(User).order_by(User.username)
    if province_id is not None:
        query = query.where(User.province_id == province_id)
    if role is not None:
        query = query.where(User.id.in_(sa.select(UserRole.user_id).filter_by(role=role)))
    if is_active is not None:
        query = query.where(User.is_active.is_(is_active))
    return query


def by_username(username: str) -> User:
    user = db.session.scalar(sa.select(User).filter_by(username=username))
    if user is None:
        raise InvalidData(f"Không có người dùng '{username}'.")
    return user
