"""Checklist versions: the list, and one full definition with an ETag (tablets cache it for offline)."""

from __future__ import annotations

from pathlib import Path

from flask import Response, current_app, request

from .. import access
from ..schemas.checklists import (
    ChecklistDefinitionSchema,
    ChecklistListArgsSchema,
    ChecklistListSchema,
    ChecklistValidationRequestSchema,
    ChecklistValidationSchema,
)
from ..schemas.common import paginate
from ..services import checklists as service
from .blueprint import Blueprint

URL_PREFIX = "/checklists"
blp = Blueprint("checklists", __name__, description="Danh mục kiểm tra / inspection checklists")

# Published versions never change, so their serialized bytes can be kept per process.
_definition_cache: dict[str, bytes] = {}


@blp.get("")
@access.signed_in(roles=access.STAFF)
@blp.arguments(ChecklistListArgsSchema, location="query")
@blp.response(200, ChecklistListSchema)
def list_checklists(args):
    """Các danh mục kiểm tra đã công bố (mọi phiên bản)."""
    versions = [v for v in service.list_versions() if not args.get("key") or v.key == args["key"]]
    data = [
        {
            "key": v.key, "version": v.version, "title": v.title, "title_en": v.definition.get("title_en"),
            "sha256": v.sha256, "regime_valid_from": v.regime_valid_from, "regime_valid_to": v.regime_valid_to,
            "section_count": len(v.definition["sections"]),
            "item_count": sum(len(s["items"]) for s in v.definition["sections"]),
            "source_file": v.source_file, "loaded_at": v.loaded_at,
        }
        for v in versions
    ]
    return {"data": data, "pagination": paginate(len(data), 1, max(len(data), 1))}


@blp.get("/<string:key>/versions/<int:version>")
@access.signed_in(roles=access.STAFF)
@blp.response(200, ChecklistDefinitionSchema, headers={"ETag": {"schema": {"type": "string"}}})
@blp.alt_response(304, response="NOT_MODIFIED")
@blp.alt_response(404, response="NOT_FOUND")
def get_checklist_version(key: str, version: int):
    """Toàn bộ nội dung một phiên bản danh mục (phần, mục, quy tắc); ETag = SHA-256 nội dung."""
    found = service.get_version(key, version)
    etag = found.sha256
    if etag in request.if_none_match:
        return _with_etag(Response(status=304), etag)
    body = _definition_cache.get(etag)
    if body is None:
        payload = {**found.definition, "sha256": found.sha256}
        body = current_app.json.dumps(payload).encode("utf-8")
        _definition_cache[etag] = body
    return _with_etag(Response(body, status=200, mimetype="application/json"), etag)


def _with_etag(response: Response, etag: str) -> Response:
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@blp.post("/validation")
@access.signed_in(roles={"admin"})
@blp.arguments(ChecklistValidationRequestSchema)
@blp.response(200, ChecklistValidationSchema)
def validate_checklist(body):
    """Kiểm tra một tệp danh mục trước khi công bố (không ghi gì vào cơ sở dữ liệu)."""
    loaded, problems = service.validate_text(Path(current_app.config["CHECKLISTS_DIR"]), body["yaml"], body["filename"])
    if loaded is None:
        return {"valid": False, "problems": problems}
    sections = loaded.definition["sections"]
    return {"valid": True, "key": loaded.key, "version": loaded.version, "sha256": loaded.sha256,
            "section_count": len(sections), "item_count": sum(len(s["items"]) for s in sections), "problems": []}
