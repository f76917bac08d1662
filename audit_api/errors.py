"""Every error the API returns is RFC 9457 problem+json with a Vietnamese title and detail.

Services raise DomainError subclasses (they know nothing of HTTP beyond a status); HTTP-level errors
(404 route, 405, 413, malformed JSON, webargs validation) and token errors arrive as werkzeug exceptions
or JWT callbacks. All of them end in problem_response(). Nothing from a stack trace or SQL reaches a body.
"""

from __future__ import annotations

import logging
import re
import uuid

from flask import Response, current_app, g, has_request_context, json, request
from sqlalchemy.exc import DBAPIError, IntegrityError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

PROBLEM_MIMETYPE = "application/problem+json"

# status → (type slug, Vietnamese title)
STATUS_PROBLEMS: dict[int, tuple[str, str]] = {
    400: ("bad-request", "Yêu cầu không hợp lệ"),
    401: ("unauthorized", "Chưa đăng nhập hoặc phiên đăng nhập không hợp lệ"),
    403: ("forbidden", "Không có quyền thực hiện"),
    404: ("not-found", "Không tìm thấy"),
    405: ("method-not-allowed", "Phương thức không được hỗ trợ"),
    406: ("not-acceptable", "Không hỗ trợ định dạng yêu cầu"),
    409: ("conflict", "Xung đột dữ liệu"),
    412: ("precondition-failed", "Dữ liệu đã thay đổi"),
    413: ("payload-too-large", "Dữ liệu gửi lên quá lớn"),
    415: ("unsupported-media-type", "Định dạng dữ liệu không được hỗ trợ"),
    422: ("validation-error", "Dữ liệu không hợp lệ"),
    428: ("precondition-required", "Thiếu điều kiện phiên bản"),
    429: ("too-many-requests", "Quá nhiều yêu cầu"),
    500: ("internal-error", "Lỗi máy chủ"),
    503: ("service-unavailable", "Dịch vụ tạm thời không khả dụng"),
}

DEFAULT_DETAILS: dict[int, str] = {
    400: "Yêu cầu không đúng định dạng (bad request).",
    401: "Cần đăng nhập để thực hiện thao tác này (authentication required).",
    403: "Tài khoản không có quyền thực hiện thao tác này (forbidden).",
    404: "Không tìm thấy tài nguyên được yêu cầu (not found).",
    405: "Địa chỉ này không hỗ trợ phương thức {method} (method not allowed).",
    409: "Thao tác xung đột với dữ liệu hiện có (conflict).",
    413: "Dữ liệu gửi lên vượt quá giới hạn cho phép (payload too large).",
    415: "Định dạng nội dung không được hỗ trợ (unsupported media type).",
    422: "Dữ liệu gửi lên không hợp lệ; xem chi tiết trong 'errors' (validation failed).",
    429: "Quá nhiều yêu cầu, vui lòng thử lại sau (too many requests).",
    500: "Đã xảy ra lỗi không mong muốn. Vui lòng thử lại; nếu lỗi tiếp diễn, báo quản trị viên mã yêu cầu.",
    503: "Cơ sở dữ liệu hoặc dịch vụ phụ thuộc tạm thời không khả dụng; vui lòng thử lại sau.",
}


class DomainError(Exception):
    """A business-rule error raised by services; the handler turns it into problem+json."""

    status = 400
    slug: str | None = None
    title: str | None = None
    # Most errors undo everything the request did. A few must keep what was recorded on the way to
    # refusing (the audit event of a failed sign-in, the revocation after a stolen refresh token).
    keeps_changes = False

    def __init__(self, detail: str, *, errors: dict | None = None, headers: dict | None = None, **extra):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    status = 409


class InvalidData(DomainError):
    status = 422


def problem_response(
    status: int,
    *,
    detail: str | None = None,
    title: str | None = None,
    slug: str | None = None,
    errors: dict | list | None = None,
    headers: dict | None = None,
    **extra,
) -> Response:
    default_slug, default_title = STATUS_PROBLEMS.get(status, ("error", "Lỗi"))
    body = {
        "type": f"/problems/{slug or default_slug}",
        "title": title or default_title,
        "status": status,
        "detail": detail or DEFAULT_DETAILS.get(status, default_title),
    }
    if has_request_context():
        body["instance"] = request.path
    if errors:
        body["errors"] = errors
    body.update(extra)
    response = current_app.response_class(json.dumps(body), status=status, mimetype=PROBLEM_MIMETYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


# --- translating marshmallow/webargs messages ------------------------------------------------------

_MESSAGES = {
    "Unknown field.": "Trường không được phép (unknown field).",
    "Missing data for required field.": "Thiếu trường bắt buộc (required).",
    "Field may not be null.": "Không được để trống (null).",
    "Invalid input type.": "Kiểu dữ liệu không hợp lệ (invalid input type).",
    "Not a valid integer.": "Không phải số nguyên (not an integer).",
    "Not a valid number.": "Không phải số (not a number).",
    "Not a valid string.": "Không phải chuỗi ký tự (not a string).",
    "Not a valid boolean.": "Không phải giá trị đúng/sai (not a boolean).",
    "Not a valid UUID.": "Không phải UUID hợp lệ (not a UUID).",
    "Not a valid date.": "Không phải ngày hợp lệ, dùng YYYY-MM-DD (not a date).",
    "Not a valid datetime.": "Không phải thời điểm ISO 8601 hợp lệ (not a datetime).",
    "Not a valid list.": "Không phải danh sách (not a list).",
    "Not a valid mapping type.": "Không phải đối tượng (not an object).",
    "Invalid JSON body.": "Nội dung JSON không hợp lệ (malformed JSON body).",
    "Shorter than minimum length 1.": "Không được để trống (empty).",
}
_PATTERNS = [
    (re.compile(r"^Must be greater than or equal to (.+) and less than or equal to (.+)\.$"),
     r"Phải nằm trong khoảng \1–\2 (out of range)."),
    (re.compile(r"^Must be greater than or equal to (.+)\.$"), r"Phải lớn hơn hoặc bằng \1 (too small)."),
    (re.compile(r"^Must be less than or equal to (.+)\.$"), r"Phải nhỏ hơn hoặc bằng \1 (too large)."),
    (re.compile(r"^Longer than maximum length (\d+)\.$"), r"Dài quá \1 ký tự (too long)."),
    (re.compile(r"^Must be one of: (.+)\.$"), r"Phải là một trong: \1 (not an allowed value)."),
]


def translate_messages(messages):
    """Walk a marshmallow error structure, putting Vietnamese first on the messages we know."""
    if isinstance(messages, dict):
        return {str(key): translate_messages(value) for key, value in messages.items()}
    if isinstance(messages, list):
        return [translate_messages(item) for item in messages]
    if isinstance(messages, str):
        if messages in _MESSAGES:
            return _MESSAGES[messages]
        for pattern, replacement in _PATTERNS:
            if pattern.match(messages):
                return pattern.sub(replacement, messages)
    return messages


def _webargs_errors(data: dict) -> dict | None:
    messages = data.get("messages") or data.get("errors")
    if not isinstance(messages, dict):
        return None
    # One body location is the common case: drop the "json" level so clients read errors[field].
    if set(messages) == {"json"} and isinstance(messages["json"], dict):
        messages = messages["json"]
    return translate_messages(messages)


# --- handlers --------------------------------------------------------------------------------------


def http_exception_to_problem(error: HTTPException) -> Response:
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    headers = dict(data.get("headers") or {})
    errors = _webargs_errors(data) if data else None
    detail = data.get("message") if isinstance(data.get("message"), str) else None
    if status == 400 and data.get("messages") == {"json": ["Invalid JSON body."]}:
        errors, detail = None, "Nội dung JSON không hợp lệ (malformed JSON body)."
    if status == 405:
        allowed = getattr(error, "valid_methods", None) or []
        if allowed:
            headers["Allow"] = ", ".join(sorted(allowed))
        detail = DEFAULT_DETAILS[405].format(method=request.method)
    if status == 413 and not detail:
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        if limit:
            detail = f"Dữ liệu gửi lên vượt quá giới hạn {limit:,} byte (payload too large).".replace(",", ".")
    if status == 429:
        wait = _retry_after_seconds()
        headers["Retry-After"] = str(wait)
        detail = f"Quá nhiều lần thử; vui lòng thử lại sau {wait} giây (too many requests)."
    if status >= 500:
        return server_error_problem(status)
    return problem_response(status, detail=detail, errors=errors, headers=headers)


def _retry_after_seconds() -> int:
    import time

    from .extensions import limiter

    current = limiter.current_limit
    return max(1, int(current.reset_at - time.time())) if current else 60


def server_error_problem(status: int = 500) -> Response:
    request_id = getattr(g, "request_id", None) or uuid.uuid4().hex
    return problem_response(status, request_id=request_id)


def handle_domain_error(error: DomainError) -> Response:
    from .extensions import db

    if error.keeps_changes:
        db.session.commit()
    else:
        db.session.rollback()
    return problem_response(
        error.status,
        detail=error.detail,
        slug=error.slug,
        title=error.title,
        errors=error.errors,
        headers=error.headers,
        **error.extra,
    )


def handle_integrity_error(error: IntegrityError) -> Response:
    # Services check the rules first; an IntegrityError means a race lost to a concurrent write.
    log.warning("integrity error: %s", error.orig)
    from .extensions import db

    db.session.rollback()
    return problem_response(409, detail="Dữ liệu vừa bị thay đổi đồng thời bởi thao tác khác; vui lòng thử lại.")


SQLITE_BUSY, SQLITE_LOCKED = 5, 6  # primary result codes (the low byte of extended ones such as BUSY_SNAPSHOT)


def database_unavailable(error: DBAPIError) -> bool:
    """Is the database away for now (a retry may succeed)? Its connection was lost or could not be opened
    (extensions.report_unreachable), or SQLite's lock stayed taken by another process past busy_timeout."""
    if error.connection_invalidated:
        return True
    code = getattr(error.orig, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (SQLITE_BUSY, SQLITE_LOCKED)


def handle_database_unavailable(error: DBAPIError) -> Response:
    from .extensions import db

    if not database_unavailable(error):
        raise error
    log.error("database unavailable: %s", error.orig)
    db.session.rollback()
    return problem_response(503, headers={"Retry-After": "5"})


def handle_unexpected(error: Exception) -> Response:
    if isinstance(error, HTTPException):
        return http_exception_to_problem(error)
    if current_app.testing:
        raise error
    log.exception("unhandled error (request %s)", getattr(g, "request_id", "-"))
    return server_error_problem(500)


def register_error_handlers(app) -> None:
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(DBAPIError, handle_database_unavailable)
    app.register_error_handler(Exception, handle_unexpected)

    @app.before_request
    def _assign_request_id():
        g.request_id = request.headers.get("X-Request-ID", "")[:64] or uuid.uuid4().hex


def register_jwt_callbacks(jwt) -> None:
    """Token problems from flask-jwt-extended get the same problem+json shape (401)."""

    def unauthorized(detail):
        return problem_response(401, detail=detail, headers={"WWW-Authenticate": "Bearer"})

    jwt.unauthorized_loader(lambda _reason: unauthorized("Thiếu mã truy cập (missing bearer token)."))
    jwt.invalid_token_loader(lambda _reason: unauthorized("Mã truy cập không hợp lệ (invalid token)."))
    jwt.expired_token_loader(lambda _h, _p: unauthorized("Mã truy cập đã hết hạn (token expired)."))
    jwt.revoked_token_loader(lambda _h, _p: unauthorized("Mã truy cập đã bị thu hồi (token revoked)."))
    jwt.needs_fresh_token_loader(lambda _h, _p: unauthorized("Cần đăng nhập lại (fresh token required)."))
    jwt.user_lookup_error_loader(lambda _h, _p: unauthorized("Tài khoản không còn hiệu lực (user not found)."))
    jwt.token_verification_failed_loader(
        lambda _h, _p: unauthorized("Mã truy cập không hợp lệ (token verification failed).")
    )
