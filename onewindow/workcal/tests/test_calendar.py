from __future__ import annotations

from datetime import date, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from hypothesis import given, settings
from hypothesis import strategies as st

from onewindow.audit.models import AuditEntry
from onewindow.workcal import services
from onewindow.workcal.calendar import Calendar, add_workdays, get_calendar, is_workday


@pytest.mark.django_db
def test_national_holidays_and_make_up_days_are_seeded():
    # 2026 National Day: 1–7 October off, Saturday 10 October is a make-up working day.
    assert is_workday(date(2026, 10, 1)) is False
    assert is_workday(date(2026, 10, 10)) is True
    assert add_workdays(date(2026, 9, 30), 3).date == date(2026, 10, 10)
    assert add_workdays(date(2026, 9, 30), 3).provisional is False


@pytest.mark.django_db
def test_it_falls_back_to_monday_to_friday_past_the_known_years():
    due = add_workdays(date(2026, 12, 30), 5)
    assert due.date == date(2027, 1, 6)
    assert due.provisional is True
    # Far past the data: never raises.
    assert add_workdays(date(2150, 6, 1), 10).provisional is True


@pytest.mark.django_db
def test_a_regional_override_applies_to_its_subtree_only(city: dict[str, Any]):
    r = city["regions"]
    d = date(2026, 6, 3)  # a Wednesday
    services.set_day(d, False, actor="test", region=r["衢江区"], name="地方节日")
    assert is_workday(d, region=r["黄泥畈村"].code) is False
    assert is_workday(d, region=r["衢江区"].code) is False
    assert is_workday(d, region=r["柯城区"].code) is True
    assert is_workday(d) is True
    assert AuditEntry.objects.filter(action="workcal.day.set").exists()
    # The more specific region wins.
    services.set_day(d, True, actor="test", region=r["廿里镇"], name="照常上班")
    assert is_workday(d, region=r["黄泥畈村"].code) is True
    services.clear_day(d, actor="test", region=r["廿里镇"])
    assert is_workday(d, region=r["黄泥畈村"].code) is False


@pytest.mark.django_db
def test_status_warns_from_the_first_of_october():
    assert services.status(date(2026, 9, 30)).warn is False
    assert services.status(date(2026, 10, 1)).warn is True
    services.confirm_year(2027, actor="test")
    assert services.status(date(2026, 10, 1)).warn is False


@pytest.mark.django_db
def test_the_command_prints_due_dates_and_provisional():
    out = StringIO()
    call_command("calendar", "add-workdays", "2026-12-30", "5", stdout=out)
    assert out.getvalue().strip() == "2027-01-06 provisional"
    out = StringIO()
    call_command("calendar", "status", stdout=out)
    assert "2004–2026" in out.getvalue()


# Properties on an in-memory calendar with the seeded data's shape: no database per example.
HOLIDAYS = {date(2026, 10, d): False for d in range(1, 8)} | {
    date(2026, 10, 10): True,
    date(2026, 9, 20): True,
}
CAL = Calendar(None, dict(HOLIDAYS), frozenset(range(2004, 2027)))

dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31))


@given(d=dates, n=st.integers(min_value=1, max_value=120))
@settings(max_examples=300)
def test_the_nth_working_day_is_strictly_after_and_a_working_day(d: date, n: int):
    due = CAL.add_workdays(d, n)
    assert due.date > d
    assert CAL.is_workday(due.date)
    assert CAL.workdays_between(d, due.date) == n
    assert CAL.workdays_between(d, due.date - timedelta(days=1)) == n - 1


@given(d=dates, n=st.integers(min_value=0, max_value=60))
@settings(max_examples=200)
def test_one_more_working_day_never_comes_earlier(d: date, n: int):
    assert CAL.add_workdays(d, n + 1).date > CAL.add_workdays(d, n).date


@given(d=st.dates(min_value=date(2027, 1, 1), max_value=date(2200, 1, 1)), n=st.integers(1, 30))
def test_unknown_years_are_provisional(d: date, n: int):
    assert CAL.add_workdays(d, n).provisional is True


@pytest.mark.django_db
def test_the_cache_follows_changes(city: dict[str, Any]):
    d = date(2026, 6, 10)
    assert get_calendar().is_workday(d) is True
    services.set_day(d, False, actor="test", name="测试")
    assert get_calendar().is_workday(d) is False
