"""Answer values: the shape each answer type takes, its metrics, and Vietnamese number formats."""

from __future__ import annotations

import pytest

from audit_api.answer_values import InvalidValue, display, format_number, metrics, validate

ITEMS = {
    "yes_no_na": {"code": "X1", "answer_type": "yes_no_na"},
    "count": {"code": "X2", "answer_type": "count", "validation": {"max": 1000}},
    "number": {"code": "X3", "answer_type": "number", "validation": {"min": 0}},
    "percent": {"code": "X4", "answer_type": "percent"},
    "ratio": {"code": "X5", "answer_type": "ratio", "numerator_label": "Đúng hạn", "denominator_label": "Tổng"},
    "select": {"code": "X6", "answer_type": "select", "options": [{"code": "a", "label": "A"},
                                                                  {"code": "b", "label": "B"}]},
    "multiselect": {"code": "X7", "answer_type": "multiselect", "options": [{"code": "a", "label": "A"},
                                                                            {"code": "b", "label": "B"}]},
    "text": {"code": "X8", "answer_type": "text"},
    "date": {"code": "X9", "answer_type": "date"},
    "document_ref": {"code": "X10", "answer_type": "document_ref"},
    "sample": {"code": "X11", "answer_type": "sample", "columns": [
        {"code": "ok", "label": "Đúng hạn", "type": "yes_no", "pass": "yes"},
        {"code": "n", "label": "Số lần bổ sung", "type": "count"}]},
}
VALID = {
    "yes_no_na": ("na", "na"), "count": (7, 7), "number": (12.5, 12.5), "percent": (99.4, 99.4),
    "ratio": ({"numerator": 6081, "denominator": 6118}, {"numerator": 6081, "denominator": 6118}),
    "select": ("b", "b"), "multiselect": (["b", "a"], ["a", "b"]), "text": ("Ghi chú", "Ghi chú"),
    "date": ("2024-06-24", "2024-06-24"), "document_ref": ({"number": "55/KH-UBND"}, {"number": "55/KH-UBND"}),
    "sample": ([{"ok": "no", "n": 2}, {"ok": "yes"}], [{"ok": "no", "n": 2}, {"ok": "yes"}]),
}
INVALID = {
    "yes_no_na": "có", "count": -1, "number": -0.5, "percent": 100.1, "ratio": {"numerator": 2, "denominator": 1},
    "select": "c", "multiselect": ["a", "a"], "text": "  ", "date": "24/06/2024", "document_ref": {"title": "x"},
    "sample": [{"ok": "maybe"}],
}


@pytest.mark.parametrize("kind", sorted(ITEMS))
def test_each_answer_type_normalizes_a_valid_value_and_refuses_an_invalid_one(kind):
    sent, stored = VALID[kind]
    assert validate(ITEMS[kind], sent) == stored
    with pytest.raises(InvalidValue):
        validate(ITEMS[kind], INVALID[kind])


def test_count_bounds_and_booleans_are_refused():
    with pytest.raises(InvalidValue):
        validate(ITEMS["count"], 1001)
    with pytest.raises(InvalidValue):
        validate(ITEMS["count"], True)


def test_metrics_feed_the_rules():
    assert metrics(ITEMS["ratio"], {"numerator": 6081, "denominator": 6118})["missing"] == 37
    assert "percent" not in metrics(ITEMS["ratio"], {"numerator": 0, "denominator": 0})
    assert metrics(ITEMS["multiselect"], ["a"]) == {"selected": ["a"], "missing": ["B"], "selected_count": 1,
                                                    "missing_count": 1}
    assert metrics(ITEMS["sample"], [{"ok": "no"}, {"ok": "yes"}, {}]) == {"rows": 3, "failed": 1,
                                                                           "failures": ["Đúng hạn"]}


@pytest.mark.parametrize(("value", "text"), [(6081, "6.081"), (72076, "72.076"), (6081 * 100 / 6118, "99,4"),
                                              (100.0, "100"), (0.04, "0"), (1234567.25, "1.234.567,3")])
def test_vietnamese_number_format(value, text):
    assert format_number(value) == text


def test_display_pads_and_joins():
    assert display(2, "02") == "02" and display(["A", "B"]) == "A, B" and display(None) == "[chưa có số liệu]"
