"""flask-smorest's Api, answering and documenting every error as application/problem+json."""

from __future__ import annotations

import http

import marshmallow as ma
from apispec import BasePlugin
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
    # Extension members (RFC 9457 §3.2) some problems carry, so a client can act on them:
    current = ma.fields.Raw(metadata={"description": "Trạng thái hiện tại của tài nguyên, khi yêu cầu xung đột với "
                                                     "nó (409, 412), để máy khách hiển thị và cho người dùng chọn"})
    status_of_upload = ma.fields.String(metadata={
        "description": "Trạng thái của lượt tải lên (ready | rejected) khi không nhận thêm dữ liệu (409)"})
    expected_offset = ma.fields.Integer(metadata={"description": "Vị trí máy chủ đang chờ (409 của lượt tải lên)"})
    upload_id = ma.fields.String(metadata={"description": "Lượt tải lên bị từ chối sau khi nhận đủ dữ liệu (422)"})
    inspections = ma.fields.List(ma.fields.String(), metadata={
        "description": "Các cuộc kiểm tra chưa được duyệt, khi thông báo kết luận chưa thể ban hành (409)"})
    findings = ma.fields.List(ma.fields.String(), metadata={
        "description": "Các hạn chế chưa có kiến nghị, khi văn bản chưa thể ban hành (409)"})
    sections = ma.fields.List(ma.fields.Dict(), metadata={
        "description": "Các phần đang được phân công, khi thành viên chưa thể rời Đoàn (409)"})


class GenericResponsesPlugin(BasePlugin):
    """The answers any operation may give whatever its route does, documented once here, so the OpenAPI
    document lists every status the API can answer and needs no catch-all `default` response:
    503 when the database is unreachable (errors.handle_database_unavailable), and for an operation with a
    JSON body 400 (not JSON), 413 (over JSON_MAX_BYTES or JSON_MAX_VALUES, security.py) and 415 (another
    media type)."""

    BODY_STATUSES = {400: "BAD_REQUEST", 413: "REQUEST_ENTITY_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE"}

    def operation_helper(self, path=None, operations=None, **kwargs):
        for operation in (operations or {}).values():
            responses = operation.setdefault("responses", {})
            statuses = {503: "SERVICE_UNAVAILABLE"}
            if "requestBody" in operation:
                statuses |= self.BODY_STATUSES
            for status, name in statuses.items():
                if status not in responses and str(status) not in responses:
                    responses[status] = name


class ProblemApi(Api):
    ERROR_SCHEMA = ProblemSchema
    # No catch-all: each operation lists what it answers (GenericResponsesPlugin adds what every one may).
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _init_spec(self, *, extra_plugins=None, **kwargs):
        super()._init_spec(extra_plugins=[*(extra_plugins or ()), GenericResponsesPlugin()], **kwargs)

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
