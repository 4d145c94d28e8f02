"""The case spine in a real browser: a clerk accepts a case on the intake page, the approvers
approve it in the worklist, the delivery clerk hands it over, and the case page shows DELIVERED
and its visits."""

from __future__ import annotations

from typing import Any

import pytest

from onewindow import browser
from onewindow.cases.models import Case, CaseStatus
from onewindow.cases.tests.conftest import CITIZEN_ID

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not browser.available(), reason="needs /usr/bin/chromium"),
]


def login(page: Any, site: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(site + "/accounts/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(username + "-pw")
    page.locator("form [type=submit]").last.click()
    page.wait_for_load_state()


def approve_in_worklist(page: Any, site: str, number: str) -> None:
    page.goto(site + "/work/")
    row = page.locator("tr", has_text=number).first
    row.get_by_role("button", name="认领").click()
    # htmx swaps the list in place; the claimed row then offers the decision form.
    row = page.locator("tr", has_text=number).first
    row.locator("details.ow-bo-decide summary").first.click()
    row.locator("input[name=outcome][value=approve]").check()
    row.locator("textarea[name=opinion]").fill("符合条件，同意")
    row.get_by_role("button", name="提交决定").click()
    page.wait_for_load_state("networkidle")


def test_a_case_from_intake_page_to_delivery(
    transactional_db: Any, live_server: Any, shop: dict[str, Any], personas: dict[str, Any]
):
    site = live_server.url
    with browser.browser_page() as page:
        login(page, site, "clerk")
        page.goto(site + "/intake/")
        page.get_by_role("searchbox").first.fill("spjy")  # pinyin initials of 食品经营许可
        page.get_by_role("link", name="食品经营许可").first.click()
        page.wait_for_url("**/intake/330800-SCJG-01-0001/")
        page.locator("[name='a-id_number']").fill(CITIZEN_ID)
        page.locator("[name='a-name']").fill("陈晓明")
        page.locator("[name='a-phone']").fill("13905701234")
        page.locator("[name='f-shop_name']").fill("<b>衢州小吃店</b>")
        page.locator("[name='f-area']").fill("35.5")
        page.locator("input[name='m-1_how'][value=paper]").check()
        page.locator("input[name='m-2_how'][value=paper]").check()
        page.locator("button[name='x-action'][value=accept]").click()
        page.wait_for_url("**/intake/done/**")
        case = Case.objects.get()
        assert case.status == CaseStatus.ACCEPTED
        assert case.number in page.locator("main").inner_text()

        login(page, site, "approver")
        approve_in_worklist(page, site, case.number)
        login(page, site, "approver2")
        approve_in_worklist(page, site, case.number)
        case.refresh_from_db()
        assert case.status == CaseStatus.READY

        login(page, site, "delivery")
        page.goto(site + "/delivery/")
        row = page.locator("tr", has_text=case.number).first
        row.locator("select[name=method]").select_option("window")
        row.locator("input[name=received_by]").fill("陈晓明")
        row.get_by_role("button", name="确认送达").click()
        page.wait_for_load_state("networkidle")

        page.goto(site + f"/cases/{case.number}/")
        body = page.locator("main").inner_text()
        assert "已送达" in body
        assert "跑动次数" in body
        case.refresh_from_db()
        assert (case.status, case.visits) == (CaseStatus.DELIVERED, 2)
        # The applicant's HTML was kept as text and shown escaped.
        assert page.locator("main b", has_text="衢州小吃店").count() == 0
