"""Working-day arithmetic. Never raises for a date: outside the known years the Monday–Friday
rule applies and the answer says it is provisional."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import date, timedelta

from onewindow.org.models import LEVEL_DIGITS

# How long a process trusts its cached calendar before checking the version in the database.
_RECHECK_SECONDS = 5.0
_lock = threading.Lock()
_cache: dict[str, tuple[int, Calendar]] = {}
_version: dict[str, float | int] = {"value": -1, "checked": 0.0}


@dataclass(frozen=True)
class DueDate:
    date: date
    provisional: bool


@dataclass
class Calendar:
    """The merged calendar of one region: its deviations and the years that are known."""

    region_code: str | None
    deviations: dict[date, bool] = field(default_factory=dict)
    known_years: frozenset[int] = frozenset()
    overridden: frozenset[date] = frozenset()

    def is_workday(self, d: date) -> bool:
        v = self.deviations.get(d)
        if v is not None:
            return v
        return d.weekday() < 5

    def is_provisional(self, d: date) -> bool:
        return d.year not in self.known_years and d not in self.overridden

    def add_workdays(self, d: date, n: int) -> DueDate:
        """The n-th working day strictly after d (n ≥ 1); n = 0 gives d itself."""
        if n < 0:
            raise ValueError("n must be ≥ 0")
        provisional = False
        cur = d
        left = n
        while left > 0:
            cur += timedelta(days=1)
            if self.is_provisional(cur):
                provisional = True
            if self.is_workday(cur):
                left -= 1
        return DueDate(cur, provisional)

    def workdays_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative when end is before start."""
        if end < start:
            return -self.workdays_between(end, start)
        count = 0
        cur = start
        while cur < end:
            cur += timedelta(days=1)
            if self.is_workday(cur):
                count += 1
        return count


def _region_chain(region_code: str | None) -> list[str]:
    """The 12-digit codes of the region and its ancestors, top down."""
    if not region_code:
        return []
    chain = []
    for n in LEVEL_DIGITS.values():
        code = region_code[:n].ljust(12, "0")
        if code not in chain:
            chain.append(code)
        if code == region_code:
            break
    return chain


def _current_version() -> int:
    from onewindow.core.models import SystemFlag

    row = SystemFlag.objects.filter(key="workcal.version").values_list("value", flat=True).first()
    return int(row) if row else 0


def bump_version() -> None:
    """Called (inside the changing transaction) whenever calendar data changes."""
    from onewindow.core.models import SystemFlag

    flag, _ = SystemFlag.objects.select_for_update().get_or_create(
        key="workcal.version", defaults={"value": "0"}
    )
    flag.value = str(int(flag.value or "0") + 1)
    flag.save(update_fields=["value", "updated_at"])
    clear_cache()


def clear_cache() -> None:
    with _lock:
        _cache.clear()
        _version["value"] = -1
        _version["checked"] = 0.0


def _build(region_code: str | None) -> Calendar:
    from onewindow.workcal.models import CalendarDay, CalendarYear

    chain = _region_chain(region_code)
    national = dict(CalendarDay.objects.filter(region__isnull=True).values_list("date", "is_workday"))
    deviations = dict(national)
    overridden: set[date] = set()
    if chain:
        # Apply overrides from the top of the chain down, so the most specific region wins.
        rows = CalendarDay.objects.filter(region__code__in=chain).values_list(
            "region__code", "date", "is_workday"
        )
        for _code, d, is_workday in sorted(rows, key=lambda r: chain.index(r[0])):
            deviations[d] = is_workday
            overridden.add(d)
    years = frozenset(CalendarYear.objects.values_list("year", flat=True))
    return Calendar(region_code, deviations, years, frozenset(overridden))


def get_calendar(region_code: str | None = None) -> Calendar:
    """The calendar of a region (None: national), cached per process and rebuilt after changes."""
    now = time.monotonic()
    with _lock:
        stale_check = now - float(_version["checked"]) > _RECHECK_SECONDS
    if stale_check:
        v = _current_version()
        with _lock:
            if v != _version["value"]:
                _cache.clear()
                _version["value"] = v
            _version["checked"] = now
    key = region_code or ""
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            return hit[1]
    cal = _build(region_code)
    with _lock:
        _cache[key] = (int(_version["value"]), cal)
    return cal


def add_workdays(d: date, n: int, *, region: str | None = None) -> DueDate:
    """The n-th working day strictly after `d` in `region` (a 12-digit code, or national)."""
    return get_calendar(region).add_workdays(d, n)


def is_workday(d: date, *, region: str | None = None) -> bool:
    return get_calendar(region).is_workday(d)
