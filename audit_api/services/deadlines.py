"""Default deadlines for recommendations: N days from a start date, counted in working days or calendar days.

DOMAIN.md §4.3: no verified instrument fixes the time a unit has to report its corrections, so the deadline
is an input with a configurable default (DEADLINE_DAYS, 30), counted as DEADLINE_COUNTING says:

- ``working``: the Nth working day after the start day. Saturdays and Sundays are off, as are the public
  holidays and the days off the government decides each year (audit_api/data/holidays-vn.yaml, or the file
  HOLIDAYS_FILE names); a Saturday worked in exchange for a bridge day (ngày làm bù) is a working day.
- ``calendar``: start + N days; a period whose last day is a weekend or holiday ends on the next working day
  (Bộ luật Dân sự 2015, Điều 147–148: counting starts the day after the event, and khoản 5 Điều 148).

Years the file does not cover count weekends only; `HolidayCalendar.covers` tells when that happened.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import yaml
from flask import current_app

from ..rendering.formats import VIETNAM_TIME

PACKAGED_HOLIDAYS = Path(__file__).resolve().parent.parent / "data" / "holidays-vn.yaml"
VIETNAM = VIETNAM_TIME  # UTC+7, no daylight saving time
COUNTINGS = ("working", "calendar")
ENTRY_KINDS = ("statutory", "compensatory", "decided")
SATURDAY = 5


class HolidayFileError(ValueError):
    """The holiday file cannot be used; the message names the file, the entry and the reason."""


@dataclass(frozen=True)
class HolidayCalendar:
    days_off: frozenset[date]
    working_days: frozenset[date]  # weekend days worked in exchange for a bridge day off
    years: frozenset[int]

    def is_working_day(self, day: date) -> bool:
        if day in self.working_days:
            return True
        return day.weekday() < SATURDAY and day not in self.days_off

    def covers(self, day: date) -> bool:
        return day.year in self.years


def today() -> date:
    """Today in Vietnam (the default start of a deadline)."""
    return datetime.now(VIETNAM).date()


def add_working_days(start: date, days: int, calendar: HolidayCalendar) -> date:
    """The `days`-th working day after `start` (start itself does not count); `start` when days is 0."""
    day, left = start, days
    while left > 0:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            left -= 1
    return day


def add_calendar_days(start: date, days: int, calendar: HolidayCalendar) -> date:
    """start + days; a last day that is not a working day moves to the next working day (BLDS 2015, Điều 148)."""
    day = start + timedelta(days=days)
    while not calendar.is_working_day(day):
        day += timedelta(days=1)
    return day


def default_deadline(start: date, *, days: int | None = None, counting: str | None = None,
                     calendar: HolidayCalendar | None = None) -> date:
    """The default deadline counted from `start` with the app's DEADLINE_DAYS, DEADLINE_COUNTING and holiday
    calendar (each can be given explicitly instead)."""
    config = current_app.config
    days = config["DEADLINE_DAYS"] if days is None else days
    counting = counting or config["DEADLINE_COUNTING"]
    calendar = calendar or holiday_calendar()
    if counting not in COUNTINGS:
        raise ValueError(f"DEADLINE_COUNTING phải là một trong {COUNTINGS}, không phải {counting!r}")
    if counting == "working":
        return add_working_days(start, days, calendar)
    return add_calendar_days(start, days, calendar)


def holiday_calendar() -> HolidayCalendar:
    """The calendar of the running app: HOLIDAYS_FILE, or the file shipped in the package."""
    path = Path(current_app.config.get("HOLIDAYS_FILE") or PACKAGED_HOLIDAYS)
    return _load_cached(str(path.resolve()), path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _load_cached(path: str, _mtime_ns: int) -> HolidayCalendar:
    return load_calendar(Path(path))


def load_calendar(path: Path) -> HolidayCalendar:
    """Read and check a holiday file (format: the comments at the top of holidays-vn.yaml)."""
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, dict) or not isinstance(data.get("years"), dict):
        raise HolidayFileError(f"{path.name}: thiếu khóa 'years' (năm → các ngày nghỉ).")
    days_off: set[date] = set()
    working: set[date] = set()
    for year, spec in data["years"].items():
        where = f"{path.name}, năm {year}"
        if not isinstance(year, int) or not isinstance(spec, dict):
            raise HolidayFileError(f"{where}: năm phải là số và nội dung là một bảng.")
        for entry in spec.get("days_off") or []:
            days_off.update(_entry_days(entry, year, where))
        for entry in spec.get("working_days") or []:
            for day in _entry_days(entry, year, where):
                if day.weekday() < SATURDAY:
                    raise HolidayFileError(f"{where}: ngày làm bù {day} không phải thứ Bảy hoặc Chủ nhật.")
                working.add(day)
    both = days_off & working
    if both:
        raise HolidayFileError(f"{path.name}: {min(both)} vừa là ngày nghỉ vừa là ngày làm bù.")
    return HolidayCalendar(frozenset(days_off), frozenset(working), frozenset(data["years"]))


def _entry_days(entry, year: int, where: str) -> list[date]:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise HolidayFileError(f"{where}: mỗi mục cần 'name' và 'date' (hoặc 'from', 'to'): {entry!r}")
    if entry.get("kind", "decided") not in ENTRY_KINDS:
        raise HolidayFileError(f"{where}, {entry['name']}: 'kind' phải là một trong {ENTRY_KINDS}.")
    first, last = (entry.get("date"), entry.get("date")) if "date" in entry else (entry.get("from"), entry.get("to"))
    if not isinstance(first, date) or not isinstance(last, date) or first > last:
        raise HolidayFileError(f"{where}, {entry['name']}: ngày không hợp lệ (YYYY-MM-DD; 'from' ≤ 'to').")
    if first.year != year or last.year != year:
        raise HolidayFileError(f"{where}, {entry['name']}: ngày {first}–{last} không thuộc năm {year}.")
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
