"""Schemas shared by several resources: pagination and small envelopes."""

from __future__ import annotations

import marshmallow as ma
from flask import current_app, has_app_context
from marshmallow import fields, validate

PAGE_SIZE_MAX = 500  # the default of the PAGE_SIZE_MAX setting


def no_nul(value: str) -> None:
    """PostgreSQL text cannot hold NUL; refuse it at the door (422) rather than fail at the database."""
    if "\x00" in value:
        raise ma.ValidationError("Chứa ký tự không hợp lệ (NUL).")


class StrictBoolean(fields.Boolean):
    """JSON true or false only: marshmallow's Boolean also takes 0, 1, "yes", "on"…, which the OpenAPI document
    (type: boolean) does not allow."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class StrictInteger(fields.Integer):
    """A JSON integer only: not "5", 5.5 or true (marshmallow's Integer takes the first two, and its strict
    mode still the third, a bool being an int in Python)."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)

    def _validated(self, value):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._validated(value)


class StrictSchema(ma.Schema):
    """Request bodies refuse unknown fields (422) rather than silently dropping or storing them, and take
    booleans and integers only as JSON booleans and integers."""

    class Meta:
        unknown = ma.RAISE

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        if type(field_obj) in (fields.Boolean, fields.Integer):
            raise TypeError(f"{type(self).__name__}.{field_name}: a request body takes StrictBoolean or "
                            f"StrictInteger, not marshmallow's lenient {type(field_obj).__name__}")


def page_size_max() -> int:
    return current_app.config.get("PAGE_SIZE_MAX", PAGE_SIZE_MAX) if has_app_context() else PAGE_SIZE_MAX


def within_page_size_max(value: int) -> None:
    """The configured PAGE_SIZE_MAX, read per request (a schema's Range would freeze it at import)."""
    limit = page_size_max()
    if value > limit:
        raise ma.ValidationError(f"Phải nhỏ hơn hoặc bằng {limit} (too large).")


class PageArgsSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    page_size = fields.Integer(load_default=100, validate=[validate.Range(min=1), within_page_size_max],
                               metadata={"maximum": PAGE_SIZE_MAX,
                                         "description": "Số dòng mỗi trang, tối đa PAGE_SIZE_MAX (mặc định 500)"})


class PaginationSchema(ma.Schema):
    page = fields.Integer(required=True)
    page_size = fields.Integer(required=True)
    total = fields.Integer(required=True)
    pages = fields.Integer(required=True)


class HealthSchema(ma.Schema):
    status = fields.String(required=True)
    database = fields.String(required=True)


def paginate(query_total: int, page: int, page_size: int) -> dict:
    return {
        "page": page,
        "page_size": page_size,
        "total": query_total,
        "pages": (query_total + page_size - 1) // page_size,
    }
