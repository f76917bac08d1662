"""Settings read from the environment (see the configuration table in README.md).

Outside development and testing the app refuses to start with a missing or default secret, so a
forgotten variable can never put a known signing key into production.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET = "development-only-secret-never-use-in-production"  # noqa: S105 — the value the production check refuses
DEVELOPMENT_ENVS = {"development", "testing"}


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message says which variable to set."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _int(name: str, default: int) -> int:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"Biến môi trường {name} phải là số nguyên (nhận được {raw!r}).") from exc


def app_env() -> str:
    """The deployment environment: APP_ENV, else the legacy FLASK_ENV, else production."""
    return (_env("APP_ENV") or _env("FLASK_ENV") or "production").lower()


def default_database_url() -> str:
    return f"sqlite:///{PROJECT_ROOT / 'instance' / 'audit_api.sqlite3'}"


def load_settings(overrides: dict | None = None) -> dict:
    """Build the Flask config mapping from the environment, then apply explicit overrides."""
    env = (overrides or {}).get("APP_ENV") or app_env()
    settings = {
        "APP_ENV": env,
        "SECRET_KEY": _env("SECRET_KEY", DEV_SECRET),
        "JWT_SECRET_KEY": _env("JWT_SECRET_KEY", DEV_SECRET),
        "SQLALCHEMY_DATABASE_URI": _env("DATABASE_URL", default_database_url()),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "MEDIA_BACKEND": _env("MEDIA_BACKEND", "local"),
        "MEDIA_ROOT": _env("MEDIA_ROOT", str(PROJECT_ROOT / "media")),
        "S3_BUCKET": _env("S3_BUCKET"),
        "S3_ENDPOINT_URL": _env("S3_ENDPOINT_URL"),
        "S3_REGION": _env("S3_REGION", "us-east-1"),
        "S3_ACCESS_KEY_ID": _env("S3_ACCESS_KEY_ID"),
        "S3_SECRET_ACCESS_KEY": _env("S3_SECRET_ACCESS_KEY"),
        "CHECKLISTS_DIR": _env("CHECKLISTS_DIR", str(PROJECT_ROOT / "checklists")),
        "DEMO_PASSWORD": _env("DEMO_PASSWORD"),
        # Limits: one place, told to clients later through /api/v1/config/limits.
        "MAX_CONTENT_LENGTH": _int("MAX_BODY_BYTES", 16 * 1024 * 1024),
        # JSON bodies sent to /api/: bytes, and values (braces, brackets and commas counted before parsing), so
        # that parsing one cannot cost a worker more than a few tens of megabytes (security.py).
        "JSON_MAX_BYTES": _int("JSON_MAX_BYTES", 4 * 1024 * 1024),
        "JSON_MAX_VALUES": _int("JSON_MAX_VALUES", 30_000),
        "SYNC_BATCH_MAX": _int("SYNC_BATCH_MAX", 500),
        "PAGE_SIZE_MAX": _int("PAGE_SIZE_MAX", 500),
        # Photos and evidence files (told to tablets by GET /api/v1/config/limits, so they refuse early).
        "PHOTO_MAX_BYTES": _int("PHOTO_MAX_BYTES", 25 * 1024 * 1024),
        "PHOTO_MAX_PIXELS": _int("PHOTO_MAX_PIXELS", 50_000_000),
        "UPLOAD_CHUNK_MAX_BYTES": _int("UPLOAD_CHUNK_MAX_BYTES", 4 * 1024 * 1024),
        "PHOTOS_PER_INSPECTION": _int("PHOTOS_PER_INSPECTION", 400),
        "PHOTO_DISPLAY_PX": 1600,
        "PHOTO_THUMB_PX": 320,
        # Recommendation deadlines (services/deadlines.py): days, counted in working or calendar days; holidays
        # from HOLIDAYS_FILE, else the calendar shipped in audit_api/data/holidays-vn.yaml.
        "DEADLINE_DAYS": _int("DEADLINE_DAYS", 30),
        "DEADLINE_COUNTING": _env("DEADLINE_COUNTING", "working").lower(),
        "HOLIDAYS_FILE": _env("HOLIDAYS_FILE"),
        "JWT_ACCESS_TOKEN_EXPIRES": timedelta(minutes=_int("JWT_ACCESS_MINUTES", 15)),
        "JWT_REFRESH_TOKEN_EXPIRES": timedelta(days=_int("JWT_REFRESH_DAYS", 30)),
        "JWT_ALGORITHM": "HS256",
        # Sign-in abuse: failed attempts per username and per client address. In memory by default;
        # set RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0 when several instances run.
        "RATELIMIT_STORAGE_URI": _env("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_ENABLED": _env("RATELIMIT_ENABLED", "true").lower() != "false",
        "LOGIN_LIMIT_PER_USER": _env("LOGIN_LIMIT_PER_USER", "10 per minute"),
        "LOGIN_LIMIT_PER_ADDRESS": _env("LOGIN_LIMIT_PER_ADDRESS", "30 per minute"),
        # Number of reverse proxies in front whose X-Forwarded-For and X-Forwarded-Proto are trusted (0: use the
        # socket's address and scheme; a client's X-Forwarded-* headers are then ignored).
        "PROXY_FIX_HOPS": _int("PROXY_FIX_HOPS", 0),
        # Response hardening (security.py): HSTS on HTTPS requests; browser origins other than the app's own that
        # may call /api/ (none: CORS closed).
        "HSTS_MAX_AGE": _int("HSTS_MAX_AGE", 365 * 24 * 3600),
        "CORS_ORIGINS": _env("CORS_ORIGINS", ""),
        # flask-smorest / OpenAPI
        "API_TITLE": "audit_api",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api",
        "OPENAPI_JSON_PATH": "v1/openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "docs",
        "OPENAPI_SWAGGER_UI_URL": "/api/docs/assets/",
        "JSON_SORT_KEYS": False,
    }
    if overrides:
        settings.update(overrides)
    if env == "testing":
        settings["TESTING"] = True
    if settings["MEDIA_BACKEND"] not in ("local", "s3"):
        raise ConfigError("MEDIA_BACKEND phải là 'local' hoặc 's3'.")
    check_deadlines(settings)
    settings["CORS_ORIGINS"] = cors_origins(settings["CORS_ORIGINS"])
    check_secrets(settings)
    return settings


ORIGIN = re.compile(r"^https?://(?:[a-z0-9.-]+|\[[0-9a-f:]+\])(?::\d{1,5})?$")


def cors_origins(value: str | list | tuple | None) -> tuple[str, ...]:
    """CORS_ORIGINS: exact origins (scheme://host[:port]), separated by commas or spaces; '*' is refused."""
    items = value.replace(",", " ").split() if isinstance(value, str) else list(value or ())
    origins = tuple(item.strip().lower().rstrip("/") for item in items)
    for origin in origins:
        if not ORIGIN.match(origin):
            raise ConfigError(f"CORS_ORIGINS: {origin!r} không phải một origin dạng https://tên-miền[:cổng] "
                              f"(không có đường dẫn, không dùng '*').")
    return origins


def check_deadlines(settings: dict) -> None:
    if settings["DEADLINE_COUNTING"] not in ("working", "calendar"):
        raise ConfigError("DEADLINE_COUNTING phải là 'working' (ngày làm việc) hoặc 'calendar' (ngày lịch).")
    if not 0 <= settings["DEADLINE_DAYS"] <= 3650:
        raise ConfigError("DEADLINE_DAYS phải nằm trong khoảng 0–3650 ngày.")
    holidays = settings.get("HOLIDAYS_FILE")
    if holidays and not Path(holidays).is_file():
        raise ConfigError(f"HOLIDAYS_FILE={holidays}: không tìm thấy tệp lịch nghỉ lễ.")


def check_secrets(settings: dict) -> None:
    """Refuse default or missing secrets anywhere but development and testing."""
    if settings["APP_ENV"] in DEVELOPMENT_ENVS:
        return
    for name in ("SECRET_KEY", "JWT_SECRET_KEY"):
        value = settings.get(name)
        if not value or value == DEV_SECRET or len(value) < 32:
            raise ConfigError(
                f"APP_ENV={settings['APP_ENV']}: biến môi trường {name} chưa được đặt hoặc đang dùng giá trị "
                f"mặc định. Hãy đặt {name} bằng một chuỗi ngẫu nhiên dài ít nhất 32 ký tự, ví dụ: "
                f"export {name}=$(python -c 'import secrets; print(secrets.token_urlsafe(48))'). "
                f"Khi phát triển trên máy cá nhân, đặt APP_ENV=development."
            )
