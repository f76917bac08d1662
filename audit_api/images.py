"""The Pillow pipeline for evidence photos: check what an upload is, read its metadata, make derivatives.

Order matters everywhere here. The declared type is checked against the file's signature before Pillow
guesses anything; the pixel count is read from the header and refused before a single pixel is decoded;
JPEGs are decoded at reduced DCT scale (``draft``) before ``exif_transpose`` loads them. The original file
is only ever read: it is the evidence, kept byte-for-byte, while the derivatives carry no metadata at all.

HEIC is accepted only when the optional ``pillow-heif`` package is installed; its opener is registered on
first use, not at import.
"""

from __future__ import annotations

import functools
import io
import math
import re
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import BinaryIO

from PIL import ExifTags, Image, ImageCms, ImageFile, ImageOps

VIETNAM_TIME = timezone(timedelta(hours=7))
HEAD_BYTES = 512  # enough for the longest signature we read: an ISO-BMFF ftyp box with its brand list

FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/heic": "HEIF"}
ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "image/x-png": "image/png",
           "image/heif": "image/heic"}
LABELS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WebP", "image/heic": "HEIC",
          "application/pdf": "PDF"}
HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
HEIF_GENERIC_BRANDS = {b"mif1", b"msf1"}  # plain HEIF: HEIC only if a compatible brand says so (AVIF does not)

# What Pillow raises for malformed or cut-off data, while opening or decoding.
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error)
# Metadata is read leniently: a damaged EXIF block loses its fields, it does not lose the photo.
EXIF_ERRORS = (*DECODE_ERRORS, KeyError, TypeError, ZeroDivisionError)

TAG_DATETIME_ORIGINAL = 0x9003
TAG_OFFSET_TIME_ORIGINAL = 0x9011
GPS_LAT_REF, GPS_LAT, GPS_LON_REF, GPS_LON = 1, 2, 3, 4
SWAPS_SIDES = {5, 6, 7, 8}  # EXIF orientations that rotate by 90°, so width and height trade places


Source = Path | BinaryIO  # a file, or a seekable binary file object (read from its start; left open)


def _opened(source: Source):
    """A binary file at offset 0: `source` itself if it is a file object (the caller closes it), else opened."""
    if hasattr(source, "read"):
        source.seek(0)
        return nullcontext(source)
    return open(source, "rb")


class ImageRejected(Exception):
    """Not an acceptable image; `reason` is Vietnamese for the user, `code` a stable slug:
    'unsupported-type', 'type-mismatch', 'too-many-pixels', 'corrupt', 'not-an-image'."""

    def __init__(self, code: str, reason: str):
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


@dataclass
class ImageInfo:
    format: str  # "JPEG" | "PNG" | "WEBP" | "HEIF"
    content_type: str  # canonical: "image/jpeg", "image/png", "image/webp", "image/heic"
    width: int  # as displayed, i.e. after EXIF orientation
    height: int
    taken_at: datetime | None  # aware, UTC
    gps_lat: float | None
    gps_lon: float | None
    camera_model: str | None


@dataclass
class Derivative:
    data: bytes
    width: int
    height: int
    content_type: str = "image/jpeg"


# --- what the file is --------------------------------------------------------------------------------


def sniff(head: bytes) -> str | None:
    """The type by signature (magic bytes) of the first bytes: 'image/jpeg', 'image/png', 'image/webp',
    'image/heic', 'application/pdf', or None. Signatures, not extensions or declared types, are the truth."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return "image/heic" if _is_heic(head) else None


def _is_heic(head: bytes) -> bool:
    """An ISO-BMFF ftyp box whose major brand, or a compatible brand of a generic HEIF file, is HEVC."""
    if head[4:8] != b"ftyp" or len(head) < 12:
        return False
    major = head[8:12]
    if major in HEIC_BRANDS:
        return True
    box_end = min(int.from_bytes(head[:4], "big"), len(head))
    compatible = {head[i:i + 4] for i in range(16, box_end - 3, 4)}
    return major in HEIF_GENERIC_BRANDS and bool(compatible & HEIC_BRANDS)


def is_pdf(source: Source) -> bool:
    """A PDF by signature: '%PDF-' first and '%%EOF' in the last KiB (where the spec puts it, allowing for
    trailing whitespace), so a PDF cut off mid-upload is not taken for a whole one."""
    if isinstance(source, Path):
        with open(source, "rb") as stream:
            return is_pdf(stream)
    source.seek(0)
    if source.read(5) != b"%PDF-":
        return False
    source.seek(max(0, source.seek(0, io.SEEK_END) - 1024))
    return b"%%EOF" in source.read()


def canonical_type(content_type: str) -> str:
    """'Image/JPG; charset=x' → 'image/jpeg': browsers and tablets spell the same type several ways."""
    bare = content_type.split(";", 1)[0].strip().lower()
    return ALIASES.get(bare, bare)


@functools.cache
def heif_available() -> bool:
    """Whether HEIC can be decoded: only with pillow-heif, whose opener is registered here on first use."""
    try:
        import pillow_heif  # optional: HEIC only where it is installed
    except ImportError:
        return False
    pillow_heif.register_heif_opener()
    return True


def _accepted_label() -> str:
    return "JPEG, PNG, WebP" + (", HEIC" if heif_available() else "")


def _checked_type(path: Source, declared_type: str) -> str:
    """The canonical content type, once the declared type is accepted and the signature agrees with it."""
    declared = canonical_type(declared_type)
    if declared not in FORMATS or (declared == "image/heic" and not heif_available()):
        raise ImageRejected("unsupported-type", f"Không nhận loại tệp «{declared_type[:100]}»; chỉ nhận ảnh "
                                                f"{_accepted_label()} (unsupported file type).")
    with _opened(path) as f:
        actual = sniff(f.read(HEAD_BYTES))
    if actual is None:
        raise ImageRejected("not-an-image", f"Tệp không phải là ảnh {_accepted_label()} (not an image).")
    if actual != declared:
        raise ImageRejected("type-mismatch", f"Nội dung tệp là {LABELS[actual]} nhưng được khai báo là "
                                             f"{LABELS[declared]} (content does not match the declared type).")
    return declared


# --- guards ------------------------------------------------------------------------------------------


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1e6:.1f}".replace(".", ",")  # Vietnamese decimal comma


def _too_many_pixels(size: tuple[int, int] | None, max_pixels: int | None) -> ImageRejected:
    parts = [f"{size[0]}×{size[1]} = {_megapixels(size[0] * size[1])} MP"] if size else []
    if max_pixels:
        parts.append(f"tối đa {_megapixels(max_pixels)} MP")
    detail = f" ({', '.join(parts)})" if parts else ""
    return ImageRejected("too-many-pixels", f"Ảnh có quá nhiều điểm ảnh{detail} (too many pixels).")


_strict_lock = threading.Lock()
_strict_users = 0
_lenient_before = False


@contextmanager
def _strict_decoding() -> Iterator[None]:
    """Pillow's LOAD_TRUNCATED_IMAGES off while we decode, whatever another library set: WeasyPrint turns it
    on for the whole process when it is imported, and a cut-off upload would then decode as grey and pass.
    Counted, so overlapping decodes in threads all stay strict until the last one ends."""
    global _strict_users, _lenient_before
    with _strict_lock:
        if _strict_users == 0:
            _lenient_before, ImageFile.LOAD_TRUNCATED_IMAGES = ImageFile.LOAD_TRUNCATED_IMAGES, False
        _strict_users += 1
    try:
        yield
    finally:
        with _strict_lock:
            _strict_users -= 1
            if _strict_users == 0:
                ImageFile.LOAD_TRUNCATED_IMAGES = _lenient_before


@contextmanager
def _decoding(max_pixels: int | None = None) -> Iterator[None]:
    """Turns Pillow's errors into rejections, decoding strictly (a truncated file is an error). Pillow's own
    bomb error is only a backstop here: it fires inside Image.open for sizes above 2 × Image.MAX_IMAGE_PIXELS,
    before our check can look at the size."""
    try:
        with _strict_decoding():
            yield
    except Image.DecompressionBombError as exc:
        raise _too_many_pixels(None, max_pixels) from exc
    except DECODE_ERRORS as exc:
        raise ImageRejected("corrupt", "Tệp ảnh bị hỏng hoặc không đầy đủ; hãy tải lên lại "
                                       "(corrupt or truncated image).") from exc


def _check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    """Our own limit, applied to the header's size before any decoding, whatever Pillow's global is."""
    if size[0] * size[1] > max_pixels:
        raise _too_many_pixels(size, max_pixels)


def _check_decodes(path: Source, fmt: str) -> None:
    """A header can be whole while the data is cut off (a dropped upload), so decode everything; a JPEG
    at 1/8 scale, which still entropy-decodes every byte but skips most of the IDCT work and memory."""
    with _opened(path) as f, Image.open(f, formats=[fmt]) as im:
        im.draft("L", (max(1, im.width // 8), max(1, im.height // 8)))
        im.load()


# --- metadata ----------------------------------------------------------------------------------------


def _text(value: object) -> str:
    """EXIF ASCII fields arrive padded with NULs and spaces, sometimes as bytes."""
    if isinstance(value, bytes):
        value = value.decode("ascii", "ignore")
    return value.strip("\x00 \t\r\n") if isinstance(value, str) else ""


def _ifd(exif: Image.Exif, tag: int) -> dict:
    try:
        return exif.get_ifd(tag)
    except EXIF_ERRORS:
        return {}


def _read_exif(im: Image.Image) -> Image.Exif:
    try:
        return im.getexif()
    except EXIF_ERRORS:
        return Image.Exif()


def _utc_offset(value: object) -> timezone | None:
    match = re.fullmatch(r"([+-])(\d{2}):(\d{2})", _text(value))
    if not match or int(match[2]) > 14 or int(match[3]) > 59:
        return None
    minutes = (int(match[2]) * 60 + int(match[3])) * (-1 if match[1] == "-" else 1)
    return timezone(timedelta(minutes=minutes))


def taken_at(exif_ifd: dict) -> datetime | None:
    """DateTimeOriginal in UTC. The tablet's clock is local time; without OffsetTimeOriginal that is
    Vietnam time (+07:00), which is where every inspection happens."""
    raw = _text(exif_ifd.get(TAG_DATETIME_ORIGINAL))[:19]
    for pattern in ("%Y:%m:%d %H:%M:%S", "%Y-%m-%d %H:%M:%S"):
        try:
            local = datetime.strptime(raw, pattern)  # naive: the zone is applied just below
        except ValueError:
            continue
        zone = _utc_offset(exif_ifd.get(TAG_OFFSET_TIME_ORIGINAL)) or VIETNAM_TIME
        return local.replace(tzinfo=zone).astimezone(UTC)
    return None


def _degrees(parts: object, ref: object, negative_ref: str, limit: float) -> float | None:
    """Degrees, minutes, seconds (rationals) → signed decimal degrees; None when absent or absurd."""
    try:
        value = sum(float(part) / 60**i for i, part in enumerate(parts))  # type: ignore[arg-type]
    except EXIF_ERRORS:
        return None
    if not parts or not math.isfinite(value) or abs(value) > limit:
        return None
    return round(-value if _text(ref).upper() == negative_ref else value, 7)


def gps_position(gps_ifd: dict) -> tuple[float | None, float | None]:
    """Latitude and longitude, south and west negative; both or neither, since half a position is noise."""
    lat = _degrees(gps_ifd.get(GPS_LAT), gps_ifd.get(GPS_LAT_REF), "S", 90)
    lon = _degrees(gps_ifd.get(GPS_LON), gps_ifd.get(GPS_LON_REF), "W", 180)
    return (lat, lon) if lat is not None and lon is not None else (None, None)


def camera_model(exif: Image.Exif) -> str | None:
    """'Make Model', without repeating the make when the model already starts with it ('Canon Canon …',
    'NIKON CORPORATION NIKON D750')."""
    make, model = _text(exif.get(ExifTags.Base.Make)), _text(exif.get(ExifTags.Base.Model))
    if make and model.lower().startswith(make.split()[0].lower()):
        make = ""
    return " ".join(part for part in (make, model) if part)[:255] or None


def _info(im: Image.Image, content_type: str) -> ImageInfo:
    exif = _read_exif(im)
    width, height = im.size
    if exif.get(ExifTags.Base.Orientation) in SWAPS_SIDES:
        width, height = height, width
    lat, lon = gps_position(_ifd(exif, ExifTags.IFD.GPSInfo))
    return ImageInfo(format=FORMATS[content_type], content_type=content_type, width=width, height=height,
                     taken_at=taken_at(_ifd(exif, ExifTags.IFD.Exif)), gps_lat=lat, gps_lon=lon,
                     camera_model=camera_model(exif))


def inspect(path: Source, *, declared_type: str, max_pixels: int) -> ImageInfo:
    """Verify the file is an accepted image whose signature matches `declared_type`, refuse it by the
    header's pixel count before decoding, check it decodes to the end, and return its metadata.

    A file matching no accepted signature (a text file named .jpg) is 'not-an-image'; one that is a
    different known type (a PNG or PDF declared as JPEG) is 'type-mismatch'. `path` may be a seekable
    binary file object instead (staged bytes in memory)."""
    info = inspect_header(path, declared_type=declared_type, max_pixels=max_pixels)
    check_decodes(path, info)
    return info


def inspect_header(path: Source, *, declared_type: str, max_pixels: int) -> ImageInfo:
    """inspect() without the decoding to the end: the type, the pixel count and the metadata, from the
    header alone. Call check_decodes() before relying on the pixels (the upload path runs it beside
    derivatives(), on another thread, once the header has passed)."""
    content_type = _checked_type(path, declared_type)
    with _decoding(max_pixels), _opened(path) as f, Image.open(f, formats=[FORMATS[content_type]]) as im:
        _check_pixels(im.size, max_pixels)  # the header only: no pixel decoded yet
        return _info(im, content_type)


def check_decodes(path: Source, info: ImageInfo) -> None:
    """The rest of inspect(): the file decodes to its end ('corrupt' otherwise)."""
    with _decoding():
        _check_decodes(path, info.format)


# --- derivatives -------------------------------------------------------------------------------------


def fit(size: tuple[int, int], longest: int) -> tuple[int, int]:
    """The size with the same aspect ratio whose longest side is at most `longest` (never enlarged)."""
    scale = min(1.0, longest / max(size))
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def _resizable(im: Image.Image) -> Image.Image:
    """Palette, 1-bit and 16-bit images resize badly (NEAREST only, or clipped), so widen them first."""
    if im.mode in ("RGB", "RGBA", "L", "CMYK"):
        return im
    return im.convert("RGBA" if im.has_transparency_data else "RGB")


@functools.cache
def _srgb() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _to_srgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    """Plain sRGB without any profile or metadata: transparency flattened on white, an embedded profile
    (Display P3 on iPads, CMYK) converted, since the derivatives will not carry it."""
    if im.mode == "RGBA":
        im = Image.alpha_composite(Image.new("RGBA", im.size, "white"), im)
    if icc:
        try:
            im = ImageCms.profileToProfile(im.convert("RGB") if im.mode == "RGBA" else im,
                                           ImageCms.ImageCmsProfile(io.BytesIO(icc)), _srgb(), outputMode="RGB")
        except (ImageCms.PyCMSError, *EXIF_ERRORS):
            pass  # a broken or mismatched profile: the pixels as they are beat no derivative at all
    im = im if im.mode == "RGB" else im.convert("RGB")
    im.info = {}  # Pillow would carry a JPEG comment over into the output
    return im


def _display_image(im: Image.Image, longest: int) -> Image.Image:
    """Upright, sRGB, longest side ≤ `longest`. `draft` first: libjpeg then decodes at 1/2, 1/4 or 1/8
    scale, choosing the largest reduction where BOTH sides still reach the request, so the request must
    have the photo's own aspect ratio (asking 1600×1600 of a 4000×3000 photo decodes it at full size)."""
    icc = im.info.get("icc_profile")
    im.draft("RGB", fit(im.size, longest))  # a no-op for formats other than JPEG
    ImageOps.exif_transpose(im, in_place=True)  # loads the (reduced) pixels
    im = _resizable(im).resize(fit(im.size, longest), Image.Resampling.LANCZOS, reducing_gap=3.0)
    return _to_srgb(im, icc)


def _encode(im: Image.Image, quality: int) -> Derivative:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality, optimize=True)  # no exif=, icc_profile=, comment=: none written
    return Derivative(data=buf.getvalue(), width=im.width, height=im.height)


def derivatives(path: Source, *, display_px: int = 1600, thumb_px: int = 320,
                quality: int = 82) -> tuple[Derivative, Derivative]:
    """Display and thumbnail JPEGs, upright and metadata-free, from one reduced-scale decode: the thumbnail
    is made from the display image. Call inspect() first; only Pillow's global bomb limit guards here."""
    formats = [fmt for fmt in FORMATS.values() if fmt != "HEIF" or heif_available()]
    with _decoding(), _opened(path) as f, Image.open(f, formats=formats) as im:
        display = _display_image(im, display_px)
    thumb = display.resize(fit(display.size, thumb_px), Image.Resampling.LANCZOS, reducing_gap=3.0)
    return _encode(display, quality), _encode(thumb, quality)
