"""The quick parser never accepts what marshmallow refuses, and loads exactly what marshmallow loads."""

from __future__ import annotations

import uuid

import marshmallow as ma
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit_api.services import quick_parse
from audit_api.services.answers import ClearPayload, SetPayload
from audit_api.services.sync import MUTATION_SCHEMA

TYPES = ("answer.set", "answer.clear")
ID = str(uuid.uuid4())


def marshmallow_load(schema, raw):
    try:
        return schema.load(raw)
    except ma.ValidationError:
        return None


def agrees(quick, schema, raw) -> None:
    """If the quick parser accepts, marshmallow accepts and loads the same thing."""
    if quick is not None:
        assert marshmallow_load(schema, raw) == quick, raw


@pytest.mark.parametrize("raw", [
    {"id": ID, "type": "answer.set", "inspection_id": ID, "base_version": 3, "payload": {},
     "client_time": "2024-06-24T09:30:00+07:00"},
    {"id": ID, "type": "answer.clear", "inspection_id": ID, "payload": {}},
    {"id": ID, "type": "answer.set", "inspection_id": ID, "base_version": None, "payload": {},
     "client_time": "2024-06-24T09:30:00.123456Z"},
])
def test_well_formed_envelopes_take_the_quick_path_and_load_alike(raw):
    quick = quick_parse.envelope(raw, TYPES)
    assert quick is not None and quick == MUTATION_SCHEMA.load(raw)


@pytest.mark.parametrize("raw", [
    {"id": ID, "type": "answer.set", "inspection_id": ID, "payload": {}, "extra": 1},
    {"id": "not-a-uuid", "type": "answer.set", "inspection_id": ID, "payload": {}},
    {"id": ID, "type": "answer.set", "inspection_id": ID, "payload": {}, "base_version": -1},
    {"id": ID, "type": "answer.set", "inspection_id": ID, "payload": {}, "base_version": True},
    {"id": ID, "type": "answer.set", "inspection_id": ID, "payload": {}, "base_version": "2"},
    {"id": ID, "type": "answer.set", "inspection_id": ID, "payload": {}, "client_time": "2024-06-24T09:30:00"},
    {"id": ID, "type": "answer.set", "inspection_id": ID, "payload": {}, "client_time": "20240624T093000+0700"},
    {"id": ID, "type": "finding.create", "inspection_id": ID, "payload": {}},
    {"id": ID, "type": "answer.set", "inspection_id": ID, "payload": []},
])
def test_anything_unusual_is_left_to_marshmallow(raw):
    assert quick_parse.envelope(raw, TYPES) is None


@pytest.mark.parametrize("payload", [
    {"item_code": "D3", "value": 93},
    {"item_code": "D3", "value": {"numerator": 1, "denominator": 2}, "unit_id": ID, "note": "ghi chú",
     "period": {"from": "2024-01-01", "to": "2024-06-30"}, "source": "information_system"},
    {"item_code": "E3", "value": "no", "note": None, "period": None, "source": None},
])
def test_well_formed_answer_payloads_load_alike(payload):
    quick = quick_parse.set_payload(payload)
    assert quick is not None and quick == SetPayload().load(payload)


@pytest.mark.parametrize("payload", [
    {"item_code": "D3"},
    {"item_code": "D3", "value": None},
    {"item_code": "", "value": 1},
    {"item_code": "D3", "value": 1, "note": "a\x00b"},
    {"item_code": "D3", "value": 1, "period": {"from": "20240101", "to": "2024-06-30"}},
    {"item_code": "D3", "value": 1, "period": {"from": "2024-01-01"}},
    {"item_code": "D3", "value": 1, "source": "rumour"},
    {"item_code": "D3", "value": 1, "colour": "red"},
])
def test_unusual_payloads_are_left_to_marshmallow(payload):
    assert quick_parse.set_payload(payload) is None


scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=40),
                    st.sampled_from([ID, "2024-06-24", "2024-06-24T09:30:00+07:00", "answer.set", "D3"]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                      max_leaves=6)
envelope_keys = st.sampled_from(["id", "type", "inspection_id", "base_version", "payload", "client_time", "x"])
payload_keys = st.sampled_from(["item_code", "unit_id", "value", "note", "period", "source", "x"])


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(envelope_keys, values, max_size=6))
def test_random_envelopes_never_pass_quick_parsing_unless_marshmallow_agrees(raw):
    agrees(quick_parse.envelope(raw, TYPES), MUTATION_SCHEMA, raw)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(payload_keys, values, max_size=6))
def test_random_payloads_never_pass_quick_parsing_unless_marshmallow_agrees(payload):
    agrees(quick_parse.set_payload(payload), SetPayload(), payload)
    agrees(quick_parse.clear_payload(payload), ClearPayload(), payload)


@pytest.mark.parametrize("value", [ID, ID.upper(), ID.replace("-", ""), "{" + ID + "}", f"urn:uuid:{ID}",
                                   "not-a-uuid", "", "x" * 36, ID[:-1] + "g"])
def test_uuid_of_parses_as_uuid_does(value):
    try:
        expected = uuid.UUID(value)
    except ValueError:
        expected = None
    assert quick_parse.uuid_of(value) == expected
