"""From the service's view dict to the document's HTML: defaults filled in, values formatted, one Jinja
template per kind of document on top of `base.html.j2`.

The wording of the document (headings, labels, "Nguyên nhân chủ quan:") lives in the templates; this module
only fills gaps in the view and computes what needs Python (numbers, dates). Undefined names in a template
are errors (StrictUndefined), so optional fields get their defaults here rather than silently printing
nothing; autoescape is on, so user text cannot add markup.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from pathlib import Path

import jinja2
from markupsafe import Markup

from audit_api.rendering import formats

# Bump when a template changes: issued documents store it, so a later re-render can tell it may differ.
TEMPLATE_VERSION = "1"
TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATE_FOR = {"minutes": "minutes.html.j2", "conclusion": "conclusion.html.j2"}
STATUSES = {"draft", "issued"}

# Optional fields of the view and of its nested items, with what an absent or null one means.
VIEW_DEFAULTS = {
    "provisional_number": None, "number": None, "date": None, "place": "", "summary": [], "bases": [],
    "opening": None, "composition": {}, "sections": [], "strengths": [], "findings": [],
    "unit_explanation": None, "recommendations": [], "report_back": None, "implementation": [],
    "closing": None, "recipients": [], "signatures": [], "photos": [],
}
ITEM_DEFAULTS = {
    "results": {"unit_name": None, "note": None, "photo_numbers": []},
    "strengths": {"unit_name": None},
    "findings": {"unit_name": None, "cause_subjective": None, "cause_objective": None},
    "recommendations": {"unit_name": None, "deadline": None},
    "signatures": {"authority": None, "hint": None, "name": None},
    "photos": {"caption": None, "taken_at": None, "place": None, "unit_name": None, "item_code": None},
    "members": {"position": None, "role": None},
}


def default_image_src(photo_id: str) -> str:
    return f"photo:{photo_id}"


def _items(items: list[dict] | None, kind: str) -> list[dict]:
    defaults = ITEM_DEFAULTS[kind]
    return [{**defaults, **{k: v for k, v in item.items() if v is not None}} for item in items or []]


def prepare(view: dict, image_src: Callable[[str], str]) -> dict:
    """The template context: the view with every optional field present and the computed lines added."""
    if view["kind"] not in TEMPLATE_FOR or view["status"] not in STATUSES:
        raise ValueError(f"unknown document kind or status: {view['kind']!r}, {view['status']!r}")
    doc = {**VIEW_DEFAULTS, **{k: v for k, v in view.items() if v is not None}}
    if doc["status"] == "issued" and doc["number"] is None:
        # An issued document is the registry's record; printing "Số: …" on one would hide a service bug.
        raise ValueError("an issued document needs its official number")
    composition = doc["composition"]
    doc["team"] = _items(composition.get("team"), "members")
    doc["unit_members"] = _items(composition.get("unit"), "members")
    doc["sections"] = [{**section, "results": _items(section.get("results"), "results")}
                       for section in doc["sections"]]
    for kind in ("strengths", "findings", "recommendations", "signatures"):
        doc[kind] = _items(doc[kind], kind)
    doc["photos"] = sorted(_items(doc["photos"], "photos"), key=lambda photo: photo["number"])
    for photo in doc["photos"]:
        photo["src"] = image_src(photo["photo_id"])
    doc["is_draft"] = doc["status"] == "draft"
    doc["number_text"] = formats.document_number(doc["number"], doc["provisional_number"], doc["symbol"])
    doc["is_provisional"] = doc["number"] is None and bool(doc["provisional_number"])
    doc["place_date"] = formats.place_date(doc["place"], doc["date"])
    return doc


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True,
    )
    env.filters.update(short_date=formats.short_date, time_and_date=formats.time_and_date,
                       number_list=formats.number_list, with_end=formats.with_end, sentence=formats.sentence)
    return env


def render(view: dict, *, image_src: Callable[[str], str] | None = None, font_faces: str = "") -> str:
    """The document as one HTML page. `font_faces` is CSS added for print (the PDF's @font-face rules)."""
    doc = prepare(view, image_src or default_image_src)
    template = environment().get_template(TEMPLATE_FOR[doc["kind"]])
    return template.render(doc=doc, font_faces=Markup(font_faces))  # noqa: S704  our own CSS, never user text


def templates_digest() -> str:
    """SHA-256 over the template files, to catch a template change that forgot to bump TEMPLATE_VERSION."""
    digest = hashlib.sha256()
    for path in sorted(TEMPLATES.iterdir()):
        if path.suffix not in (".j2", ".css"):
            continue  # editor back-ups and caches are not templates
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
