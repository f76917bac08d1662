"""What sync handlers receive and return (shared by sync.py and the handlers it dispatches to)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

import marshmallow as ma

from ..errors import translate_messages
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


class Rejected(Exception):
    def __init__(self, status: int, detail: str, errors: dict | None = None):
        super().__init__(detail)
        self.problem = {"type": "/problems/mutation-rejected", "title": "Thay đổi không được chấp nhận",
                        "status": status, "detail": detail}
        if errors:
            self.problem["errors"] = errors


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


def author(user_id, users: dict | None = None) -> dict | None:
    from ..extensions import db

    if user_id is None:
        return None
    user = (users or {}).get(user_id) or db.session.get(User, user_id)
    return {"id": str(user.id), "full_name": user.full_name} if user else None
