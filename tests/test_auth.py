"""Sign-in, token rotation and revocation, bad tokens, and sign-in rate limits."""

from __future__ import annotations

import base64
import json
import socket
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_jwt_extended import create_access_token

from audit_api import create_app
from audit_api.extensions import db
from audit_api.models import AuditEvent, TokenFamily, User
from audit_api.services import auth as auth_service
from tests.support import CHECKLISTS_DIR, DEMO_PASSWORD

PROBLEM = "application/problem+json"


def login(client, username: str, password: str = DEMO_PASSWORD, **extra):
    return client.post("/api/v1/auth/login", json={"username": username, "password": password, **extra})


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def me_status(client, token: str) -> int:
    return client.get("/api/v1/auth/me", headers=bearer(token)).status_code


def assert_401(response) -> dict:
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    return response.get_json()


def test_login_returns_a_token_pair_and_the_user_with_teams(client):
    response = login(client, "truongdoan", device_id="tablet-01")
    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 15 * 60
    assert body["user"]["username"] == "truongdoan" and body["user"]["roles"] == ["lead"]
    assert {"team_name": "Đoàn kiểm tra công tác cải cách hành chính tỉnh năm 2024", "team_role": "lead"}.items() <= \
        next(t for t in body["user"]["teams"] if t["team_role"] == "lead").items()
    assert me_status(client, body["access_token"]) == 200
    family = db.session.scalar(sa.select(TokenFamily).order_by(TokenFamily.created_at.desc()).limit(1))
    assert family.device_id == "tablet-01"


def test_wrong_username_and_wrong_password_answer_alike_and_both_check_a_hash(client, monkeypatch):
    calls = []
    real = auth_service.verify_password
    monkeypatch.setattr(auth_service, "verify_password", lambda h, p: calls.append(h) or real(h, p))
    wrong_password = assert_401(login(client, "truongdoan", "sai-mật-khẩu"))
    unknown_user = assert_401(login(client, "khong-co-ai", "sai-mật-khẩu"))
    assert len(calls) == 2 and all(calls)  # the unknown user is checked against a dummy hash, not skipped
    for key in ("type", "title", "detail", "status"):
        assert wrong_password[key] == unknown_user[key]


def test_inactive_user_cannot_sign_in(client, make_user):
    user = make_user(username="nghiviec", password="mật-khẩu-dài-1")
    user.is_active = False
    db.session.commit()
    assert_401(login(client, "nghiviec", "mật-khẩu-dài-1"))


def test_refresh_rotates_and_the_old_refresh_token_is_spent(client):
    first = login(client, "kiemtra1").get_json()
    second = client.post("/api/v1/auth/refresh", headers=bearer(first["refresh_token"]))
    assert second.status_code == 200
    rotated = second.get_json()
    assert rotated["refresh_token"] != first["refresh_token"] and rotated["access_token"] != first["access_token"]
    assert me_status(client, rotated["access_token"]) == 200
    third = client.post("/api/v1/auth/refresh", headers=bearer(rotated["refresh_token"]))
    assert third.status_code == 200


def test_reusing_a_spent_refresh_token_revokes_the_whole_family(client):
    first = login(client, "kiemtra1").get_json()
    rotated = client.post("/api/v1/auth/refresh", headers=bearer(first["refresh_token"])).get_json()
    newest = client.post("/api/v1/auth/refresh", headers=bearer(rotated["refresh_token"])).get_json()
    assert me_status(client, newest["access_token"]) == 200

    body = assert_401(client.post("/api/v1/auth/refresh", headers=bearer(first["refresh_token"])))  # the thief
    assert body["type"] == "/problems/token-revoked"
    assert me_status(client, newest["access_token"]) == 401  # the newest access token of the family too
    assert client.post("/api/v1/auth/refresh", headers=bearer(newest["refresh_token"])).status_code == 401
    family_id = json.loads(base64.urlsafe_b64decode(first["access_token"].split(".")[1] + "=="))["fam"]
    family = db.session.get(TokenFamily, uuid.UUID(family_id))
    assert family.revoked_reason == "refresh_reuse"
    event = db.session.scalar(sa.select(AuditEvent).filter_by(action="auth.refresh_reuse", entity_id=family_id))
    assert event is not None and event.actor_id is not None


def test_reuse_in_one_family_leaves_the_users_other_sessions_alone(client):
    tablet = login(client, "kiemtra1", device_id="tablet").get_json()
    laptop = login(client, "kiemtra1", device_id="laptop").get_json()
    client.post("/api/v1/auth/refresh", headers=bearer(tablet["refresh_token"]))
    client.post("/api/v1/auth/refresh", headers=bearer(tablet["refresh_token"]))  # reuse → tablet family revoked
    assert me_status(client, laptop["access_token"]) == 200


def test_access_and_refresh_tokens_are_not_interchangeable(client):
    pair = login(client, "thuky").get_json()
    assert_401(client.post("/api/v1/auth/refresh", headers=bearer(pair["access_token"])))
    assert_401(client.get("/api/v1/auth/me", headers=bearer(pair["refresh_token"])))


def test_logout_revokes_both_tokens(client):
    pair = login(client, "thuky").get_json()
    assert client.post("/api/v1/auth/logout", headers=bearer(pair["access_token"])).status_code == 204
    assert me_status(client, pair["access_token"]) == 401
    assert client.post("/api/v1/auth/refresh", headers=bearer(pair["refresh_token"])).status_code == 401


def test_deactivating_a_user_revokes_their_tokens(client, admin):
    pair = login(client, "kiemtra2").get_json()
    target = db.session.scalar(sa.select(User).filter_by(username="kiemtra2"))
    response = client.patch(f"/api/v1/users/{target.id}", headers=admin, json={"is_active": False})
    assert response.status_code == 200 and response.get_json()["is_active"] is False
    assert me_status(client, pair["access_token"]) == 401
    assert client.post("/api/v1/auth/refresh", headers=bearer(pair["refresh_token"])).status_code == 401


def test_changing_roles_revokes_tokens(client, admin):
    pair = login(client, "thuky").get_json()
    target = db.session.scalar(sa.select(User).filter_by(username="thuky"))
    client.patch(f"/api/v1/users/{target.id}", headers=admin, json={"roles": ["secretary", "inspector"]})
    assert me_status(client, pair["access_token"]) == 401
    fresh = login(client, "thuky").get_json()
    assert fresh["user"]["roles"] == ["inspector", "secretary"]


@pytest.fixture
def family_claims(app):
    user = db.session.scalar(sa.select(User).filter_by(username="kiemtra1"))
    pair = auth_service.open_session(user)
    db.session.commit()
    return user, {"fam": str(pair.family_id)}


def test_expired_token_is_401(client, family_claims):
    user, claims = family_claims
    token = create_access_token(identity=str(user.id), additional_claims=claims, expires_delta=timedelta(seconds=-5))
    assert "hết hạn" in assert_401(client.get("/api/v1/auth/me", headers=bearer(token)))["detail"]


def test_tampered_signature_is_401(client, family_claims):
    user, claims = family_claims
    header, payload, signature = create_access_token(identity=str(user.id), additional_claims=claims).split(".")
    forged = json.loads(base64.urlsafe_b64decode(payload + "=="))
    forged["sub"] = str(db.session.scalar(sa.select(User.id).filter_by(username="admin")))
    forged_payload = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
    assert_401(client.get("/api/v1/auth/me", headers=bearer(f"{header}.{forged_payload}.{signature}")))


def test_alg_none_token_is_401(client, family_claims):
    user, claims = family_claims
    _header, payload, _signature = create_access_token(identity=str(user.id), additional_claims=claims).split(".")
    none_header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    assert_401(client.get("/api/v1/auth/me", headers=bearer(f"{none_header}.{payload}.")))


def test_token_without_a_family_is_401(client):
    user = db.session.scalar(sa.select(User).filter_by(username="kiemtra1"))
    assert_401(client.get("/api/v1/auth/me", headers=bearer(create_access_token(identity=str(user.id)))))


# --- rate limits --------------------------------------------------------------------------------------


def test_the_11th_rapid_failed_sign_in_gets_429_with_retry_after(client):
    for _ in range(10):
        assert login(client, "kiemtra1", "sai").status_code == 401
    blocked = login(client, "kiemtra1", DEMO_PASSWORD)  # even the right password, until the window passes
    assert blocked.status_code == 429 and blocked.mimetype == PROBLEM
    assert 0 < int(blocked.headers["Retry-After"]) <= 60
    assert blocked.get_json()["title"] == "Quá nhiều yêu cầu"
    assert login(client, "thuky").status_code == 200  # another username is not affected


def test_successful_sign_ins_do_not_count_towards_the_limit(client):
    for _ in range(12):
        assert login(client, "thuky").status_code == 200


def test_failures_from_one_address_are_limited_across_usernames(client):
    for index in range(30):
        assert login(client, f"doan-mo-{index}", "sai").status_code == 401
    assert login(client, "doan-mo-cuoi", "sai").status_code == 429


def _redis_is_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.mark.no_db_transaction
@pytest.mark.skipif(not _redis_is_up(), reason="Redis is not running on 127.0.0.1:6379")
def test_limits_are_shared_between_instances_through_redis(database_url):
    """Two app instances (two gunicorn machines) with Redis storage count one user's failures together."""
    settings = {"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_url, "CHECKLISTS_DIR": str(CHECKLISTS_DIR),
                "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15"}
    first, second = create_app(settings), create_app(settings)
    username = f"khong-co-{uuid.uuid4().hex[:8]}"
    for _ in range(5):
        assert login(first.test_client(), username, "sai").status_code == 401
        assert login(second.test_client(), username, "sai").status_code == 401
    assert login(first.test_client(), username, "sai").status_code == 429
    assert login(second.test_client(), username, "sai").status_code == 429
