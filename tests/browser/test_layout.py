"""The screens on a 10-inch tablet held either way: nothing wider than the screen, every control a finger uses at
least 44 px, and a screenshot of each main screen (test-artifacts/pwa/)."""

from __future__ import annotations

import pytest

from audit_api.services.demo import demo_id
from tests.browser.conftest import LANDSCAPE, PORTRAIT, screenshot, sign_in, wait_ready, watch_console
from tests.browser.pwa import download, open_section

BACSON = demo_id("insp-bacson-2024")
BACSON_COMMUNE = demo_id("unit:LSN-X-TANHUONG")

# A file input is pressed through its label (the camera and gallery buttons): the label is the target measured.
SMALL_TARGETS = """() => [...document.querySelectorAll(
    'button, a.btn, a.tab, label.btn, input, select, textarea, summary')]
  .map((el) => (el.type === 'file' && el.closest('label') ? el.closest('label') : el))
  .filter((el) => el.offsetParent !== null)
  .map((el) => ({ rect: el.getBoundingClientRect(), what: `${el.tagName} ${(el.innerText || el.id).slice(0, 40)}` }))
  .filter(({ rect }) => rect.height < 44 || rect.width < 44)
  .map(({ rect, what }) => `${what} ${Math.round(rect.width)}x${Math.round(rect.height)}`)"""
OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"


def check_screen(page, name: str) -> None:
    assert page.evaluate(OVERFLOW) <= 0, f"{name}: wider than the screen"
    assert page.evaluate(SMALL_TARGETS) == [], name
    screenshot(page, name, top=True)


@pytest.mark.parametrize("viewport", [LANDSCAPE, PORTRAIT], ids=["ngang-1280x800", "doc-800x1280"])
def test_screens_fit_the_tablet_with_large_touch_targets(browser, live_server, viewport):
    orientation = "ngang" if viewport == LANDSCAPE else "doc"
    context = browser.new_context(viewport=viewport, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    page = context.new_page()
    errors: list[str] = []
    watch_console(page, errors)
    page.goto(f"{live_server.url}/")
    wait_ready(page)
    check_screen(page, f"10-dang-nhap-{orientation}")
    sign_in(page, live_server.url, "kiemtra1")
    download(page, BACSON)
    check_screen(page, f"11-cuoc-kiem-tra-{orientation}")
    open_section(page, live_server.url, BACSON, BACSON_COMMUNE, "B")
    check_screen(page, f"12-danh-muc-{orientation}")
    page.click("article[data-item='B2'] .item-body button[data-value='no']")
    page.wait_for_selector("article[data-item='B2'] .badge:has-text('Chưa đạt: cần ảnh minh chứng')")
    page.goto(f"{live_server.url}/#/dong-bo")
    page.wait_for_selector("#stat-pending")
    check_screen(page, f"13-dong-bo-{orientation}")
    context.close()
    assert errors == []
