"""Answer values: validation against a checklist item, the metrics rules compare, and how figures print.

One module so that what the tablet may send, what the rules engine evaluates and what documents print
agree (checklists/README.md lists the value shape of every answer type).
"""

from __future__ import annotations

import math
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

MAX_TEXT = 10_000
MAX_SAMPLE_ROWS = 500
MAX_COUNT = 10**12


class InvalidValue(ValueError):
    """The value does not fit the item; the message is Vietnamese and names what is wrong."""


def _text(value, what: str, *, required: bool = True, limit: int = MAX_TEXT) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise InvalidValue(f"{what}: cần một chuỗi ký tự không rỗng.")
    if len(value) > limit:
        raise InvalidValue(f"{what}: dài quá {limit} ký tự.")
    if "\x00" in value:
        raise InvalidValue(f"{what}: chứa ký tự không hợp lệ.")
    return value


def _number(value, what: str, *, integer: bool, minimum=None, maximum=None):
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidValue(f"{what}: cần một số{' nguyên' if integer else ''}.")
    if integer and (isinstance(value, float) and not value.is_integer()):
        raise InvalidValue(f"{what}: cần một số nguyên.")
    value = int(value) if integer else value
    if abs(value) > MAX_COUNT:
        raise InvalidValue(f"{what}: quá lớn.")
    if minimum is not None and value < minimum:
        raise InvalidValue(f"{what}: phải lớn hơn hoặc bằng {format_number(minimum)}.")
    if maximum is not None and value > maximum:
        raise InvalidValue(f"{what}: phải nhỏ hơn hoặc bằng {format_number(maximum)}.")
    return value


def _iso_date(value, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidValue(f"{what}: cần ngày dạng YYYY-MM-DD.")
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError as exc:
        raise InvalidValue(f"{what}: '{value}' không phải ngày hợp lệ (YYYY-MM-DD).") from exc


def _option_codes(item: dict) -> dict[str, str]:
    return {option["code"]: option["label"] for option in item.get("options") or []}


def validate(item: dict, value):
    """The normalized value for this item, or InvalidValue. `value` is what the tablet sent (JSON)."""
    kind, limits = item["answer_type"], item.get("validation") or {}
    if kind == "yes_no_na":
        if value not in ("yes", "no", "na"):
            raise InvalidValue("Câu trả lời phải là có (yes), không (no) hoặc không áp dụng (na).")
        return value
    if kind == "count":
        return _number(value, "Số lượng", integer=True, minimum=max(0, limits.get("min", 0)), maximum=limits.get("max"))
    if kind == "number":
        return _number(value, "Giá trị", integer=False, minimum=limits.get("min"), maximum=limits.get("max"))
    if kind == "percent":
        return _number(value, "Tỷ lệ (%)", integer=False, minimum=max(0, limits.get("min", 0)),
                       maximum=min(100, limits.get("max", 100)))
    if kind == "ratio":
        return _ratio(item, value)
    if kind == "select":
        if value not in _option_codes(item):
            raise InvalidValue(f"'{value}' không phải lựa chọn của mục {item['code']}.")
        return value
    if kind == "multiselect":
        options = _option_codes(item)
        if not isinstance(value, list) or any(code not in options for code in value) or len(set(value)) != len(value):
            raise InvalidValue(f"Cần danh sách các lựa chọn khác nhau của mục {item['code']}.")
        return [code for code in options if code in value]  # option order, whatever order was tapped
    if kind == "text":
        return _text(value, "Nội dung")
    if kind == "date":
        return _iso_date(value, "Ngày")
    if kind == "document_ref":
        return _document_ref(value)
    if kind == "sample":
        return _sample(item, value)
    raise InvalidValue(f"Kiểu câu trả lời {kind} không được hỗ trợ.")


def _ratio(item: dict, value) -> dict:
    if not isinstance(value, dict) or set(value) != {"numerator", "denominator"}:
        raise InvalidValue("Tỷ lệ cần đúng hai số: numerator (tử số) và denominator (mẫu số).")
    numerator = _number(value["numerator"], item.get("numerator_label", "Tử số"), integer=True, minimum=0)
    denominator = _number(value["denominator"], item.get("denominator_label", "Mẫu số"), integer=True, minimum=0)
    if numerator > denominator:
        raise InvalidValue(f"Tử số ({format_number(numerator)}) không được lớn hơn mẫu số "
                           f"({format_number(denominator)}).")
    return {"numerator": numerator, "denominator": denominator}


def _document_ref(value) -> dict:
    if not isinstance(value, dict) or not set(value) <= {"number", "date", "issuer", "title"}:
        raise InvalidValue("Văn bản cần các trường number (số, ký hiệu), date, issuer, title.")
    normalized = {"number": _text(value.get("number"), "Số, ký hiệu văn bản", limit=255)}
    if value.get("date") is not None:
        normalized["date"] = _iso_date(value["date"], "Ngày văn bản")
    for key, label in (("issuer", "Cơ quan ban hành"), ("title", "Trích yếu")):
        if value.get(key) is not None:
            normalized[key] = _text(value[key], label, limit=1000)
    return normalized


def _sample(item: dict, value) -> list[dict]:
    columns = {column["code"]: column for column in item.get("columns") or []}
    if not isinstance(value, list) or len(value) > MAX_SAMPLE_ROWS:
        raise InvalidValue(f"Bảng chọn mẫu cần một danh sách tối đa {MAX_SAMPLE_ROWS} dòng.")
    rows = []
    for index, row in enumerate(value, start=1):
        if not isinstance(row, dict) or not set(row) <= set(columns):
            raise InvalidValue(f"Dòng {index}: chỉ dùng các cột {', '.join(columns)}.")
        clean = {}
        for code, cell in row.items():
            column, what = columns[code], f"Dòng {index}, cột {columns[code]['label']}"
            if cell is None:
                continue
            if column["type"] == "yes_no":
                if cell not in ("yes", "no"):
                    raise InvalidValue(f"{what}: cần yes hoặc no.")
                clean[code] = cell
            elif column["type"] == "count":
                clean[code] = _number(cell, what, integer=True, minimum=0)
            elif column["type"] == "date":
                clean[code] = _iso_date(cell, what)
            else:
                clean[code] = _text(cell, what, limit=1000)
        rows.append(clean)
    return rows


# --- metrics ------------------------------------------------------------------------------------------


def metrics(item: dict, value) -> dict:
    """Metric name → value for rules (checklist_format.METRICS lists the names per answer type).
    A metric that cannot be computed (a ratio with denominator 0 has no percent) is absent."""
    kind = item["answer_type"]
    if value is None:
        return {}
    if kind == "ratio":
        numerator, denominator = value["numerator"], value["denominator"]
        result = {"numerator": numerator, "denominator": denominator, "missing": denominator - numerator}
        if denominator:
            result["percent"] = numerator * 100 / denominator
        return result
    if kind == "percent":
        return {"value": value}
    if kind == "select":
        return {"value": value, "label": _option_codes(item).get(value, value)}
    if kind == "multiselect":
        options = _option_codes(item)
        missing = [label for code, label in options.items() if code not in value]
        return {"selected": list(value), "missing": missing, "selected_count": len(value),
                "missing_count": len(missing)}
    if kind == "sample":
        checks = [c for c in item.get("columns") or [] if c["type"] == "yes_no" and c.get("pass")]
        failing = [c["label"] for c in checks if any(row.get(c["code"]) not in (None, c["pass"]) for row in value)]
        failed = sum(1 for row in value if any(row.get(c["code"]) not in (None, c["pass"]) for c in checks))
        return {"rows": len(value), "failed": failed, "failures": failing}
    if kind == "document_ref":
        return {"value": format_document_ref(value)}
    return {"value": value}


# --- Vietnamese formats ----------------------------------------------------------------------------------


def format_number(value, decimals: int = 1) -> str:
    """6081 → "6.081"; 99.4 → "99,4"; 100.0 → "100" (official documents' Vietnamese format)."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return f"{int(value):,}".replace(",", ".")
    rounded = Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    if rounded == rounded.to_integral_value():
        return format_number(int(rounded))
    whole, _, fraction = f"{rounded:f}".partition(".")
    return f"{int(whole):,}".replace(",", ".") + "," + fraction.rstrip("0")


def format_date(value: str | date) -> str:
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return f"{day:%d/%m/%Y}"


def format_document_ref(value: dict) -> str:
    text = f"số {value['number']}"
    if value.get("date"):
        text += f" ngày {format_date(value['date'])}"
    if value.get("issuer"):
        text += f" của {value['issuer']}"
    if value.get("title"):
        text += f" {value['title']}"
    return text


def display(value, spec: str = "") -> str:
    """A metric as it prints in wording: numbers Vietnamese, lists joined, `:02` pads whole numbers."""
    if value is None:
        return "[chưa có số liệu]"
    if spec == "02" and isinstance(value, int | float) and float(value).is_integer():
        return f"{int(value):02d}"
    if isinstance(value, bool):
        return "có" if value else "không"
    if isinstance(value, int | float):
        return format_number(value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if value in ("yes", "no", "na"):
        return {"yes": "có", "no": "không", "na": "không áp dụng"}[value]
    return str(value)
