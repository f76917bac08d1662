"""Optimistic concurrency for single-resource edits: ETag out, If-Match in.

Every GET or change of a versioned resource answers with `ETag: "<kind>-<id>-v<version>"`; an edit must
send it back in `If-Match`. Without it the server cannot tell a stale edit from a fresh one: 428. With an
old one, someone changed the resource meanwhile: 412, and the body carries the current representation
under `current` so the client can show both and let the person choose.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import request

from ..errors import PROBLEM_MIMETYPE, DomainError


class PreconditionRequired(DomainError):
    status = 428


class PreconditionFailed(DomainError):
    status = 412


def etag_of(kind: str, entity) -> str:
    return f"{kind}-{entity.id}-v{entity.version}"


def require_if_match(kind: str, entity, current: Callable[[], dict]) -> None:
    """Refuse the edit unless If-Match names the entity's current version."""
    if not request.if_match:
        raise PreconditionRequired(
            "Cần gửi tiêu đề If-Match với ETag của phiên bản đang sửa (precondition required).",
            errors={"If-Match": ["Bắt buộc."]})
    if request.if_match.star_tag or request.if_match.contains(etag_of(kind, entity)):
        return
    raise PreconditionFailed("Dữ liệu đã được người khác thay đổi; xem phiên bản hiện tại trong 'current' "
                             "(precondition failed).", current=current())


def with_etag(response, kind: str, entity):
    response.set_etag(etag_of(kind, entity))
    return response


IF_MATCH_PARAMETER = {"in": "header", "name": "If-Match", "required": True, "schema": {"type": "string"},
                      "description": "ETag của phiên bản đang sửa (nhận từ GET)"}


def versioned_edit(blp, stale_schema):
    """The documentation every If-Match edit shares: the header, and its 404, 409, 412 (with `current`), 428."""
    decorators = [
        blp.doc(parameters=[IF_MATCH_PARAMETER]),
        blp.alt_response(404, response="NOT_FOUND"),
        blp.alt_response(409, response="CONFLICT"),
        blp.alt_response(412, schema=stale_schema, content_type=PROBLEM_MIMETYPE,
                         description="If-Match đã cũ: dữ liệu vừa được người khác sửa; bản hiện tại trong `current`"),
        blp.alt_response(428, response="PRECONDITION_REQUIRED"),
    ]

    def decorate(view):
        for decorator in reversed(decorators):
            view = decorator(view)
        return view

    return decorate


def links(blp, status: int, **named: dict):
    """OpenAPI links on a response: the edits a client makes next with the id and ETag this response gave
    (clients and schemathesis' stateful phase follow them)."""
    return blp.doc(responses={status: {"links": named}})


def edit_link(path: str, method: str, **parameters: str) -> dict:
    """A link to `method path` (an /api/v1 path), sending this response's ETag as If-Match."""
    pointer = f"/api/v1{path}".replace("~", "~0").replace("/", "~1")
    return {"operationRef": f"#/paths/{pointer}/{method}",
            "parameters": {**parameters, "header.If-Match": "$response.header.ETag"}}

