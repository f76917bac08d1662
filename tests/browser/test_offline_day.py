"""The offline day: download, work with no network across a reload and a browser restart (answers of every
type on several sections, three photos from the camera and the gallery, one photo refused at capture), then
sync once: the server holds exactly those answers and photos, once each."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

from PIL import Image

from tests.browser.conftest import open_profile, screenshot, sign_in, wait_ready, wait_until, watch_console
from tests.browser.pwa import (
    VANLANG,
    VANLANG_HOST,
    download,
    go_to_section,
    item,
    open_extras,
    open_section,
    press,
    pressed,
    states,
    type_into,
    wait_state,
)

# What the server must hold afterwards, exactly: (value, note, period, source) per item of the host unit.
SAMPLE_ROW = {"dossier_code": "000.00.21.H33-240312-0007", "procedure": "Đăng ký khai sinh",
              "received_on": "2024-03-12", "due_on": "2024-03-15", "on_time": "no", "control_slip": "yes",
              "supplement_count": 1}
DOCUMENT = {"number": "1456/QĐ-UBND", "date": "2023-08-15", "issuer": "UBND tỉnh Lạng Sơn",
            "title": "Công bố danh mục TTHC thực hiện tại Bộ phận Tiếp nhận và Trả kết quả cấp huyện"}
EXPECTED = {
    "A4": ({"numerator": 6081, "denominator": 6118}, None, None, None),
    "A5": ("yes", None, None, None),
    "A6": (["board", "qr_code"], None, None, None),
    "A7": (2, None, None, None),
    "A8": ("no", None, None, None),
    "A8a": ("Phí thẩm định hồ sơ đất đai trên bảng niêm yết khác CSDL quốc gia.", None, None, None),
    "A11a": (DOCUMENT, None, None, None),
    "B2a": (45.5, None, None, None),
    "B8": ("present_unlinked", None, None, None),
    "B11": (["paper_form", "suggestion_box"], None, None, None),
    "D1": (1250, "Số liệu trích từ Hệ thống thông tin một cửa điện tử huyện.", ("2024-01-01", "2024-05-31"),
           "information_system"),
    "D3": (4, None, None, None),
    "D4": ({"numerator": 3, "denominator": 4}, None, None, None),
    "D10": ([SAMPLE_ROW], None, None, None),
    "D13a": (31, None, None, None),
}


def photo_file(folder: Path, name: str, size: tuple[int, int], seed: int) -> Path:
    """A real JPEG with noise in it (so it does not compress to nothing: the large one needs several chunks)."""
    rng = random.Random(seed)  # noqa: S311 — test pixels, not a secret
    image = Image.new("RGB", size)
    image.putdata([(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(size[0] * size[1])])
    path = folder / name
    image.save(path, "JPEG", quality=92)
    return path


def too_many_pixels(folder: Path) -> Path:
    """A small PNG file of 60 megapixels, over the server's 50-megapixel limit: refused at capture."""
    path = folder / "anh-qua-lon.png"
    Image.new("L", (10_000, 6_000), 200).save(path, "PNG")
    return path


def attach(page, code: str, action: str, files: list[Path], captions: list[str]) -> None:
    before = page.locator(f"{item(code)} figure.photo").count()
    page.set_input_files(f"{item(code)} input[data-action={action}]", [str(f) for f in files])
    page.wait_for_function("([selector, count]) => document.querySelectorAll(selector).length === count",
                           arg=[f"{item(code)} figure.photo", before + len(files)])
    for n, caption in enumerate(captions, start=before):
        field = page.locator(f"{item(code)} figure.photo input[data-role=caption]").nth(n)
        field.fill(caption)
        field.dispatch_event("change")


def wait_for_pill(page, text: str) -> None:
    page.wait_for_function("text => document.querySelector('#sync-pill').textContent === text", arg=text)


def server_photos(live_server) -> dict:
    rows = live_server.query("SELECT u.id, u.item_code, u.caption, u.sha256, u.status, p.status FROM uploads u "
                             "LEFT JOIN photos p ON p.id = u.id WHERE u.inspection_id = ?", (VANLANG.hex,))
    return {caption: (item_code, sha256, upload_status, photo_status)
            for _id, item_code, caption, sha256, upload_status, photo_status in rows}


def answer_section_a(page):
    # ratio, with the live percentage and the numerator ≤ denominator rule
    type_into(page, "#in-A4-numerator", "6120")
    type_into(page, "#in-A4-denominator", "6.118")
    page.wait_for_selector(f"{item('A4')} .item-message.error:has-text('không được lớn hơn mẫu số')")
    assert page.inner_text(f"{item('A4')} .item-message") == "Tử số (6.120) không được lớn hơn mẫu số (6.118)."
    wait_state(page, "A4", "draft")
    type_into(page, "#in-A4-numerator", "6081")
    wait_state(page, "A4", "queued")
    assert page.inner_text(f"{item('A4')} [data-role=percent]") == "99,4%"
    press(page, "A5", "yes")
    press(page, "A6", "board")
    press(page, "A6", "qr_code")
    type_into(page, "#in-A7", "2")
    # A8a is asked only when A8 is "no" (visible_if)
    assert page.locator(item("A8a")).is_hidden()
    press(page, "A8", "no")
    page.wait_for_selector(f"{item('A8a')}:not(.hidden)")
    type_into(page, "#in-A8a", EXPECTED["A8a"][0])
    type_into(page, "#in-A11a-number", DOCUMENT["number"])
    page.fill("#in-A11a-date", DOCUMENT["date"])
    page.dispatch_event("#in-A11a-date", "change")
    type_into(page, "#in-A11a-issuer", DOCUMENT["issuer"])
    type_into(page, "#in-A11a-title", DOCUMENT["title"])
    for code in ("A5", "A6", "A7", "A8", "A8a", "A11a"):
        wait_state(page, code, "queued")


def answer_section_b(page):
    type_into(page, "#in-B2a", "45,5")
    press(page, "B8", "present_unlinked")
    press(page, "B11", "paper_form")
    press(page, "B11", "suggestion_box")
    for code in ("B2a", "B8", "B11"):
        wait_state(page, code, "queued")


def answer_section_d(page):
    type_into(page, "#in-D1", "1.250")
    open_extras(page, "D1")
    type_into(page, "#note-D1", EXPECTED["D1"][1])
    page.fill("#from-D1", "2024-01-01")
    page.dispatch_event("#from-D1", "change")
    page.wait_for_selector(f"{item('D1')} .item-message:has-text('nhập đủ từ ngày và đến ngày')")
    page.fill("#to-D1", "2024-05-31")
    page.dispatch_event("#to-D1", "change")
    page.select_option("#source-D1", "information_system")
    assert page.locator(item("D4")).is_hidden()
    type_into(page, "#in-D3", "4")
    page.wait_for_selector(f"{item('D4')}:not(.hidden)")
    type_into(page, "#in-D4-numerator", "3")
    type_into(page, "#in-D4-denominator", "4")
    assert page.inner_text(f"{item('D4')} [data-role=percent]") == "75%"
    page.click(f"{item('D10')} [data-action=add-row]")
    row = "article[data-item='D10'] [data-row='0']"
    type_into(page, "#in-D10-0-dossier_code", SAMPLE_ROW["dossier_code"])
    type_into(page, "#in-D10-0-procedure", SAMPLE_ROW["procedure"])
    for column in ("received_on", "due_on"):
        page.fill(f"#in-D10-0-{column}", SAMPLE_ROW[column])
        page.dispatch_event(f"#in-D10-0-{column}", "change")
    type_into(page, "#in-D10-0-supplement_count", "1")
    page.click(f"{row} [data-column=on_time] button[data-value=no]")
    page.click(f"{row} [data-column=control_slip] button[data-value=yes]")
    type_into(page, "#in-D13a", "120")
    page.wait_for_selector(f"{item('D13a')} .item-message:has-text('phải nhỏ hơn hoặc bằng 100')")
    type_into(page, "#in-D13a", "31")
    for code in ("D1", "D3", "D4", "D10", "D13a"):
        wait_state(page, code, "queued")


def assert_section_a_still_there(page):
    assert page.input_value("#in-A4-numerator") == "6.081"
    assert page.input_value("#in-A4-denominator") == "6.118"
    assert page.inner_text(f"{item('A4')} [data-role=percent]") == "99,4%"
    assert pressed(page, "A5") == ["yes"]
    assert pressed(page, "A6") == ["board", "qr_code"]
    assert page.input_value("#in-A7") == "2"
    assert page.input_value("#in-A8a") == EXPECTED["A8a"][0]
    assert page.input_value("#in-A11a-number") == DOCUMENT["number"]
    assert page.input_value("#in-A11a-date") == DOCUMENT["date"]
    assert all(state == "queued" for code, state in states(page).items() if code in EXPECTED), states(page)


def assert_section_d_still_there(page):
    assert page.input_value("#in-D1") == "1.250"
    assert page.input_value("#note-D1") == EXPECTED["D1"][1]
    assert (page.input_value("#from-D1"), page.input_value("#to-D1")) == EXPECTED["D1"][2]
    assert page.input_value("#source-D1") == "information_system"
    assert page.input_value("#in-D10-0-dossier_code") == SAMPLE_ROW["dossier_code"]
    assert page.input_value("#in-D10-0-received_on") == SAMPLE_ROW["received_on"]
    assert page.input_value("#in-D13a") == "31"


def assert_photos_still_there(page, captions):
    page.wait_for_selector(f"{item('A6')} figure.photo")
    for code, caption in (("A5", captions[0]), ("A6", captions[1])):
        figure = page.locator(f"{item(code)} figure.photo")
        assert figure.count() == 1
        assert figure.get_attribute("data-state") == "queued"
        assert figure.locator("input[data-role=caption]").input_value() == caption
        assert figure.locator("img").evaluate("img => img.complete && img.naturalWidth > 0")


def server_answers(live_server) -> dict:
    rows = live_server.query(
        "SELECT item_code, unit_id, value, note, period_from, period_to, source, version FROM answers "
        "WHERE inspection_id = ?", (VANLANG.hex,))
    # SQLite keeps JSON numbers as numbers and everything else as JSON text
    return {code: (unit, json.loads(value) if isinstance(value, str) else value, note,
                   (start, end) if start else None, source, version)
            for code, unit, value, note, start, end, source, version in rows}


def test_offline_day_survives_reload_and_restart_and_syncs_each_answer_once(playwright, live_server, tmp_path):
    profile = tmp_path / "profile"
    errors: list[str] = []
    context = open_profile(playwright, profile)
    page = context.pages[0] if context.pages else context.new_page()
    watch_console(page, errors)
    sign_in(page, live_server.url, "kiemtra1")
    screenshot(page, "02-cuoc-kiem-tra-cua-toi")
    download(page, VANLANG)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    open_section(page, live_server.url, VANLANG, VANLANG_HOST, "A")

    photos = {"Bảng niêm yết TTHC tại Bộ phận Một cửa": photo_file(tmp_path, "niem-yet.jpg", (1600, 1200), 1),
              "Mã QR tra cứu hồ sơ": photo_file(tmp_path, "ma-qr.jpg", (640, 480), 2),
              "Sổ theo dõi hồ sơ năm 2024": photo_file(tmp_path, "so-theo-doi.jpg", (800, 600), 3)}
    captions = list(photos)

    context.set_offline(True)
    page.wait_for_selector("#net-pill.offline")
    answer_section_a(page)
    attach(page, "A5", "take-photo", [photos[captions[0]]], captions[:1])
    attach(page, "A6", "pick-photos", [photos[captions[1]]], captions[1:2])
    page.set_input_files(f"{item('A6')} input[data-action=pick-photos]", str(too_many_pixels(tmp_path)))
    page.wait_for_selector(f"{item('A6')} [data-role=photos] .item-message.error:has-text('vượt giới hạn 50 triệu')")
    assert page.locator(f"{item('A6')} figure.photo").count() == 1  # the refused photo was not kept
    page.locator(item("A5")).scroll_into_view_if_needed()
    screenshot(page, "03-danh-muc-phan-A-ngoai-tuyen", top=True)
    page.locator(item("A6")).scroll_into_view_if_needed()
    screenshot(page, "03b-anh-minh-chung-ngoai-tuyen")
    go_to_section(page, "B")
    answer_section_b(page)
    go_to_section(page, "D")
    answer_section_d(page)
    attach(page, "D1", "take-photo", [photos[captions[2]]], captions[2:])
    page.locator(item("D10")).scroll_into_view_if_needed()
    screenshot(page, "04-danh-muc-phan-D-chon-mau")
    wait_for_pill(page, f"{len(EXPECTED) + 3} chờ đồng bộ")

    page.reload()  # offline: the shell from the service worker, the answers from IndexedDB
    wait_ready(page)
    page.wait_for_selector(item("D10"))
    assert_section_d_still_there(page)
    page.wait_for_selector(f"{item('D1')} figure.photo[data-state=queued]")
    go_to_section(page, "A")
    assert_section_a_still_there(page)
    assert_photos_still_there(page, captions)
    context.close()
    assert server_answers(live_server) == {}
    assert server_photos(live_server) == {}

    context = open_profile(playwright, profile)  # the browser restarted, still with no network
    context.set_offline(True)
    page = context.pages[0] if context.pages else context.new_page()
    watch_console(page, errors)
    open_section(page, live_server.url, VANLANG, VANLANG_HOST, "A")
    assert_section_a_still_there(page)
    assert_photos_still_there(page, captions)
    go_to_section(page, "D")
    assert_section_d_still_there(page)
    page.goto(f"{live_server.url}/#/dong-bo")
    page.wait_for_selector("#stat-pending")
    assert page.inner_text("#stat-pending .v") == str(len(EXPECTED))
    assert page.inner_text("#stat-photos .v") == "3"
    screenshot(page, "05-dong-bo-cho-gui")

    context.set_offline(False)  # back in signal: the outbox replays by itself
    page.wait_for_selector("#nothing-waiting", timeout=15_000)
    held = wait_until(lambda: len(server_answers(live_server)) == len(EXPECTED) and server_answers(live_server))
    assert set(held) == set(EXPECTED)
    for code, (value, note, period, source) in EXPECTED.items():
        assert held[code] == (VANLANG_HOST.hex, value, note, period, source, 1), code
    mutations = live_server.query(
        "SELECT outcome, COUNT(*) FROM sync_mutations WHERE inspection_id = ? GROUP BY outcome", (VANLANG.hex,))
    assert mutations == [("applied", len(EXPECTED))]  # each answer sent once: no retry, no duplicate, no reject
    revisions = live_server.query("SELECT COUNT(*) FROM answer_revisions r JOIN answers a ON a.id = r.answer_id "
                                  "WHERE a.inspection_id = ?", (VANLANG.hex,))
    assert revisions == [(len(EXPECTED),)]
    held_photos = wait_until(lambda: len(server_photos(live_server)) == 3 and all(
        row[2:] == ("ready", "ready") for row in server_photos(live_server).values()) and server_photos(live_server))
    assert held_photos == {caption: (code, hashlib.sha256(photos[caption].read_bytes()).hexdigest(), "ready", "ready")
                           for caption, code in zip(captions, ("A5", "A6", "D1"), strict=True)}
    links = live_server.query("SELECT item_code, unit_id FROM photo_links WHERE inspection_id = ? ORDER BY item_code",
                              (VANLANG.hex,))
    assert links == [("A5", VANLANG_HOST.hex), ("A6", VANLANG_HOST.hex), ("D1", VANLANG_HOST.hex)]
    wait_for_pill(page, "Đã đồng bộ")
    screenshot(page, "06-dong-bo-xong")

    open_section(page, live_server.url, VANLANG, VANLANG_HOST, "A")
    page.wait_for_selector(f"{item('A5')} figure.photo[data-state=ready]")
    page.wait_for_selector(f"{item('A6')} figure.photo[data-state=ready]")
    page.wait_for_selector(f"{item('A4')}[data-state='synced']")
    assert all(state == "synced" for code, state in states(page).items() if code in EXPECTED), states(page)
    cached = page.evaluate(
        "caches.keys().then(names => Promise.all(names.map(n => caches.open(n).then(c => c.keys()))))"
        ".then(lists => lists.flat().map(r => new URL(r.url).pathname))")
    assert cached and not any(path.startswith("/api/") for path in cached)  # user data never in the SW cache
    context.close()
    assert [e for e in errors if "net::ERR_INTERNET_DISCONNECTED" not in e] == []
