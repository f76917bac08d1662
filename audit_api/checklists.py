"""Load and validate checklists/*.yaml into normalized, hashable definitions.

Two passes: marshmallow schemas check the shape (unknown keys refused), then check_semantics() checks
what a schema cannot: codes unique, references to items that exist, metrics that fit the answer type,
placeholders every rule can fill, legal references in force during the checklist's regime. Every
problem names the file, the item and the reason.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import marshmallow as ma
import yaml

from . import checklist_format as fmt
from .checklist_schema import ChecklistSchema, Problem, shape_problems

ITEM_CODE = re.compile(r"^[A-H][0-9]{1,2}[a-z]?$")


# --- reading YAML strictly --------------------------------------------------------------------------


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML that keeps dates as strings (the schema parses them) and refuses duplicate keys."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"khóa '{key}' bị lặp (duplicate key)", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_yaml(path: Path):
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_StrictLoader)  # noqa: S506 — a SafeLoader subclass


# --- problems ---------------------------------------------------------------------------------------


class ChecklistError(Exception):
    """A file that cannot be published; `messages` name file, item and reason."""

    def __init__(self, filename: str, problems: list[Problem]):
        self.filename = filename
        self.problems = problems
        self.messages = [problem.format(filename) for problem in problems]
        super().__init__("\n".join(self.messages))


# --- semantics --------------------------------------------------------------------------------------


@dataclass
class UnitTypes:
    types: dict[str, dict]
    groups: dict[str, list[str]]

    def expand(self, names: list[str]) -> tuple[list[str], list[str]]:
        expanded, unknown = set(), []
        for name in names:
            if name in self.groups:
                expanded.update(self.groups[name])
            elif name in self.types:
                expanded.add(name)
            else:
                unknown.append(name)
        return sorted(expanded), unknown


def load_unit_types(checklists_dir: Path) -> UnitTypes:
    data = read_yaml(Path(checklists_dir) / "shared" / "unit-types.yaml")
    return UnitTypes(types=data["types"], groups=data.get("groups", {}))


@dataclass
class _Context:
    items: dict[str, dict]
    problems: list[Problem] = field(default_factory=list)

    def add(self, code: str | None, where_field: str, reason: str) -> None:
        self.problems.append(Problem(f"mục {code}" if code else "đầu tệp", where_field, reason))


def _metric_kind(ctx: _Context, item_code: str, metric: str, code: str, where: str) -> str | None:
    target = ctx.items.get(item_code)
    if target is None:
        ctx.add(code, where, f"tham chiếu mục {item_code} không tồn tại trong danh mục")
        return None
    metrics = fmt.METRICS[target["answer_type"]]
    if metric not in metrics:
        ctx.add(code, where, f"mục {item_code} ({target['answer_type']}) không có chỉ số '{metric}'; "
                             f"có thể dùng: {', '.join(metrics)}")
        return None
    return metrics[metric]


def _check_literal(ctx, code, where, op, kind, literal, target_item) -> None:
    """Is `literal` a sensible right-hand side for `op` on a metric of this kind?"""
    if op in fmt.UNARY_OPS:
        return
    if op in fmt.LIST_OPS:
        if not isinstance(literal, list) or not literal:
            ctx.add(code, where, f"toán tử '{op}' cần một danh sách giá trị")
            return
        for value in literal:
            _check_literal(ctx, code, where, "==", kind, value, target_item)
        return
    if op in fmt.NUMERIC_OPS and kind != "number":
        ctx.add(code, where, f"toán tử '{op}' chỉ dùng cho chỉ số số học, không dùng cho kiểu {kind}")
        return
    if op in fmt.SET_OPS and kind != "codes":
        ctx.add(code, where, f"toán tử '{op}' chỉ dùng cho chỉ số 'selected' của multiselect")
        return
    if kind == "number" and (isinstance(literal, bool) or not isinstance(literal, int | float)):
        ctx.add(code, where, f"cần một số, nhận được {literal!r}")
    elif kind == "yes_no" and literal not in fmt.YES_NO_VALUES:
        ctx.add(code, where, f"giá trị phải là yes, no hoặc na, nhận được {literal!r}")
    elif kind in ("code", "codes"):
        options = {option["code"] for option in target_item.get("options") or []}
        if literal not in options:
            ctx.add(code, where, f"'{literal}' không phải mã lựa chọn của mục {target_item['code']}")


def _normalize_operand(ctx, operand, code, where):
    """Returns (normalized operand, kind or None, referenced item or None)."""
    if isinstance(operand, dict):
        if set(operand) == {"sum"}:
            terms = operand["sum"]
            if not isinstance(terms, list) or not terms:
                ctx.add(code, where, "'sum' cần một danh sách toán hạng")
                return operand, None, None
            normalized = []
            for term in terms:
                term_norm, kind, _ = _normalize_operand(ctx, term, code, where)
                if kind not in (None, "number"):
                    ctx.add(code, where, "'sum' chỉ cộng các chỉ số số học")
                normalized.append(term_norm)
            return {"sum": normalized}, "number", None
        unknown = set(operand) - {"item", "metric"}
        if unknown:
            ctx.add(code, where, f"toán hạng có khóa không hợp lệ: {', '.join(sorted(unknown))}")
            return operand, None, None
        item_code = operand.get("item", code)
        metric = operand.get("metric", "value")
        kind = _metric_kind(ctx, item_code, metric, code, where)
        return {"item": item_code, "metric": metric}, kind, ctx.items.get(item_code)
    if operand == "threshold":
        if not (ctx.items.get(code) or {}).get("threshold"):
            ctx.add(code, where, "dùng 'threshold' nhưng mục không có ngưỡng")
        return {"threshold": True}, "number", None
    return {"literal": operand}, "literal", None


def _normalize_condition(ctx, condition, code, where) -> dict | None:
    if not isinstance(condition, dict):
        ctx.add(code, where, "điều kiện phải là một đối tượng {metric/item, op, value} hoặc {left, op, right}")
        return None
    op = condition.get("op")
    if op not in fmt.OPERATORS:
        ctx.add(code, where, f"toán tử '{op}' không hợp lệ; dùng: {' '.join(fmt.OPERATORS)}")
        return None
    if "left" in condition:
        unknown = set(condition) - {"left", "op", "right"}
        left = condition["left"]
        right = condition.get("right")
    else:
        unknown = set(condition) - {"item", "metric", "op", "value"}
        left = {"item": condition.get("item", code), "metric": condition.get("metric", "value")}
        right = condition.get("value")
    if unknown:
        ctx.add(code, where, f"điều kiện có khóa không hợp lệ: {', '.join(sorted(unknown))}")
        return None
    has_right = ("right" in condition) if "left" in condition else ("value" in condition)
    if op in fmt.UNARY_OPS and has_right:
        ctx.add(code, where, f"toán tử '{op}' không nhận giá trị so sánh")
    if op not in fmt.UNARY_OPS and not has_right:
        ctx.add(code, where, f"toán tử '{op}' cần giá trị so sánh")
    left_norm, left_kind, left_item = _normalize_operand(ctx, left, code, where)
    if op in fmt.UNARY_OPS:
        return {"left": left_norm, "op": op}
    right_norm, right_kind, _ = _normalize_operand(ctx, right, code, where)
    if left_kind not in (None, "literal") and right_kind == "literal":
        _check_literal(ctx, code, where, op, left_kind, right, left_item or {})
    elif op in fmt.NUMERIC_OPS and "literal" not in (left_kind, right_kind) and None not in (left_kind, right_kind):
        if left_kind != "number" or right_kind != "number":
            ctx.add(code, where, f"toán tử '{op}' cần hai toán hạng số")
    return {"left": left_norm, "op": op, "right": right_norm}


def _normalize_conditions(ctx, raw, code, where) -> list[dict]:
    conditions = raw if isinstance(raw, list) else [raw]
    if not conditions:
        ctx.add(code, where, "cần ít nhất một điều kiện")
    normalized = []
    for index, condition in enumerate(conditions):
        result = _normalize_condition(ctx, condition, code, f"{where}[{index}]" if isinstance(raw, list) else where)
        if result:
            normalized.append(result)
    return normalized


def _referenced_items(conditions: list[dict]) -> set[str]:
    found = set()

    def walk(node):
        if isinstance(node, dict):
            if "item" in node:
                found.add(node["item"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(conditions)
    return found


TYPE_ONLY_KEYS = {
    "options": ("select", "multiselect"),
    "columns": ("sample",),
    "numerator_label": ("ratio",),
    "denominator_label": ("ratio",),
    "unit": ("number",),
    "validation": ("count", "number", "percent"),
}
TYPE_REQUIRED_KEYS = {
    "select": ("options",),
    "multiselect": ("options",),
    "sample": ("columns",),
    "ratio": ("numerator_label", "denominator_label"),
}


def _check_item_shape(ctx: _Context, item: dict) -> None:
    code, answer_type = item["code"], item["answer_type"]
    for key, types in TYPE_ONLY_KEYS.items():
        if item.get(key) is not None and answer_type not in types:
            ctx.add(code, key, f"'{key}' chỉ dùng cho kiểu {', '.join(types)}, không dùng cho {answer_type}")
    for key in TYPE_REQUIRED_KEYS.get(answer_type, ()):
        if not item.get(key):
            ctx.add(code, key, f"kiểu {answer_type} cần khai báo '{key}'")
    for key in ("options", "columns"):
        codes = [entry["code"] for entry in item.get(key) or []]
        if len(codes) != len(set(codes)):
            ctx.add(code, key, "mã lựa chọn bị lặp")
    for column in item.get("columns") or []:
        if column.get("pass_value") and column["type"] != "yes_no":
            ctx.add(code, "columns", f"cột '{column['code']}': 'pass' chỉ dùng cho cột yes_no")
    limits = item.get("validation") or {}
    if "min" in limits and "max" in limits and limits["min"] > limits["max"]:
        ctx.add(code, "validation", "min lớn hơn max")
    fails_defined = item.get("threshold") or answer_type == "yes_no_na"
    for kind, rule in (item.get("evidence") or {}).items():
        if rule == "required_if_failed" and not fails_defined:
            ctx.add(code, f"evidence.{kind}", "required_if_failed cần ngưỡng (threshold) hoặc kiểu yes_no_na")


def _check_threshold(ctx: _Context, item: dict) -> None:
    threshold = item.get("threshold")
    if not threshold:
        return
    code = item["code"]
    kind = _metric_kind(ctx, code, threshold["metric"], code, "threshold.metric")
    if kind and threshold["op"] in fmt.UNARY_OPS:
        ctx.add(code, "threshold.op", "ngưỡng cần một phép so sánh với giá trị")
    elif kind:
        _check_literal(ctx, code, "threshold.value", threshold["op"], kind, threshold["value"], item)


def _check_rules(ctx: _Context, item: dict) -> list[dict]:
    code = item["code"]
    normalized_rules = []
    for index, rule in enumerate(item.get("rules") or []):
        where = f"rules[{index}]"
        when = rule["when"]
        if isinstance(when, str):
            if when not in fmt.RULE_SHORTCUTS:
                ctx.add(code, f"{where}.when", f"'{when}' không hợp lệ; dùng {' hoặc '.join(fmt.RULE_SHORTCUTS)} "
                                               "hoặc một điều kiện")
            elif not item.get("threshold"):
                ctx.add(code, f"{where}.when", f"'{when}' cần mục có ngưỡng (threshold)")
            when_norm = when
        else:
            when_norm = _normalize_conditions(ctx, when, code, f"{where}.when")
        for name, var in (rule.get("vars") or {}).items():
            if not name.isidentifier():
                ctx.add(code, f"{where}.vars", f"tên biến '{name}' không hợp lệ")
            if name in fmt.METRICS[item["answer_type"]] or name in fmt.CONTEXT_PLACEHOLDERS or name == "threshold":
                ctx.add(code, f"{where}.vars", f"tên biến '{name}' trùng với tên có sẵn của quy tắc")
            _metric_kind(ctx, var["item"], var["metric"], code, f"{where}.vars.{name}")
        if rule["kind"] == "finding" and not rule["recommendations"]:
            ctx.add(code, f"{where}.recommendations", "mỗi hạn chế cần ít nhất một kiến nghị")
        if rule["kind"] == "strength" and rule["recommendations"]:
            ctx.add(code, f"{where}.recommendations", "kết quả đạt (strength) không có kiến nghị")
        available = fmt.available_placeholders(item, rule)
        texts = [("text", rule["text"])] + [
            (f"recommendations[{i}]", text) for i, text in enumerate(rule["recommendations"])
        ]
        for text_field, text in texts:
            try:
                names = fmt.placeholders(text)
            except ValueError as exc:
                ctx.add(code, f"{where}.{text_field}", str(exc))
                continue
            for name, _spec in names:
                if name not in available:
                    usable = ", ".join(sorted(available))
                    ctx.add(code, f"{where}.{text_field}",
                            f"chỗ trống {{{name}}} không được quy tắc điền; có thể dùng: {usable}")
        normalized_rules.append({
            "kind": rule["kind"],
            "when": when_norm,
            "text": rule["text"],
            "recommendations": rule["recommendations"],
            "severity": rule.get("severity", item["severity"]),
            "vars": {name: {"item": var["item"], "metric": var["metric"]} for name, var in rule["vars"].items()},
        })
    return normalized_rules


def _check_visibility_cycles(ctx: _Context, visible: dict[str, set[str]]) -> None:
    state: dict[str, int] = {}

    def visit(code: str, trail: list[str]) -> None:
        if state.get(code) == 2:
            return
        if state.get(code) == 1:
            ctx.add(code, "visible_if", f"điều kiện hiển thị vòng tròn: {' → '.join([*trail, code])}")
            return
        state[code] = 1
        for other in visible.get(code, ()):
            visit(other, [*trail, code])
        state[code] = 2

    for code in visible:
        visit(code, [])


def _overlaps(ref: dict, regime: dict) -> bool:
    starts_before_end = regime["valid_to"] is None or ref["effective_from"] <= regime["valid_to"]
    ends_after_start = ref["effective_to"] is None or ref["effective_to"] >= regime["valid_from"]
    return starts_before_end and ends_after_start


def check_semantics(data: dict, unit_types: UnitTypes) -> tuple[list[Problem], dict]:
    """Cross-references and meaning; returns problems and the normalized definition."""
    items: dict[str, dict] = {}
    ctx = _Context(items=items)
    for section in data["sections"]:
        for item in section["items"]:
            code = item["code"]
            if not ITEM_CODE.match(code):
                ctx.add(code, "code", "mã mục phải có dạng chữ A–H + số (+ một chữ thường), ví dụ D3 hoặc D1a")
            elif code[0] != section["code"]:
                ctx.add(code, "code", f"mã mục phải bắt đầu bằng mã phần {section['code']}")
            if code in items:
                ctx.add(code, "code", "mã mục bị lặp")
            items[code] = item
    section_codes = [section["code"] for section in data["sections"]]
    if len(section_codes) != len(set(section_codes)):
        ctx.add(None, "sections", "mã phần bị lặp")

    regime = data["regime"]
    if regime["valid_to"] and regime["valid_to"] < regime["valid_from"]:
        ctx.add(None, "regime", "valid_to trước valid_from")
    catalogue = data["legal_refs"]
    for doc, ref in catalogue.items():
        if ref["effective_to"] and ref["effective_to"] < ref["effective_from"]:
            ctx.add(None, f"legal_refs.{doc}", "effective_to trước effective_from")

    visible: dict[str, set[str]] = {}
    normalized_sections = []
    for section in data["sections"]:
        normalized_items = []
        for item in section["items"]:
            code = item["code"]
            _check_item_shape(ctx, item)
            _check_threshold(ctx, item)
            applies_to, unknown = unit_types.expand(item["applies_to"])
            for name in unknown:
                ctx.add(code, "applies_to", f"loại đơn vị hoặc nhóm '{name}' không có trong shared/unit-types.yaml")
            for index, cite in enumerate(item["legal_refs"]):
                ref = catalogue.get(cite["doc"])
                if ref is None:
                    ctx.add(code, f"legal_refs[{index}]", f"văn bản '{cite['doc']}' không có trong danh mục legal_refs")
                elif not _overlaps(ref, regime):
                    ctx.add(code, f"legal_refs[{index}]",
                            f"{ref['short']} không có hiệu lực trong thời kỳ áp dụng của danh mục "
                            f"({regime['valid_from']} – {regime['valid_to'] or 'nay'})")
            visible_if = None
            if item.get("visible_if") is not None:
                visible_if = _normalize_conditions(ctx, item["visible_if"], code, "visible_if")
                refs = _referenced_items(visible_if)
                if code in refs:
                    ctx.add(code, "visible_if", "mục không thể phụ thuộc vào chính nó")
                visible[code] = refs - {code}
            rules = _check_rules(ctx, item)
            normalized_items.append(_normalized_item(item, applies_to, visible_if, rules))
        normalized_sections.append({
            "code": section["code"], "title": section["title"], "title_en": section.get("title_en"),
            "items": normalized_items,
        })
    _check_visibility_cycles(ctx, visible)

    definition = {
        "key": data["key"],
        "version": data["version"],
        "title": data["title"],
        "title_en": data.get("title_en"),
        "regime": _jsonable(regime),
        "legal_refs": _jsonable(catalogue),
        "closing_recommendations": data["closing_recommendations"],
        "sections": normalized_sections,
    }
    return ctx.problems, definition


def _normalized_item(item: dict, applies_to: list[str], visible_if, rules: list[dict]) -> dict:
    normalized = {
        "code": item["code"],
        "question": item["question"],
        "answer_type": item["answer_type"],
        "required": item["required"],
        "evidence": item["evidence"],
        "applies_to": applies_to,
        "period_bound": item["period_bound"],
        "data_sources": item["data_sources"],
        "legal_refs": item["legal_refs"],
        "severity": item["severity"],
        "rules": rules,
    }
    for key in ("question_en", "help", "unit_label", "unit", "numerator_label", "denominator_label",
                "options", "validation", "threshold"):
        if item.get(key) is not None:
            normalized[key] = item[key]
    if item.get("columns"):
        normalized["columns"] = [
            {"code": c["code"], "label": c["label"], "type": c["type"], **({"pass": c["pass_value"]}
             if c.get("pass_value") else {})}
            for c in item["columns"]
        ]
    if visible_if is not None:
        normalized["visible_if"] = visible_if
    return normalized


def _jsonable(value):
    if isinstance(value, dict):
        return {key: _jsonable(child) for key, child in value.items()}
    if isinstance(value, list):
        return [_jsonable(child) for child in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


# --- loading ----------------------------------------------------------------------------------------


@dataclass
class LoadedChecklist:
    path: Path
    key: str
    version: int
    title: str
    regime_valid_from: date
    regime_valid_to: date | None
    definition: dict
    sha256: str


def canonical_json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def definition_sha256(definition: dict) -> str:
    return hashlib.sha256(canonical_json(definition)).hexdigest()


def load_checklist(path: Path, unit_types: UnitTypes) -> LoadedChecklist:
    """Read, validate and normalize one file; raises ChecklistError naming file, item and reason."""
    filename = str(path)
    try:
        raw = read_yaml(path)
    except yaml.YAMLError as exc:
        raise ChecklistError(filename, [Problem("đầu tệp", "", f"YAML không hợp lệ: {exc}")]) from exc
    except OSError as exc:
        raise ChecklistError(filename, [Problem("đầu tệp", "", f"không đọc được tệp: {exc.strerror}")]) from exc
    if not isinstance(raw, dict):
        raise ChecklistError(filename, [Problem("đầu tệp", "", "tệp phải chứa một đối tượng YAML")])
    try:
        data = ChecklistSchema().load(raw)
    except ma.ValidationError as exc:
        raise ChecklistError(filename, shape_problems(exc.messages, raw)) from exc
    problems, definition = check_semantics(data, unit_types)
    if problems:
        raise ChecklistError(filename, problems)
    return LoadedChecklist(
        path=path,
        key=data["key"],
        version=data["version"],
        title=data["title"],
        regime_valid_from=data["regime"]["valid_from"],
        regime_valid_to=data["regime"]["valid_to"],
        definition=definition,
        sha256=definition_sha256(definition),
    )


def checklist_files(checklists_dir: Path) -> list[Path]:
    """Every checklist file: checklists/*.yaml (shared/ and thresholds/ hold other data)."""
    return sorted(Path(checklists_dir).glob("*.yaml"))


# --- differences between two definitions of one version ---------------------------------------------


def describe_differences(old: dict, new: dict, limit: int = 5) -> list[str]:
    """Human-readable differences, naming the item and the field, for refusing a changed version."""
    out: list[str] = []
    old_items = {item["code"]: item for section in old["sections"] for item in section["items"]}
    new_items = {item["code"]: item for section in new["sections"] for item in section["items"]}
    for code in sorted(set(old_items) - set(new_items)):
        out.append(f"mục {code}: đã bị xóa khỏi tệp")
    for code in sorted(set(new_items) - set(old_items)):
        out.append(f"mục {code}: mục mới, chưa có trong phiên bản đã nạp")
    for code in sorted(set(old_items) & set(new_items)):
        for key in sorted(set(old_items[code]) | set(new_items[code])):
            before, after = old_items[code].get(key), new_items[code].get(key)
            if before != after:
                out.append(f"mục {code}: trường '{key}' khác (đã nạp: {_short(before)}; trong tệp: {_short(after)})")
    for key in sorted(set(old) | set(new)):
        if key != "sections" and old.get(key) != new.get(key):
            before, after = _short(old.get(key)), _short(new.get(key))
            out.append(f"đầu tệp: trường '{key}' khác (đã nạp: {before}; trong tệp: {after})")
    old_sections = [(s["code"], s["title"], [i["code"] for i in s["items"]]) for s in old["sections"]]
    new_sections = [(s["code"], s["title"], [i["code"] for i in s["items"]]) for s in new["sections"]]
    if not out and old_sections != new_sections:
        out.append("các phần (sections): tiêu đề hoặc thứ tự mục khác")
    return out[:limit] + ([f"… và {len(out) - limit} khác biệt nữa"] if len(out) > limit else [])


def _short(value, width: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= width else text[: width - 1] + "…"
