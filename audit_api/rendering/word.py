"""DOCX by walking the document's HTML: the same templates as the preview and the PDF, no second template.

Only this vocabulary may appear in the templates; anything else raises ValueError, so a template change
that the DOCX would silently drop fails the tests instead.

Block elements
  div          a container; its classes add formats to everything inside (FORMATS below). Special classes:
               .watermark → the "DỰ THẢO" mark in every page header (not body text); .appendix → page break
               before its first paragraph.
  h1, h2, h3   one paragraph each (bold, kept with the next paragraph).
  p            one paragraph; its classes add formats (.keep-with-next: on the page of what follows).
  ul > li      a paragraph starting "- "; ol > li a paragraph starting "<value>. " (the li's value
               attribute), as the stylesheet's ::before rules print them.
  table/tr/td  a borderless Word table; `style="width: N%"` on a first-row td sets that column's share of
               the width available. Cells hold block elements.
  img          (inside a p) a picture from thumbnail(data-photo-id), fitted into 48 × 48 mm like the CSS.
Inline elements
  text, br     runs and line breaks; whitespace collapses as in HTML.
  strong/b, em/i, u   bold, italic, underline.
  span         formats of its classes (.provisional). span.rule-full / span.rule-short: a rule as long as
               the paragraph's text (NĐ 30's line under the motto) or 40% of it (under the issuing body and
               the summary), centred, drawn as the bottom border of a thin paragraph added below; the text
               is measured with Liberation Serif's metrics, which are Times New Roman's.
Ignored: head (title, style). Page: A4, margins 20/15/20/30 mm; pages from 2 on carry their number centred
in the header ("different first page"), as the stylesheet's @page rules do.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import lxml.html
from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from PIL import Image, ImageFont

from audit_api.rendering import fonts, view

FONT = "Times New Roman"  # what Word users have; Liberation Serif stands in for it in the PDF
PAGE_MM, MARGINS_MM = (210, 297), {"top": 20, "bottom": 20, "left": 30, "right": 15}
TEXT_WIDTH_MM = PAGE_MM[0] - MARGINS_MM["left"] - MARGINS_MM["right"]
PHOTO_BOX_MM = 48
DRAFT_MARK = "DỰ THẢO"
ALIGN = {"left": WD_ALIGN_PARAGRAPH.LEFT, "center": WD_ALIGN_PARAGRAPH.CENTER,
         "justify": WD_ALIGN_PARAGRAPH.JUSTIFY}
RUN_KEYS = {"bold", "italic", "underline", "size", "color"}

# Mirrors document.css. Tag entries are an element's defaults; class entries (and td) are inherited by
# everything inside and beat the tag defaults, as the stylesheet's class and descendant rules do.
TAGS = {
    "p": {"align": "justify", "indent": 10, "after": 6},
    "li": {"align": "justify", "indent": 10, "after": 6},
    "h1": {"bold": True, "align": "center", "before": 12, "keep": True},
    "h2": {"bold": True, "indent": 10, "before": 6, "after": 6, "keep": True},
    "h3": {"bold": True, "indent": 10, "after": 6, "keep": True},
}
FORMATS = {
    "td": {"align": "center", "indent": 0, "after": 0},
    ".issuer-parent": {"size": 12},
    ".issuer-name": {"size": 12, "bold": True},
    ".number": {"size": 13, "before": 6},
    ".provisional": {"italic": True, "color": "B00000"},
    ".nation": {"size": 12, "bold": True},
    ".motto-line": {"size": 13, "bold": True},
    ".place-date": {"italic": True, "before": 6},
    ".title": {"before": 12, "after": 0},
    ".summary": {"bold": True, "align": "center", "indent": 0, "after": 12},
    ".bases": {"italic": True},
    ".signature": {"after": 0},
    ".sig-authority": {"bold": True},
    ".sig-title": {"bold": True},
    ".sig-hint": {"italic": True, "size": 13},
    ".sig-space": {"height": 28},
    ".sig-name": {"bold": True, "after": 12},
    ".recipients": {"size": 11, "align": "left", "indent": 0, "after": 0},
    ".recipients-label": {"size": 12, "bold": True, "italic": True, "before": 12},
    ".appendix": {"page_break": True},
    ".appendix-title": {"align": "center", "indent": 0, "before": 0},
    ".appendix-ref": {"align": "center", "indent": 0, "italic": True, "after": 8},
    ".photo-number": {"size": 12, "bold": True, "before": 4},
    ".photo-caption": {"size": 11},
    ".photo-meta": {"size": 10, "italic": True},
    ".keep-with-next": {"keep": True},
    ".signatures": {"before": 12},
    ".closing-block": {"before": 12},
}
INLINE = {"strong": {"bold": True}, "b": {"bold": True}, "em": {"italic": True}, "i": {"italic": True},
          "u": {"underline": True}, "span": {}}
BLOCKS = {"div", "p", "h1", "h2", "h3", "ul", "ol", "table"}
WHITESPACE = re.compile(r"[ \t\r\n\f]+")  # HTML's whitespace; not \s, which would eat no-break spaces
WIDTH = re.compile(r"width:\s*([\d.]+)%")
# pPr children that must follow w:pBdr (the schema fixes their order)
AFTER_PBDR = ("w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
              "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd", "w:snapToGrid",
              "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
              "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId",
              "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange")


# Characters XML 1.0 cannot hold, which python-docx refuses with a ValueError: C0 controls other than tab and
# line breaks (a vertical tab pasted from Word into a finding, say) and U+FFFE/U+FFFF. The HTML preview and
# the PDF show text with them as it is; the DOCX leaves them out rather than fail (found by schemathesis).
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def render_docx(document: dict, *, thumbnail: Callable[[str], bytes]) -> bytes:
    """The document as DOCX bytes, built from the same HTML as the preview and the PDF. `thumbnail(photo_id)`
    returns the stored thumbnail JPEG of a photo."""
    root = lxml.html.document_fromstring(NOT_XML.sub("", view.render(document)))
    doc = _new_document(root.findtext("head/title") or "", document["issuer"]["name"])
    builder = _Builder(thumbnail)
    builder.blocks(root.body, _Flow(doc), {}, TEXT_WIDTH_MM)
    _page_headers(doc, draft=builder.draft)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


class _Flow:
    """Where paragraphs go: the body, or a table cell (whose first, empty paragraph is used first)."""

    def __init__(self, target, *, cell: bool = False):
        self.target, self.cell = target, cell
        self.unused = target.paragraphs[0] if cell else None

    def paragraph(self):
        if self.unused is not None:
            paragraph, self.unused = self.unused, None
            return paragraph
        return self.target.add_paragraph()

    def table(self, rows: int, cols: int):
        if self.cell:
            raise ValueError("tables inside table cells are not in the DOCX vocabulary")
        return self.target.add_table(rows=rows, cols=cols)


def _classes(el) -> list[str]:
    return el.get("class", "").split()


def _class_formats(el) -> dict:
    merged: dict = {}
    for name in _classes(el):
        merged.update(FORMATS.get(f".{name}", {}))
    return merged


def _elements(parent):
    """Child elements, skipping comments; text between blocks must be whitespace."""
    for text in (parent.text, *(child.tail for child in parent)):
        if text and text.strip():
            raise ValueError(f"text outside a paragraph in <{parent.tag}>: {text.strip()[:60]!r}")
    return [child for child in parent if isinstance(child.tag, str)]


class _Builder:
    """Walks the body's elements into a python-docx document; remembers what becomes page furniture."""

    def __init__(self, thumbnail: Callable[[str], bytes]):
        self.thumbnail = thumbnail
        self.draft = False
        self.page_break = False  # set by .appendix: the next paragraph starts a page

    def blocks(self, parent, flow: _Flow, ctx: dict, width: float) -> None:
        for el in _elements(parent):
            self.block(el, flow, ctx, width)

    def block(self, el, flow: _Flow, ctx: dict, width: float) -> None:
        own = _class_formats(el)
        if el.tag == "div":
            if "watermark" in _classes(el):
                self.draft = True  # the mark goes into the page headers, where Word users expect it
                return
            self.page_break |= own.get("page_break", False)
            inner = {key: value for key, value in {**ctx, **own}.items() if key != "page_break"}
            self.blocks(el, flow, inner, width)
        elif el.tag in TAGS:
            self.paragraph(el, flow, {**TAGS[el.tag], **ctx, **own}, width)
        elif el.tag in ("ul", "ol"):
            for n, li in enumerate(_elements(el), 1):
                if li.tag != "li":
                    raise ValueError(f"<{el.tag}> may only hold <li>, not <{li.tag}>")
                prefix = "- " if el.tag == "ul" else f"{li.get('value', n)}. "
                self.paragraph(li, flow, {**TAGS["li"], **ctx, **own, **_class_formats(li)}, width, prefix)
        elif el.tag == "table":
            self.table(el, flow, ctx, own, width)
        else:
            raise ValueError(f"<{el.tag}> is not in the DOCX vocabulary (rendering/word.py)")

    def table(self, el, flow: _Flow, ctx: dict, own: dict, width: float) -> None:
        rows = [_elements(tr) for tr in el.xpath("./tr|./tbody/tr")]
        if any(td.tag != "td" for row in rows for td in row):
            raise ValueError("table rows may only hold <td> in the DOCX vocabulary")
        cols = max((len(row) for row in rows), default=0)
        if not cols:
            return
        shares = [float(m[1]) if (m := WIDTH.search(td.get("style", ""))) else 100 / cols for td in rows[0]]
        shares += [100 / cols] * (cols - len(shares))
        widths = [width * share / sum(shares) for share in shares]
        table = flow.table(len(rows), cols)
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        _no_cell_margins(table)
        for column, column_width in zip(table.columns, widths, strict=True):
            column.width = Mm(column_width)
        # the table's own space before goes to its first row; everything else it sets is inherited by the cells
        inherited = {**ctx, **{key: value for key, value in own.items() if key != "before"}}
        for r, row in enumerate(rows):
            for c, td in enumerate(row):
                cell = table.cell(r, c)
                cell.width = Mm(widths[c])
                self.blocks(td, _Flow(cell, cell=True), {**inherited, **FORMATS["td"], **_class_formats(td)},
                            widths[c])
                if r == 0 and own.get("before"):
                    cell.paragraphs[0].paragraph_format.space_before = Pt(own["before"])

    def paragraph(self, el, flow: _Flow, fmt: dict, width: float, prefix: str = "") -> None:
        pieces: list[tuple] = [("text", prefix, fmt)] if prefix else []
        rules: list[float] = []
        self.inline(el, fmt, pieces, rules)
        pieces = _collapse(pieces)
        paragraph = flow.paragraph()
        _format_paragraph(paragraph, fmt if not rules else {**fmt, "after": 0})
        if self.page_break:
            paragraph.paragraph_format.page_break_before = True
            self.page_break = False
        for piece in pieces:
            if piece[0] == "text":
                _format_run(paragraph.add_run(piece[1]), piece[2])
            elif piece[0] == "br":
                paragraph.add_run().add_break()
            else:
                self.picture(paragraph, piece[1])
        if rules:
            _rule(flow.paragraph(), min(_text_width_mm(pieces), width), rules[0], width, fmt.get("after", 0))

    def inline(self, el, fmt: dict, pieces: list, rules: list) -> None:
        if el.text:
            pieces.append(("text", el.text, fmt))
        for child in el:
            if not isinstance(child.tag, str):
                pass  # a comment
            elif child.tag == "br":
                pieces.append(("br",))
            elif child.tag == "img":
                pieces.append(("img", child))
            elif child.tag in INLINE:
                names = _classes(child)
                if "rule-full" in names or "rule-short" in names:
                    rules.append(1.0 if "rule-full" in names else 0.4)
                self.inline(child, {**fmt, **INLINE[child.tag], **_class_formats(child)}, pieces, rules)
            else:
                raise ValueError(f"<{child.tag}> is not in the DOCX vocabulary (rendering/word.py)")
            if child.tail:
                pieces.append(("text", child.tail, fmt))

    def picture(self, paragraph, img) -> None:
        photo_id = img.get("data-photo-id")
        if not photo_id:
            raise ValueError("an <img> in a document must name its photo (data-photo-id)")
        data = self.thumbnail(photo_id)
        with Image.open(io.BytesIO(data)) as im:
            w, h = im.size
        scale = PHOTO_BOX_MM / max(w, h)
        paragraph.add_run().add_picture(io.BytesIO(data), width=Mm(w * scale), height=Mm(h * scale))


def _no_cell_margins(table) -> None:
    """No left and right cell margins (Word's default is 1.9 mm), as the stylesheet's td has no padding: the
    issuing body's name fits its column on one line in both formats."""
    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:w"), "0")
        el.set(qn("w:type"), "dxa")
        margins.append(el)
    table._tbl.tblPr.insert_element_before(margins, "w:tblLook", "w:tblCaption", "w:tblDescription",
                                           "w:tblPrChange")


def _collapse(pieces: list[tuple]) -> list[tuple]:
    """HTML whitespace rules: runs of whitespace become one space, none at the start or end of a line."""
    out: list[tuple] = []
    line_start = True
    for piece in pieces:
        if piece[0] == "text":
            text = WHITESPACE.sub(" ", piece[1])
            if line_start or (out and out[-1][0] == "text" and out[-1][1].endswith(" ")):
                text = text.lstrip(" ")
            if text:
                out.append(("text", text, piece[2]))
                line_start = False
            continue
        if piece[0] == "br":
            _trim_end(out)
        out.append(piece)
        line_start = piece[0] == "br"
    _trim_end(out)
    return out


def _trim_end(out: list[tuple]) -> None:
    if out and out[-1][0] == "text":
        text = out[-1][1].rstrip(" ")
        out[-1:] = [("text", text, out[-1][2])] if text else []


def _format_paragraph(paragraph, fmt: dict) -> None:
    pf = paragraph.paragraph_format
    pf.alignment = ALIGN[fmt.get("align", "left")]
    pf.first_line_indent = Mm(fmt.get("indent", 0))
    pf.space_before, pf.space_after = Pt(fmt.get("before", 0)), Pt(fmt.get("after", 0))
    if fmt.get("keep"):
        pf.keep_with_next = True
    if "height" in fmt:  # an empty block of fixed height (the space to sign in)
        pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        pf.line_spacing = Mm(fmt["height"])


def _format_run(run, fmt: dict) -> None:
    font = run.font
    font.bold = fmt.get("bold") or None
    font.italic = fmt.get("italic") or None
    font.underline = fmt.get("underline") or None
    if fmt.get("size"):
        font.size = Pt(fmt["size"])
    if fmt.get("color"):
        font.color.rgb = RGBColor.from_string(fmt["color"])


_measuring: dict[tuple[bool, bool], ImageFont.FreeTypeFont] = {}


def _measuring_font(bold: bool, italic: bool) -> ImageFont.FreeTypeFont | None:
    if (bold, italic) not in _measuring:
        try:
            path = fonts.font_files()[("bold" if bold else "normal", "italic" if italic else "normal")]
        except fonts.FontMissing:
            return None  # not remembered: installing the fonts takes effect without a restart
        _measuring[bold, italic] = ImageFont.truetype(str(path), 100)
    return _measuring[bold, italic]


def _text_width_mm(pieces: list[tuple]) -> float:
    """The widest line's width, measured with Liberation Serif (the same advance widths as Times New Roman);
    without the font installed, half an em a character."""
    widest = line = 0.0
    for piece in pieces:
        if piece[0] == "br":
            widest, line = max(widest, line), 0.0
        elif piece[0] == "text":
            fmt = piece[2]
            size = fmt.get("size", 14)
            font = _measuring_font(bool(fmt.get("bold")), bool(fmt.get("italic")))
            points = font.getlength(piece[1]) / 100 * size if font else len(piece[1]) * size / 2
            line += points * 25.4 / 72
    return max(widest, line)


def _rule(paragraph, text_mm: float, share: float, width: float, after: float) -> None:
    """A thin paragraph whose bottom border is the rule: `share` of the text's width, centred."""
    side = max(0.0, (width - text_mm * share) / 2)
    pf = paragraph.paragraph_format
    pf.alignment = ALIGN["center"]
    pf.left_indent = pf.right_indent = Mm(side)
    pf.first_line_indent = Mm(0)
    pf.space_before, pf.space_after = Pt(0), Pt(after)
    pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    pf.line_spacing = Pt(3)
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("val", "single"), ("sz", "6"), ("space", "0"), ("color", "000000")):  # sz: 1/8 pt
        bottom.set(qn(f"w:{key}"), value)
    border.append(bottom)
    paragraph._p.get_or_add_pPr().insert_element_before(border, *AFTER_PBDR)


def _new_document(title: str, author: str):
    """An empty A4 document whose every run defaults to Times New Roman 14 pt, Vietnamese."""
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
    for side, mm in MARGINS_MM.items():
        setattr(section, f"{side}_margin", Mm(mm))
    section.header_distance = section.footer_distance = Mm(10)
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    fonts_el = rpr.find(qn("w:rFonts"))
    for name in list(fonts_el.attrib):
        del fonts_el.attrib[name]  # the theme fonts (Calibri, …) would win over the names set below
    # All four slots: Word picks a slot per character and per editing language, so a slot left on the theme
    # fonts lets some characters (or all of them, on a machine set to an East-Asian language) change face.
    for slot in ("ascii", "hAnsi", "eastAsia", "cs"):
        fonts_el.set(qn(f"w:{slot}"), FONT)
    for tag in ("w:sz", "w:szCs"):
        rpr.find(qn(tag)).set(qn("w:val"), "28")
    for slot in ("val", "eastAsia"):
        rpr.find(qn("w:lang")).set(qn(f"w:{slot}"), "vi-VN")
    spacing = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr")).find(qn("w:spacing"))
    spacing.set(qn("w:after"), "0")
    spacing.set(qn("w:line"), "264")  # 1.1 lines, close to the stylesheet's line-height: 1.2
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(14)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:cs"), FONT)
    props = doc.core_properties
    props.title, props.author, props.last_modified_by = title, author, author
    props.language, props.comments = "vi-VN", f"Mẫu văn bản phiên bản {view.TEMPLATE_VERSION}"
    return doc


def _page_headers(doc, *, draft: bool) -> None:
    """Page numbers centred in the top margin from page 2 (none on page 1); a draft's mark on every page."""
    section = doc.sections[0]
    section.different_first_page_header_footer = True
    for header, numbered in ((section.header, True), (section.first_page_header, False)):
        paragraph = header.paragraphs[0]
        pf = paragraph.paragraph_format
        pf.tab_stops.add_tab_stop(Mm(TEXT_WIDTH_MM / 2), WD_TAB_ALIGNMENT.CENTER)
        pf.tab_stops.add_tab_stop(Mm(TEXT_WIDTH_MM), WD_TAB_ALIGNMENT.RIGHT)
        paragraph.add_run("\t")
        if numbered:
            _page_field(paragraph)
        if draft:
            mark = paragraph.add_run(f"\t{DRAFT_MARK}")
            _format_run(mark, {"bold": True, "color": "B00000"})
        for run in paragraph.runs:
            run.font.size = Pt(13)


def _page_field(paragraph) -> None:
    """A PAGE field (begin, instruction, separate, a placeholder result, end): Word and LibreOffice
    replace the result with the page number when they lay the document out."""
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "2"), ("end", None)):
        run = paragraph.add_run()
        if kind:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            run._r.append(char)
        elif text.strip() == "PAGE":
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run._r.append(instr)
        else:
            run.text = text
