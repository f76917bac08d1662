"""The unit tree: flat in tree order with filters, nested, and one unit with its history."""

from __future__ import annotations

import uuid

from .. import access
from ..schemas.common import paginate
from ..schemas.units import (
    UnitDetailSchema,
    UnitListArgsSchema,
    UnitListSchema,
    UnitTreeArgsSchema,
    UnitTreeSchema,
)
from ..services import units as service
from .blueprint import Blueprint

URL_PREFIX = "/units"
blp = Blueprint("units", __name__, description="Cây đơn vị / unit tree")


def _unit_dict(unit, depth: int, labels: dict[str, str]) -> dict:
    return {
        "id": unit.id, "code": unit.code, "name": unit.name, "short_name": unit.short_name,
        "abbrev": unit.abbrev, "unit_type": unit.unit_type,
        "unit_type_label": labels.get(unit.unit_type, unit.unit_type),
        "parent_id": unit.parent_id, "admin_code": unit.admin_code, "place_name": unit.place_name,
        "valid_from": unit.valid_from, "valid_to": unit.valid_to, "depth": depth,
    }


@blp.get("")
@access.signed_in(roles=access.STAFF)
@blp.arguments(UnitListArgsSchema, location="query")
@blp.response(200, UnitListSchema)
def list_units(args):
    """Danh sách đơn vị theo thứ tự cây, lọc theo loại, ngày hiệu lực, đơn vị cha."""
    ordered = service.list_units(unit_type=args.get("type"), valid_on=args.get("valid_on"),
                                 parent_id=args.get("parent_id"))
    labels = service.unit_type_labels()
    page, size = args["page"], args["page_size"]
    window = ordered[(page - 1) * size: page * size]
    return {"data": [_unit_dict(u, d, labels) for u, d in window], "pagination": paginate(len(ordered), page, size)}


@blp.get("/tree")
@access.signed_in(roles=access.STAFF)
@blp.arguments(UnitTreeArgsSchema, location="query")
@blp.response(200, UnitTreeSchema)
def unit_tree(args):
    """Cây đơn vị lồng nhau (children), có thể lọc theo ngày hiệu lực."""
    labels = service.unit_type_labels()
    nodes: dict[uuid.UUID, dict] = {}
    roots: list[dict] = []
    for unit, depth in service.list_units(valid_on=args.get("valid_on")):
        node = {**_unit_dict(unit, depth, labels), "children": []}
        nodes[unit.id] = node
        (nodes[unit.parent_id]["children"] if unit.parent_id in nodes else roots).append(node)
    return {"data": roots}


@blp.get("/<uuid:unit_id>")
@access.signed_in(roles=access.STAFF)
@blp.response(200, UnitDetailSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_unit(unit_id: uuid.UUID):
    """Một đơn vị, với tên cũ và quan hệ sáp nhập, chia tách, giải thể."""
    unit = service.get_unit(unit_id)
    successors, predecessors = service.successions(unit)
    labels = service.unit_type_labels()

    def link(row, other):
        return {"kind": row.kind, "effective_date": row.effective_date, "legal_basis": row.legal_basis,
                "unit_id": other.id if other else None, "unit_name": other.name if other else None}

    return {
        **_unit_dict(unit, service.depth_of(unit), labels),
        "former_names": [{"name": n.name, "valid_from": n.valid_from, "valid_to": n.valid_to} for n in unit.names],
        "successors": [link(row, row.to_unit) for row in successors],
        "predecessors": [link(row, row.from_unit) for row in predecessors],
    }
