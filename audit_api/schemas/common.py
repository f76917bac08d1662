"""Schemas shared by several resources: pagination and small envelopes."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

PAGE_SIZE_MAX = 500


def no_nul(value: str) -> None:
    """PostgreSQL text cannot hold NUL; refuse it at the door (422) rather than fail at the database."""
    if "\x00" in value:
        raise ma.ValidationError("Chứa ký tự không hợp lệ (NUL).")


class StrictSchema(ma.Schema):
    """Request bodies refuse unknown fields (422) rather than silently dropping or storing them."""

    class Meta:
        unknown = ma.RAISE


class PageArgsSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    page_size = fields.Integer(load_default=100, validate=validate.Range(min=1, max=PAGE_SIZE_MAX))


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
