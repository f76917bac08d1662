"""Every checklist file in checklists/ is complete and self-consistent.

These checks read the YAML directly rather than trusting the validator, so a validator bug cannot hide
a broken file; the last test also runs the validator on each file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from audit_api import checklist_format as fmt
from audit_api.checklists import checklist_files, load_checklist, load_unit_types, read_yaml

CHECKLISTS = Path(__file__).resolve().parent.parent / "checklists"
FILES = checklist_files(CHECKLISTS)


def items_of(data: dict) -> dict[str, dict]:
    return {item["code"]: item for section in data["sections"] for item in section["items"]}


def referenced_items(node) -> set[str]:
    found = set()
    if isinstance(node, dict):
        if isinstance(node.get("item"), str):
            found.add(node["item"])
        for value in node.values():
            found |= referenced_items(value)
    elif isinstance(node, list):
        for value in node:
            found |= referenced_items(value)
    return found


def test_both_checklists_are_present():
    assert {path.stem for path in FILES} >= {"tthc-2025", "tthc-2018"}


def test_current_law_checklist_has_eight_sections_and_at_least_80_items():
    data = read_yaml(CHECKLISTS / "tthc-2025.yaml")
    assert [section["code"] for section in data["sections"]] == list("ABCDEFGH")
    assert len(items_of(data)) >= 80
    assert data["regime"]["valid_from"] == "2025-07-01"


def test_historical_checklist_covers_the_pre_reform_regime():
    data = read_yaml(CHECKLISTS / "tthc-2018.yaml")
    assert [section["code"] for section in data["sections"]] == list("ABCDEFGH")
    assert data["regime"]["valid_to"] == "2025-06-30"
    applies = {name for item in items_of(data).values() for name in item["applies_to"]}
    assert "H" in applies or "district_legacy" in applies  # districts are a level in this regime


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_item_cites_a_law_in_the_catalogue(path):
    data = read_yaml(path)
    for code, item in items_of(data).items():
        assert item.get("legal_refs"), f"{path.name} {code}: no legal reference"
        for cite in item["legal_refs"]:
            assert cite["doc"] in data["legal_refs"], f"{path.name} {code}: unknown instrument {cite['doc']}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_rule_and_condition_refers_to_items_that_exist(path):
    data = read_yaml(path)
    items = items_of(data)
    for code, item in items.items():
        referenced = referenced_items(item.get("visible_if")) | referenced_items(item.get("rules"))
        assert referenced <= set(items), f"{path.name} {code}: refers to {sorted(referenced - set(items))}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_placeholder_is_filled_by_the_rule_that_uses_it(path):
    data = read_yaml(path)
    for code, item in items_of(data).items():
        metrics = set(fmt.METRICS[item["answer_type"]])
        for rule in item.get("rules") or []:
            available = metrics | {"unit", "period"} | set(rule.get("vars") or {})
            if item.get("threshold"):
                available.add("threshold")
            for text in [rule["text"], *(rule.get("recommendations") or [])]:
                used = {name for name, _spec in fmt.placeholders(text)}
                assert used <= available, f"{path.name} {code}: {sorted(used - available)} unfilled in {text!r}"
            if rule["kind"] == "finding":
                assert rule.get("recommendations"), f"{path.name} {code}: a finding without a recommendation"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_the_validator_accepts_every_file(path):
    loaded = load_checklist(path, load_unit_types(CHECKLISTS))
    assert loaded.key == path.stem
    assert len(loaded.sha256) == 64
