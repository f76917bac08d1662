"""Default deadlines (services/deadlines.py): working days across weekends, Tết and the other public holidays of
the shipped calendar, make-up Saturdays, calendar-day counting, another holiday file, and refused files."""

from __future__ import annotations

from datetime import date

import pytest

from audit_api.config import ConfigError, load_settings
from audit_api.services import deadlines
from audit_api.services.deadlines import (
    HolidayFileError,
    add_calendar_days,
    add_working_days,
    default_deadline,
    load_calendar,
)


@pytest.fixture(scope="module")
def vn():
    return load_calendar(deadlines.PACKAGED_HOLIDAYS)


def test_the_shipped_calendar_covers_2024_to_2027(vn):
    assert vn.years == {2024, 2025, 2026, 2027}
    assert not vn.is_working_day(date(2025, 9, 2)) and vn.is_working_day(date(2025, 9, 3))


@pytest.mark.parametrize(("start", "days", "expected"), [
    (date(2024, 6, 21), 1, date(2024, 6, 24)),  # Friday + 1: the weekend is skipped
    (date(2024, 6, 24), 5, date(2024, 7, 1)),
    (date(2024, 6, 24), 0, date(2024, 6, 24)),
])
def test_saturdays_and_sundays_are_not_working_days(vn, start, days, expected):
    assert add_working_days(start, days, vn) == expected


@pytest.mark.parametrize(("start", "days", "expected"), [
    (date(2024, 2, 7), 1, date(2024, 2, 15)),  # Tết Giáp Thìn: off Thursday 08/02 – Wednesday 14/02/2024
    (date(2025, 1, 24), 1, date(2025, 2, 3)),  # Tết Ất Tỵ: off Saturday 25/01 – Sunday 02/02/2025
    (date(2025, 2, 7), 1, date(2025, 2, 8)),  # ... and Saturday 08/02/2025 is worked in exchange for 27/01
    (date(2025, 2, 7), 2, date(2025, 2, 10)),
    (date(2026, 2, 13), 1, date(2026, 2, 23)),  # Tết Bính Ngọ: off 14/02 – 22/02/2026
])
def test_tet_days_off_and_make_up_saturdays(vn, start, days, expected):
    assert add_working_days(start, days, vn) == expected


@pytest.mark.parametrize(("start", "expected"), [
    (date(2024, 4, 26), date(2024, 5, 2)),  # 29/4 (swapped for Saturday 04/5), 30/4, 1/5 off
    (date(2025, 4, 25), date(2025, 4, 26)),  # Saturday 26/4/2025 worked in exchange for Friday 02/5
    (date(2025, 4, 29), date(2025, 5, 5)),  # 30/4, 1/5, 2/5 off, then the weekend
    (date(2025, 8, 29), date(2025, 9, 3)),  # Quốc khánh: 1/9 and 2/9/2025
    (date(2026, 4, 24), date(2026, 4, 28)),  # Giỗ Tổ on Sunday 26/4/2026: Monday 27/4 off in compensation
    (date(2027, 4, 29), date(2027, 5, 4)),  # 30/4 Friday; 1/5 Saturday → Monday 3/5/2027 off
])
def test_public_holidays_and_compensatory_days(vn, start, expected):
    assert add_working_days(start, 1, vn) == expected


def test_thirty_working_days_from_the_monday_before_tet_2025(app):
    # 4 days before Tết, 9 days off, then 26 working days including the make-up Saturday 08/02
    with app.app_context():
        assert default_deadline(date(2025, 1, 20)) == date(2025, 3, 7)
        assert default_deadline(date(2025, 1, 20), days=30, counting="calendar") == date(2025, 2, 19)


def test_calendar_days_ending_on_a_day_off_end_on_the_next_working_day(vn):
    assert add_calendar_days(date(2024, 6, 24), 30, vn) == date(2024, 7, 24)
    assert add_calendar_days(date(2025, 1, 20), 10, vn) == date(2025, 2, 3)  # 30/01/2025 is mùng 2 Tết
    assert add_calendar_days(date(2024, 6, 24), 5, vn) == date(2024, 7, 1)  # Saturday 29/6 → Monday


def test_a_year_the_file_does_not_cover_counts_weekends_only(vn):
    assert not vn.covers(date(2030, 1, 1)) and vn.is_working_day(date(2030, 1, 1))


def test_holidays_file_replaces_the_shipped_calendar(app, tmp_path, monkeypatch):
    other = tmp_path / "holidays.yaml"
    other.write_text("years:\n  2028:\n    days_off:\n      - {date: 2028-03-01, name: 'Ngày nghỉ riêng'}\n",
                     encoding="utf-8")
    monkeypatch.setitem(app.config, "HOLIDAYS_FILE", str(other))
    with app.app_context():
        assert default_deadline(date(2028, 2, 29), days=1) == date(2028, 3, 2)
        assert default_deadline(date(2025, 1, 24), days=1) == date(2025, 1, 27)  # Tết 2025 is not in this file


@pytest.mark.parametrize(("content", "words"), [
    ("country: VN\n", "years"),
    ("years:\n  2025:\n    days_off:\n      - {date: 2026-01-01, name: X}\n", "không thuộc năm 2025"),
    ("years:\n  2025:\n    days_off:\n      - {from: 2025-05-02, to: 2025-05-01, name: X}\n", "from"),
    ("years:\n  2025:\n    days_off:\n      - {date: 2025-05-02}\n", "name"),
    ("years:\n  2025:\n    working_days:\n      - {date: 2025-05-02, name: X}\n", "không phải thứ Bảy"),
    ("years:\n  2025:\n    days_off:\n      - {date: 2025-04-26, name: X}\n"
     "    working_days:\n      - {date: 2025-04-26, name: Y}\n", "vừa là ngày nghỉ vừa là ngày làm bù"),
    ("years:\n  2025:\n    days_off:\n      - {date: 2025-05-02, name: X, kind: maybe}\n", "kind"),
])
def test_a_malformed_holiday_file_is_refused_with_the_reason(tmp_path, content, words):
    path = tmp_path / "bad.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(HolidayFileError, match=words):
        load_calendar(path)


def test_deadline_settings_are_read_and_checked(monkeypatch, tmp_path):
    monkeypatch.setenv("DEADLINE_COUNTING", "Calendar")
    monkeypatch.setenv("DEADLINE_DAYS", "15")
    settings = load_settings({"APP_ENV": "testing"})
    assert (settings["DEADLINE_COUNTING"], settings["DEADLINE_DAYS"], settings["HOLIDAYS_FILE"]) == (
        "calendar", 15, None)
    monkeypatch.setenv("DEADLINE_COUNTING", "ngày")
    with pytest.raises(ConfigError, match="DEADLINE_COUNTING"):
        load_settings({"APP_ENV": "testing"})
    monkeypatch.delenv("DEADLINE_COUNTING")
    monkeypatch.setenv("HOLIDAYS_FILE", str(tmp_path / "missing.yaml"))
    with pytest.raises(ConfigError, match="HOLIDAYS_FILE"):
        load_settings({"APP_ENV": "testing"})
