"""Response hardening and CORS: the headers every response carries, and which browser origins may call the API.

- Every response: `X-Content-Type-Options: nosniff`, frame denial (`X-Frame-Options: DENY` and CSP
  `frame-ancestors 'none'`), a `Referrer-Policy` and a `Content-Security-Policy` — the PWA's own (web.py) outside
  /api/, `default-src 'none'` on the API (JSON needs none of a page's powers), a policy pinned to its inline
  script on the Swagger UI page. Routes that set their own headers keep them.
- `Strict-Transport-Security` only on requests that came over HTTPS. Behind a proxy that terminates TLS the
  scheme comes from `X-Forwarded-Proto`, trusted only when PROXY_FIX_HOPS > 0 (ProxyFix in create_app), so a
  client cannot claim HTTPS on a plain-HTTP deployment.
- API responses hold user data: `Cache-Control: no-store` unless the route chose its own caching (the bundle's
  and checklists' ETag revalidation, images).
- CORS is closed: no `Access-Control-*` header at all unless the request's Origin is one of CORS_ORIGINS, and then
  only on /api/. Tokens travel as bearer headers, never cookies, so no credentials mode is granted.
- OPTIONS is answered here for every route, before authentication (a preflight carries no token).
- A request that declares a body over its limit is refused (413) before any handler runs, also on routes that
  never read their body, so a worker never waits on or buffers what it would refuse anyway. A body without a
  declared length (chunked) is read up to the limit and refused (413) at the first byte past it: Werkzeug on its
  own stops there and hands the route a silently truncated body. JSON sent to the API has a smaller limit and a
  budget of values (_bound_body), so that parsing it cannot cost the worker more than a few tens of megabytes.
"""

from __future__ import annotations

import base64
import hashlib
import re

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from .errors import InvalidData

API_PREFIX = "/api/"
DOCS_PATH = "/api/docs"

API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# Swagger UI (flask-smorest's page): its own assets, one inline script allowed by hash, inline styles of the UI.
DOCS_POLICY = ("default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
               "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'")
INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)

CORS_ALLOW_HEADERS = ("Authorization", "Content-Type", "If-Match", "If-None-Match", "Upload-Offset", "Upload-Length",
                      "Tus-Resumable", "X-Request-ID")
CORS_EXPOSE_HEADERS = ("ETag", "Location", "Retry-After", "Upload-Offset", "Upload-Length", "Tus-Resumable",
                       "X-Content-SHA256", "Content-Disposition")
CORS_MAX_AGE_SECONDS = 600


def register(app: Flask) -> None:
    """Run before everything else (ahead of authentication), and harden every response on the way out."""
    app.before_request_funcs.setdefault(None, []).insert(0, _before)
    app.after_request(_harden)


def _before() -> Response | None:
    _bound_body()
    if request.method == "OPTIONS" and request.url_rule is not None:
        response = current_app.response_class(status=204)
        response.allow.update(current_app.make_default_options_response().allow)
        del response.headers["Content-Type"]
        return response
    return None


def _bound_body() -> None:
    """413 for a body over its limit — JSON_MAX_BYTES for JSON sent to the API, else MAX_CONTENT_LENGTH — and
    for JSON with more than JSON_MAX_VALUES values. Parsed, each JSON value costs 50–150 bytes of Python objects
    (twice on sign-in: the rate limiter reads the username too), so 15 MB of `[{},{},…]` would take the worker
    past 700 MB; counting braces, brackets and commas in the raw bytes bounds that before anything parses."""
    config = current_app.config
    json_body = request.path.startswith(API_PREFIX) and request.is_json
    upload_chunk = request.mimetype == "application/offset+octet-stream"  # a photo's PATCH: one chunk
    limits = [config.get("MAX_CONTENT_LENGTH"), config.get("JSON_MAX_BYTES") if json_body else None,
              config.get("UPLOAD_CHUNK_MAX_BYTES") if upload_chunk else None]
    limit = min((value for value in limits if value is not None), default=None)
    if limit is None:
        return
    what = "Nội dung JSON" if json_body else "Dữ liệu gửi lên"
    if (request.content_length or 0) > limit:
        raise too_large(f"{what} vượt quá giới hạn {_number(limit)} byte (payload too large).")
    if request.content_length is None and "wsgi.input_terminated" in request.environ:  # chunked: length unknown
        request.environ["wsgi.input"] = CappedInput(request.environ["wsgi.input"], limit, what)
        request.max_content_length = limit + 1  # lets the first byte too many reach CappedInput
    if json_body:
        data = request.get_data(cache=True)  # read once, bounded; the route parses it from this cache
        values = data.count(b"{") + data.count(b"[") + data.count(b",")
        if values > config["JSON_MAX_VALUES"]:
            raise too_large(f"Nội dung JSON có quá nhiều phần tử (hơn {_number(config['JSON_MAX_VALUES'])}); "
                            f"hãy chia nhỏ dữ liệu (too many JSON values).")
        if UNSTORABLE_ESCAPE.search(data):
            raise InvalidData("Nội dung JSON chứa ký tự không lưu được: NUL (\\u0000) hoặc nửa cặp UTF-16 "
                              "(unstorable character).")


# Escapes JSON allows and no column can store: \u0000 (PostgreSQL's text and jsonb refuse NUL) and a lone UTF-16
# surrogate (UTF-8 cannot encode it; SQLite and PostgreSQL both fail). Found by schemathesis: a rejected sync
# mutation keeps its raw payload, and one with "\u0000" in a key answered 500 on PostgreSQL. An escape counts
# when an even number of backslashes precede it (an odd one makes the backslash itself the escaped character).
UNSTORABLE_ESCAPE = re.compile(
    rb"(?<!\\)(?:\\\\)*\\u(?:0000"
    rb"|[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2}\\u)[dD][c-fC-F][0-9a-fA-F]{2})")


def too_large(detail: str) -> RequestEntityTooLarge:
    error = RequestEntityTooLarge()
    error.data = {"message": detail}  # errors.py puts it in the problem's detail
    return error


def _number(value: int) -> str:
    return f"{value:,}".replace(",", ".")  # Vietnamese thousands separator


class CappedInput:
    """wsgi.input of a body of unknown length: RequestEntityTooLarge (413) once more than `limit` bytes arrive."""

    def __init__(self, stream, limit: int, what: str):
        self._stream, self._left, self._limit, self._what = stream, limit, limit, what

    def read(self, size: int | None = -1) -> bytes:
        wanted = self._left + 1 if size is None or size < 0 else min(size, self._left + 1)
        return self._count(self._stream.read(wanted))

    def readline(self, size: int | None = -1) -> bytes:
        wanted = self._left + 1 if size is None or size < 0 else min(size, self._left + 1)
        return self._count(self._stream.readline(wanted))

    def _count(self, data: bytes) -> bytes:
        self._left -= len(data)
        if self._left < 0:
            raise too_large(f"{self._what} vượt quá giới hạn {_number(self._limit)} byte (payload too large).")
        return data


def _harden(response: Response) -> Response:
    headers = response.headers
    api = request.path.startswith(API_PREFIX)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer" if api else "same-origin")
    headers.setdefault("Content-Security-Policy", _policy(response, api))
    max_age = current_app.config.get("HSTS_MAX_AGE", 0)
    if request.is_secure and max_age > 0:
        headers.setdefault("Strict-Transport-Security", f"max-age={max_age}")
    if api:
        headers.setdefault("Cache-Control", "no-store")
        _cors(response)
    return response


def _policy(response: Response, api: bool) -> str:
    if not api:
        from .web import CONTENT_SECURITY_POLICY

        return CONTENT_SECURITY_POLICY
    if request.path == DOCS_PATH and response.mimetype == "text/html" and not response.is_streamed:
        scripts = INLINE_SCRIPT.findall(response.get_data())
        hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s).digest()).decode()}'" for s in scripts)
        return DOCS_POLICY.format(hashes=hashes)
    return API_POLICY


def _cors(response: Response) -> None:
    allowed = current_app.config.get("CORS_ORIGINS") or ()
    if not allowed:
        return
    response.vary.add("Origin")  # the answer depends on the Origin: shared caches must keep them apart
    origin = request.headers.get("Origin", "")
    if origin.lower() not in allowed:
        return
    response.headers["Access-Control-Allow-Origin"] = origin
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        response.headers["Access-Control-Allow-Methods"] = response.headers.get("Allow", "")
        response.headers["Access-Control-Allow-Headers"] = ", ".join(CORS_ALLOW_HEADERS)
        response.headers["Access-Control-Max-Age"] = str(CORS_MAX_AGE_SECONDS)
    else:
        response.headers["Access-Control-Expose-Headers"] = ", ".join(CORS_EXPOSE_HEADERS)
