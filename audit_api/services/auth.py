"""Sign-in and tokens: rotating refresh tokens in families, revocation kept in the database.

A refresh token is spent when exchanged. Presenting a spent one again means two parties hold it (a
copied token, or a stolen device): the whole family — every token descended from that sign-in, the newest
access token included — is revoked and a security event recorded.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app, has_request_context, request
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token
from sqlalchemy.orm import joinedload

from ..errors import DomainError
from ..extensions import db
from ..models import RefreshToken, TokenFamily, User
from ..models.common import utcnow
from . import audit
from .users import hash_password, verify_password


class InvalidCredentials(DomainError):
    status = 401
    slug = "invalid-credentials"
    title = "Đăng nhập không thành công"
    keeps_changes = True  # the failed attempt stays in the audit trail


class TokenRevoked(DomainError):
    status = 401
    slug = "token-revoked"
    title = "Phiên đăng nhập đã bị thu hồi"
    keeps_changes = True  # a revocation for reuse must outlive the refusal


@dataclass
class TokenPair:
    access_token: str
    refresh_token: str
    user: User
    family_id: uuid.UUID


_dummy_hash: str | None = None


def _burn_time_like_a_real_check(password: str) -> None:
    """Verify against a throwaway hash so an unknown username costs what a wrong password costs."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = hash_password(uuid.uuid4().hex)
    verify_password(_dummy_hash, password)


def login(*, username: str, password: str, device_id: str | None = None) -> TokenPair:
    """Check the password and open a new token family. Wrong username and wrong password look alike."""
    user = db.session.scalar(sa.select(User).filter_by(username=username))
    if user is None or not user.password_hash:
        _burn_time_like_a_real_check(password)
        ok = False
    else:
        ok = verify_password(user.password_hash, password) and user.is_active
    if not ok:
        audit.record("auth.login_failed", entity_type="user", entity_id=user.id if user else None,
                     after={"username": username[:64]})
        raise InvalidCredentials("Tên đăng nhập hoặc mật khẩu không đúng (invalid username or password).")
    pair = open_session(user, device_id=device_id)
    audit.record("auth.login", entity_type="user", entity_id=user.id, actor=user,
                 after={"family_id": pair.family_id, "device_id": device_id})
    return pair


def open_session(user: User, *, device_id: str | None = None) -> TokenPair:
    """A new token family for a user whose identity is established, and its first pair of tokens."""
    family = TokenFamily(user_id=user.id, device_id=device_id,
                         user_agent=request.user_agent.string[:255] if has_request_context() else None)
    db.session.add(family)
    db.session.flush()
    return _issue(user, family)


def _issue(user: User, family: TokenFamily) -> TokenPair:
    claims = {"fam": str(family.id)}
    access = create_access_token(identity=str(user.id), additional_claims=claims)
    refresh = create_refresh_token(identity=str(user.id), additional_claims=claims)
    decoded = decode_token(refresh)
    db.session.add(RefreshToken(
        jti=uuid.UUID(decoded["jti"]), family_id=family.id,
        expires_at=datetime.fromtimestamp(decoded["exp"], tz=utcnow().tzinfo),
    ))
    db.session.flush()
    return TokenPair(access_token=access, refresh_token=refresh, user=user, family_id=family.id)


def refresh(*, user: User, jwt_payload: dict) -> TokenPair:
    """Exchange a refresh token for a new pair; a second use of the same token revokes its family."""
    jti = uuid.UUID(jwt_payload["jti"])
    family = db.session.get(TokenFamily, uuid.UUID(jwt_payload["fam"]))
    spent = db.session.execute(
        sa.update(RefreshToken).where(RefreshToken.jti == jti, RefreshToken.used_at.is_(None)).values(used_at=utcnow())
    ).rowcount
    if family is None or family.revoked_at is not None:
        raise TokenRevoked("Phiên đăng nhập đã bị thu hồi; vui lòng đăng nhập lại.")
    if spent != 1:
        _revoke_family(family, "refresh_reuse")
        audit.record("auth.refresh_reuse", entity_type="token_family", entity_id=family.id, actor=user,
                     after={"jti": jti, "user_id": user.id})
        raise TokenRevoked("Mã làm mới đã được sử dụng; mọi phiên của lần đăng nhập này đã bị thu hồi. "
                           "Vui lòng đăng nhập lại (refresh token reuse detected).")
    return _issue(user, family)


def logout(*, jwt_payload: dict, actor: User) -> None:
    family = db.session.get(TokenFamily, uuid.UUID(jwt_payload["fam"]))
    if family is not None and family.revoked_at is None:
        _revoke_family(family, "logout")
        audit.record("auth.logout", entity_type="token_family", entity_id=family.id, actor=actor)


def _revoke_family(family: TokenFamily, reason: str) -> None:
    family.revoked_at = utcnow()
    family.revoked_reason = reason
    db.session.flush()


def revoke_user_tokens(user: User, reason: str) -> int:
    """Revoke every live token family of a user (deactivation, role change, password reset)."""
    result = db.session.execute(
        sa.update(TokenFamily)
        .where(TokenFamily.user_id == user.id, TokenFamily.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )
    return result.rowcount


def is_token_revoked(jwt_payload: dict) -> bool:
    """JWT blocklist check: the token's family is revoked (or the token carries none)."""
    family_id = jwt_payload.get("fam")
    if not family_id:
        return True
    try:
        family = db.session.get(TokenFamily, uuid.UUID(family_id))
    except ValueError:
        return True
    return family is None or family.revoked_at is not None


def load_user(jwt_payload: dict) -> User | None:
    """JWT user loader: only active users; None makes the token a 401. The roles come in the same query:
    every signed-in route checks them."""
    try:
        user = db.session.get(User, uuid.UUID(jwt_payload["sub"]), options=[joinedload(User.role_rows)])
    except (KeyError, ValueError):
        return None
    return user if user is not None and user.is_active else None


def register_jwt_loaders(jwt) -> None:
    jwt.user_lookup_loader(lambda _header, payload: load_user(payload))
    jwt.token_in_blocklist_loader(lambda _header, payload: is_token_revoked(payload))


def access_expires_in() -> int:
    return int(current_app.config["JWT_ACCESS_TOKEN_EXPIRES"].total_seconds())
