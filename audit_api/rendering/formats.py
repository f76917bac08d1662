"""Vietnamese wording of numbers, dates and times in documents, per Nghị định 30/2020/NĐ-CP.

The decree pads the day below 10 and the months 1 and 2 with a zero ("ngày 05 tháng 02"): a bare "1" or
"2" before "năm" could be turned into 10, 11 or 12 by hand after signing. Other months stay unpadded
("tháng 7"). Short dates in the body ("trước ngày 04/8/2026") follow the same rule so one document never
writes the same month two ways.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

VIETNAM_TIME = timezone(timedelta(hours=7))
BLANK = "…"  # what a draft prints where the clerk will write a number or date


def _day(d: date) -> str:
    return f"{d.day:02d}"


def _month(d: date) -> str:
    return f"{d.month:02d}" if d.month <= 2 else str(d.month)


def parse_date(value: str | date | None) -> date | None:
    """An ISO date ('2026-07-05'), a date, or None."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def long_date(value: str | date | None) -> str:
    """'ngày 05 tháng 7 năm 2026'; without a date (a draft) 'ngày … tháng … năm …'."""
    d = parse_date(value)
    if d is None:
        return f"ngày {BLANK} tháng {BLANK} năm {BLANK}"
    return f"ngày {_day(d)} tháng {_month(d)} năm {d.year}"


def place_date(place: str, value: str | date | None) -> str:
    """'Lạng Sơn, ngày 05 tháng 7 năm 2026'; without a date (a draft) 'Lạng Sơn, ngày … tháng … năm …'."""
    return f"{place}, {long_date(value)}"


def short_date(value: str | date) -> str:
    """'2026-08-04' → '04/8/2026'; '2026-01-15' → '15/01/2026'."""
    d = parse_date(value)
    return f"{_day(d)}/{_month(d)}/{d.year}"


def local_time(value: str | datetime) -> datetime:
    """An ISO date-time as Vietnam time; a naive one is taken to be Vietnam time already (tablets' clocks)."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        return moment.replace(tzinfo=VIETNAM_TIME)
    return moment.astimezone(VIETNAM_TIME)


def time_and_date(value: str | datetime) -> str:
    """'2024-06-24T09:12:00+07:00' → '09:12 ngày 24/6/2024' (UTC and other offsets shown in Vietnam time)."""
    moment = local_time(value)
    return f"{moment:%H:%M} ngày {short_date(moment.date())}"


def document_number(number: int | None, provisional: str | None, symbol: str) -> str:
    """'05/BB-ĐKT' (padded to two digits), 'T-3/BB-ĐKT' before the registry gives a number, '…/BB-ĐKT' for a
    draft without either. The official number wins over a provisional one."""
    if number is not None:
        return f"{number:02d}/{symbol}"
    return f"{provisional or BLANK}/{symbol}"


def number_list(numbers: list[int]) -> str:
    """[1, 2, 5] → '1, 2, 5' (photo references: 'ảnh số 1, 2, 5')."""
    return ", ".join(str(n) for n in numbers)


def with_end(text: str, end: str) -> str:
    """The text ending in `end` (';' or '.'), whatever punctuation the user typed: items of a list end in
    ';' and the last in '.' (NĐ 30: căn cứ, nơi nhận)."""
    return text.rstrip().rstrip(";.,") + end


def sentence(text: str) -> str:
    """The text with a final full stop unless it already ends a sentence."""
    text = text.rstrip()
    return text if not text or text[-1] in ".!?…:" else text + "."
