"""What sync handlers receive and return (shared by sync.py and the handlers it dispatches to)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

import marshmallow as ma

from ..errors import DomainError, translate_messages
from ..models import Inspection, User


@dataclass
class Context:
    """One mutation being applied: who, to which inspection, with what."""

    user: User
    inspection: Inspection
    mutation_id: uuid.UUID
    base_version: int | None
    payload: dict
    client_time: datetime | None


@dataclass
class Applied:
    """What a handler did: the entity's new version, and the changes the feed must announce."""

    version: int | None
    changes: list[tuple[str, object]] = field(default_factory=list)  # (entity_type, entity_id)
    extra: dict = field(default_factory=dict)


class Conflict(Exception):
    """base_version is stale; `current` is the server's state of the entity."""

    def __init__(self, current: dict):
        super().__init__("conflict")
        self.current = current


def problem(status: int, detail: str, errors: dict | None = None, *, slug: str | None = None,
            title: str | None = None) -> dict:
    """The problem object a rejected mutation carries in its result (the one shape, whichever path)."""
    body = {"type": f"/problems/{slug or 'mutation-rejected'}", "title": title or "Thay đổi không được chấp nhận",
            "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    return body


def problem_of(error: DomainError) -> dict:
    return problem(error.status, error.detail, error.errors, slug=error.slug, title=error.title)


class Rejected(Exception):
    def __init__(self, status: int, detail: str, errors: dict | None = None):
        super().__init__(detail)
        self.problem = problem(status, detail, errors)


def load_payload(schema: ma.Schema, payload: dict) -> dict:
    try:
        return schema.load(payload)
    except ma.ValidationError as exc:
        raise Rejected(422, "Nội dung thay đổi không hợp lệ; xem 'errors'.",
                       {"payload": translate_messages(exc.messages)}) from exc


def check_base_version(base_version: int | None, current_version: int, current: dict) -> None:
    """A new entity is created from base 0 (or none); anything else must name the version it edits."""
    if (base_version or 0) != current_version:
        raise Conflict(current)


def author(user_id, cache: dict | None = None) -> dict | None:
    """Who wrote something, as results and the feed show it; `cache` (id → author) spares repeated reads."""
    from ..extensions import db

    if user_id is None:
        return None
    if cache is not None and user_id in cache:
        return cache[user_id]
    user = db.session.get(User, user_id)
    found = {"id": str(user.id), "full_name": user.full_name} if user else None
    if cache is not None:
        cache[user_id] = found
    return found
