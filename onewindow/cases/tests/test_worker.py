"""`onewindow worker`: the synchronous sweep (`--once`), the sweep lease shared by several
workers, and enqueued tasks run by the django-tasks-db worker loop."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from io import StringIO
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from onewindow.cases import services as cs
from onewindow.cases.models import Case, CaseStatus, SlaLevel, WorkItem
from onewindow.cases.tasks import sweep_cases
from onewindow.cases.tests.conftest import submit
from onewindow.core.management.commands.worker import LEASE_KEY, SweepScheduler, Worker, _parse_stamp
from onewindow.core.models import SystemFlag
from onewindow.workcal.calendar import get_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 3, 11)  # a Wednesday; the test calendar is Monday–Friday


def _received_on(case: Case, day: date) -> Case:
    Case.objects.filter(pk=case.pk).update(
        received_at=datetime(day.year, day.month, day.day, 10, tzinfo=SHANGHAI)
    )
    case.refresh_from_db()
    return case


def _overdue(case: Case) -> Case:
    """An accepted case whose promised due passed on 2 March (legal due still ahead)."""
    Case.objects.filter(pk=case.pk).update(
        clock_start=date(2026, 2, 20),
        promised_due=date(2026, 3, 2),
        legal_due=date(2026, 3, 20),
        sla=SlaLevel.GREEN,
    )
    WorkItem.objects.filter(case=case).update(due=date(2026, 3, 30))
    case.refresh_from_db()
    return case


def _sweep_once(today: date | None = None) -> dict[str, int]:
    out = StringIO()
    args = ["worker", "--once"] + (["--today", today.isoformat()] if today else [])
    call_command(*args, stdout=out)
    return json.loads(out.getvalue())["sweep"]


def test_once_deems_a_six_working_days_old_submission_accepted_and_turns_overdue_cases_red(
    shop: dict[str, Any], personas: dict[str, Any]
):
    # Received Tuesday 3 March: Wed 4 … Wed 11 March are six working days.
    old = _received_on(submit(personas), date(2026, 3, 3))
    # Received Wednesday 4 March: five working days to 11 March, not yet deemed accepted.
    recent = _received_on(submit(personas), date(2026, 3, 4))
    late = submit(personas)
    cs.accept_case(late, actor=personas["clerk"])
    late = _overdue(late)
    assert late.sla == SlaLevel.GREEN

    counts = _sweep_once(TODAY)

    assert counts["deemed_accepted"] == 1
    assert counts["terminated"] == 0
    old.refresh_from_db()
    assert old.status == CaseStatus.ACCEPTED
    assert old.clock_start == date(2026, 3, 3)  # counted from receipt (行政许可法 第三十二条)
    assert old.promised_due == date(2026, 3, 10)  # five working days, already past on 11 March
    assert old.sla == SlaLevel.RED
    assert old.events.filter(kind="deemed_accept", actor_name="system").exists()
    assert old.work_items.count() == 1
    recent.refresh_from_db()
    assert recent.status == CaseStatus.SUBMITTED
    late.refresh_from_db()
    assert (late.status, late.sla, late.legal_breach) == (CaseStatus.ACCEPTED, SlaLevel.RED, False)
    assert counts["flags_changed"] >= 1

    # Running it again changes nothing: the sweep is idempotent.
    assert _sweep_once(TODAY) == {
        "deemed_accepted": 0,
        "terminated": 0,
        "flags_changed": 0,
        "idempotency_purged": 0,
        "orphan_uploads_purged": 0,
        "licences_expired": 0,
        "audit_checkpoint": 0,  # one connection, one lane: nothing to hold together
    }


def test_once_uses_the_local_date_by_default(shop: dict[str, Any], personas: dict[str, Any]):
    old = _received_on(submit(personas), date(2026, 3, 3))
    real = timezone.localdate

    def localdate(value: datetime | None = None, timezone: Any = None) -> date:
        return TODAY if value is None else real(value, timezone)

    with mock.patch("django.utils.timezone.localdate", side_effect=localdate):
        counts = _sweep_once()
    assert counts["deemed_accepted"] == 1
    old.refresh_from_db()
    assert old.status == CaseStatus.ACCEPTED


def test_once_rejects_a_bad_date(db: Any):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("worker", "--once", "--today", "11/03/2026", stdout=StringIO())


def test_the_lease_lets_one_of_two_schedulers_enqueue_per_interval(db: Any):
    first, second = SweepScheduler(60), SweepScheduler(60)
    now = timezone.now()
    assert first.tick(now) is True
    assert second.tick(now + timedelta(seconds=1)) is False  # the other worker, same interval
    assert first.tick(now + timedelta(seconds=30)) is False
    assert DBTaskResult.objects.count() == 1
    lease = SystemFlag.objects.get(key=LEASE_KEY).value
    assert len(lease) == 20 and lease.isdigit()

    # The next interval: whoever asks first wins it, the other one does not.
    _run_worker()
    assert second.tick(now + timedelta(seconds=61)) is True
    assert first.tick(now + timedelta(seconds=62)) is False
    assert DBTaskResult.objects.count() == 2


def test_a_sweep_still_waiting_in_the_queue_is_not_doubled(db: Any):
    scheduler = SweepScheduler(60)
    now = timezone.now()
    assert scheduler.tick(now) is True
    # No worker ran it (all busy): the next interval's lease is taken but nothing piles up.
    assert scheduler.tick(now + timedelta(seconds=61)) is False
    assert DBTaskResult.objects.count() == 1
    assert _parse_stamp(SystemFlag.objects.get(key=LEASE_KEY).value) == now + timedelta(seconds=121)


def _run_worker(**kw: Any) -> Worker:
    worker = Worker(scheduler=kw.pop("scheduler", None), batch=True, interval=0, **kw)
    # close_old_connections() would close the test's transaction; the loop is otherwise as in production.
    with mock.patch("onewindow.core.management.commands.worker.close_old_connections"):
        worker.run()
    return worker


def test_the_database_worker_runs_an_enqueued_sweep(shop: dict[str, Any], personas: dict[str, Any]):
    old = submit(personas)
    # Ten calendar days back are at least six working days under a Monday–Friday calendar.
    received = timezone.localdate() - timedelta(days=10)
    assert get_calendar(None).workdays_between(received, timezone.localdate()) >= 6
    _received_on(old, received)

    result = sweep_cases.enqueue()
    assert DBTaskResult.objects.get(id=result.id).status == TaskResultStatus.READY
    worker = _run_worker()

    assert worker.tasks_run == 1
    row = DBTaskResult.objects.get(id=result.id)
    assert row.status == TaskResultStatus.SUCCESSFUL
    assert row.return_value["deemed_accepted"] == 1
    old.refresh_from_db()
    assert old.status == CaseStatus.ACCEPTED


def test_the_worker_loop_schedules_and_runs_the_sweep(shop: dict[str, Any], personas: dict[str, Any]):
    late = submit(personas)
    cs.accept_case(late, actor=personas["clerk"])
    _overdue(late)
    worker = _run_worker(scheduler=SweepScheduler(60))
    assert worker.tasks_run == 1
    row = DBTaskResult.objects.get()
    assert (row.task_path, row.status) == ("onewindow.cases.tasks.sweep_cases", TaskResultStatus.SUCCESSFUL)
    late.refresh_from_db()
    assert late.sla == SlaLevel.RED


def test_a_failing_task_is_recorded_and_the_worker_goes_on(db: Any):
    result = sweep_cases.enqueue(today="not-a-date")
    ok = sweep_cases.enqueue()
    worker = _run_worker()
    assert worker.tasks_run == 2
    assert DBTaskResult.objects.get(id=result.id).status == TaskResultStatus.FAILED
    assert DBTaskResult.objects.get(id=ok.id).status == TaskResultStatus.SUCCESSFUL


@override_settings(TASKS={"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}})
def test_with_the_immediate_backend_the_scheduled_sweep_runs_inline(
    shop: dict[str, Any], personas: dict[str, Any]
):
    late = submit(personas)
    cs.accept_case(late, actor=personas["clerk"])
    _overdue(late)
    assert SweepScheduler(60).tick() is True
    late.refresh_from_db()
    assert late.sla == SlaLevel.RED
    assert not DBTaskResult.objects.exists()


def test_sigterm_stops_the_loop_gracefully(db: Any):
    import signal

    worker = Worker(scheduler=None, interval=0.01)
    calls = {"n": 0}

    def one() -> bool:
        calls["n"] += 1
        if calls["n"] == 3:
            worker.shutdown(signal.SIGTERM, None)
        return False

    with (
        mock.patch.object(worker, "run_one", side_effect=one),
        mock.patch("onewindow.core.management.commands.worker.close_old_connections"),
    ):
        worker.run()
    assert calls["n"] == 3
    assert worker.running is False
