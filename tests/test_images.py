"""The Pillow pipeline: types by signature, bombs refused from the header, metadata, upright derivatives
without metadata, draft-mode decoding. Every image is made here with Pillow; nothing binary is committed."""

from __future__ import annotations

import hashlib
import io
import struct
import time
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image, ImageCms, ImageFile, JpegImagePlugin
from PIL.TiffImagePlugin import IFDRational

from audit_api import images
from audit_api.images import ImageRejected, derivatives, fit, inspect, is_pdf, sniff

RED, BLUE, GREEN = (255, 0, 0), (0, 0, 255), (0, 160, 0)
LIMIT = 50_000_000
# How the stored pixels must be laid out for each EXIF orientation so that, displayed correctly, the image
# is upright. From the EXIF spec's meaning of the tag (6: "rotate 90° clockwise to view"), inverted.
STORED_FOR_ORIENTATION = {
    1: None, 2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_270,
}


# --- helpers -----------------------------------------------------------------------------------------


def _upright() -> Image.Image:
    """60×40, blue with a red top-left quadrant: any wrong flip or rotation moves the red."""
    im = Image.new("RGB", (60, 40), BLUE)
    im.paste(RED, (0, 0, 30, 20))
    return im


def _save(path: Path, im: Image.Image, fmt: str | None = None, **params) -> Path:
    im.save(path, fmt, **params)
    return path


def _exif(**ifd0) -> Image.Exif:
    exif = Image.Exif()
    for tag, value in ifd0.items():
        exif[getattr(Image.ExifTags.Base, tag)] = value
    return exif


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _is_red(pixel) -> bool:
    r, g, b = pixel[:3]
    return r > 200 and g < 70 and b < 70


def _jpeg_markers(data: bytes) -> list[int]:
    """The markers of a JPEG up to the start of scan: where EXIF (APP1), ICC (APP2) and comments live."""
    markers, pos = [], 2
    while data[pos + 1] != 0xDA:
        marker, length = data[pos + 1], struct.unpack(">H", data[pos + 2:pos + 4])[0]
        markers.append(marker)
        pos += 2 + length
    return markers


def _png_with_size(path: Path, width: int, height: int) -> Path:
    """A real 1×1 PNG whose IHDR then claims another size, with a valid CRC: a bomb by its header."""
    data = bytearray(_save(io.BytesIO(), Image.new("RGB", (1, 1)), "PNG").getvalue())
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    path.write_bytes(bytes(data))
    return path


def _jpeg_with_size(path: Path, width: int, height: int) -> Path:
    """A real small JPEG whose SOF0 frame header then claims another size."""
    data = bytearray(_save(io.BytesIO(), Image.new("RGB", (8, 8)), "JPEG").getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    path.write_bytes(bytes(data))
    return path


def _noisy(size: tuple[int, int]) -> Image.Image:
    """Photo-like content (noise over gradients), so JPEG sizes and decode times are realistic."""
    noise = Image.effect_noise(size, 40)
    horizontal = Image.linear_gradient("L").rotate(90).resize(size)
    vertical = Image.linear_gradient("L").resize(size)
    return Image.merge("RGB", (noise, horizontal, vertical))


@pytest.fixture(scope="module")
def photo_12mp(tmp_path_factory) -> Path:
    return _save(tmp_path_factory.mktemp("photos") / "12mp.jpg", _noisy((4000, 3000)), quality=90)


def _rejected(path: Path, declared_type: str = "image/jpeg", max_pixels: int = LIMIT) -> str:
    with pytest.raises(ImageRejected) as caught:
        inspect(path, declared_type=declared_type, max_pixels=max_pixels)
    assert caught.value.reason and "(" in caught.value.reason  # Vietnamese, English in brackets
    return caught.value.code


# --- signatures and types ----------------------------------------------------------------------------


@pytest.mark.parametrize(("head", "expected"), [
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
    (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
    (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "image/heic"),
    (b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00mif1heicmiaf", "image/heic"),
    (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", None),
    (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1avif", None),
    (b"%PDF-1.7\n", "application/pdf"),
    (b"GIF89a", None),
    (b"Xin chao", None),
    (b"", None),
])
def test_sniff_tells_types_by_signature(head, expected):
    assert sniff(head) == expected


def test_text_file_named_jpg_is_not_an_image(tmp_path):
    """Bytes matching no accepted signature are 'not-an-image'; 'type-mismatch' is kept for a file that is
    some other known type than declared."""
    path = tmp_path / "anh.jpg"
    path.write_text("Biên bản kiểm tra, không phải ảnh", encoding="utf-8")
    assert _rejected(path, "image/jpeg") == "not-an-image"


def test_png_declared_as_jpeg_is_a_type_mismatch(tmp_path):
    path = _save(tmp_path / "anh.jpg", _upright(), "PNG")
    assert _rejected(path, "image/jpeg") == "type-mismatch"


@pytest.mark.parametrize("declared", ["image/gif", "application/pdf", "text/plain", ""])
def test_types_outside_the_accepted_list_are_unsupported(tmp_path, declared):
    path = _save(tmp_path / "anh.jpg", _upright(), "JPEG")
    assert _rejected(path, declared) == "unsupported-type"


@pytest.mark.parametrize("declared", ["image/jpg", "IMAGE/JPEG; charset=binary", "image/pjpeg"])
def test_common_spellings_of_jpeg_are_accepted(tmp_path, declared):
    path = _save(tmp_path / "anh.jpg", _upright(), "JPEG")
    assert inspect(path, declared_type=declared, max_pixels=LIMIT).content_type == "image/jpeg"


def _pdf(path: Path, tail: bytes = b"%%EOF\n") -> Path:
    path.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n" + tail)
    return path


def test_pdf_is_recognised_by_signature_and_refused_as_an_image(tmp_path):
    path = _pdf(tmp_path / "quyet-dinh.pdf")
    assert is_pdf(path)
    assert _rejected(path, "application/pdf") == "unsupported-type"
    assert _rejected(path, "image/jpeg") == "type-mismatch"


def test_is_pdf_refuses_a_cut_off_pdf_and_other_files(tmp_path):
    assert not is_pdf(_pdf(tmp_path / "cut.pdf", tail=b"stream\n" + b"x" * 2000))
    assert not is_pdf(_save(tmp_path / "anh.jpg", _upright(), "JPEG"))
    assert is_pdf(_pdf(tmp_path / "padded.pdf", tail=b"%%EOF\n" + b"\n" * 100))


# --- decompression bombs -----------------------------------------------------------------------------


def _forbid_decoding(monkeypatch) -> None:
    """From now on any pixel decoding fails the test: Image.load and ImageFile.load (JPEG, PNG, WebP)."""
    def refuse(self, *args, **kwargs):
        raise AssertionError(f"decoded {self.size} pixels")

    monkeypatch.setattr(Image.Image, "load", refuse)
    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


@pytest.mark.parametrize("pillow_limit", ["default", "disabled"])
@pytest.mark.parametrize(("make", "declared"), [(_png_with_size, "image/png"), (_jpeg_with_size, "image/jpeg")])
def test_a_30000_by_30000_header_is_refused_without_decoding(tmp_path, monkeypatch, make, declared, pillow_limit):
    """With Pillow's own limit disabled our check alone must refuse it; with Pillow's default limit, its
    DecompressionBombError (raised inside Image.open for > 2 × its limit) must still come out as ours."""
    if pillow_limit == "disabled":
        monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    path = make(tmp_path / "bom", 30_000, 30_000)
    _forbid_decoding(monkeypatch)
    started = time.perf_counter()
    with pytest.raises(ImageRejected) as caught:
        inspect(path, declared_type=declared, max_pixels=LIMIT)
    assert time.perf_counter() - started < 0.5
    assert caught.value.code == "too-many-pixels"
    assert "tối đa 50,0 MP" in caught.value.reason


def test_our_limit_applies_below_pillows_own(tmp_path, monkeypatch):
    """54 MP is under Pillow's warning threshold (≈89 MP), so only our check can refuse it."""
    path = _png_with_size(tmp_path / "lon.png", 9_000, 6_000)
    _forbid_decoding(monkeypatch)
    with pytest.raises(ImageRejected) as caught:
        inspect(path, declared_type="image/png", max_pixels=LIMIT)
    assert caught.value.code == "too-many-pixels"
    assert "9000×6000" in caught.value.reason and "54,0 MP" in caught.value.reason


def test_the_pixel_limit_is_inclusive(tmp_path):
    path = _save(tmp_path / "vua.png", Image.new("RGB", (100, 100)), "PNG")
    assert inspect(path, declared_type="image/png", max_pixels=10_000).width == 100
    assert _rejected(path, "image/png", max_pixels=9_999) == "too-many-pixels"


# --- integrity ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "declared", "params"), [
    ("JPEG", "image/jpeg", {}), ("JPEG", "image/jpeg", {"progressive": True}), ("PNG", "image/png", {}),
    ("WEBP", "image/webp", {}),
])
def test_a_truncated_image_is_corrupt(tmp_path, fmt, declared, params):
    whole = _save(io.BytesIO(), _noisy((400, 300)), fmt, **params).getvalue()
    path = tmp_path / "cut"
    path.write_bytes(whole[: len(whole) * 6 // 10])
    assert _rejected(path, declared) == "corrupt"


def test_a_truncated_image_is_refused_by_derivatives_too(tmp_path):
    whole = _save(io.BytesIO(), _noisy((400, 300)), "JPEG").getvalue()
    path = tmp_path / "cut.jpg"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ImageRejected) as caught:
        derivatives(path)
    assert caught.value.code == "corrupt"


# --- metadata ----------------------------------------------------------------------------------------


def _photo_with_exif(path: Path, *, taken: str | None = None, offset: str | None = None, gps=None,
                     make: str | None = None, model: str | None = None) -> Path:
    exif = Image.Exif()
    if make:
        exif[Image.ExifTags.Base.Make] = make
    if model:
        exif[Image.ExifTags.Base.Model] = model
    exif_ifd = exif.get_ifd(Image.ExifTags.IFD.Exif)
    if taken:
        exif_ifd[images.TAG_DATETIME_ORIGINAL] = taken
    if offset:
        exif_ifd[images.TAG_OFFSET_TIME_ORIGINAL] = offset
    if gps:
        (lat_ref, lat), (lon_ref, lon) = gps
        exif.get_ifd(Image.ExifTags.IFD.GPSInfo).update({
            1: lat_ref, 2: tuple(IFDRational(v) for v in lat), 3: lon_ref, 4: tuple(IFDRational(v) for v in lon)})
    return _save(path, _upright(), "JPEG", exif=exif)


@pytest.mark.parametrize(("offset", "expected"), [
    (None, datetime(2024, 5, 17, 2, 30, tzinfo=UTC)),  # no offset: Vietnam time, +07:00
    ("+07:00", datetime(2024, 5, 17, 2, 30, tzinfo=UTC)),
    ("+09:00", datetime(2024, 5, 17, 0, 30, tzinfo=UTC)),
    ("-03:30", datetime(2024, 5, 17, 13, 0, tzinfo=UTC)),
    ("bogus", datetime(2024, 5, 17, 2, 30, tzinfo=UTC)),
])
def test_taken_at_is_utc_from_datetime_original_and_its_offset(tmp_path, offset, expected):
    path = _photo_with_exif(tmp_path / "a.jpg", taken="2024:05:17 09:30:00", offset=offset)
    taken = inspect(path, declared_type="image/jpeg", max_pixels=LIMIT).taken_at
    assert taken == expected and taken.utcoffset().total_seconds() == 0


@pytest.mark.parametrize("taken", [None, "0000:00:00 00:00:00", "    :  :     :  :  ", "hôm qua"])
def test_missing_or_blank_datetime_gives_no_taken_at(tmp_path, taken):
    path = _photo_with_exif(tmp_path / "a.jpg", taken=taken)
    assert inspect(path, declared_type="image/jpeg", max_pixels=LIMIT).taken_at is None


@pytest.mark.parametrize(("gps", "expected"), [
    ((("N", (21, 1, 40.8)), ("E", (105, 51, 16.8))), (21.028, 105.8546667)),  # Hà Nội
    ((("S", (33, 51, 54.36)), ("E", (151, 12, 32.4))), (-33.8651, 151.209)),
    ((("N", (40, 42, 46.08)), ("W", (74, 0, 21.6))), (40.7128, -74.006)),
    ((("S", (22, 54, 25.2)), ("W", (43, 10, 21.6))), (-22.907, -43.1726667)),
    ((("N", (95, 0, 0)), ("E", (105, 0, 0))), (None, None)),  # impossible latitude: no position at all
])
def test_gps_is_signed_decimal_degrees(tmp_path, gps, expected):
    path = _photo_with_exif(tmp_path / "a.jpg", gps=gps)
    info = inspect(path, declared_type="image/jpeg", max_pixels=LIMIT)
    if expected[0] is None:
        assert (info.gps_lat, info.gps_lon) == (None, None)
    else:
        assert (info.gps_lat, info.gps_lon) == pytest.approx(expected)


@pytest.mark.parametrize(("make", "model", "expected"), [
    ("samsung", "SM-X700", "samsung SM-X700"),
    ("Canon", "Canon EOS R5", "Canon EOS R5"),
    ("NIKON CORPORATION", "NIKON D750", "NIKON D750"),
    ("  Apple\x00", "iPad Pro (12.9-inch)\x00 ", "Apple iPad Pro (12.9-inch)"),
    (None, "SM-T505", "SM-T505"),
    (None, None, None),
])
def test_camera_model_is_make_and_model(tmp_path, make, model, expected):
    path = _photo_with_exif(tmp_path / "a.jpg", make=make, model=model)
    assert inspect(path, declared_type="image/jpeg", max_pixels=LIMIT).camera_model == expected


def test_a_photo_without_exif_has_no_metadata(tmp_path):
    info = inspect(_save(tmp_path / "a.jpg", _upright(), "JPEG"), declared_type="image/jpeg", max_pixels=LIMIT)
    assert (info.format, info.width, info.height) == ("JPEG", 60, 40)
    assert (info.taken_at, info.gps_lat, info.gps_lon, info.camera_model) == (None, None, None, None)


# --- derivatives: orientation, metadata, colour ------------------------------------------------------


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_comes_out_upright(tmp_path, orientation):
    stored = _upright()
    if STORED_FOR_ORIENTATION[orientation] is not None:
        stored = stored.transpose(STORED_FOR_ORIENTATION[orientation])
    path = _save(tmp_path / "a.jpg", stored, "JPEG", quality=95, exif=_exif(Orientation=orientation))

    info = inspect(path, declared_type="image/jpeg", max_pixels=LIMIT)
    assert (info.width, info.height) == (60, 40)
    for derivative in derivatives(path, display_px=60, thumb_px=30):
        out = Image.open(io.BytesIO(derivative.data))
        w, h = out.size
        assert w > h and (w, h) == (derivative.width, derivative.height)
        assert _is_red(out.getpixel((2, 2)))
        assert not any(_is_red(out.getpixel(xy)) for xy in [(w - 3, h - 3), (w - 3, 2), (2, h - 3)])


@pytest.mark.parametrize("with_profile", [False, True])
def test_derivatives_carry_no_metadata_and_the_original_is_untouched(tmp_path, with_profile):
    exif = _exif(Orientation=6, Make="samsung", Model="SM-X700")
    exif.get_ifd(Image.ExifTags.IFD.GPSInfo).update({1: "N", 2: (IFDRational(21), IFDRational(1), IFDRational(0))})
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes() if with_profile else None
    path = _save(tmp_path / "a.jpg", _noisy((800, 600)), "JPEG", exif=exif, icc_profile=icc,
                 comment=b"Nguyen Van A, 0912345678", xmp=b"<x:xmpmeta xmlns:x='adobe:ns:meta/'/>")
    before = _sha256(path)

    inspect(path, declared_type="image/jpeg", max_pixels=LIMIT)
    for derivative in derivatives(path):
        out = Image.open(io.BytesIO(derivative.data))
        assert out.format == "JPEG" and out.mode == "RGB" and derivative.content_type == "image/jpeg"
        assert len(out.getexif()) == 0
        assert not {"exif", "icc_profile", "comment", "xmp"} & set(out.info)
        assert set(_jpeg_markers(derivative.data)) <= {0xE0, 0xDB, 0xC0, 0xC4, 0xDD}  # JFIF, tables, frame
    assert _sha256(path) == before


def test_an_embedded_colour_profile_is_converted_not_dropped_blindly(tmp_path):
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    path = _save(tmp_path / "a.jpg", Image.new("RGB", (64, 48), (200, 120, 40)), "JPEG", icc_profile=icc)
    display, _ = derivatives(path)
    r, g, b = Image.open(io.BytesIO(display.data)).getpixel((32, 24))
    assert abs(r - 200) < 8 and abs(g - 120) < 8 and abs(b - 40) < 8


def test_png_with_alpha_is_flattened_on_white(tmp_path):
    im = Image.new("RGBA", (2000, 1000), (0, 0, 0, 0))
    im.paste((*GREEN, 255), (1000, 0, 2000, 1000))
    path = _save(tmp_path / "a.png", im, "PNG")
    info = inspect(path, declared_type="image/png", max_pixels=LIMIT)
    assert (info.format, info.content_type, info.width, info.height) == ("PNG", "image/png", 2000, 1000)

    display, thumb = derivatives(path)
    assert (display.width, display.height, thumb.width, thumb.height) == (1600, 800, 320, 160)
    out = Image.open(io.BytesIO(display.data))
    assert out.mode == "RGB"
    assert min(out.getpixel((100, 400))) > 245  # transparent → white, not black
    assert out.getpixel((1500, 400))[1] > 140


@pytest.mark.parametrize("lossless", [False, True])
def test_webp_works(tmp_path, lossless):
    path = _save(tmp_path / "a.webp", _noisy((2000, 1500)), "WEBP", lossless=lossless)
    info = inspect(path, declared_type="image/webp", max_pixels=LIMIT)
    assert (info.format, info.content_type, info.width, info.height) == ("WEBP", "image/webp", 2000, 1500)
    display, thumb = derivatives(path)
    assert (display.width, display.height, thumb.width, thumb.height) == (1600, 1200, 320, 240)


@pytest.mark.parametrize(("mode", "fmt", "params"), [
    ("L", "JPEG", {}), ("CMYK", "JPEG", {}), ("P", "PNG", {}), ("P", "PNG", {"transparency": 0}),
    ("LA", "PNG", {}), ("I;16", "PNG", {}), ("1", "PNG", {}),
])
def test_other_pixel_modes_become_rgb(tmp_path, mode, fmt, params):
    path = _save(tmp_path / "a", _noisy((300, 200)).convert(mode), fmt, **params)
    display, thumb = derivatives(path)
    assert (display.width, display.height, thumb.width, thumb.height) == (300, 200, 300, 200)
    assert Image.open(io.BytesIO(display.data)).mode == "RGB"


def test_small_images_are_not_enlarged():
    assert fit((200, 100), 1600) == (200, 100)
    assert fit((4000, 3000), 1600) == (1600, 1200)
    assert fit((3000, 4000), 320) == (240, 320)
    assert fit((10_000, 10), 320) == (320, 1)


# --- draft mode --------------------------------------------------------------------------------------


def test_a_12_megapixel_jpeg_is_decoded_at_reduced_scale(photo_12mp, monkeypatch):
    """JpegImageFile overrides Image.draft, so the wrapper goes on the class that actually decodes."""
    calls = []
    original = JpegImagePlugin.JpegImageFile.draft

    def recording_draft(self, mode, size):
        result = original(self, mode, size)
        calls.append((size, self.size, result))
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", recording_draft)
    display, thumb = derivatives(photo_12mp)

    assert (display.width, display.height) == (1600, 1200)
    assert (thumb.width, thumb.height) == (320, 240)
    [(requested, decoded, (_, box))] = calls  # one decode for both derivatives
    assert requested == (1600, 1200)  # the photo's own aspect ratio, so both sides fit
    assert decoded == (2000, 1500) and box == (0, 0, 2000.0, 1500.0)  # DCT scale 1/2


def test_a_12_megapixel_portrait_photo_is_upright_and_reduced(tmp_path, photo_12mp):
    path = tmp_path / "portrait.jpg"
    with Image.open(photo_12mp) as im:
        im.save(path, exif=_exif(Orientation=6), quality=85)
    info = inspect(path, declared_type="image/jpeg", max_pixels=LIMIT)
    assert (info.width, info.height) == (3000, 4000)
    display, thumb = derivatives(path)
    assert (display.width, display.height, thumb.width, thumb.height) == (1200, 1600, 240, 320)


# --- HEIC --------------------------------------------------------------------------------------------


def test_heic_is_unsupported_without_pillow_heif(tmp_path, monkeypatch):
    monkeypatch.setattr(images, "heif_available", lambda: False)
    path = tmp_path / "a.heic"
    path.write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64)
    assert _rejected(path, "image/heic") == "unsupported-type"


def test_heic_works_with_pillow_heif(tmp_path):
    pytest.importorskip("pillow_heif")
    assert images.heif_available()
    path = _save(tmp_path / "a.heic", _upright().resize((600, 400)), "HEIF", exif=_exif(Orientation=1))
    info = inspect(path, declared_type="image/heif", max_pixels=LIMIT)
    assert (info.format, info.content_type, info.width, info.height) == ("HEIF", "image/heic", 600, 400)
    display, _ = derivatives(path)
    assert _is_red(Image.open(io.BytesIO(display.data)).getpixel((5, 5)))
