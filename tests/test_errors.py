"""Every error is application/problem+json with a Vietnamese title, and never leaks internals."""

from __future__ import annotations

from audit_api import create_app

PROBLEM = "application/problem+json"


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status
    assert body["type"].startswith("/problems/")
    assert body["title"] and body["detail"]
    text = response.get_data(as_text=True)
    for leak in ("Traceback", "sqlalchemy", "SELECT ", 'File "'):
        assert leak not in text
    return body


def test_unknown_route_is_a_problem(client):
    body = assert_problem(client.get("/api/v1/khong-co"), 404)
    assert body["title"] == "Không tìm thấy"
    assert body["instance"] == "/api/v1/khong-co"


def test_wrong_method_is_a_problem_with_allow_header(client, staff):
    response = client.delete("/api/v1/checklists", headers=staff)
    body = assert_problem(response, 405)
    assert "DELETE" in body["detail"]
    assert "GET" in response.headers["Allow"]


def test_malformed_json_is_a_problem(client, admin):
    response = client.post("/api/v1/checklists/validation", headers=admin, data='{"yaml": "key: x",',
                           content_type="application/json")
    body = assert_problem(response, 400)
    assert "JSON" in body["detail"]


def test_unknown_field_is_rejected_not_stored(client, admin):
    response = client.post("/api/v1/checklists/validation", headers=admin,
                           json={"yaml": "key: x", "id": "abc", "status": "ok"})
    body = assert_problem(response, 422)
    assert set(body["errors"]) == {"id", "status"}
    assert body["errors"]["id"] == ["Trường không được phép (unknown field)."]


def test_missing_field_is_a_validation_problem_with_field_errors(client, admin):
    body = assert_problem(client.post("/api/v1/checklists/validation", headers=admin, json={}), 422)
    assert body["errors"] == {"yaml": ["Thiếu trường bắt buộc (required)."]}


def test_non_object_body_is_a_validation_problem(client, admin):
    assert_problem(client.post("/api/v1/checklists/validation", headers=admin, json=[1, 2]), 422)


def test_oversize_body_is_a_problem(app, client, admin):
    limit = app.config["MAX_CONTENT_LENGTH"]
    response = client.post("/api/v1/checklists/validation", headers=admin, data=b"x" * (limit + 1),
                           content_type="application/json")
    body = assert_problem(response, 413)
    assert "giới hạn" in body["detail"]


def test_invalid_query_argument_is_a_validation_problem(client, staff):
    body = assert_problem(client.get("/api/v1/units?page_size=1000000", headers=staff), 422)
    assert "page_size" in str(body["errors"])


def test_token_errors_are_problems(client, staff):
    assert_problem(client.get("/api/v1/auth/me"), 401)
    body = assert_problem(client.get("/api/v1/auth/me", headers={"Authorization": "Bearer not.a.token"}), 401)
    assert "không hợp lệ" in body["detail"]
    assert client.get("/api/v1/auth/me", headers=staff).status_code == 200


def test_unexpected_errors_become_a_generic_500_with_request_id(tmp_path):
    app = create_app({"APP_ENV": "development", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'e.sqlite3'}"})

    @app.get("/boom")
    def boom():
        raise RuntimeError("SELECT secret FROM users -- internal detail")

    response = app.test_client().get("/boom", headers={"X-Request-ID": "req-42"})
    body = assert_problem(response, 500)
    assert body["request_id"] == "req-42"
    assert "secret" not in response.get_data(as_text=True)
