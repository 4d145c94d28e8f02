"""End to end: a regional holiday entered through the workcal services moves the due dates of
the open cases handled in that region (the cases app's on_change hook), and no others."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from onewindow.audit.models import AuditEntry
from onewindow.cases import services as cs
from onewindow.cases.models import Case, CaseStatus
from onewindow.cases.tests.conftest import CATALOG, FORM, applicant, paper
from onewindow.cases.tests.conftest import shop as shop  # noqa: F401  (fixture)
from onewindow.catalog.importexport import import_catalog
from onewindow.core.validators import make_uscc
from onewindow.org import services as org
from onewindow.workcal import services as workcal
from onewindow.workcal.calendar import get_calendar

COUNTY_ITEM = "330802-SCJG-01-0001"


@pytest.fixture
def county_item(shop: dict[str, Any], city: dict[str, Any]) -> str:  # noqa: F811
    """The same food-business licence, handled by 柯城区's own market regulator."""
    org.save_department(
        actor="test",
        code="kcscjg",
        name="柯城区市场监督管理局",
        uscc=make_uscc("1", "1", "330802", "002589011"),
        region=city["regions"]["柯城区"],
    )
    item = copy.deepcopy(CATALOG["items"][0])
    item.update(code=COUNTY_ITEM, department="kcscjg")
    item.pop("process_template")  # one step of its own department
    import_catalog({"format": CATALOG["format"], "items": [item]}, actor="test", source="test")
    return COUNTY_ITEM


def _accepted(item: str) -> Case:
    case = cs.submit_case(
        actor="test",
        item=item,
        applicant=applicant(),
        channel="online",
        form_data=FORM,
        materials=paper(1, 2),
    )
    cs.accept_case(case, actor="test")
    case.refresh_from_db()
    assert case.status == CaseStatus.ACCEPTED
    return case


def test_a_regional_holiday_moves_the_dues_of_open_cases_in_that_region_only(
    county_item: str, city: dict[str, Any]
):
    county = city["regions"]["柯城区"]
    here = _accepted(county_item)
    elsewhere = _accepted("330800-SCJG-01-0001")  # handled by the city's department
    assert here.handling_region == county and elsewhere.handling_region.code == "330800000000"
    cal = get_calendar(county.code)
    holiday = cal.add_workdays(here.clock_start, 1).date  # a working day inside both windows
    assert holiday < here.promised_due < here.legal_due
    before = {c.pk: (c.promised_due, c.legal_due) for c in (here, elsewhere)}

    workcal.set_day(holiday, False, actor="test", region=county, name="县级临时休息日")

    here.refresh_from_db()
    elsewhere.refresh_from_db()
    cal = get_calendar(county.code)
    assert not cal.is_workday(holiday)
    promised, legal = before[here.pk]
    assert here.promised_due == cal.add_workdays(promised, 1).date > promised
    assert here.legal_due == cal.add_workdays(legal, 1).date > legal
    assert cal.workdays_between(promised, here.promised_due) == 1
    assert cal.workdays_between(legal, here.legal_due) == 1
    assert (elsewhere.promised_due, elsewhere.legal_due) == before[elsewhere.pk]
    assert get_calendar("330800000000").is_workday(holiday)
    change = AuditEntry.objects.filter(action="cases.due_dates.recompute").latest("id")
    assert change.data == {"changed": 1}

    # Taking the holiday back restores the original dues.
    workcal.clear_day(holiday, actor="test", region=county)
    here.refresh_from_db()
    assert (here.promised_due, here.legal_due) == before[here.pk]


def test_a_city_holiday_reaches_the_counties_below_it(county_item: str, city: dict[str, Any]):
    here = _accepted(county_item)
    in_city = _accepted("330800-SCJG-01-0001")
    holiday = get_calendar(here.handling_region.code).add_workdays(here.clock_start, 1).date
    before = {c.pk: c.promised_due for c in (here, in_city)}

    workcal.set_day(holiday, False, actor="test", region=city["regions"]["衢州市"])

    for case in (here, in_city):
        case.refresh_from_db()
        cal = get_calendar(case.handling_region.code)
        assert case.promised_due == cal.add_workdays(before[case.pk], 1).date


def test_closed_cases_keep_their_dues(county_item: str, city: dict[str, Any]):
    case = _accepted(county_item)
    cs.withdraw_case(case, actor="test")
    case.refresh_from_db()
    due = case.promised_due
    holiday = get_calendar(case.handling_region.code).add_workdays(case.clock_start, 1).date
    workcal.set_day(holiday, False, actor="test", region=city["regions"]["柯城区"])
    case.refresh_from_db()
    assert case.promised_due == due
