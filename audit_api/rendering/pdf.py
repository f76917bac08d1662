"""The document's HTML through WeasyPrint, with a fetcher that can only read what the document needs.

WeasyPrint fetches every URL it meets (images, stylesheets, fonts) through `url_fetcher`. Ours answers
`photo:<uuid>` from the caller's `thumbnail` (the stored ~320 px JPEG: originals would make the render 14×
slower and the PDF 96× larger, notes/performance-and-reliability.md §4) and `file:` URLs inside this
package's templates or the font folder; everything else is refused and stops the render. So the renderer
never makes a network request (no call back into our own gunicorn pool, no server-side request forgery
through a template mistake) and never reads other files on the server.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint import HTML
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from audit_api.rendering import fonts, view

PHOTO_URL = re.compile(r"photo:([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})")
MEDIA_TYPES = {".css": "text/css", ".ttf": "font/ttf", ".otf": "font/otf"}


class URLRefused(ValueError):
    """A URL the document renderer does not fetch."""


class DocumentFetcher(URLFetcher):
    """Serves `photo:<uuid>` through `thumbnail` and `file:` URLs under `allowed_dirs`; refuses the rest.
    `fail_on_errors` makes a refusal (or a failing thumbnail) stop the render instead of leaving a hole in
    an official document."""

    def __init__(self, thumbnail: Callable[[str], bytes], allowed_dirs: set[Path]):
        super().__init__(fail_on_errors=True)
        self.thumbnail = thumbnail
        self.allowed_dirs = {folder.resolve() for folder in allowed_dirs}

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        if match := PHOTO_URL.fullmatch(url):
            return URLFetcherResponse(url, self.thumbnail(match[1]), {"Content-Type": "image/jpeg"})
        parts = urlsplit(url)
        if parts.scheme == "file" and parts.netloc in ("", "localhost"):
            path = Path(unquote(parts.path)).resolve()  # resolve: no way out through '..' or a symlink
            if any(path.is_relative_to(folder) for folder in self.allowed_dirs) and path.is_file():
                media_type = MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")
                return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": media_type})
        raise URLRefused(f"the document renderer does not fetch {url[:200]!r}")


def font_face_css() -> str:
    """@font-face rules for Liberation Serif's files, and the document's text set in that family only: the PDF
    comes out the same on every server, whether or not Microsoft's Times New Roman happens to be installed
    (the preview and the DOCX ask for Times New Roman first)."""
    rules = [f'@font-face {{ font-family: "Liberation Serif"; src: url("{path.as_uri()}"); '
             f"font-weight: {weight}; font-style: {style}; }}"
             for (weight, style), path in sorted(fonts.font_files().items())]
    rules.append('html, .watermark { font-family: "Liberation Serif"; }')
    rules.append('@page { @top-center { font-family: "Liberation Serif"; } }')
    return "\n".join(rules)


def fetcher(thumbnail: Callable[[str], bytes]) -> DocumentFetcher:
    return DocumentFetcher(thumbnail, {view.TEMPLATES, *fonts.font_dirs()})


def print_html(document: dict) -> str:
    """The HTML WeasyPrint lays out: the preview's HTML plus the @font-face rules, photos as `photo:` URLs."""
    return view.render(document, font_faces=font_face_css())


def render_pdf(document: dict, *, thumbnail: Callable[[str], bytes]) -> bytes:
    """The document as PDF bytes. `thumbnail(photo_id)` returns the stored thumbnail JPEG of a photo; what it
    raises stops the render and reaches the caller. Raises FontMissing when Liberation Serif is not installed."""
    fonts.require_fonts()
    html = HTML(string=print_html(document), base_url=view.TEMPLATES.as_uri() + "/",
                url_fetcher=fetcher(thumbnail))
    out = io.BytesIO()
    try:
        html.write_pdf(out)
    except FatalURLFetchingError as exc:
        # A BaseException (so that WeasyPrint's own `except Exception` cannot swallow it); the caller gets the
        # ordinary error behind it (URLRefused, or whatever `thumbnail` raised), which the app's handlers catch.
        if isinstance(exc.__cause__, Exception):
            raise exc.__cause__ from None
        raise
    return out.getvalue()
