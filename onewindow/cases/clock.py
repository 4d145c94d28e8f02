"""The case clock (DESIGN §5): due dates in working days (or natural days, or minutes for 即办件),
pause and resume, and the yellow / red / legal-breach flags."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from onewindow.catalog.models import CaseType, LimitUnit, ServiceItem
from onewindow.core import fastsql
from onewindow.workcal.calendar import get_calendar

# Yellow when this share of the promised time (or one working day) or less remains.
YELLOW_SHARE = 0.2
# Default correction window (days) after which a case waiting for corrections is terminated.
CORRECTION_WINDOW_DAYS = 60
# Working days after receipt with no notice after which a submission is deemed accepted.
DEEMED_ACCEPTANCE_WORKDAYS = 5


@dataclass(frozen=True)
class Dues:
    promised: date
    legal: date
    promised_at: datetime | None
    provisional: bool


def _due(start: date, n: int, unit: str, region: str | None) -> tuple[date, bool]:
    cal = get_calendar(region)
    if unit == LimitUnit.DAY:
        d = start + timedelta(days=n)
        return d, cal.is_provisional(d)
    if unit == LimitUnit.MINUTE:
        # Same-visit items: the due date is the acceptance day itself.
        return start, cal.is_provisional(start)
    due = cal.add_workdays(start, n)
    return due.date, due.provisional


def compute_dues(item: ServiceItem, start: date, started_at: datetime, region: str | None) -> Dues:
    """Dues counted from `start` (the acceptance day is not counted)."""
    promised, p1 = _due(start, item.promised_limit, item.promised_limit_unit, region)
    legal, p2 = _due(start, item.legal_limit, item.legal_limit_unit, region)
    promised_at = None
    if item.case_type == CaseType.IMMEDIATE and item.promised_limit_unit == LimitUnit.MINUTE:
        promised_at = started_at + timedelta(minutes=item.promised_limit)
    return Dues(promised, legal, promised_at, p1 or p2)


def step_due(start: date, limit: Decimal, region: str | None) -> date:
    """A step's due date: its limit in working days, rounded up, after `start`."""
    n = max(0, math.ceil(limit))
    return get_calendar(region).add_workdays(start, n).date


def shift(d: date | None, workdays: int, region: str | None) -> date | None:
    if d is None or workdays <= 0:
        return d
    return get_calendar(region).add_workdays(d, workdays).date


def workdays_lost(paused_on: date, resumed_on: date, region: str | None) -> int:
    """Working days in (paused_on, resumed_on]: a pause and resume on the same day loses none."""
    return max(0, get_calendar(region).workdays_between(paused_on, resumed_on))


@dataclass(frozen=True)
class Flags:
    sla: str
    legal_breach: bool
    step_overdue: bool


def flags_for(
    *,
    status: str,
    clock_start: date | None,
    promised_due: date | None,
    legal_due: date | None,
    promised_due_at: datetime | None,
    paused: bool,
    step_dues: list[date],
    paused_on: date | None = None,
    today: date,
    now: datetime,
    region: str | None,
) -> Flags:
    """Yellow when ≤ 1 working day (or ≤ 20 %) remains or a step is over its own limit; red
    when past the promised due; legal breach when past the legal due. A paused clock keeps its
    light but does not get worse."""
    from onewindow.cases.models import CLOCK_STATUSES, SlaLevel

    if status not in CLOCK_STATUSES or promised_due is None or clock_start is None:
        return Flags(SlaLevel.NONE, False, False)
    if paused and paused_on is not None:
        # A paused clock stands still: judge it as of the day it stopped.
        today = min(today, paused_on)
    step_overdue = any(d < today for d in step_dues)
    if promised_due_at is not None:
        red = now > promised_due_at
        total = (promised_due_at - now).total_seconds()
        yellow = not red and total <= 0.2 * 3600  # the last 20 % of an hour-scale limit
        sla = SlaLevel.RED if red else SlaLevel.YELLOW if (yellow or step_overdue) else SlaLevel.GREEN
        return Flags(sla, legal_due is not None and today > legal_due, step_overdue)
    cal = get_calendar(region)
    legal_breach = legal_due is not None and today > legal_due
    if today > promised_due:
        return Flags(SlaLevel.RED, legal_breach, step_overdue)
    remaining = cal.workdays_between(today, promised_due)
    total = max(1, cal.workdays_between(clock_start, promised_due))
    yellow = remaining <= 1 or remaining <= YELLOW_SHARE * total or step_overdue
    return Flags(SlaLevel.YELLOW if yellow else SlaLevel.GREEN, legal_breach, step_overdue)


def refresh_flags(case, today: date | None = None, now: datetime | None = None, work_items=None) -> bool:  # noqa: ANN001
    """Recompute a case's flags in memory; True when they changed. `work_items`: the case's
    open work items when the caller already has them (saves reading them again)."""
    from onewindow.cases.models import CaseStatus, WorkItemStatus

    now = now or fastsql.now()
    today = today or fastsql.localdate(now)
    step_dues = [
        w.due
        for w in (case.work_items.all() if work_items is None else work_items)
        if w.status in (WorkItemStatus.OPEN, WorkItemStatus.CLAIMED) and w.due
    ]
    f = flags_for(
        status=case.status,
        clock_start=case.clock_start,
        promised_due=case.promised_due,
        legal_due=case.legal_due,
        promised_due_at=case.promised_due_at,
        paused=case.status == CaseStatus.SUSPENDED,
        step_dues=step_dues,
        paused_on=case.paused_on,
        today=today,
        now=now,
        region=case.handling_region.code,
    )
    changed = (case.sla, case.legal_breach, case.step_overdue) != (f.sla, f.legal_breach, f.step_overdue)
    case.sla, case.legal_breach, case.step_overdue = f.sla, f.legal_breach, f.step_overdue
    return changed


def recompute_open_due_dates() -> int:
    """After a calendar change: recompute the due dates of every case whose clock runs, from
    its start, its limits, its pauses and its extensions. Called inside the changing
    transaction. Returns the number of cases changed."""
    from onewindow.cases.models import CLOCK_STATUSES, Case

    changed = 0
    qs = (
        Case.objects.filter(status__in=CLOCK_STATUSES, clock_start__isnull=False, item__isnull=False)
        .select_related("item", "handling_region")
        .order_by("id")
    )
    for case in qs.iterator(chunk_size=500):
        region = case.handling_region.code
        dues = compute_dues(case.item, case.clock_start, case.accepted_at or fastsql.now(), region)
        extra = case.paused_workdays + case.extended_workdays
        promised = shift(dues.promised, extra, region)
        legal = shift(dues.legal, case.paused_workdays + case.extended_workdays, region)
        provisional = dues.provisional or get_calendar(region).is_provisional(promised)
        if (promised, legal, provisional) != (case.promised_due, case.legal_due, case.due_is_provisional):
            Case.objects.filter(pk=case.pk).update(
                promised_due=promised, legal_due=legal, due_is_provisional=provisional
            )
            changed += 1
    if changed:
        from onewindow.audit.services import record

        record(
            "cases.due_dates.recompute",
            actor="system",
            object_type="cases.case",
            object_id="*",
            data={"changed": changed},
        )
    return changed
