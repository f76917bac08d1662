"""The API keeps its OpenAPI contract under schemathesis, signed in as each role (tests/contract.py), and the
failures schemathesis found, kept as plain regression tests."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from audit_api.extensions import db
from audit_api.models import User
from audit_api.services.demo import demo_id
from tests import contract

PLAN, TEAM = demo_id("plan-2026"), demo_id("team-2026")


def _user_id(username: str):
    return db.session.scalar(sa.select(User.id).filter_by(username=username))


@pytest.fixture(scope="module")
def reports() -> dict[str, contract.Report]:
    return {}


@pytest.mark.parametrize("role", list(contract.ROLE_USERS))
def test_every_operation_keeps_its_contract(app, role, reports):
    chosen = contract.profile()
    contract.stage(app)
    report = contract.run(app, role, chosen)
    reports[role] = report
    print(f"\n{role}: profile {chosen.name}, seed {report.seed}, {sum(report.calls.values())} calls, "
          f"{report.inferred_links} links inferred for the stateful phase; calls by phase "
          f"{ {str(phase): calls for phase, calls in report.calls_by_phase.items()} }")
    assert not report.errors, "\n".join(report.errors)
    assert not report.failures, f"seed {report.seed}\n{report.describe_failures()}"
    missing = contract.documented_operations(app) - report.operations
    assert not missing, f"not exercised as {role}: {sorted(missing)}"
    assert report.inferred_links > 0  # the stateful phase had links to follow, so it ran


def test_the_roles_together_reach_a_success_on_every_operation(app, reports):
    """Answers of 401/403/404/422 alone would say little: across the roles, each operation must have been
    carried out at least once (2xx, or 304 for a conditional read)."""
    if set(reports) != set(contract.ROLE_USERS):
        pytest.skip("needs every role's run of this module")
    succeeded = {operation for report in reports.values() for operation, status in report.calls
                 if 200 <= status < 300 or status == 304}
    never = contract.documented_operations(app) - succeeded
    assert not never, f"no role carried these out: {sorted(never)}"


# --- what schemathesis found, as regression tests ---------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/plans/{plan}", "/api/v1/teams/{team}", "/api/v1/users/{user}"])
def test_a_patch_without_a_body_is_refused_not_taken_as_an_empty_change(client, admin, path):
    """PATCH with no body answered 200 (webargs read it as {}); the document says the body is required."""
    url = path.format(plan=PLAN, team=TEAM, user=_user_id("kiemtra2"))
    response = client.patch(url, headers=admin)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert "JSON" in response.get_json()["errors"]["json"][0]


def test_a_body_of_another_media_type_is_415(client, admin):
    response = client.patch(f"/api/v1/teams/{TEAM}", headers=admin, data="name=x",
                            content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert response.mimetype == "application/problem+json"
    assert "application/json" in response.get_json()["detail"]


@pytest.mark.parametrize(("field", "value"), [("is_active", 0), ("is_active", "false"), ("is_active", 1)])
def test_a_boolean_must_be_a_json_boolean(client, admin, field, value):
    """is_active: 0 deactivated a user: marshmallow's Boolean takes 0, 1, "false"…; the document says boolean."""
    user = _user_id("kiemtra2")
    response = client.patch(f"/api/v1/users/{user}", headers=admin, json={field: value})
    assert response.status_code == 422, response.get_data(as_text=True)
    assert field in response.get_json()["errors"]
    assert client.get(f"/api/v1/users/{user}", headers=admin).get_json()["is_active"] is True


@pytest.mark.parametrize("value", ["2026", 2026.5, True])
def test_an_integer_must_be_a_json_integer(client, admin, value):
    response = client.patch(f"/api/v1/plans/{PLAN}", headers=admin, json={"year": value})
    assert response.status_code == 422, response.get_data(as_text=True)
    assert "year" in response.get_json()["errors"]


def test_every_request_body_schema_takes_strict_booleans_and_integers():
    """StrictSchema refuses, when a schema is made, marshmallow's lenient Boolean and Integer: every request
    body schema can be made."""
    from audit_api.schemas.common import StrictSchema

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    made = [schema() for schema in subclasses(StrictSchema)]
    assert len(made) > 40


@pytest.mark.parametrize("text", ["\u0000", "a\u0000b", "\ud800", "x\udc00", "\udbff\u0041"])
def test_json_with_characters_no_database_stores_is_422(client, staff, text):
    """A rejected sync mutation keeps its raw payload: {"\\u0000": …} answered 500 on PostgreSQL (jsonb refuses
    NUL), and a lone surrogate cannot be encoded for either database. Refused before any route reads it."""
    body = {"device_id": "tablet", "mutations": [{"id": "x", "type": "?", "payload": {text: None}}]}
    response = client.post("/api/v1/sync", headers=staff, data=json.dumps(body), content_type="application/json")
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert "NUL" in response.get_json()["detail"]


@pytest.mark.parametrize("raw", [rb'"\\u0000"', rb'"\\\\\\\\u0000"', rb'"\ud83d\ude00"'])
def test_escaped_backslashes_and_surrogate_pairs_are_ordinary_text(client, staff, raw):
    """"\\\\u0000" is a backslash and the letters u0000; a surrogate pair is one character (😀): both are kept."""
    body = b'{"device_id": ' + raw + b', "mutations": []}'
    response = client.post("/api/v1/sync", headers=staff, data=body, content_type="application/json")
    assert response.status_code == 200, response.get_data(as_text=True)
