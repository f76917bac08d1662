"""Minutes (Mẫu 1.9) and conclusion notices (Mẫu 1.4) per Nghị định 30/2020: one set of Jinja templates
rendered to an HTML preview, to PDF (that HTML through WeasyPrint) and to DOCX (that HTML walked into
python-docx).

The caller passes a `view`: a JSON-serialisable dict already merged from the data snapshot and the user's
edits (the contract is in DESIGN.md §8 and in tests/test_rendering.py's examples). Photos are referenced by
id; the PDF and DOCX ask `thumbnail(photo_id)` for the stored thumbnail JPEG and never see an original.
All three raise ValueError for a view that cannot be a document (unknown kind or status, an issued document
without its official number).
"""

from collections.abc import Callable

from audit_api.rendering.fonts import FontMissing, require_fonts
from audit_api.rendering.pdf import render_pdf
from audit_api.rendering.view import TEMPLATE_VERSION
from audit_api.rendering.view import render as _render

__all__ = ["TEMPLATE_VERSION", "FontMissing", "render_docx", "render_html", "render_pdf", "require_fonts"]


def render_docx(document: dict, *, thumbnail: Callable[[str], bytes]) -> bytes:
    """The document as DOCX (the same HTML walked into python-docx). Imported on first use: python-docx and
    lxml cost a worker ~15 MB that a PDF render never needs."""
    from audit_api.rendering.word import render_docx as render

    return render(document, thumbnail=thumbnail)


def render_html(view: dict, *, image_src: Callable[[str], str] | None = None) -> str:
    """The document as an HTML page for the preview. `image_src(photo_id)` gives each photo's <img src>
    (default "photo:<id>")."""
    return _render(view, image_src=image_src)
