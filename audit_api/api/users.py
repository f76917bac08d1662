"""User administration (admins of a province) and one's own record."""

from __future__ import annotations

import uuid

from .. import access
from ..extensions import db
from ..models import User
from ..schemas.users import (
    PasswordResetSchema,
    UserCreateSchema,
    UserListArgsSchema,
    UserListSchema,
    UserSchema,
    UserUpdateSchema,
)
from ..services import users as service
from ..services.pages import page_of
from .blueprint import Blueprint
from .views import user_view

URL_PREFIX = "/users"
blp = Blueprint("users", __name__, description="Người dùng / users")
ADMIN = {"admin"}


@blp.get("")
@access.signed_in(roles=ADMIN)
@blp.arguments(UserListArgsSchema, location="query")
@blp.response(200, UserListSchema)
def list_users(args):
    """Người dùng của tỉnh (quản trị viên)."""
    query = service.list_users(province_id=access.me().province_id, role=args.get("role"),
                               is_active=args.get("is_active"))
    rows, pagination = page_of(query, args["page"], args["page_size"])
    return {"data": [user_view(u) for u in rows], "pagination": pagination}


@blp.post("")
@access.signed_in(roles=ADMIN)
@blp.arguments(UserCreateSchema, example={
    "username": "kiemtra3", "full_name": "Phạm Thị Lan", "password": "doi-mat-khau-ngay", "roles": ["inspector"],
    "title": "Chuyên viên Sở Nội vụ", "organization": "Sở Nội vụ tỉnh Lạng Sơn"})
@blp.response(201, UserSchema)
@blp.alt_response(409, response="CONFLICT")
def create_user(body):
    """Tạo người dùng (quản trị viên)."""
    actor = access.me()
    province_id = body.get("province_id") or actor.province_id
    access.require_admin_of(actor, province_id)
    user = service.create_user(username=body["username"], full_name=body["full_name"], password=body["password"],
                               roles=set(body["roles"]), unit_id=body.get("unit_id"), province_id=province_id,
                               title=body.get("title"), organization=body.get("organization"),
                               email=body.get("email"), actor=actor)
    db.session.commit()
    return user_view(user)


@blp.get("/<uuid:user_id>")
@access.signed_in()
@blp.response(200, UserSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_user(user_id: uuid.UUID):
    """Một người dùng (quản trị viên của tỉnh, hoặc chính mình)."""
    return user_view(access.require_user(access.me(), db.session.get(User, user_id)))


@blp.patch("/<uuid:user_id>")
@access.signed_in(roles=ADMIN)
@blp.arguments(UserUpdateSchema)
@blp.response(200, UserSchema)
@blp.alt_response(404, response="NOT_FOUND")
def update_user(body, user_id: uuid.UUID):
    """Sửa người dùng: họ tên, vai trò, đơn vị, khóa/mở khóa (đổi vai trò hoặc khóa sẽ thu hồi token)."""
    actor = access.me()
    user = access.require_user(actor, db.session.get(User, user_id), manage=True)
    service.update_user(user, body, actor=actor)
    db.session.commit()
    return user_view(user)


@blp.post("/<uuid:user_id>/password")
@access.signed_in(roles=ADMIN)
@blp.arguments(PasswordResetSchema)
@blp.response(204)
@blp.alt_response(404, response="NOT_FOUND")
def reset_password(body, user_id: uuid.UUID):
    """Đặt lại mật khẩu (quản trị viên); mọi phiên đăng nhập của người dùng bị thu hồi."""
    actor = access.me()
    user = access.require_user(actor, db.session.get(User, user_id), manage=True)
    service.reset_password(user, body["password"], actor=actor)
    db.session.commit()
