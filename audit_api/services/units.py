"""Reading the unit tree (effective-dated) and its succession links."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date

import sqlalchemy as sa

from ..errors import NotFound
from ..extensions import db
from ..models import Unit, UnitSuccession, UnitType


def _valid_on(query, day: date | None):
    if day is None:
        return query
    return query.where(
        sa.or_(Unit.valid_from.is_(None), Unit.valid_from <= day),
        sa.or_(Unit.valid_to.is_(None), Unit.valid_to >= day),
    )


def tree_order(units: list[Unit]) -> list[tuple[Unit, int]]:
    """Depth-first order with depths; units whose parent is not in the set are roots."""
    by_parent: dict[uuid.UUID | None, list[Unit]] = defaultdict(list)
    ids = {unit.id for unit in units}
    for unit in units:
        by_parent[unit.parent_id if unit.parent_id in ids else None].append(unit)
    for children in by_parent.values():
        children.sort(key=lambda u: (u.unit_type, u.name))
    ordered: list[tuple[Unit, int]] = []
    stack = [(unit, 0) for unit in reversed(by_parent[None])]
    while stack:
        unit, depth = stack.pop()
        ordered.append((unit, depth))
        stack.extend((child, depth + 1) for child in reversed(by_parent[unit.id]))
    return ordered


def list_units(*, unit_type: str | None = None, valid_on: date | None = None,
               parent_id: uuid.UUID | None = None) -> list[tuple[Unit, int]]:
    """Units in tree order (depth-first); filters keep the order and depths of the whole tree."""
    all_units = list(db.session.scalars(_valid_on(sa.select(Unit), valid_on)))
    ordered = tree_order(all_units)
    if parent_id is not None:
        ordered = [(u, d) for u, d in ordered if u.parent_id == parent_id]
    if unit_type is not None:
        ordered = [(u, d) for u, d in ordered if u.unit_type == unit_type]
    return ordered


def unit_type_labels() -> dict[str, str]:
    return dict(db.session.execute(sa.select(UnitType.code, UnitType.label)).all())


def get_unit(unit_id: uuid.UUID) -> Unit:
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        raise NotFound("Không tìm thấy đơn vị.")
    return unit


def successions(unit: Unit) -> tuple[list[UnitSuccession], list[UnitSuccession]]:
    """(what this unit became, what it came from)."""
    successors = list(db.session.scalars(sa.select(UnitSuccession).filter_by(from_unit_id=unit.id)))
    predecessors = list(db.session.scalars(sa.select(UnitSuccession).filter_by(to_unit_id=unit.id)))
    return successors, predecessors


def depth_of(unit: Unit) -> int:
    depth, node = 0, unit
    while node.parent is not None:
        depth, node = depth + 1, node.parent
    return depth


PROVINCE_TYPES = ("province", "municipality")


def province_of(unit: Unit) -> Unit | None:
    """The province (or centrally-run city) a unit sits under, itself if it is one."""
    node: Unit | None = unit
    while node is not None and node.unit_type not in PROVINCE_TYPES:
        node = node.parent
    return node


def require_in_province(unit: Unit, province_id, field: str) -> Unit:
    """Refuse a unit of another province: data never crosses provinces."""
    from ..errors import InvalidData

    province = province_of(unit)
    if province is None or province.id != province_id:
        raise InvalidData(f"{unit.name} không thuộc tỉnh của bản ghi này.", errors={field: ["Đơn vị thuộc tỉnh khác."]})
    return unit
