"""The catalogue pages in a real browser: search as you type, the item guide, the language switch
and logging in."""

from __future__ import annotations

from typing import Any

import pytest

from onewindow import browser
from onewindow.catalog.importexport import import_catalog
from onewindow.catalog.tests.test_api import CATALOG

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not browser.available(), reason="needs /usr/bin/chromium"),
]


@pytest.fixture
def site(transactional_db: Any, live_server: Any, city: dict[str, Any], personas: dict[str, Any]) -> str:
    import_catalog(CATALOG, actor="test", source="test")
    return live_server.url


def test_a_visitor_finds_an_item_and_reads_its_guide(site: str):
    with browser.browser_page() as page:
        page.goto(site + "/catalog/")
        assert page.get_by_role("link", name="建设工程规划许可证核发").count() == 1
        page.get_by_role("searchbox").first.fill("qysl")
        # htmx replaces the results as the visitor types (no page load) and pushes the URL.
        page.wait_for_url("**/catalog/?q=qysl*")
        page.get_by_role("link", name="建设工程规划许可证核发").wait_for(state="detached")
        page.get_by_role("link", name="企业设立登记").first.click()
        page.wait_for_url("**/catalog/items/330800-SCJG-07-0001/")
        body = page.locator("main").inner_text()
        assert "公司登记（备案）申请书" in body
        assert "数据共享" in body
        assert "不收费" in body


def test_the_language_switch_and_login(site: str):
    with browser.browser_page() as page:
        page.goto(site + "/")
        assert page.locator("html").get_attribute("lang").startswith("zh")
        page.locator("form.ow-lang button[value=en]").click()
        page.wait_for_function("document.documentElement.lang == 'en'")
        header = page.locator("header").inner_text()
        assert "Service guides" in header
        assert "Log in" in header
        page.goto(site + "/accounts/login/")
        page.locator("input[name=username]").fill("clerk")
        page.locator("input[name=password]").fill("clerk-pw")
        page.locator("form [type=submit]").last.click()
        page.wait_for_load_state()
        assert "clerk" in page.locator("header").inner_text()
