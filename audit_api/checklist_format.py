"""The vocabulary of checklist files: answer types, their metrics, operators and placeholders.

Shared by the validator (checklists.py) and, later, the rules engine, so that what a file may say and
what the engine can evaluate never drift apart. See checklists/README.md for the authored format.
"""

from __future__ import annotations

import string

ANSWER_TYPES = (
    "yes_no_na", "count", "number", "percent", "ratio", "select", "multiselect",
    "text", "date", "document_ref", "sample",
)

# metric → kind, per answer type. Kinds: number, yes_no, code, codes, text, date.
METRICS: dict[str, dict[str, str]] = {
    "yes_no_na": {"value": "yes_no"},
    "count": {"value": "number"},
    "number": {"value": "number"},
    "percent": {"value": "number"},
    "ratio": {"numerator": "number", "denominator": "number", "percent": "number", "missing": "number"},
    "select": {"value": "code", "label": "text"},
    "multiselect": {"selected": "codes", "missing": "text", "selected_count": "number", "missing_count": "number"},
    "text": {"value": "text"},
    "date": {"value": "date"},
    "document_ref": {"value": "text"},
    "sample": {"rows": "number", "failed": "number", "failures": "text"},
}

NUMERIC_OPS = ("<", "<=", ">", ">=")
EQUALITY_OPS = ("==", "!=")
LIST_OPS = ("in", "not_in")
SET_OPS = ("includes", "excludes")
UNARY_OPS = ("present", "absent")
OPERATORS = NUMERIC_OPS + EQUALITY_OPS + LIST_OPS + SET_OPS + UNARY_OPS

YES_NO_VALUES = ("yes", "no", "na")
EVIDENCE_RULES = ("none", "optional", "required", "required_if_failed")
SEVERITIES = ("minor", "major", "critical")
DATA_SOURCES = (
    "self_report", "information_system", "national_portal", "national_database", "on_site", "sample", "documents",
)
SAMPLE_COLUMN_TYPES = ("text", "date", "count", "yes_no")
RULE_SHORTCUTS = ("fails_threshold", "meets_threshold")

# Names every rule can use besides its metrics and vars.
CONTEXT_PLACEHOLDERS = ("unit", "period")
FORMAT_SPECS = ("", "02")


def placeholders(template: str) -> list[tuple[str, str]]:
    """The (name, format spec) pairs in a template; raises ValueError on malformed braces."""
    found = []
    for _literal, field, spec, conversion in string.Formatter().parse(template):
        if field is None:
            continue
        if conversion:
            raise ValueError(f"không dùng chuyển đổi '!{conversion}' trong {{{field}}}")
        if not field.isidentifier():
            raise ValueError(f"chỗ trống {{{field}}} không hợp lệ: chỉ dùng tên (chữ, số, gạch dưới)")
        if spec not in FORMAT_SPECS:
            raise ValueError(f"định dạng '{spec}' trong {{{field}:{spec}}} không được hỗ trợ (chỉ dùng :02)")
        found.append((field, spec))
    return found


def available_placeholders(item: dict, rule: dict) -> set[str]:
    """What a rule of this item can fill: its metrics, the context names, threshold, and its vars."""
    names = set(METRICS[item["answer_type"]]) | set(CONTEXT_PLACEHOLDERS)
    if item.get("threshold"):
        names.add("threshold")
    names |= set(rule.get("vars") or {})
    return names
