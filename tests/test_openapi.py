"""The OpenAPI document is valid OpenAPI 3 and covers every route of the API."""

from __future__ import annotations

import re

from openapi_spec_validator import validate


def test_openapi_document_is_valid_and_covers_every_route(app, client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    validate(spec)
    assert spec["openapi"].startswith("3.")
    documented = {(path, method.upper()) for path, item in spec["paths"].items() for method in item}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule == "/api/v1/openapi.json":
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method) in documented, f"{method} {path} is not in the OpenAPI document"


def test_errors_are_documented_as_problem_json(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    not_found = spec["components"]["responses"]["NOT_FOUND"]
    assert "application/problem+json" in not_found["content"]


def test_interactive_docs_are_served_with_local_assets(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert "/api/docs/assets/" in page.get_data(as_text=True)
    for asset in ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"):
        assert client.get(f"/api/docs/assets/{asset}").status_code == 200


def test_protected_operations_document_bearer_security_and_their_refusals(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    users = spec["paths"]["/api/v1/users"]["post"]
    assert users["security"] == [{"bearerAuth": []}]
    assert {"401", "403", "422"} <= set(users["responses"])
    me = spec["paths"]["/api/v1/auth/me"]["get"]
    assert "401" in me["responses"] and "403" not in me["responses"]  # any signed-in user may ask
    health = spec["paths"]["/api/v1/health"]["get"]
    assert "security" not in health
