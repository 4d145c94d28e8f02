"""全市通办 (issue #6): accepted at a township hall, handled by a city department, delivered at the
township hall or by courier; forwarding has its own limit of one working day."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone

from onewindow.cases import services as cs
from onewindow.cases.models import Case, CaseStatus
from onewindow.cases.tests.conftest import submit
from onewindow.conftest import make_user
from onewindow.core.roles import Role
from onewindow.core.services import create_token
from onewindow.workcal.calendar import get_calendar


def _at(d: Any, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(d, datetime.min.time()) + timedelta(hours=hour))


@pytest.fixture
def monday() -> Any:
    """A working day followed by a working day (fallback calendar: Monday–Friday)."""
    cal = get_calendar("330800000000")
    d = timezone.localdate() + timedelta(days=1)
    while not (cal.is_workday(d) and cal.is_workday(d + timedelta(days=1))):
        d += timedelta(days=1)
    return d


def _accepted_at_township(personas: dict[str, Any], day: Any, **kw: Any) -> Case:
    with mock.patch("django.utils.timezone.now", return_value=_at(day)):
        case = submit(personas, clerk="clerk2", **kw)
        return cs.accept_case(case, actor=personas["clerk2"])


def test_a_township_acceptance_of_a_city_item_records_a_forwarding_due_of_one_working_day(
    shop: dict[str, Any], personas: dict[str, Any], monday: Any
):
    case = _accepted_at_township(personas, monday)
    assert case.accept_hall == shop["township_hall"]
    assert case.accept_region.code == "330803104000" and case.handling_region.code == "330800000000"
    assert case.forward_due == get_calendar("330800000000").add_workdays(monday, 1).date
    # The handling department claims the next working day: received in time.
    wi = case.work_items.get(step_seq=1)
    with mock.patch("django.utils.timezone.now", return_value=_at(case.forward_due, 15)):
        cs.claim_work_item(wi, actor=personas["approver"])
    case.refresh_from_db()
    assert case.forwarded_at is not None and case.forward_late is False
    ev = case.events.get(kind="forward_received")
    assert ev.payload["late"] is False


def test_late_forwarding_shows_on_the_case(
    client: Client, shop: dict[str, Any], personas: dict[str, Any], monday: Any
):
    case = _accepted_at_township(personas, monday)
    later = get_calendar("330800000000").add_workdays(monday, 3).date
    wi = case.work_items.get(step_seq=1)
    with mock.patch("django.utils.timezone.now", return_value=_at(later)):
        cs.claim_work_item(wi, actor=personas["approver"])
    case.refresh_from_db()
    assert case.forward_late is True
    assert case.events.get(kind="forward_received").reason == "流转超时"
    token = create_token("clerk2", actor="test")
    body = client.get(f"/api/v1/cases/{case.number}", headers={"Authorization": f"Bearer {token}"}).json()
    assert body["flags"]["forward_late"] is True
    assert body["forward_due"] == case.forward_due.isoformat()


def test_a_case_received_where_it_is_handled_is_not_forwarded(shop: dict[str, Any], personas: dict[str, Any]):
    case = cs.accept_case(submit(personas, clerk="clerk"), actor=personas["clerk"])
    assert case.forward_due is None
    wi = case.work_items.get(step_seq=1)
    cs.claim_work_item(wi, actor=personas["approver"])
    case.refresh_from_db()
    assert case.forwarded_at is None and not case.events.filter(kind="forward_received").exists()


def _approve_all(case: Case, personas: dict[str, Any]) -> None:
    for step in (1, 2):
        wi = case.work_items.get(step_seq=step)
        approver = personas["approver"] if step == 1 else personas["approver2"]
        cs.claim_work_item(wi, actor=approver)
        cs.decide_work_item(wi, actor=approver, outcome="approve")


def test_handled_in_the_city_and_delivered_at_the_township_hall(
    shop: dict[str, Any], personas: dict[str, Any], city: dict[str, Any], monday: Any
):
    town_delivery = make_user("town_delivery", (Role.DELIVERY_CLERK, city["regions"]["廿里镇"], None))
    case = _accepted_at_township(personas, monday)
    _approve_all(case, personas)
    case.refresh_from_db()
    assert case.status == CaseStatus.READY
    assert case.work_items.filter(department=city["scjg"]).count() == 2  # handled by the city department
    assert case.deliver_hall == shop["township_hall"]
    cs.deliver_case(case, actor=town_delivery, method="window", received_by="陈晓明")
    case.refresh_from_db()
    assert case.status == CaseStatus.DELIVERED
    assert case.delivery.hall == shop["township_hall"]
    assert case.visits == 2  # intake at the township window, pickup there


def test_handled_in_the_city_and_delivered_by_courier(
    shop: dict[str, Any], personas: dict[str, Any], monday: Any
):
    case = _accepted_at_township(
        personas, monday, delivery_method="courier", delivery_address="衢江区廿里镇黄泥畈村 18 号"
    )
    _approve_all(case, personas)
    cs.deliver_case(case, actor=personas["delivery"], method="courier", courier="EMS", waybill="EMS1234567")
    case.refresh_from_db()
    assert case.status == CaseStatus.DELIVERED and case.delivery_method == "courier"
    assert case.delivery.waybill == "EMS1234567" and case.visits == 1  # only the intake
