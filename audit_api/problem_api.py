"""flask-smorest's Api, answering and documenting every error as application/problem+json."""

from __future__ import annotations

import http

import marshmallow as ma
from flask_smorest import Api
from flask_smorest.utils import prepare_response

from .errors import PROBLEM_MIMETYPE, http_exception_to_problem


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details (documentation only; errors.problem_response builds the body)."""

    type = ma.fields.String(required=True, metadata={"description": "URI tham chiếu loại lỗi"})
    title = ma.fields.String(required=True, metadata={"description": "Tiêu đề lỗi (tiếng Việt)"})
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String(metadata={"description": "Mô tả chi tiết (tiếng Việt, kèm tiếng Anh)"})
    instance = ma.fields.String()
    errors = ma.fields.Raw(metadata={"description": "Lỗi theo từng trường"})
    request_id = ma.fields.String()


class ProblemApi(Api):
    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self):
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            content_type = self.DEFAULT_RESPONSE_CONTENT_TYPE
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
                content_type = PROBLEM_MIMETYPE
            prepare_response(response, self.spec, content_type)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Lỗi (problem+json)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_MIMETYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)

    def handle_http_exception(self, error):
        return http_exception_to_problem(error)
