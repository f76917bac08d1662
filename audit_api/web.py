"""The tablet app (PWA): its shell, service worker, manifest and static modules, served by the API's process.

Everything here is public — the shell holds no data; data comes from /api/v1 with a token. The service
worker is served from the site root so that it controls the whole app; its shell list and cache version are
filled in at serve time from the files themselves, so any change to the shell is a new service worker and a
new cache (the old one is deleted on activate; IndexedDB, where user data lives, is never touched).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from flask import Blueprint, Response, abort, send_from_directory

from . import access

APP_DIR = Path(__file__).resolve().parent / "static" / "app"
ASSET_PREFIX = "/app"
# Files under APP_DIR that belong to the shell (precached by the service worker), by extension.
SHELL_SUFFIXES = (".js", ".css", ".png", ".svg", ".webmanifest", ".html")
NOT_IN_SHELL = {"sw.js", "index.html", "manifest.webmanifest"}  # served at the root, listed separately
MIMETYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png", ".svg": "image/svg+xml",
             ".webmanifest": "application/manifest+json", ".html": "text/html"}
SHELL_MARK = re.compile(r"/\*SHELL\*/.*?/\*SHELL\*/", re.DOTALL)

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' blob: data:",
    "connect-src 'self'",
    "worker-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))

blp = Blueprint("web", __name__)


def shell() -> dict:
    """The shell's URLs and a version that changes whenever any of their bytes change."""
    digest = hashlib.sha256()
    files = []
    for path in sorted(APP_DIR.rglob("*")):
        if not path.is_file() or path.suffix not in SHELL_SUFFIXES:
            continue
        relative = path.relative_to(APP_DIR).as_posix()
        digest.update(relative.encode() + b"\0" + path.read_bytes() + b"\0")
        if relative not in NOT_IN_SHELL:
            files.append(f"{ASSET_PREFIX}/{relative}")
    return {"version": digest.hexdigest()[:16], "files": ["/", "/manifest.webmanifest", *files]}


@blp.after_request
def _app_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers.setdefault("Cache-Control", "no-cache")
    return response


def _file(relative: str, *, cache_control: str = "no-cache") -> Response:
    path = (APP_DIR / relative).resolve()
    if APP_DIR not in path.parents or not path.is_file() or path.suffix not in MIMETYPES:
        abort(404)
    # no-cache: revalidated (ETag, 304) on every load; the service worker serves the shell offline.
    response = send_from_directory(APP_DIR, relative, mimetype=MIMETYPES[path.suffix], max_age=None, etag=True,
                                   conditional=True)
    response.headers["Cache-Control"] = cache_control
    return response


@blp.get("/")
@access.public
def index():
    """The tablet app's page."""
    return _file("index.html")


@blp.get("/sw.js")
@access.public
def service_worker():
    """The service worker, at the root so that its scope is the whole app."""
    source = (APP_DIR / "sw.js").read_text(encoding="utf-8")
    body = SHELL_MARK.sub(lambda _m: json.dumps(shell()), source, count=1)
    response = Response(body, mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["Cache-Control"] = "no-cache"
    return response


@blp.get("/manifest.webmanifest")
@access.public
def manifest():
    """The web app manifest (install to the home screen)."""
    return _file("manifest.webmanifest")


@blp.get(f"{ASSET_PREFIX}/<path:filename>")
@access.public
def asset(filename: str):
    """The app's modules, styles and icons."""
    if filename in NOT_IN_SHELL:
        abort(404)
    icon = filename.startswith("icons/")
    return _file(filename, cache_control="public, max-age=86400" if icon else "no-cache")
