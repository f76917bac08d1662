"""The tablet's rules agree with the server's: the same values are accepted (and normalized alike), the same
are refused, and numbers print in the same Vietnamese format (js/checklist.js, js/format.js vs answer_values)."""

from __future__ import annotations

import json

import pytest
import yaml

from audit_api import answer_values
from tests.browser.conftest import wait_ready
from tests.support import CHECKLISTS_DIR

NUMBERS = [6081, 6118, 99.35, 99.45, 99.4, 0.05, 1234567.891, 100.0, 2.5, 0.0, 12.25, 1e6]

# (item code in tthc-2018, value): a spread of good and bad values for every answer type there
CASES = [
    ("A5", "yes"), ("A5", "maybe"), ("A5", None),
    ("A7", 3), ("A7", -1), ("A7", 2.5), ("A7", 10**13),
    ("B2a", 45.5), ("B2a", -0.5),
    ("D13a", 31), ("D13a", 100.5), ("D13a", -1),
    ("A4", {"numerator": 6081, "denominator": 6118}), ("A4", {"numerator": 7, "denominator": 6}),
    ("A4", {"numerator": 0, "denominator": 0}), ("A4", {"numerator": -1, "denominator": 3}),
    ("B8", "linked"), ("B8", "unknown"),
    ("A6", ["qr_code", "board"]), ("A6", ["board", "nope"]), ("A6", []),
    ("A8a", "Sai lệch phí"), ("A8a", "   "),
    ("A11a", {"number": "12/QĐ-UBND", "date": "2023-02-30"}), ("A11a", {"number": "12/QĐ-UBND", "date": "2023-02-03"}),
    ("A11a", {"number": ""}),
    ("D10", [{"dossier_code": "H33-1", "on_time": "no", "supplement_count": 2, "received_on": "2024-03-12"}]),
    ("D10", [{"on_time": "maybe"}]), ("D10", [{"supplement_count": -2}]), ("D10", []),
]


@pytest.fixture(scope="module")
def items():
    definition = yaml.safe_load((CHECKLISTS_DIR / "tthc-2018.yaml").read_text(encoding="utf-8"))
    return {item["code"]: item for section in definition["sections"] for item in section["items"]}


def server_verdict(item, value):
    try:
        return ["ok", answer_values.validate(item, value)]
    except answer_values.InvalidValue:
        return ["refused", None]


def test_tablet_validation_and_number_format_match_the_server(page, live_server, items):
    page.goto(f"{live_server.url}/")
    wait_ready(page)
    cases = [[items[code], value] for code, value in CASES]
    tablet = page.evaluate("""async ([cases, numbers]) => {
      const rules = await import('/app/js/checklist.js');
      const format = await import('/app/js/format.js');
      const verdicts = cases.map(([item, value]) => {
        try { return ['ok', rules.validate(item, value)]; }
        catch (error) { if (error instanceof rules.InvalidValue) return ['refused', null]; throw error; }
      });
      return { verdicts, numbers: numbers.map((n) => format.formatNumber(n)) };
    }""", [cases, NUMBERS])
    expected = [server_verdict(item, value) for item, value in cases]
    # the server normalizes a JSON number it received; compare as JSON does
    assert [json.dumps(v) for v in tablet["verdicts"]] == [json.dumps(v) for v in expected], list(
        zip(CASES, tablet["verdicts"], expected, strict=True))
    assert tablet["numbers"] == [answer_values.format_number(n) for n in NUMBERS]
