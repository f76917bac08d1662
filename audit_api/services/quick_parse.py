"""A quick parser for the common, well-formed answer mutation — marshmallow stays the authority.

Loading two marshmallow schemas per mutation is most of the CPU of a 200-answer batch. These functions
accept only values the schemas (sync.MutationSchema, answers.SetPayload/ClearPayload) certainly accept, and
return exactly what the schemas would load; anything else returns None and goes through marshmallow, which
produces the error messages. tests/test_quick_parse.py holds the two to agreement.
"""

from __future__ import annotations

import functools
import re
import uuid
from datetime import date, datetime

from ..checklist_format import DATA_SOURCES

ENVELOPE_KEYS = {"id", "type", "inspection_id", "base_version", "payload", "client_time"}
SET_KEYS = {"item_code", "unit_id", "value", "note", "period", "source"}
CLEAR_KEYS = {"item_code", "unit_id"}
MAX_VERSION = 2**31
# Only the plainest ISO forms, which marshmallow's own parsers certainly accept.
AWARE_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _uuid(value) -> uuid.UUID | None:
    if not isinstance(value, str) or len(value) != 36:
        return None
    return _parsed_uuid(value)


@functools.lru_cache(maxsize=4096)
def _parsed_uuid(value: str) -> uuid.UUID | None:
    """A batch names the same inspection and units hundreds of times, and each mutation id twice (sync looks
    the ids up before parsing the envelopes): parse each once."""
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def uuid_of(value: str) -> uuid.UUID | None:
    """uuid.UUID(value), or None where that raises ValueError."""
    if len(value) == 36:
        return _parsed_uuid(value)
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _aware(value) -> datetime | None:
    if not isinstance(value, str) or not AWARE_DATETIME.match(value):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def envelope(raw, types: tuple[str, ...]) -> dict | None:
    """MutationSchema's load of a well-formed answer mutation, or None (let marshmallow decide)."""
    if not isinstance(raw, dict) or not set(raw) <= ENVELOPE_KEYS or raw.get("type") not in types:
        return None
    mutation_id, inspection_id = _uuid(raw.get("id")), _uuid(raw.get("inspection_id"))
    base, payload, client_time = raw.get("base_version"), raw.get("payload"), raw.get("client_time")
    if mutation_id is None or inspection_id is None or not isinstance(payload, dict):
        return None
    if base is not None and (type(base) is not int or not 0 <= base <= MAX_VERSION):
        return None
    parsed_time = None
    if client_time is not None and (parsed_time := _aware(client_time)) is None:
        return None
    return {"id": mutation_id, "type": raw["type"], "inspection_id": inspection_id, "base_version": base,
            "payload": payload, "client_time": parsed_time}


def _text(value, limit: int) -> bool:
    return isinstance(value, str) and len(value) <= limit


def _period(value) -> dict | bool | None:
    """The loaded period, None for no period, False when unsure."""
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"from", "to"}:
        return False
    if not all(isinstance(value[k], str) and ISO_DATE.match(value[k]) for k in ("from", "to")):
        return False
    try:
        return {"from_": date.fromisoformat(value["from"]), "to": date.fromisoformat(value["to"])}
    except ValueError:
        return False


def set_payload(payload: dict) -> dict | None:
    """SetPayload's load, or None (let marshmallow decide)."""
    if not set(payload) <= SET_KEYS or "item_code" not in payload or payload.get("value") is None:
        return None
    item_code, unit_id = payload["item_code"], payload.get("unit_id")
    note, source = payload.get("note"), payload.get("source")
    if not (_text(item_code, 16) and item_code):
        return None
    unit = _uuid(unit_id) if unit_id is not None else None
    if unit_id is not None and unit is None:
        return None
    if note is not None and not (_text(note, 10_000) and "\x00" not in note):
        return None
    if source is not None and source not in DATA_SOURCES:
        return None
    period = _period(payload.get("period"))
    if period is False:
        return None
    return {"item_code": item_code, "unit_id": unit, "value": payload["value"], "note": note, "period": period,
            "source": source}


def clear_payload(payload: dict) -> dict | None:
    if not set(payload) <= CLEAR_KEYS or not (_text(payload.get("item_code"), 16) and payload.get("item_code")):
        return None
    unit_id = payload.get("unit_id")
    unit = _uuid(unit_id) if unit_id is not None else None
    if unit_id is not None and unit is None:
        return None
    return {"item_code": payload["item_code"], "unit_id": unit}
