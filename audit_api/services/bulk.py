"""executemany of many rows straight to the driver, values converted by the columns' own types.

SQLAlchemy Core's executemany builds and processes a parameter dict per row; for the few tables a sync
batch writes by the hundred, converting each column's values once with that column type's public
`bind_processor(dialect)` and passing plain tuples to the DBAPI is several times cheaper, and stores exactly
what Core would (the same processors run). Two types, the ones a batch binds most, are converted inline to
the very text their processors write: UUIDs stored as hex (SQLite) and JSON serialized by the standard
library's defaults (SQLite)."""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable

import sqlalchemy as sa

from ..extensions import db

_PLACEHOLDER = {"qmark": "?", "format": "%s", "pyformat": "%s", "numeric": None, "named": None}

# dialect → (table, columns) → one converter per column (a list of values in, a list out)
_CONVERTERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _same(values: list) -> bool:
    """One inspection, one author, one instant: the same object all down a column is converted once."""
    first = values[0]
    return all(value is first for value in values)


def _uuid_hex(values: list) -> list:
    if _same(values):
        return [None if values[0] is None else values[0].hex] * len(values)
    return [None if value is None else value.hex for value in values]


def _json_encoder() -> Callable | None:
    """json.dumps(value) with its defaults, minus the per-call set-up of a new encoder (half its cost on the
    small values a batch writes); None where the C encoder is missing."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return None
    defaults = json.JSONEncoder()
    encode = make({}, defaults.default, json.encoder.c_encode_basestring_ascii, None, defaults.key_separator,
                  defaults.item_separator, False, False, True)
    return lambda value: "".join(encode(value, 0))


_JSON_TEXT = _json_encoder()


def _json_text(values: list) -> list:
    return [None if value is None else _JSON_TEXT(value) for value in values]


def _processed(process) -> Callable:
    def convert(values: list) -> list:
        if _same(values):
            return [None if values[0] is None else process(values[0])] * len(values)
        return [None if value is None else process(value) for value in values]

    return convert


def _converter(column_type, dialect) -> Callable | None:
    process = column_type.bind_processor(dialect)
    if process is None:
        return None
    if dialect.name == "sqlite" and isinstance(column_type, sa.Uuid) and column_type.as_uuid:
        return _uuid_hex  # sa.Uuid's own processor on a dialect without a native UUID: value.hex
    if (dialect.name == "sqlite" and isinstance(column_type, sa.JSON) and _JSON_TEXT is not None
            and getattr(dialect, "_json_serializer", None) is None):
        return _json_text  # sa.JSON's processor with the default serializer and no string processing: json.dumps
    return _processed(process)


def _converters(table: sa.Table, columns: tuple[str, ...], dialect) -> list:
    by_table = _CONVERTERS.setdefault(dialect, {})
    key = (table, columns)
    if key not in by_table:
        by_table[key] = [_converter(table.c[name].type.dialect_impl(dialect), dialect) for name in columns]
    return by_table[key]


def _rows(rows: list[dict], columns: tuple[str, ...], converters: list) -> list[tuple]:
    """Column by column, then zipped into row tuples: a list comprehension per column instead of a generator
    per value (a 200-answer batch binds ~20,000 values)."""
    values_by_column = []
    for column, convert in zip(columns, converters, strict=True):
        values = [row[column] for row in rows]
        values_by_column.append(values if convert is None else convert(values))
    return list(zip(*values_by_column, strict=True))


def _placeholder(dialect) -> str | None:
    return _PLACEHOLDER.get(dialect.paramstyle)


def insert_many(table: sa.Table, rows: list[dict], columns: tuple[str, ...] | list[str] | None = None) -> None:
    """INSERT rows (dicts keyed by column name; `columns` picks which, all of the first row's by default);
    falls back to Core where the driver's style is unusual."""
    if not rows:
        return
    columns = tuple(columns or rows[0])
    connection = db.session.connection()
    mark = _placeholder(connection.dialect)
    if mark is None:
        db.session.execute(sa.insert(table), [{c: row[c] for c in columns} for row in rows])
        return
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"  # noqa: S608 — names from the model
    connection.exec_driver_sql(sql, _rows(rows, columns, _converters(table, columns, connection.dialect)))


def update_many(table: sa.Table, rows: list[dict], columns: list[str], key: str = "id") -> None:
    """UPDATE table SET columns WHERE key = row[key], for each row."""
    if not rows:
        return
    connection = db.session.connection()
    mark = _placeholder(connection.dialect)
    if mark is None:
        statement = sa.update(table).where(table.c[key] == sa.bindparam("_key")).values(
            {c: sa.bindparam(c) for c in columns})
        db.session.execute(statement, [{"_key": row[key], **{c: row[c] for c in columns}} for row in rows])
        return
    assignments = ", ".join(f"{c} = {mark}" for c in columns)
    sql = f"UPDATE {table.name} SET {assignments} WHERE {key} = {mark}"  # noqa: S608 — names from the model
    ordered = (*columns, key)
    connection.exec_driver_sql(sql, _rows(rows, ordered, _converters(table, ordered, connection.dialect)))
