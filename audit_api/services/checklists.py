"""Publishing checklist files into the database, and reading what is published.

Sync is all-or-nothing: if any file is refused, nothing is written, so the database never holds half of
a change. A version already loaded with the same content is left alone (sync is idempotent); a version
loaded with different content is refused with the differences named.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import marshmallow as ma
import sqlalchemy as sa
from marshmallow import fields, validate

from .. import checklist_format as fmt
from ..checklist_schema import Problem
from ..checklists import (
    ChecklistError,
    LoadedChecklist,
    UnitTypes,
    checklist_files,
    describe_differences,
    load_checklist,
    load_unit_types,
    read_yaml,
)
from ..errors import NotFound
from ..extensions import db
from ..models import ChecklistVersion, ThresholdOverride, UnitType


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    thresholds: int = 0
    unit_types: int = 0
    errors: list[str] = field(default_factory=list)


def validate_files(checklists_dir: Path, paths: list[Path] | None = None) -> tuple[list[LoadedChecklist], list[str]]:
    """Validate checklist files; returns what loaded and the messages of what did not."""
    unit_types = load_unit_types(checklists_dir)
    loaded, errors = [], []
    for path in paths or checklist_files(checklists_dir):
        try:
            loaded.append(load_checklist(Path(path), unit_types))
        except ChecklistError as exc:
            errors.extend(exc.messages)
    keys = [(item.key, item.version) for item in loaded]
    for key_version in {kv for kv in keys if keys.count(kv) > 1}:
        errors.append(f"{key_version[0]} phiên bản {key_version[1]} được khai báo trong nhiều tệp")
    return loaded, errors


def validate_text(checklists_dir: Path, text: str, filename: str) -> tuple[LoadedChecklist | None, list[str]]:
    """Validate checklist content given as text (nothing is written)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / Path(filename).name
        path.write_text(text, encoding="utf-8")
        try:
            loaded = load_checklist(path, load_unit_types(checklists_dir))
        except ChecklistError as exc:
            prefix = f"{path}: "
            return None, [message.replace(prefix, f"{Path(filename).name}: ", 1) for message in exc.messages]
    return loaded, []


def sync_checklists(checklists_dir: Path) -> SyncReport:
    """Load unit types, checklist versions and threshold overrides. Flushes; the caller commits."""
    checklists_dir = Path(checklists_dir)
    report = SyncReport()
    loaded, report.errors = validate_files(checklists_dir)
    overrides, override_errors = _load_overrides(checklists_dir, loaded)
    report.errors.extend(override_errors)
    if report.errors:
        return report

    unit_types = load_unit_types(checklists_dir)
    report.unit_types = _sync_unit_types(unit_types)
    for checklist in loaded:
        existing = db.session.scalar(
            sa.select(ChecklistVersion).filter_by(key=checklist.key, version=checklist.version)
        )
        label = f"{checklist.key} v{checklist.version}"
        if existing is None:
            db.session.add(ChecklistVersion(
                key=checklist.key,
                version=checklist.version,
                title=checklist.title,
                regime_valid_from=checklist.regime_valid_from,
                regime_valid_to=checklist.regime_valid_to,
                sha256=checklist.sha256,
                definition=checklist.definition,
                source_file=checklist.path.name,
            ))
            report.created.append(label)
        elif existing.sha256 == checklist.sha256:
            report.unchanged.append(label)
        else:
            differences = describe_differences(existing.definition, checklist.definition)
            report.errors.append(
                f"{checklist.path}: {label} đã được nạp với nội dung khác; phiên bản đã công bố không được sửa — "
                f"hãy tăng 'version'. Khác biệt: " + "; ".join(differences)
            )
    if report.errors:
        return report
    report.thresholds = _sync_overrides(overrides)
    db.session.flush()
    return report


def _sync_unit_types(unit_types: UnitTypes) -> int:
    for code, spec in unit_types.types.items():
        row = db.session.get(UnitType, code) or UnitType(code=code)
        row.label = spec["label"]
        row.level = spec["level"]
        row.is_legacy = bool(spec.get("legacy", False))
        db.session.add(row)
    return len(unit_types.types)


# --- threshold overrides ----------------------------------------------------------------------------


class _OverrideSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    item = fields.String(required=True)
    value = fields.Raw(required=True, allow_none=False)
    op = fields.String(validate=validate.OneOf(fmt.NUMERIC_OPS + fmt.EQUALITY_OPS + fmt.LIST_OPS))
    year = fields.Integer(required=True, validate=validate.Range(min=1990, max=2100))
    source = fields.String(required=True, validate=validate.Length(min=1))


class _OverrideFileSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    province = fields.String(required=True)
    checklist = fields.String(required=True)
    overrides = fields.List(fields.Nested(_OverrideSchema), required=True)


def _load_overrides(checklists_dir: Path, loaded: list[LoadedChecklist]) -> tuple[list[dict], list[str]]:
    items_by_key: dict[str, dict[str, dict]] = {}
    for checklist in loaded:
        for section in checklist.definition["sections"]:
            for item in section["items"]:
                items_by_key.setdefault(checklist.key, {})[item["code"]] = item
    rows, errors = [], []
    for path in sorted((checklists_dir / "thresholds").glob("*.yaml")):
        try:
            data = _OverrideFileSchema().load(read_yaml(path) or {})
        except ma.ValidationError as exc:
            errors.append(f"{path}: {exc.messages}")
            continue
        items = items_by_key.get(data["checklist"])
        if items is None:
            errors.append(f"{path}: danh mục '{data['checklist']}' không tồn tại")
            continue
        for entry in data["overrides"]:
            problem = _override_problem(items.get(entry["item"]), entry)
            if problem:
                errors.append(Problem(f"mục {entry['item']}", "", problem).format(str(path)))
                continue
            rows.append({**entry, "province": data["province"], "checklist": data["checklist"], "file": path.name})
    return rows, errors


def _override_problem(item: dict | None, entry: dict) -> str | None:
    if item is None:
        return "mục không có trong danh mục"
    threshold = item.get("threshold")
    if not threshold:
        return "mục không có ngưỡng để ghi đè"
    kind = fmt.METRICS[item["answer_type"]][threshold["metric"]]
    if kind == "number" and (isinstance(entry["value"], bool) or not isinstance(entry["value"], int | float)):
        return f"ngưỡng của mục là số, nhận được {entry['value']!r}"
    return None


def _sync_overrides(rows: list[dict]) -> int:
    for row in rows:
        existing = db.session.scalar(sa.select(ThresholdOverride).filter_by(
            province_code=row["province"], checklist_key=row["checklist"], item_code=row["item"], year=row["year"],
        ))
        target = existing or ThresholdOverride(
            province_code=row["province"], checklist_key=row["checklist"], item_code=row["item"], year=row["year"],
        )
        target.op = row.get("op")
        target.value = row["value"]
        target.source = row["source"]
        target.source_file = row["file"]
        db.session.add(target)
    return len(rows)


def effective_threshold(version: ChecklistVersion, item_code: str, province_code: str | None, year: int) -> dict | None:
    """The threshold that applies to an item for a province in a year: the latest override not after
    `year`, else the checklist's own. Returns {metric, op, value, source, year} or None."""
    item = find_item(version.definition, item_code)
    base = item.get("threshold") if item else None
    if base is None or province_code is None:
        return base
    override = db.session.scalar(
        sa.select(ThresholdOverride)
        .filter_by(province_code=province_code, checklist_key=version.key, item_code=item_code)
        .where(ThresholdOverride.year <= year)
        .order_by(ThresholdOverride.year.desc())
        .limit(1)
    )
    if override is None:
        return base
    return {**base, "op": override.op or base["op"], "value": override.value,
            "source": override.source, "year": override.year}


def find_item(definition: dict, item_code: str) -> dict | None:
    for section in definition["sections"]:
        for item in section["items"]:
            if item["code"] == item_code:
                return item
    return None


# --- reading ----------------------------------------------------------------------------------------


def list_versions() -> list[ChecklistVersion]:
    query = sa.select(ChecklistVersion).order_by(ChecklistVersion.key, ChecklistVersion.version)
    return list(db.session.scalars(query))


def get_version(key: str, version: int) -> ChecklistVersion:
    found = db.session.scalar(sa.select(ChecklistVersion).filter_by(key=key, version=version))
    if found is None:
        raise NotFound(f"Không tìm thấy danh mục kiểm tra {key} phiên bản {version}.")
    return found
