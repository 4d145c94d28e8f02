"""Calendar writes (seeding, admin overrides), each audited, and the status report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from onewindow.audit.services import record
from onewindow.org.models import Region
from onewindow.workcal.calendar import bump_version
from onewindow.workcal.models import CalendarDay, CalendarYear, DaySource

Actor = AbstractBaseUser | str | None

# Functions called (in the same transaction) after calendar data changes, e.g. to recompute the
# due dates of open cases. Apps register themselves in AppConfig.ready().
on_change: list[Callable[[], None]] = []


def _changed() -> None:
    bump_version()
    for hook in on_change:
        hook()


@transaction.atomic
def seed_from_chinese_calendar(*, actor: Actor) -> int:
    """Load the national holiday arrangements that chinese-calendar knows (2004 to its last
    year): weekday holidays and make-up working weekend days. Idempotent; returns rows created."""
    import chinese_calendar as cc

    years = sorted({d.year for d in cc.holidays} | {d.year for d in cc.workdays})
    existing = set(CalendarDay.objects.filter(region__isnull=True).values_list("date", flat=True))
    rows = []
    for d, holiday in cc.holidays.items():
        if d.weekday() < 5 and d not in existing:
            rows.append(
                CalendarDay(date=d, is_workday=False, name=_holiday_name(holiday), source=DaySource.SEED)
            )
    for d, name in cc.workdays.items():
        if d.weekday() >= 5 and d not in existing:
            rows.append(
                CalendarDay(date=d, is_workday=True, name=f"{_holiday_name(name)}调休", source=DaySource.SEED)
            )
    CalendarDay.objects.bulk_create(rows, batch_size=1000)
    known = set(CalendarYear.objects.values_list("year", flat=True))
    CalendarYear.objects.bulk_create(
        [CalendarYear(year=y, source=DaySource.SEED) for y in years if y not in known]
    )
    if rows or set(years) - known:
        record(
            "workcal.seed",
            actor=actor,
            object_type="workcal.calendar",
            object_id="national",
            data={"rows": len(rows), "years": [min(years), max(years)]},
        )
        _changed()
    return len(rows)


_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


def _holiday_name(h: object) -> str:
    value = getattr(h, "value", h)
    if isinstance(value, tuple):  # chinese_calendar.Holiday: (english, chinese, days)
        return str(value[1])
    return _NAMES.get(str(value), str(value or ""))


@transaction.atomic
def set_day(
    d: date, is_workday: bool, *, actor: Actor, region: Region | None = None, name: str = ""
) -> CalendarDay:
    """Enter (or change) one date for a region (or nationally). Audited; due dates follow."""
    row, created = CalendarDay.objects.update_or_create(
        date=d, region=region, defaults={"is_workday": is_workday, "name": name, "source": DaySource.ADMIN}
    )
    record(
        "workcal.day.set",
        row,
        actor=actor,
        object_id=f"{region.code if region else 'national'}:{d}",
        data={"date": d.isoformat(), "is_workday": is_workday, "name": name, "created": created},
    )
    _changed()
    return row


@transaction.atomic
def clear_day(d: date, *, actor: Actor, region: Region | None = None) -> bool:
    deleted, _ = CalendarDay.objects.filter(date=d, region=region).delete()
    if deleted:
        record(
            "workcal.day.clear",
            actor=actor,
            object_type="workcal.calendarday",
            object_id=f"{region.code if region else 'national'}:{d}",
            data={"date": d.isoformat()},
        )
        _changed()
    return bool(deleted)


@transaction.atomic
def confirm_year(year: int, *, actor: Actor) -> None:
    """Mark a year's national arrangement as complete (after entering it by hand)."""
    _, created = CalendarYear.objects.get_or_create(year=year, defaults={"source": DaySource.ADMIN})
    if created:
        record("workcal.year.confirm", actor=actor, object_type="workcal.calendaryear", object_id=str(year))
        _changed()


@dataclass(frozen=True)
class Status:
    known_years: list[int]
    last_year: int | None
    today: date
    next_year_missing: bool
    warn: bool

    @property
    def message(self) -> str:
        if self.warn:
            y = self.today.year + 1
            return (
                f"{y} 年节假日安排尚未录入：{y} 年的到期日按周一至周五临时计算 / "
                f"next year's ({y}) holidays are missing: due dates in it are provisional"
            )
        return "ok"


def status(today: date | None = None) -> Status:
    """Which years are known; from 1 October admins are warned when next year is missing."""
    today = today or timezone.localdate()
    years = sorted(CalendarYear.objects.values_list("year", flat=True))
    missing = (today.year + 1) not in years
    warn = missing and today >= date(today.year, 10, 1)
    return Status(years, years[-1] if years else None, today, missing, warn)
