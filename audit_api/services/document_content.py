"""What a document shows: the snapshot taken from the data, the sections people edit, and the view the
renderer prints (audit_api.rendering documents the view's shape).

Two kinds of parts:
- data parts (section results, strengths, findings, recommendations, photos) come from the snapshot, which
  a draft takes when it is made and again on refresh; to change them, edit the findings and refresh;
- prose parts (EDITABLE_SECTIONS: bases, opening, composition, the unit's explanation, closing,
  recipients, signature blocks...) start from defaults in the snapshot and are edited section by section.
Units are stored by id and printed with the name they bore on the document's date (the signing date once
issued), so a commune merged in 2025 still prints under its old name on a 2024 minutes.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime

import sqlalchemy as sa

from ..answer_values import format_date, format_document_ref, format_number, metrics
from ..extensions import db
from ..models import Answer, Finding, Inspection, Photo, PhotoLink, Plan, Team, TeamMember, Unit, User
from ..rendering.formats import VIETNAM_TIME, long_date, short_date
from . import deadlines

TEAM_ROLE_LABELS = {"lead": "Trưởng đoàn", "deputy": "Phó Trưởng đoàn", "member": "Thành viên",
                    "secretary": "Thư ký"}
ROLE_ORDER = ("lead", "deputy", "member", "secretary")
# Sections a person may rewrite in a draft (PATCH); the rest come from the data.
EDITABLE_SECTIONS = ("summary", "bases", "opening", "composition", "unit_explanation", "report_back",
                     "implementation", "closing", "recipients", "signatures")
SYMBOL_OF_KIND = {"minutes": "BB", "conclusion": "TB"}


def province_of_team(team: Team) -> Unit:
    return db.session.get(Unit, team.province_id)


def place_name(province: Unit, day: date) -> str:
    """Địa danh: the province's place name (Nghị định 30/2020: the administrative unit where the issuer sits)."""
    if province.place_name:
        return province.place_name
    name = province.name_on(day)
    return name.removeprefix("Tỉnh ").removeprefix("Thành phố ")


def issuer_of(team: Team, day: date) -> dict:
    province = province_of_team(team)
    return {"parent": f"UBND {province.name_on(day).upper()}", "name": team.name.upper()}


def team_symbol() -> str:
    return "ĐKT"


# --- results of the checklist ----------------------------------------------------------------------


def answer_text(item: dict, value) -> str:
    """An answer as it prints in the results: `6.081/6.118 hồ sơ (99,4%)`, `85 công chức`, `Có`."""
    kind, unit_label = item["answer_type"], item.get("unit_label") or ""
    suffix = f" {unit_label}" if unit_label else ""
    if kind == "ratio":
        found = metrics(item, value)
        share = f" ({format_number(found['percent'])}%)" if "percent" in found else ""
        return f"{format_number(value['numerator'])}/{format_number(value['denominator'])}{suffix}{share}"
    if kind in ("count", "number"):
        return f"{format_number(value)}{suffix}"
    if kind == "percent":
        return f"{format_number(value)}%"
    if kind == "yes_no_na":
        return {"yes": "Có", "no": "Không", "na": "Không áp dụng"}[value]
    if kind == "select":
        return metrics(item, value)["label"]
    if kind == "multiselect":
        labels = {option["code"]: option["label"] for option in item.get("options") or []}
        return "; ".join(labels.get(code, code) for code in value) or "Không có"
    if kind == "date":
        return format_date(value)
    if kind == "document_ref":
        return format_document_ref(value)
    if kind == "sample":
        found = metrics(item, value)
        return f"{found['rows']} hồ sơ chọn mẫu, {found['failed']} hồ sơ chưa đạt"
    return str(value)


def _results(inspection: Inspection, photo_numbers: dict) -> list[dict]:
    definition = inspection.checklist_version.definition
    answers = {(a.item_code, a.unit_id): a for a in db.session.scalars(
        sa.select(Answer).filter_by(inspection_id=inspection.id).where(Answer.value.is_not(None)))}
    units = [inspection.host_unit, *inspection.sub_units]
    sections = []
    for section in definition["sections"]:
        results = []
        for item in section["items"]:
            for unit in units:
                answer = answers.get((item["code"], unit.id))
                if answer is None or answer.value is None:
                    continue
                results.append({
                    "item_code": item["code"], "label": item["question"], "result": answer_text(item, answer.value),
                    "unit_id": None if unit.id == inspection.host_unit_id else str(unit.id), "note": answer.note,
                    "photo_numbers": photo_numbers.get((item["code"], unit.id), []),
                })
        if results:
            sections.append({"code": section["code"], "title": section["title"], "results": results})
    return sections


# --- findings, recommendations, photos ---------------------------------------------------------------


def shown_findings(inspection_ids: list[uuid.UUID], unit_ids: list[uuid.UUID] | None = None) -> list[Finding]:
    """Findings and strengths a document prints: not dropped (a merged one is dropped into its target)."""
    query = (sa.select(Finding).where(Finding.inspection_id.in_(inspection_ids), Finding.status != "dropped")
             .order_by(Finding.section_code, Finding.sort_order, Finding.created_at))
    if unit_ids is not None:
        query = query.where(Finding.unit_id.in_(unit_ids))
    return list(db.session.scalars(query))


def _findings_part(findings: list[Finding], host_unit_ids: set[uuid.UUID]) -> tuple[list, list, list]:
    strengths, shown, recommendations = [], [], []
    for finding in findings:
        unit_id = None if finding.unit_id in host_unit_ids else str(finding.unit_id)
        if finding.kind == "strength":
            strengths.append({"finding_id": str(finding.id), "text": finding.text, "unit_id": unit_id})
            continue
        shown.append({"finding_id": str(finding.id), "text": finding.text, "unit_id": unit_id,
                      "cause_subjective": finding.cause_subjective, "cause_objective": finding.cause_objective})
        for recommendation in sorted(finding.recommendations, key=lambda r: r.sort_order):
            recommendations.append({
                "recommendation_id": str(recommendation.id), "finding_id": str(finding.id),
                "text": recommendation.text, "unit_id": str(recommendation.responsible_unit_id),
                "deadline": recommendation.deadline.isoformat() if recommendation.deadline else None,
            })
    return strengths, shown, recommendations


def _format_gps(lat: float | None, lon: float | None) -> str | None:
    if lat is None or lon is None:
        return None
    north, east = ("B" if lat >= 0 else "N"), ("Đ" if lon >= 0 else "T")
    return f"{format_number(abs(lat), 4)}° {north}, {format_number(abs(lon), 4)}° {east}"


def _photos(inspection_ids: list[uuid.UUID], unit_ids: list[uuid.UUID] | None) -> list[dict]:
    """Ready photos linked to the inspections, numbered in checklist order (item, then time taken)."""
    query = (sa.select(PhotoLink, Photo).join(Photo, Photo.id == PhotoLink.photo_id)
             .where(PhotoLink.inspection_id.in_(inspection_ids), Photo.status == "ready", Photo.kind == "photo"))
    if unit_ids is not None:
        query = query.where(sa.or_(PhotoLink.unit_id.is_(None), PhotoLink.unit_id.in_(unit_ids)))
    rows = db.session.execute(query).all()
    rows.sort(key=lambda row: (row.PhotoLink.item_code or "~", row.Photo.taken_at or datetime.max.replace(
        tzinfo=VIETNAM_TIME), str(row.Photo.id)))
    return [{"number": number, "photo_id": str(row.Photo.id), "caption": row.PhotoLink.caption,
             "taken_at": row.Photo.taken_at.astimezone(VIETNAM_TIME).isoformat() if row.Photo.taken_at else None,
             "place": _format_gps(row.Photo.gps_lat, row.Photo.gps_lon), "item_code": row.PhotoLink.item_code,
             "unit_id": str(row.PhotoLink.unit_id) if row.PhotoLink.unit_id else None}
            for number, row in enumerate(rows, start=1)]


# --- snapshots -----------------------------------------------------------------------------------------


def _members(team: Team) -> list[tuple[TeamMember, User]]:
    rows = db.session.execute(sa.select(TeamMember, User).join(User, User.id == TeamMember.user_id)
                              .where(TeamMember.team_id == team.id)).all()
    return sorted(((row.TeamMember, row.User) for row in rows),
                  key=lambda pair: (ROLE_ORDER.index(pair[0].team_role), pair[1].full_name))


def _person(members, role: str) -> str | None:
    return next((user.full_name for member, user in members if member.team_role == role), None)


def _bases(plan: Plan | None, team: Team) -> list[str]:
    bases = []
    if plan is not None:
        bases.append(f"Căn cứ Kế hoạch số {plan.number} ngày {short_date(plan.issued_on)} của {plan.issuer} "
                     f"về {plan.title[:1].lower()}{plan.title[1:]}")
    bases.append(f"Căn cứ Quyết định số {team.decision_number} ngày {short_date(team.decision_date)} của "
                 f"{team.decision_issuer} về việc thành lập {team.name}")
    return bases


def _deadline_phrase() -> str:
    from flask import current_app

    days = current_app.config["DEADLINE_DAYS"]
    working = current_app.config["DEADLINE_COUNTING"] == "working"
    return f"trong thời hạn {days} ngày{' làm việc' if working else ''}"


def minutes_snapshot(inspection: Inspection) -> dict:
    team, units = inspection.team, [inspection.host_unit, *inspection.sub_units]
    members = _members(team)
    photos = _photos([inspection.id], None)
    numbers: dict = {}
    for photo in photos:
        if photo["item_code"]:
            unit_id = uuid.UUID(photo["unit_id"]) if photo["unit_id"] else inspection.host_unit_id
            numbers.setdefault((photo["item_code"], unit_id), []).append(photo["number"])
    strengths, findings, recommendations = _findings_part(shown_findings([inspection.id]),
                                                          {inspection.host_unit_id})
    place = inspection.location or "trụ sở {host}"
    sub_units = "; ".join(f"{{unit:{u.id}}}" for u in inspection.sub_units)
    return {
        "kind": "minutes",
        "host_unit_id": str(inspection.host_unit_id),
        "unit_ids": [str(u.id) for u in units],
        "team_id": str(team.id),
        "summary": ["Kiểm tra công tác cải cách hành chính, kiểm soát thủ tục hành chính", "tại {host}"],
        "bases": _bases(inspection.plan, team),
        "opening": (f"Hôm nay, vào hồi … giờ … {long_date(inspection.scheduled_on)}, tại {place}, {team.name} "
                    f"tiến hành kiểm tra công tác cải cách hành chính, kiểm soát thủ tục hành chính tại {{host}}"
                    + (f" và {sub_units}" if sub_units else "") + "."),
        "composition": {
            "team": [{"name": user.full_name, "position": member.position or user.title,
                      "role": TEAM_ROLE_LABELS[member.team_role]} for member, user in members],
            "unit": [],
        },
        "sections": _results(inspection, numbers),
        "strengths": strengths,
        "findings": findings,
        "recommendations": recommendations,
        "unit_explanation": None,
        "report_back": (f"{{host}} báo cáo kết quả khắc phục về {team.name} {_deadline_phrase()} kể từ ngày ký "
                        f"biên bản."),
        "implementation": [],
        "closing": ("Biên bản kết thúc vào hồi … giờ … cùng ngày; đã được đọc lại cho các thành phần tham dự nghe và "
                    "thống nhất; lập thành 02 bản có giá trị như nhau, Đoàn kiểm tra giữ 01 bản, đơn vị được kiểm "
                    "tra giữ 01 bản."),
        "recipients": ["{host} (thực hiện)", "Thành viên Đoàn kiểm tra", "Lưu: VT, Hồ sơ"],
        "signatures": [
            {"authority": None, "title": "ĐẠI DIỆN ĐƠN VỊ ĐƯỢC KIỂM TRA", "hint": "(ký, ghi rõ họ tên, đóng dấu)",
             "name": None},
            {"authority": None, "title": "THƯ KÝ", "hint": "(ký, ghi rõ họ tên)",
             "name": _person(members, "secretary")},
            {"authority": None, "title": "TRƯỞNG ĐOÀN KIỂM TRA", "hint": "(ký, ghi rõ họ tên)",
             "name": _person(members, "lead")},
        ],
        "photos": photos,
    }


def conclusion_snapshot(plan: Plan, team: Team, inspections: list[Inspection], units: list[Unit]) -> dict:
    members = _members(team)
    unit_ids = [u.id for u in units]
    ids = [i.id for i in inspections]
    strengths, findings, recommendations = _findings_part(shown_findings(ids, unit_ids), set())
    first = min(i.scheduled_on for i in inspections)
    last = max(i.ended_on or i.scheduled_on for i in inspections)
    span = (f"ngày {short_date(first)}" if first == last
            else f"từ ngày {short_date(first)} đến ngày {short_date(last)}")
    named = ", ".join(f"{{unit:{u.id}}}" for u in units)
    return {
        "kind": "conclusion",
        "host_unit_id": None,
        "unit_ids": [str(u) for u in unit_ids],
        "team_id": str(team.id),
        "summary": [f"Kết luận kiểm tra công tác cải cách hành chính năm {plan.year}", f"tại {named}"],
        "bases": [],
        "opening": (f"Thực hiện Kế hoạch số {plan.number} ngày {short_date(plan.issued_on)} của {plan.issuer}; "
                    f"{span}, {team.name} theo Quyết định số {team.decision_number} ngày "
                    f"{short_date(team.decision_date)} của {team.decision_issuer} đã kiểm tra tại {named}. "
                    f"Trên cơ sở báo cáo của đơn vị và kết quả kiểm tra thực tế, {team.name} thông báo kết luận "
                    f"như sau:"),
        "composition": {"team": [], "unit": []},
        "sections": [],
        "strengths": strengths,
        "findings": findings,
        "recommendations": recommendations,
        "unit_explanation": None,
        "report_back": None,
        "implementation": [
            f"Thủ trưởng {named} chỉ đạo xây dựng kế hoạch khắc phục; tổ chức khắc phục các tồn tại, hạn chế; báo cáo "
            f"kết quả bằng văn bản về {team.name} {_deadline_phrase()} kể từ ngày nhận Thông báo.",
            "Sở Nội vụ theo dõi, đôn đốc, tổng hợp, báo cáo; đề xuất kiểm tra lại (phúc tra) nếu cần.",
        ],
        "closing": f"{team.name} thông báo để các cơ quan, đơn vị biết, thực hiện./.",
        "recipients": [*(f"{{unit:{u}}} (thực hiện)" for u in unit_ids), "Chủ tịch, các PCT UBND tỉnh (b/c)",
                       "Thành viên Đoàn kiểm tra", "Sở Nội vụ", "Lưu: VT, ĐKT"],
        "signatures": [{"authority": "TM. ĐOÀN KIỂM TRA", "title": "TRƯỞNG ĐOÀN", "hint": None,
                        "name": _person(members, "lead")}],
        "photos": _photos(ids, unit_ids),
    }


# --- the view the renderer prints ---------------------------------------------------------------------

_TOKEN = re.compile(r"\{(host|unit:[0-9a-f-]{36})\}")


def _names(unit_ids, day: date) -> dict[str, str]:
    ids = {uuid.UUID(u) for u in unit_ids if u}
    units = db.session.scalars(sa.select(Unit).where(Unit.id.in_(ids))).all() if ids else []
    return {str(u.id): u.name_on(day) for u in units}


def _unit_ids_in(parts: dict) -> set[str]:
    found = {parts.get("host_unit_id"), *parts.get("unit_ids", [])}
    for key in ("strengths", "findings", "recommendations", "photos"):
        found |= {entry.get("unit_id") for entry in parts.get(key) or []}
    for section in parts.get("sections") or []:
        found |= {entry.get("unit_id") for entry in section["results"]}
    text = repr({key: parts.get(key) for key in EDITABLE_SECTIONS})
    found |= {name.removeprefix("unit:") for name in _TOKEN.findall(text) if name != "host"}
    return {u for u in found if u}


def view_of(document, day: date | None = None) -> dict:
    """The document as the renderer prints it: the snapshot with the edited sections laid over it, unit names
    on the document's date (the signing date once issued; today for a draft), numbered recommendations with
    their deadlines (explicit, or the configured default counted from that date)."""
    day = day or document.issued_on or deadlines.today()
    parts = {**(document.snapshot or {}), **(document.content or {})}
    names = _names(_unit_ids_in(parts), day)
    host = names.get(parts.get("host_unit_id") or "", "")

    def resolve(text):
        if isinstance(text, str):
            return _TOKEN.sub(lambda m: host if m.group(1) == "host" else names.get(m.group(1)[5:], m.group(0)), text)
        if isinstance(text, list):
            return [resolve(entry) for entry in text]
        if isinstance(text, dict):
            return {key: resolve(value) for key, value in text.items()}
        return text

    def unit_name(entry):
        return names.get(entry.get("unit_id") or "") if entry.get("unit_id") else None

    team = db.session.get(Team, uuid.UUID(parts["team_id"]))
    recommendations = [{
        "number": number, "recommendation_id": entry["recommendation_id"], "text": entry["text"],
        "unit_name": names.get(entry["unit_id"], ""),
        "deadline": entry["deadline"] or deadlines.default_deadline(day).isoformat(),
    } for number, entry in enumerate(parts.get("recommendations") or [], start=1)]
    return {
        "kind": document.kind, "status": document.status,
        "issuer": issuer_of(team, day),
        "number": document.number, "provisional_number": document.provisional_number,
        "symbol": document.symbol,
        "place": document.place_name or place_name(province_of_team(team), day),
        "date": document.issued_on.isoformat() if document.issued_on else None,
        "title": "BIÊN BẢN" if document.kind == "minutes" else "THÔNG BÁO",
        "summary": resolve(parts.get("summary") or []),
        "bases": resolve(parts.get("bases") or []),
        "opening": resolve(parts.get("opening")),
        "composition": resolve(parts.get("composition") or {"team": [], "unit": []}),
        "sections": [{"code": s["code"], "title": s["title"], "results": [
            {**r, "unit_name": unit_name(r)} for r in s["results"]]} for s in parts.get("sections") or []],
        "strengths": [{"text": s["text"], "unit_name": unit_name(s)} for s in parts.get("strengths") or []],
        "findings": [{"text": f["text"], "unit_name": unit_name(f), "cause_subjective": f["cause_subjective"],
                      "cause_objective": f["cause_objective"]} for f in parts.get("findings") or []],
        "unit_explanation": resolve(parts.get("unit_explanation")),
        "recommendations": recommendations,
        "report_back": resolve(parts.get("report_back")),
        "implementation": resolve(parts.get("implementation") or []),
        "closing": resolve(parts.get("closing")),
        "recipients": resolve(parts.get("recipients") or []),
        "signatures": resolve(parts.get("signatures") or []),
        "photos": [{**p, "unit_name": unit_name(p)} for p in parts.get("photos") or []],
    }
