"""services/bulk.py stores what SQLAlchemy Core would: every value converted as its column type converts it."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from audit_api.extensions import db
from audit_api.models import Answer, SyncMutation
from audit_api.models.common import UTCDateTime
from audit_api.services import bulk

NOW = datetime(2024, 6, 24, 2, 30, tzinfo=UTC)
ONE = uuid.uuid4()
SAMPLES = {  # values by the column type's Python type, None included; one object repeated (converted once)
    uuid.UUID: [uuid.uuid4(), None, ONE, ONE],
    dict: [{"a": 1, "b": [1.5, "đ", None, True]}, "chữ", 7, 7.0, -0.0, 1e300, [], {"k\x00": "\ud800"}, None],
    datetime: [NOW, None, datetime(2024, 6, 24, 9, 30, tzinfo=UTC), NOW],
    date: [date(2024, 6, 24), None],
    int: [1, None, 2**40],
    bool: [True, False, None],
    str: ["applied", None, "rejected"],
}


def plain(value):
    return getattr(value, "obj", value)  # psycopg wraps JSON in an adapter object


def samples_for(column: sa.Column) -> list:
    if isinstance(column.type, sa.JSON):
        return SAMPLES[dict]
    if isinstance(column.type, UTCDateTime):
        return SAMPLES[datetime]
    return SAMPLES.get(column.type.python_type) or SAMPLES[str]


@pytest.mark.parametrize("table", [Answer.__table__, SyncMutation.__table__,
                                   *(db.metadata.tables[name] for name in ("answer_revisions", "findings",
                                                                           "recommendations", "change_log"))],
                         ids=lambda table: table.name)
def test_every_column_is_converted_as_its_type_converts_it(app, table):
    dialect = db.engine.dialect
    for column in table.columns:
        column_type = column.type.dialect_impl(dialect)
        values = samples_for(column)
        if isinstance(column.type, sa.Enum):
            values = [None, *column.type.enums[:2]]
        process = column_type.bind_processor(dialect)
        convert = bulk._converter(column_type, dialect)
        expected = values if process is None else [None if value is None else process(value) for value in values]
        got = values if convert is None else convert(values)
        assert [repr(plain(value)) for value in got] == [repr(plain(value)) for value in expected], column.name


def test_rows_written_in_bulk_read_back_as_written(app):
    from audit_api.models import Inspection
    from audit_api.services.demo import demo_id

    inspection = db.session.get(Inspection, demo_id("insp-vanlang-2024"))
    rows = [{"id": uuid.uuid4(), "inspection_id": inspection.id, "item_code": code, "unit_id": inspection.host_unit_id,
             "value": value, "note": None, "period_from": date(2024, 1, 1), "period_to": None, "source": None,
             "version": 1, "author_id": None, "client_time": NOW, "created_at": NOW, "updated_at": NOW}
            for code, value in (("D3", 93), ("E1", {"numerator": 3, "denominator": 4}), ("E3", "no"))]
    bulk.insert_many(Answer.__table__, rows)
    query = sa.select(Answer).where(Answer.id.in_([row["id"] for row in rows]))
    stored = {answer.item_code: answer for answer in db.session.scalars(query)}
    for row in rows:
        answer = stored[row["item_code"]]
        assert (answer.value, answer.period_from, answer.client_time, answer.inspection_id) == (
            row["value"], row["period_from"], NOW, inspection.id)
