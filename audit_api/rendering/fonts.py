"""Liberation Serif: metric-compatible with Times New Roman (what Nghị định 30/2020 asks for) and complete
for Vietnamese. The PDF embeds these files; nothing else on the server decides how a document looks."""

from __future__ import annotations

from pathlib import Path

from audit_api.errors import DomainError

FONT_PACKAGE = "fonts-liberation2"
# (CSS weight, CSS style) → file name, as Debian's fonts-liberation2 (and the older fonts-liberation) ship them
FACES = {
    ("normal", "normal"): "LiberationSerif-Regular.ttf",
    ("bold", "normal"): "LiberationSerif-Bold.ttf",
    ("normal", "italic"): "LiberationSerif-Italic.ttf",
    ("bold", "italic"): "LiberationSerif-BoldItalic.ttf",
}
FONT_DIRS = (Path("/usr/share/fonts/truetype/liberation2"), Path("/usr/share/fonts/truetype/liberation"))
FONT_ROOT = Path("/usr/share/fonts")

_found: dict[tuple[str, str], Path] | None = None


class FontMissing(DomainError):
    """The serif the documents are typeset in is not installed on this server."""

    status = 503
    slug = "font-missing"
    title = "Thiếu phông chữ để in văn bản"


def _search() -> dict[tuple[str, str], Path] | None:
    for folder in FONT_DIRS:
        paths = {face: folder / name for face, name in FACES.items()}
        if all(path.is_file() for path in paths.values()):
            return paths
    regular = next(FONT_ROOT.rglob(FACES["normal", "normal"]), None) if FONT_ROOT.is_dir() else None
    if regular is None:
        return None
    paths = {face: regular.parent / name for face, name in FACES.items()}
    return paths if all(path.is_file() for path in paths.values()) else None


def font_files() -> dict[tuple[str, str], Path]:
    """The four faces' files; raises FontMissing. Only a success is remembered, so installing the package
    takes effect without restarting the workers."""
    global _found
    if _found is None:
        found = _search()
        if found is None:
            raise FontMissing(f"Máy chủ chưa cài phông Liberation Serif (thay thế Times New Roman, đủ dấu tiếng "
                              f"Việt) nên không thể xuất văn bản PDF. Quản trị viên cần cài gói Debian "
                              f"{FONT_PACKAGE}: apt-get install {FONT_PACKAGE} (font missing).")
        _found = found
    return _found


def require_fonts() -> None:
    """Raise FontMissing (Vietnamese message naming the Debian package) unless Liberation Serif is installed."""
    font_files()


def font_dirs() -> set[Path]:
    """Folders the PDF fetcher may read fonts from."""
    return {path.parent.resolve() for path in font_files().values()}
