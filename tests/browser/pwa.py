"""Steps on the tablet app's screens, as a person would take them (used by the browser tests)."""

from __future__ import annotations

import uuid

from playwright.sync_api import Page

from audit_api.services.demo import demo_id
from tests.browser.conftest import sign_in, wait_ready

VANLANG = demo_id("insp-vanlang-2024")
VANLANG_HOST = demo_id("unit:LSN-H-VANLANG")
TRANGDINH = demo_id("insp-trangdinh-2024")
TRANGDINH_HOST = demo_id("unit:LSN-H-TRANGDINH")


def item(code: str) -> str:
    return f"article[data-item='{code}']"


def download(page: Page, inspection: uuid.UUID) -> None:
    card = f"article[data-inspection-id='{inspection}']"
    page.click(f"{card} [data-action=download]")
    page.wait_for_selector(f"{card} a.btn-primary")


def open_section(page: Page, base_url: str, inspection: uuid.UUID, unit: uuid.UUID, section: str) -> None:
    page.goto(f"{base_url}/#/kiem-tra/{inspection}/{unit}/{section}")
    wait_ready(page)
    page.wait_for_selector(f"#section-title:has-text('Phần {section}.')")


def offline_on_section(page: Page, base_url: str, username: str, inspection: uuid.UUID, unit: uuid.UUID,
                       section: str) -> None:
    """Sign in, download the inspection, open one unit's section and lose the network: a tablet in the field."""
    sign_in(page, base_url, username)
    download(page, inspection)
    open_section(page, base_url, inspection, unit, section)
    page.context.set_offline(True)


def go_to_section(page: Page, section: str) -> None:
    page.click(f"nav.sections a[data-section='{section}']")
    page.wait_for_selector(f"#section-title:has-text('Phần {section}.')")


def type_into(page: Page, selector: str, text: str) -> None:
    """Type and leave the field (the app saves on pause and on change)."""
    page.fill(selector, text)
    page.dispatch_event(selector, "change")


def press(page: Page, code: str, value: str) -> None:
    page.click(f"{item(code)} .item-body button[data-value='{value}']")


def wait_state(page: Page, code: str, state: str) -> None:
    page.wait_for_selector(f"{item(code)}[data-state='{state}']")


def open_extras(page: Page, code: str) -> None:
    details = page.locator(f"{item(code)} details.item-extra")
    if details.get_attribute("open") is None:
        page.click(f"{item(code)} details.item-extra summary > span")


def pressed(page: Page, code: str) -> list[str]:
    return page.eval_on_selector_all(f"{item(code)} .item-body button[aria-pressed='true']",
                                     "buttons => buttons.map(b => b.dataset.value)")


def states(page: Page) -> dict[str, str]:
    return page.eval_on_selector_all(
        "article.item", "items => Object.fromEntries(items.map(i => [i.dataset.item, i.dataset.state]))")


def sync_pill(page: Page) -> str:
    return page.inner_text("#sync-pill")
