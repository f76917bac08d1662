"""Sign-in, token refresh, sign-out, and who am I."""

from __future__ import annotations

from flask import current_app, request
from flask_jwt_extended import get_jwt

from .. import access
from ..extensions import db, limiter
from ..schemas.auth import LoginSchema, TokenPairSchema
from ..schemas.users import MeSchema
from ..services import auth as service
from .blueprint import Blueprint
from .views import me_view

URL_PREFIX = "/auth"
blp = Blueprint("auth", __name__, description="Đăng nhập / sign-in and tokens")


def _username_key() -> str:
    body = request.get_json(silent=True)
    username = body.get("username") if isinstance(body, dict) else None
    return f"login-user:{str(username or '').strip().lower()[:64]}"


def _failed(response) -> bool:
    return response.status_code == 401


def _pair(pair: service.TokenPair) -> dict:
    return {"access_token": pair.access_token, "refresh_token": pair.refresh_token, "token_type": "Bearer",
            "expires_in": service.access_expires_in(), "user": me_view(pair.user)}


@blp.post("/login")
@access.public
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_USER"], key_func=_username_key, deduct_when=_failed)
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], deduct_when=_failed)
@blp.arguments(LoginSchema)
@blp.response(200, TokenPairSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
def login(body):
    """Đăng nhập: trả về access token (khoảng 15 phút), refresh token (khoảng 30 ngày) và người dùng."""
    pair = service.login(username=body["username"], password=body["password"], device_id=body.get("device_id"))
    db.session.commit()
    return _pair(pair)


@blp.post("/refresh")
@access.refresh_token
@blp.response(200, TokenPairSchema)
def refresh():
    """Đổi refresh token (gửi dạng Bearer) lấy cặp token mới; refresh token cũ hết giá trị."""
    pair = service.refresh(user=access.me(), jwt_payload=get_jwt())
    db.session.commit()
    return _pair(pair)


@blp.post("/logout")
@access.signed_in()
@blp.response(204)
def logout():
    """Đăng xuất: thu hồi mọi token của lần đăng nhập này."""
    service.logout(jwt_payload=get_jwt(), actor=access.me())
    db.session.commit()


@blp.get("/me")
@access.signed_in()
@blp.response(200, MeSchema)
def me():
    """Người dùng đang đăng nhập: vai trò, đơn vị, các Đoàn kiểm tra."""
    return me_view(access.me())
