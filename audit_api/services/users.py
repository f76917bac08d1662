"""Creating users (the sign-in issue adds the rest of administration on top of this)."""

from __future__ import annotations

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from ..errors import Conflict, InvalidData
from ..extensions import db
from ..models import Unit, User, UserRole
from ..models.users import ROLES

# scrypt: memory-hard, in the standard library (hashlib), parameters in the stored hash.
PASSWORD_METHOD = "scrypt:32768:8:1"  # noqa: S105 — a hashing method, not a password


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=PASSWORD_METHOD)


def verify_password(password_hash: str | None, password: str) -> bool:
    return bool(password_hash) and check_password_hash(password_hash, password)


def _unit_by_code(code: str | None, what: str) -> Unit | None:
    if code is None:
        return None
    unit = db.session.scalar(sa.select(Unit).filter_by(code=code))
    if unit is None:
        raise InvalidData(f"Không có {what} mã '{code}'.", errors={what: [f"Không có đơn vị mã '{code}'."]})
    return unit


def create_user(*, username: str, full_name: str, password: str, roles: set[str],
                unit_code: str | None = None, province_code: str | None = None, title: str | None = None,
                organization: str | None = None) -> User:
    """Create a user with roles; a `unit` user must name the unit it answers for."""
    unknown = roles - set(ROLES)
    if unknown:
        raise InvalidData(f"Vai trò không hợp lệ: {', '.join(sorted(unknown))}.")
    if db.session.scalar(sa.select(User.id).filter_by(username=username)):
        raise Conflict(f"Tên đăng nhập '{username}' đã tồn tại.")
    unit = _unit_by_code(unit_code, "unit")
    if "unit" in roles and unit is None:
        raise InvalidData("Tài khoản của đơn vị được kiểm tra cần mã đơn vị (--unit).")
    province = _unit_by_code(province_code, "province")
    user = User(username=username, full_name=full_name, title=title, organization=organization,
                password_hash=hash_password(password), unit=unit, province=province)
    user.role_rows = [UserRole(role=role) for role in sorted(roles)]
    db.session.add(user)
    db.session.flush()
    return user
