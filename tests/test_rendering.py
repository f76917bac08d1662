"""Documents: the same view rendered to HTML, PDF and DOCX, read back and compared.

No database: the renderer takes a plain view dict. The PDF is read back with poppler's pdftotext (layout
mode) and pypdf; the DOCX with python-docx. Page 1 of the minutes is saved as PNG in test-artifacts/ for a
human to look at.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import docx
import pytest
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import nsmap, qn
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw
from pypdf import PdfReader

from audit_api.rendering import (
    TEMPLATE_VERSION,
    FontMissing,
    fonts,
    formats,
    render_docx,
    render_html,
    render_pdf,
    require_fonts,
    view,
)
from audit_api.rendering.pdf import URLRefused, fetcher

NS = {"w": nsmap["w"]}
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
PHOTO_IDS = ["6f1c2a4e-8b3d-4c5e-9a7f-1b2c3d4e5f60", "0a9b8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d",
             "d3e4f5a6-b7c8-4d9e-8f0a-1b2c3d4e5f6a"]
# Templates' digest per version: a template change must come with a new TEMPLATE_VERSION (and a line here).
TEMPLATE_DIGESTS = {"1": "82d5e414dde131584dab8da9d4bea2128e574f425c98b3be8b2976c50298718a"}


@pytest.fixture(autouse=True)
def db_session():
    """The renderer needs no database: override the suite's per-test transaction (and its app)."""
    yield None


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    yield None


def jpeg(n: int, size: tuple[int, int] = (320, 240)) -> bytes:
    """A small real JPEG, different per photo, like a stored thumbnail."""
    im = Image.new("RGB", size, (40 + 60 * n, 120, 200 - 50 * n))
    draw = ImageDraw.Draw(im)
    draw.rectangle((20, 20, size[0] - 20, size[1] - 20), outline=(255, 255, 255), width=6)
    draw.line((0, 0, size[0], size[1]), fill=(250, 220, 0), width=8)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=80)
    return buf.getvalue()


THUMBNAILS = {photo_id: jpeg(n, (320, 240) if n != 2 else (240, 320)) for n, photo_id in enumerate(PHOTO_IDS)}


def thumbnail(photo_id: str) -> bytes:
    return THUMBNAILS[photo_id]


def minutes_view(**changes) -> dict:
    """Văn Lãng, 24/6/2024 (DOMAIN.md §3): a district and two of its communes, findings and recommendations."""
    v = {
        "kind": "minutes",
        "status": "issued",
        "issuer": {"parent": "UBND TỈNH LẠNG SƠN", "name": "ĐOÀN KIỂM TRA CÔNG TÁC CCHC"},
        "number": 5, "provisional_number": None, "symbol": "BB-ĐKT",
        "place": "Lạng Sơn", "date": "2024-06-24",
        "title": "BIÊN BẢN",
        "summary": ["Kiểm tra công tác cải cách hành chính, kiểm soát thủ tục hành chính",
                    "tại UBND huyện Văn Lãng"],
        "bases": [
            "Căn cứ Kế hoạch số 55/KH-UBND ngày 10/3/2024 của UBND tỉnh Lạng Sơn về kiểm tra công tác cải cách "
            "hành chính năm 2024",
            "Căn cứ Quyết định số 1431/QĐ-UBND ngày 12/6/2024 của Chủ tịch UBND tỉnh về việc thành lập Đoàn "
            "kiểm tra công tác cải cách hành chính năm 2024",
        ],
        "opening": "Hôm nay, vào hồi 08 giờ 00 ngày 24 tháng 6 năm 2024, tại trụ sở UBND huyện Văn Lãng, Đoàn "
                   "kiểm tra công tác CCHC tỉnh Lạng Sơn tiến hành kiểm tra công tác cải cách hành chính, kiểm "
                   "soát thủ tục hành chính tại UBND huyện Văn Lãng, thành phần gồm:",
        "composition": {
            "team": [
                {"name": "Ông Hoàng Văn An", "position": "Phó Giám đốc Sở Nội vụ", "role": "Trưởng đoàn"},
                {"name": "Bà Lương Thị Bích", "position": "Phó Chánh Văn phòng UBND tỉnh",
                 "role": "Phó Trưởng đoàn"},
                {"name": "Ông Vi Văn Cường", "position": "Chuyên viên Sở Nội vụ", "role": "Thư ký"},
            ],
            "unit": [
                {"name": "Ông Nông Văn Bình", "position": "Chủ tịch UBND huyện Văn Lãng"},
                {"name": "Bà Hà Thị Dung", "position": "Chánh Văn phòng HĐND và UBND huyện"},
            ],
        },
        "sections": [
            {"code": "A", "title": "Công tác chỉ đạo, điều hành CCHC",
             "results": [{"item_code": "H2", "label": "Nhiệm vụ được giao hoàn thành đúng hạn",
                          "result": "15/17 nhiệm vụ (88,2%)", "unit_name": None, "note": None,
                          "photo_numbers": []}]},
            {"code": "D", "title": "Giải quyết thủ tục hành chính",
             "results": [
                 {"item_code": "D3", "label": "Hồ sơ giải quyết đúng hạn", "result": "6.081/6.118 hồ sơ (99,4%)",
                  "unit_name": None, "note": "93 hồ sơ cấp huyện quá hạn", "photo_numbers": [1]},
                 {"item_code": "B2", "label": "Diện tích Bộ phận Một cửa", "result": "chưa đáp ứng",
                  "unit_name": "UBND xã Tân Thanh", "note": None, "photo_numbers": [2, 3]},
             ]},
        ],
        "strengths": [
            {"text": "100% hồ sơ cấp huyện, xã được cập nhật lên Hệ thống thông tin giải quyết TTHC tỉnh",
             "unit_name": None},
            {"text": "Đề xuất cắt giảm thời hạn giải quyết 14 thủ tục hành chính", "unit_name": None},
        ],
        "findings": [
            {"text": "Còn 93 hồ sơ giải quyết quá hạn, chưa thực hiện xin lỗi tổ chức, cá nhân",
             "unit_name": None, "cause_subjective": "Công chức chưa theo dõi sát thời hạn giải quyết",
             "cause_objective": "Hồ sơ đất đai phức tạp, phải xác minh nhiều lần"},
            {"text": "85 công chức cấp xã chưa đạt chuẩn theo quy định", "unit_name": None,
             "cause_subjective": None, "cause_objective": "Khó khăn trong tuyển dụng ở vùng biên giới"},
            {"text": "Diện tích Bộ phận Một cửa chưa đáp ứng yêu cầu", "unit_name": "UBND xã Tân Thanh",
             "cause_subjective": None, "cause_objective": None},
        ],
        "unit_explanation": "UBND huyện Văn Lãng tiếp thu ý kiến của Đoàn kiểm tra; các hồ sơ quá hạn chủ "
                            "yếu thuộc lĩnh vực đất đai do phải xác minh nguồn gốc sử dụng đất.",
        "recommendations": [
            {"number": 1, "text": "Chỉ đạo rà soát, giải quyết dứt điểm 93 hồ sơ quá hạn; thực hiện xin lỗi "
                                  "tổ chức, cá nhân theo quy định", "unit_name": "UBND huyện Văn Lãng",
             "deadline": "2024-07-24"},
            {"number": 2, "text": "Xây dựng kế hoạch đào tạo để 85 công chức cấp xã đạt chuẩn",
             "unit_name": "UBND huyện Văn Lãng", "deadline": "2024-12-31"},
            {"number": 3, "text": "Bố trí Bộ phận Một cửa bảo đảm diện tích theo quy định",
             "unit_name": "UBND xã Tân Thanh", "deadline": "2025-01-05"},
        ],
        "report_back": "UBND huyện Văn Lãng báo cáo kết quả khắc phục về UBND tỉnh (qua Sở Nội vụ) trước ngày "
                       "24/8/2024.",
        "implementation": [],
        "closing": "Biên bản kết thúc vào hồi 11 giờ 30 cùng ngày; đã được đọc lại cho các thành phần tham dự "
                   "nghe và thống nhất; lập thành 02 bản có giá trị như nhau, Đoàn kiểm tra giữ 01 bản, đơn vị "
                   "được kiểm tra giữ 01 bản.",
        "recipients": ["UBND huyện Văn Lãng (thực hiện)", "Sở Nội vụ (theo dõi)", "Lưu: VT, Hồ sơ"],
        "signatures": [
            {"authority": None, "title": "ĐẠI DIỆN ĐƠN VỊ ĐƯỢC KIỂM TRA", "hint": "(ký, ghi rõ họ tên, đóng dấu)",
             "name": "Nông Văn Bình"},
            {"authority": None, "title": "THƯ KÝ", "hint": "(ký, ghi rõ họ tên)", "name": "Vi Văn Cường"},
            {"authority": "TM. ĐOÀN KIỂM TRA", "title": "TRƯỞNG ĐOÀN", "hint": "(ký, ghi rõ họ tên)",
             "name": "Hoàng Văn An"},
        ],
        "photos": [
            {"number": 1, "photo_id": PHOTO_IDS[0], "caption": "Sổ theo dõi hồ sơ quá hạn",
             "taken_at": "2024-06-24T09:12:00+07:00", "place": "21,8532° B, 106,5890° Đ", "unit_name": None,
             "item_code": "D3"},
            {"number": 2, "photo_id": PHOTO_IDS[1], "caption": "Bộ phận Một cửa xã Tân Thanh",
             "taken_at": "2024-06-24T03:40:00Z", "place": "21,8610° B, 106,6012° Đ",
             "unit_name": "UBND xã Tân Thanh", "item_code": "B2"},
            {"number": 3, "photo_id": PHOTO_IDS[2], "caption": None, "taken_at": None, "place": None,
             "unit_name": "UBND xã Tân Thanh", "item_code": "B2"},
        ],
    }
    v.update(changes)
    return v


def conclusion_view(**changes) -> dict:
    v = minutes_view(
        kind="conclusion", title="THÔNG BÁO", symbol="TB-ĐKT", number=12, date="2024-07-05",
        summary=["Kết luận kiểm tra công tác cải cách hành chính năm 2024 tại UBND huyện Văn Lãng"],
        opening="Thực hiện Kế hoạch số 55/KH-UBND ngày 10/3/2024 của UBND tỉnh, ngày 24/6/2024 Đoàn kiểm tra "
                "đã kiểm tra công tác CCHC tại UBND huyện Văn Lãng. Trên cơ sở báo cáo của đơn vị và kết quả "
                "kiểm tra thực tế, Đoàn kiểm tra thông báo kết luận như sau:",
        bases=[], sections=[], unit_explanation=None, report_back=None,
        implementation=["Chủ tịch UBND huyện Văn Lãng chỉ đạo xây dựng kế hoạch khắc phục các tồn tại, hạn "
                        "chế; báo cáo kết quả bằng văn bản về UBND tỉnh (qua Sở Nội vụ) trước ngày 04/8/2024",
                        "Sở Nội vụ theo dõi, đôn đốc, tổng hợp, báo cáo UBND tỉnh"],
        closing="Đoàn kiểm tra thông báo để các cơ quan, đơn vị biết, thực hiện./.",
        recipients=["UBND huyện Văn Lãng (thực hiện)", "Chủ tịch, các PCT UBND tỉnh (b/c)", "Sở Nội vụ",
                    "Lưu: VT, Đoàn KT"],
        signatures=[{"authority": "TM. ĐOÀN KIỂM TRA", "title": "TRƯỞNG ĐOÀN", "hint": None,
                     "name": "Hoàng Văn An"}],
        photos=[],
    )
    v.update(changes)
    return v


# --- reading documents back ------------------------------------------------------------------------------


def flat(text: str) -> str:
    """Whitespace (line breaks, layout padding) as single spaces: phrases wrap differently in PDF and DOCX."""
    return re.sub(r"\s+", " ", text)


def assert_in_order(text: str, phrases: list[str]) -> None:
    position = 0
    for phrase in phrases:
        found = text.find(phrase, position)
        assert found >= 0, f"{phrase!r} missing after position {position}: …{text[position:position + 200]!r}"
        position = found + len(phrase)


def pdf_text(pdf: bytes, tmp_path: Path, *args: str) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-layout", *args, str(path), "-"], capture_output=True, check=True)
    return out.stdout.decode()


def docx_text(data: bytes) -> str:
    """Body text in document order, table cells row by row, one paragraph a line."""
    document = docx.Document(io.BytesIO(data))
    lines = []
    for block in document.iter_inner_content():
        if isinstance(block, docx.table.Table):
            lines += [p.text for row in block.rows for cell in row.cells for p in cell.paragraphs]
        else:
            lines.append(block.text)
    return "\n".join(lines)


def header_texts(data: bytes) -> tuple[str, str]:
    section = docx.Document(io.BytesIO(data)).sections[0]
    return (" ".join(p.text for p in section.first_page_header.paragraphs),
            " ".join(p.text for p in section.header.paragraphs))


def words_in_top_margin(pdf: bytes, tmp_path: Path, page: int) -> list[tuple[str, float]]:
    """Words above the 20 mm top margin on `page`, with the horizontal centre of each, from pdftotext -bbox."""
    path = tmp_path / "bbox.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(path), "-"],
                         capture_output=True, check=True).stdout.decode()
    margin = 20 / 25.4 * 72
    return [(m["w"], (float(m["x0"]) + float(m["x1"])) / 2)
            for m in re.finditer(r'<word xMin="(?P<x0>[\d.]+)" yMin="[\d.]+" xMax="(?P<x1>[\d.]+)" '
                                 r'yMax="(?P<y1>[\d.]+)">(?P<w>[^<]*)</word>', out)
            if float(m["y1"]) < margin]


def header(lines: list[str], number: str) -> list[str]:
    return [line.format(number=number) for line in lines]


needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")


@pytest.fixture(scope="module")
def minutes_pdf() -> bytes:
    return render_pdf(minutes_view(), thumbnail=thumbnail)


@pytest.fixture(scope="module")
def minutes_docx() -> bytes:
    return render_docx(minutes_view(), thumbnail=thumbnail)


@pytest.fixture(scope="module")
def conclusion_pdf() -> bytes:
    return render_pdf(conclusion_view(), thumbnail=thumbnail)


@pytest.fixture(scope="module")
def conclusion_docx() -> bytes:
    return render_docx(conclusion_view(), thumbnail=thumbnail)


# The header is a two-column table: pdftotext reads the page line by line (issuer and motto interleave), the
# DOCX reads cell by cell (the whole issuer block, then the motto block).
PDF_HEADER = ["UBND TỈNH LẠNG SƠN", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "ĐOÀN KIỂM TRA CÔNG TÁC CCHC",
              "Độc lập - Tự do - Hạnh phúc", "Số: {number}"]
DOCX_HEADER = ["UBND TỈNH LẠNG SƠN", "ĐOÀN KIỂM TRA CÔNG TÁC CCHC", "Số: {number}",
               "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"]
MINUTES_ORDER = [
    "BIÊN BẢN", "Kiểm tra công tác cải cách hành chính, kiểm soát thủ tục hành chính", "tại UBND huyện Văn Lãng",
    "Căn cứ Kế hoạch số 55/KH-UBND ngày 10/3/2024", "năm 2024;", "Căn cứ Quyết định số 1431/QĐ-UBND",
    "năm 2024.", "Hôm nay, vào hồi 08 giờ 00 ngày 24 tháng 6 năm 2024",
    "I. THÀNH PHẦN", "1. Đoàn kiểm tra", "- Ông Hoàng Văn An – Phó Giám đốc Sở Nội vụ – Trưởng đoàn;",
    "- Bà Lương Thị Bích", "- Ông Vi Văn Cường – Chuyên viên Sở Nội vụ – Thư ký.",
    "2. Đơn vị được kiểm tra", "- Ông Nông Văn Bình – Chủ tịch UBND huyện Văn Lãng;",
    "II. NỘI DUNG VÀ KẾT QUẢ KIỂM TRA", "1. Công tác chỉ đạo, điều hành CCHC",
    "- Nhiệm vụ được giao hoàn thành đúng hạn: 15/17 nhiệm vụ (88,2%).",
    "2. Giải quyết thủ tục hành chính", "- Hồ sơ giải quyết đúng hạn: 6.081/6.118 hồ sơ (99,4%)", "(ảnh số 1);",
    "Diện tích Bộ phận Một cửa (UBND xã Tân Thanh): chưa đáp ứng (ảnh số 2, 3).",
    "III. NHẬN XÉT, ĐÁNH GIÁ", "1. Kết quả đạt được", "- 100% hồ sơ cấp huyện, xã",
    "2. Tồn tại, hạn chế", "- Còn 93 hồ sơ giải quyết quá hạn",
    "Nguyên nhân chủ quan: Công chức chưa theo dõi sát thời hạn giải quyết.",
    "Nguyên nhân khách quan: Hồ sơ đất đai phức tạp", "- 85 công chức cấp xã chưa đạt chuẩn theo quy định.",
    "Nguyên nhân khách quan: Khó khăn trong tuyển dụng", "- UBND xã Tân Thanh: Diện tích Bộ phận Một cửa",
    "IV. Ý KIẾN GIẢI TRÌNH CỦA ĐƠN VỊ ĐƯỢC KIỂM TRA", "UBND huyện Văn Lãng tiếp thu ý kiến",
    "V. KIẾN NGHỊ CỦA ĐOÀN KIỂM TRA", "1. Chỉ đạo rà soát, giải quyết dứt điểm 93 hồ sơ quá hạn",
    "Đơn vị thực hiện: UBND huyện Văn Lãng; thời hạn: trước ngày 24/7/2024.",
    "2. Xây dựng kế hoạch đào tạo để 85 công chức cấp xã đạt chuẩn.", "thời hạn: trước ngày 31/12/2024.",
    "3. Bố trí Bộ phận Một cửa", "Đơn vị thực hiện: UBND xã Tân Thanh; thời hạn: trước ngày 05/01/2025.",
    "báo cáo kết quả khắc phục về UBND tỉnh", "Biên bản kết thúc vào hồi 11 giờ 30 cùng ngày",
    "THƯ KÝ", "Nông Văn Bình", "Vi Văn Cường", "Hoàng Văn An",
    "Nơi nhận:", "- UBND huyện Văn Lãng (thực hiện);", "- Sở Nội vụ (theo dõi);", "- Lưu: VT, Hồ sơ.",
    "PHỤ LỤC: ẢNH MINH CHỨNG", "(Kèm theo Biên bản số 05/BB-ĐKT ngày 24/6/2024)",
    "Ảnh số 1 (mục D3)", "Ảnh số 2 (mục B2)", "Ảnh số 3 (mục B2)",
]
CONCLUSION_ORDER = [
    "Lạng Sơn, ngày 05 tháng 7 năm 2024", "THÔNG BÁO", "Kết luận kiểm tra công tác",
    "Thực hiện Kế hoạch số 55/KH-UBND", "I. KẾT QUẢ ĐẠT ĐƯỢC", "- 100% hồ sơ cấp huyện, xã",
    "II. TỒN TẠI, HẠN CHẾ VÀ NGUYÊN NHÂN", "- Còn 93 hồ sơ giải quyết quá hạn", "Nguyên nhân chủ quan:",
    "- 85 công chức cấp xã chưa đạt chuẩn", "III. YÊU CẦU, KIẾN NGHỊ", "1. Chỉ đạo rà soát",
    "thời hạn: trước ngày 24/7/2024.", "2. Xây dựng kế hoạch", "3. Bố trí Bộ phận Một cửa",
    "IV. TỔ CHỨC THỰC HIỆN", "1. Chủ tịch UBND huyện Văn Lãng chỉ đạo xây dựng kế hoạch khắc phục",
    "2. Sở Nội vụ theo dõi, đôn đốc, tổng hợp, báo cáo UBND tỉnh.",
    "Đoàn kiểm tra thông báo để các cơ quan, đơn vị biết, thực hiện./.",
]


# --- formats ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("iso", "expected"), [
    ("2026-07-05", "Lạng Sơn, ngày 05 tháng 7 năm 2026"),
    ("2026-01-12", "Lạng Sơn, ngày 12 tháng 01 năm 2026"),
    ("2026-02-28", "Lạng Sơn, ngày 28 tháng 02 năm 2026"),
    ("2026-10-09", "Lạng Sơn, ngày 09 tháng 10 năm 2026"),
    ("2026-12-31", "Lạng Sơn, ngày 31 tháng 12 năm 2026"),
    (None, "Lạng Sơn, ngày … tháng … năm …"),
])
def test_place_date_pads_days_below_10_and_months_1_and_2_only(iso, expected):
    assert formats.place_date("Lạng Sơn", iso) == expected


@pytest.mark.parametrize(("iso", "expected"), [
    ("2026-08-04", "04/8/2026"), ("2026-01-15", "15/01/2026"), ("2026-02-03", "03/02/2026"),
    ("2024-12-31", "31/12/2024"), ("2024-10-10", "10/10/2024"),
])
def test_short_date_follows_the_same_padding(iso, expected):
    assert formats.short_date(iso) == expected


@pytest.mark.parametrize(("moment", "expected"), [
    ("2024-06-24T09:12:00+07:00", "09:12 ngày 24/6/2024"),
    ("2024-06-24T02:12:00Z", "09:12 ngày 24/6/2024"),  # stored in UTC, shown in Vietnam time
    ("2024-01-31T20:05:00+00:00", "03:05 ngày 01/02/2024"),  # the day changes too
    ("2024-06-24T07:00:00", "07:00 ngày 24/6/2024"),  # naive: already Vietnam time
])
def test_time_and_date_is_vietnam_time(moment, expected):
    assert formats.time_and_date(moment) == expected


@pytest.mark.parametrize(("number", "provisional", "expected"), [
    (5, None, "05/BB-ĐKT"), (12, "T-3", "12/BB-ĐKT"), (None, "T-3", "T-3/BB-ĐKT"), (None, None, "…/BB-ĐKT"),
    (123, None, "123/BB-ĐKT"),
])
def test_document_number(number, provisional, expected):
    assert formats.document_number(number, provisional, "BB-ĐKT") == expected


def test_list_items_end_in_semicolons_and_the_last_in_a_full_stop():
    assert formats.with_end("Căn cứ Kế hoạch số 55/KH-UBND;", ".") == "Căn cứ Kế hoạch số 55/KH-UBND."
    assert formats.with_end("Lưu: VT, Hồ sơ.", ";") == "Lưu: VT, Hồ sơ;"
    assert formats.sentence("Còn 93 hồ sơ quá hạn") == "Còn 93 hồ sơ quá hạn."
    assert formats.sentence("thực hiện./.") == "thực hiện./."


# --- PDF -------------------------------------------------------------------------------------------------


@needs_poppler
def test_minutes_pdf_holds_the_document_in_order(minutes_pdf, tmp_path):
    text = flat(pdf_text(minutes_pdf, tmp_path))
    assert_in_order(text, [*header(PDF_HEADER, "05/BB-ĐKT"), *MINUTES_ORDER])
    for when in ("Thời gian: 09:12 ngày 24/6/2024", "Thời gian: 10:40 ngày 24/6/2024", "Vị trí: 21,8532° B"):
        assert when in text
    assert "DỰ THẢO" not in text and "số tạm" not in text
    assert not re.search(r"Lạng Sơn, ngày", text), "Mẫu 1.9: minutes have no place-and-date line"


@needs_poppler
def test_conclusion_pdf_holds_the_document_in_order(conclusion_pdf, tmp_path):
    text = flat(pdf_text(conclusion_pdf, tmp_path))
    assert_in_order(text, [*header(PDF_HEADER, "12/TB-ĐKT"), *CONCLUSION_ORDER])
    for phrase in ("Nơi nhận:", "- Lưu: VT, Đoàn KT.", "TM. ĐOÀN KIỂM TRA", "TRƯỞNG ĐOÀN", "Hoàng Văn An"):
        assert text.index(phrase) > text.index("biết, thực hiện./.")
    assert "PHỤ LỤC" not in text and "I. THÀNH PHẦN" not in text


def test_pdf_is_a4_and_every_font_is_liberation_serif(minutes_pdf):
    reader = PdfReader(io.BytesIO(minutes_pdf))
    assert len(reader.pages) >= 3
    names, families = set(), set()
    for page in reader.pages:
        assert (round(float(page.mediabox.width), 1), round(float(page.mediabox.height), 1)) == (595.3, 841.9)
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            names.add(re.sub(r"[-, ]", "", str(font["/BaseFont"]).split("+")[-1]))
            descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            embedded = descendant["/FontDescriptor"]["/FontFile2"].get_data()
            families.add(TTFont(io.BytesIO(embedded))["name"].getDebugName(1))
    # no fallback face: every Vietnamese glyph came from Liberation Serif, embedded
    assert families == {"Liberation Serif"}
    assert names >= {"LiberationSerif", "LiberationSerifBold", "LiberationSerifItalic"}, names
    assert all(name.startswith("LiberationSerif") for name in names), names


@needs_poppler
def test_page_numbers_start_on_page_2_centred_in_the_top_margin(minutes_pdf, tmp_path):
    assert words_in_top_margin(minutes_pdf, tmp_path, 1) == []
    text_centre = (30 + 165 / 2) / 25.4 * 72
    for page in (2, 3):
        [(word, centre)] = words_in_top_margin(minutes_pdf, tmp_path, page)
        assert word == str(page)
        assert abs(centre - text_centre) < 6


def test_pdf_embeds_the_three_thumbnails_and_stays_small(minutes_pdf):
    reader = PdfReader(io.BytesIO(minutes_pdf))
    images = {image.name for page in reader.pages for image in page.images}  # pages share one resource dict
    assert len(images) == 3
    assert len(minutes_pdf) < 300_000


@needs_poppler
def test_page_one_as_png_for_a_human(minutes_pdf, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    pdf = ARTIFACTS / "minutes.pdf"
    pdf.write_bytes(minutes_pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                    str(ARTIFACTS / "minutes-page1")], check=True)
    png = ARTIFACTS / "minutes-page1.png"
    assert png.stat().st_size > 10_000
    with Image.open(png) as im:
        assert abs(im.width - 496) <= 1 and abs(im.height - 702) <= 1  # A4 at 60 dpi
        dark = sum(im.convert("L").point(lambda v: 255 if v < 128 else 0).histogram()[255:])
        assert dark > 5_000  # text, not a blank page


# --- DOCX ------------------------------------------------------------------------------------------------


def test_minutes_docx_holds_the_same_text_in_the_same_order(minutes_docx):
    text = flat(docx_text(minutes_docx))
    assert_in_order(text, [*header(DOCX_HEADER, "05/BB-ĐKT"), *MINUTES_ORDER])
    for phrase in ("Thời gian: 09:12 ngày 24/6/2024", "Thời gian: 10:40 ngày 24/6/2024", "Vị trí: 21,8532° B"):
        assert phrase in text
    assert "DỰ THẢO" not in text + " ".join(header_texts(minutes_docx))


def test_text_with_characters_xml_cannot_hold_still_makes_a_docx():
    """A vertical tab pasted from Word (or another C0 control) made python-docx raise: the DOCX answered 500."""
    summary = ["Kiểm tra công tác\x0b cải cách hành chính\x01", "tại UBND huyện Văn Lãng"]
    text = flat(docx_text(render_docx(minutes_view(summary=summary), thumbnail=thumbnail)))
    assert "Kiểm tra công tác cải cách hành chính" in text


def test_conclusion_docx_holds_the_same_text_in_the_same_order(conclusion_docx):
    text = flat(docx_text(conclusion_docx))
    closing_block = ["Nơi nhận:", "- Lưu: VT, Đoàn KT.", "TM. ĐOÀN KIỂM TRA", "TRƯỞNG ĐOÀN", "Hoàng Văn An"]
    assert_in_order(text, [*header(DOCX_HEADER, "12/TB-ĐKT"), *CONCLUSION_ORDER, *closing_block])
    assert "PHỤ LỤC" not in text


def test_docx_page_setup_fonts_and_page_numbers(minutes_docx):
    document = docx.Document(io.BytesIO(minutes_docx))
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert [round(getattr(section, f"{side}_margin").mm) for side in ("top", "bottom", "left", "right")] == \
        [20, 20, 30, 15]
    # a PAGE field in the header of pages 2+, nothing on page 1
    assert section.different_first_page_header_footer
    assert "PAGE" in "".join(section.header._element.itertext())
    assert "PAGE" not in "".join(section.first_page_header._element.itertext())
    normal = document.styles["Normal"]
    assert normal.font.name == "Times New Roman" and normal.font.size.pt == 14
    fonts_el = document.styles.element.find(".//w:docDefaults//w:rFonts", namespaces=NS)
    assert {key.split("}")[1]: value for key, value in fonts_el.attrib.items()} == \
        {"ascii": "Times New Roman", "hAnsi": "Times New Roman", "eastAsia": "Times New Roman",
         "cs": "Times New Roman"}
    assert len(document.inline_shapes) == 3


def test_docx_formats_follow_the_stylesheet(minutes_docx):
    document = docx.Document(io.BytesIO(minutes_docx))
    header = document.tables[0]
    nation = header.cell(0, 1).paragraphs[0]
    assert nation.text == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    assert nation.runs[0].bold and nation.runs[0].font.size.pt == 12
    motto, rule = header.cell(0, 1).paragraphs[1:3]
    assert motto.runs[0].bold and motto.runs[0].font.size.pt == 13
    assert rule.text == "" and rule._p.pPr.find(qn("w:pBdr")) is not None
    # the rule under the motto is as long as the motto (56,1 mm at 13 pt bold), centred in its column
    column = header.columns[1].width.mm
    length = column - rule.paragraph_format.left_indent.mm - rule.paragraph_format.right_indent.mm
    assert 54 < length < 58
    body = [p for p in document.paragraphs if p.text]
    title = next(p for p in body if p.text == "BIÊN BẢN")
    assert title.runs[0].bold and title.alignment == WD_ALIGN_PARAGRAPH.CENTER
    basis = next(p for p in body if p.text.startswith("Căn cứ"))
    assert all(run.italic for run in basis.runs)
    finding = next(p for p in body if "93 hồ sơ giải quyết quá hạn" in p.text)
    assert finding.alignment == WD_ALIGN_PARAGRAPH.JUSTIFY
    assert round(finding.paragraph_format.first_line_indent.mm) == 10
    appendix = next(p for p in body if p.text == "PHỤ LỤC: ẢNH MINH CHỨNG")
    assert appendix.paragraph_format.page_break_before


def test_docx_walker_refuses_markup_outside_its_vocabulary(monkeypatch):
    from audit_api.rendering import word

    monkeypatch.setattr(word.view, "render", lambda document: "<html><body><form></form></body></html>")
    with pytest.raises(ValueError, match="form"):
        render_docx(minutes_view(), thumbnail=thumbnail)


# --- what the PDF renderer may fetch ---------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:5000/api/v1/photos/6f1c2a4e-8b3d-4c5e-9a7f-1b2c3d4e5f60/thumbnail",
    "https://example.com/style.css",
    "ftp://example.com/a.jpg",
    "data:image/png;base64,iVBORw0KGgo=",
    "file:///etc/passwd",
    "file://otherhost/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf",
    f"file://{view.TEMPLATES}/../view.py",  # '..' out of the templates folder
    "photo:not-a-uuid",
    "photo:../../etc/passwd",
])
def test_fetcher_refuses_everything_but_photos_fonts_and_templates(url):
    with pytest.raises(URLRefused):
        fetcher(thumbnail).fetch(url)


def test_fetcher_serves_photo_thumbnails_and_the_packages_own_files():
    fetch = fetcher(thumbnail).fetch
    response = fetch(f"photo:{PHOTO_IDS[1]}")
    assert response.read() == THUMBNAILS[PHOTO_IDS[1]] and response.content_type == "image/jpeg"
    regular = fonts.font_files()["normal", "normal"]
    assert fetch(regular.as_uri()).read() == regular.read_bytes()
    assert fetch((view.TEMPLATES / "document.css").as_uri()).read().startswith(b"/*")


@pytest.mark.parametrize("markup", [
    '<img src="http://127.0.0.1:9/x.jpg">',
    '<link rel="stylesheet" href="https://127.0.0.1:9/x.css">',
    '<style>@import url("http://127.0.0.1:9/y.css");</style>',
    '<p style="background: url(file:///etc/hostname)">x</p>',
])
def test_a_foreign_reference_stops_the_render_without_a_connection(markup, monkeypatch):
    import socket

    from weasyprint import HTML
    from weasyprint.urls import FatalURLFetchingError

    connections = []
    monkeypatch.setattr(socket.socket, "connect", lambda self, address: connections.append(address))
    with pytest.raises(FatalURLFetchingError):
        HTML(string=f"<html><body>{markup}<p>Văn bản</p></body></html>", url_fetcher=fetcher(thumbnail)).write_pdf()
    assert connections == []


def test_a_failing_thumbnail_reaches_the_caller_as_an_ordinary_error():
    def missing(photo_id: str) -> bytes:
        raise LookupError(f"no thumbnail for {photo_id}")

    with pytest.raises(LookupError, match=PHOTO_IDS[0]):
        render_pdf(minutes_view(), thumbnail=missing)


# --- user text, drafts, numbers --------------------------------------------------------------------------


def hostile_view() -> dict:
    v = minutes_view()
    v["findings"] = [{"text": '<script>alert("x")</script> & <b>đậm</b>', "unit_name": '<img src="http://x/">'}]
    v["issuer"] = {"parent": "UBND TỈNH LẠNG SƠN", "name": "<i>ĐOÀN</i>"}
    v["photos"][0]["caption"] = '"><script>alert(1)</script>'
    return v


def test_user_text_is_escaped_not_interpreted(tmp_path):
    html = render_html(hostile_view())
    assert "<script>" not in html and "<b>đậm</b>" not in html and '<img src="http://x/">' not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;đậm&lt;/b&gt;" in html
    typed = '<script>alert("x")</script> & <b>đậm</b>'
    assert typed in flat(docx_text(render_docx(hostile_view(), thumbnail=thumbnail)))
    if shutil.which("pdftotext"):
        assert typed in flat(pdf_text(render_pdf(hostile_view(), thumbnail=thumbnail), tmp_path))


def draft_view(**changes) -> dict:
    return minutes_view(**{"status": "draft", "number": None, **changes})


def test_draft_mark_on_every_page_of_a_draft_only():
    for v, marked in ((draft_view(), True), (minutes_view(), False)):
        assert ('class="watermark"' in render_html(v)) is marked
        reader = PdfReader(io.BytesIO(render_pdf(v, thumbnail=thumbnail)))
        assert [("DỰ THẢO" in page.extract_text()) for page in reader.pages] == [marked] * len(reader.pages)
        data = render_docx(v, thumbnail=thumbnail)
        assert [("DỰ THẢO" in text) for text in header_texts(data)] == [marked, marked]
        assert "DỰ THẢO" not in docx_text(data)  # a mark in the page header, not body text


@pytest.mark.parametrize(("changes", "line", "provisional"), [
    ({}, "Số: …/BB-ĐKT", False),
    ({"provisional_number": "T-3"}, "Số: T-3/BB-ĐKT", True),
    ({"provisional_number": "T-3", "number": 7}, "Số: 07/BB-ĐKT", False),
])
def test_number_line_of_a_draft(changes, line, provisional):
    v = draft_view(**changes)
    text = flat(docx_text(render_docx(v, thumbnail=thumbnail)))
    assert line in text and ("(số tạm)" in text) is provisional
    html = render_html(v)
    assert line in html and ("(số tạm)" in html) is provisional


def test_an_issued_document_must_have_its_number():
    with pytest.raises(ValueError, match="number"):
        render_html(minutes_view(number=None, provisional_number="T-3"))


def test_draft_conclusion_without_a_date_leaves_blanks():
    html = render_html(conclusion_view(status="draft", number=None, date=None))
    assert "Lạng Sơn, ngày … tháng … năm …" in html
    assert "ngày … tháng" not in render_html(minutes_view(date=None))  # Mẫu 1.9: no such line at all


def test_optional_fields_may_be_absent():
    v = {key: value for key, value in conclusion_view().items()
         if key in ("kind", "status", "issuer", "number", "symbol", "title")}
    text = flat(docx_text(render_docx(v, thumbnail=thumbnail)))
    assert_in_order(text, ["Số: 12/TB-ĐKT", "THÔNG BÁO", "I. KẾT QUẢ ĐẠT ĐƯỢC", "IV. TỔ CHỨC THỰC HIỆN"])


# --- preview, fonts, versions ----------------------------------------------------------------------------


def test_preview_uses_the_callers_image_urls():
    html = render_html(minutes_view(), image_src=lambda photo_id: f"/api/v1/photos/{photo_id}/thumbnail")
    assert all(f'src="/api/v1/photos/{photo_id}/thumbnail"' in html for photo_id in PHOTO_IDS)
    assert f'src="photo:{PHOTO_IDS[0]}"' in render_html(minutes_view())
    assert "@font-face" not in html  # the browser has its own fonts; file:// URLs mean nothing to it


def test_missing_serif_is_reported_in_vietnamese_with_the_package_name(monkeypatch, tmp_path):
    monkeypatch.setattr(fonts, "_found", None)
    monkeypatch.setattr(fonts, "FONT_DIRS", (tmp_path,))
    monkeypatch.setattr(fonts, "FONT_ROOT", tmp_path)
    with pytest.raises(FontMissing, match="fonts-liberation2") as caught:
        require_fonts()
    assert "phông" in caught.value.detail and caught.value.status == 503
    with pytest.raises(FontMissing):
        render_pdf(minutes_view(), thumbnail=thumbnail)


def test_a_template_change_comes_with_a_new_template_version():
    assert TEMPLATE_DIGESTS.get(TEMPLATE_VERSION) == view.templates_digest(), (
        "the templates changed: bump TEMPLATE_VERSION in rendering/view.py and record the new digest here")
