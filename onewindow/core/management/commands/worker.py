"""`onewindow worker`: the django-tasks-db worker loop plus the periodic sweep scheduler
(DESIGN §3, §12).

Every `--sweep-interval` seconds one `cases.tasks.sweep_cases` is enqueued in all: the workers
share a lease, the `core.SystemFlag` row `worker.sweep.next` holding the earliest time (UTC,
digits only) the next sweep may be enqueued. A worker takes the lease with one conditional
UPDATE (`... WHERE key = 'worker.sweep.next' AND value < now`), which only one of several
concurrent writers can win on SQLite (one writer at a time) and on PostgreSQL (the losers
re-check the WHERE clause against the winner's row and match nothing). The enqueue happens in
the same transaction, so a crash cannot take the lease without enqueuing. There are no
long-lived timers: deadlines are recomputed by each sweep from the database.

    onewindow worker [--sweep-interval 60] [--interval 1] [--no-sweep] [--batch]
    onewindow worker --once [--today 2026-03-11]      one synchronous sweep, for cron and tests

SIGTERM / SIGINT stop the worker gracefully: a running task finishes first; a second signal
stops it at once.
"""

from __future__ import annotations

import json
import logging
import os
import random
import signal
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError, OperationalError, close_old_connections, transaction
from django.utils import timezone
from django.utils.crypto import get_random_string

logger = logging.getLogger("onewindow.worker")

LEASE_KEY = "worker.sweep.next"
_STAMP = "%Y%m%d%H%M%S%f"  # 20 digits, fixed width: compares as text the way it does as a time


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime(_STAMP)


def _parse_stamp(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, _STAMP).replace(tzinfo=UTC)
    except (TypeError, ValueError):
        return None


class SweepScheduler:
    """Enqueues `sweep_cases` at most once per `interval` seconds across every worker that
    shares the database."""

    def __init__(self, interval: float, *, backend: str | None = None) -> None:
        if interval <= 0:
            raise ValueError("interval must be > 0")
        self.interval = float(interval)
        self.backend = backend
        self._next_check = 0.0  # time.monotonic() before which this worker does not even look

    def _ensure_row(self) -> None:
        from onewindow.core.models import SystemFlag

        if SystemFlag.objects.filter(key=LEASE_KEY).exists():
            return
        try:
            with transaction.atomic():
                SystemFlag.objects.create(key=LEASE_KEY, value="")
        except IntegrityError:
            pass  # another worker created it first

    def try_acquire(self, now: datetime | None = None) -> tuple[bool, datetime | None]:
        """(won, next_at): take the lease when it has expired, moving it `interval` ahead.
        Must run inside a transaction together with whatever the lease protects."""
        from onewindow.core.models import SystemFlag

        now = now or timezone.now()
        next_at = now + timedelta(seconds=self.interval)
        won = (
            SystemFlag.objects.filter(key=LEASE_KEY, value__lt=_stamp(now)).update(
                value=_stamp(next_at), updated_at=now
            )
            == 1
        )
        if won:
            return True, next_at
        current = SystemFlag.objects.filter(key=LEASE_KEY).values_list("value", flat=True).first()
        return False, _parse_stamp(current or "")

    def tick(self, now: datetime | None = None) -> bool:
        """Enqueue one sweep if this worker wins the current interval (and no earlier sweep is
        still waiting in the queue); True when it enqueued one."""
        from onewindow.cases.tasks import sweep_cases

        now = now or timezone.now()
        self._ensure_row()
        enqueued = False
        with transaction.atomic():
            won, next_at = self.try_acquire(now)
            if won and self._sweep_waiting():
                logger.info("a sweep is still waiting in the queue; not enqueuing another")
            elif won:
                task = sweep_cases.using(backend=self.backend) if self.backend else sweep_cases
                result = task.enqueue()
                enqueued = True
                logger.info("enqueued sweep %s", result.id)
        wait = (next_at - now).total_seconds() if next_at else self.interval
        # A little jitter, so that workers do not all wake on the same instant.
        self._next_check = time.monotonic() + max(0.0, min(wait, self.interval)) + random.random() * 0.2  # noqa: S311
        return enqueued

    def _sweep_waiting(self) -> bool:
        """A sweep enqueued earlier and not started yet (e.g. every worker is busy) already
        covers this interval; do not pile up more."""
        from django_tasks import task_backends
        from django_tasks_db.backend import DatabaseBackend
        from django_tasks_db.models import DBTaskResult

        from onewindow.cases.tasks import sweep_cases

        backend = task_backends[self.backend or sweep_cases.backend]
        if not isinstance(backend, DatabaseBackend):
            return False
        return (
            DBTaskResult.objects.ready()
            .filter(backend_name=backend.alias, task_path=sweep_cases.module_path)
            .exists()
        )

    def due(self) -> bool:
        return time.monotonic() >= self._next_check

    def seconds_until_due(self) -> float:
        return max(0.0, self._next_check - time.monotonic())


class Worker:
    """The django-tasks-db worker loop (claim one ready task under a row lock, run it, record
    the outcome) with the sweep scheduler ticking between tasks."""

    def __init__(
        self,
        *,
        scheduler: SweepScheduler | None,
        backend_name: str = "default",
        queue_names: list[str] | None = None,
        interval: float = 1.0,
        batch: bool = False,
        max_tasks: int | None = None,
        worker_id: str | None = None,
        parent_pid: int | None = None,
    ) -> None:
        from django_tasks import task_backends
        from django_tasks_db.backend import DatabaseBackend
        from django_tasks_db.management.commands.db_worker import Worker as DbWorker

        self.scheduler = scheduler
        self.backend = task_backends[backend_name]
        self.uses_db = isinstance(self.backend, DatabaseBackend)
        self.interval = interval
        self.batch = batch
        self.parent_pid = parent_pid
        self.running = True
        self._wake = threading.Event()
        # The task runner of django-tasks-db (claim, run, set_successful / set_failed, signals).
        self._db_worker = DbWorker(
            queue_names=queue_names or ["default"],
            interval=interval,
            batch=batch,
            backend_name=backend_name,
            startup_delay=False,
            max_tasks=max_tasks,
            worker_id=worker_id or get_random_string(32),
            excluded_queue_names=[],
        )

    @property
    def tasks_run(self) -> int:
        return self._db_worker._run_tasks

    # -- signals --------------------------------------------------------------------------------

    def shutdown(self, signum: int, frame: FrameType | None) -> None:
        if not self.running:
            logger.warning("received %s again: stopping now", signal.strsignal(signum))
            self.reset_signals()
            sys.exit(1)
        logger.warning("received %s: stopping after the current task", signal.strsignal(signum))
        self.running = False
        self._wake.set()

    def configure_signals(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self.shutdown)

    def reset_signals(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)

    # -- loop -----------------------------------------------------------------------------------

    def run_one(self) -> bool | None:
        """Claim and run one ready task. True: ran one; False: none ready; None: the database
        was locked (try again later)."""
        from django_tasks_db.models import DBTaskResult
        from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

        if not self.uses_db:
            return False
        w = self._db_worker
        tasks = DBTaskResult.objects.ready().filter(backend_name=w.backend_name)
        if not w.process_all_queues:
            tasks = tasks.filter(queue_name__in=w.queue_names)
        try:
            with exclusive_transaction(tasks.db):
                task_result = tasks.get_locked()
                if task_result is not None:
                    task_result.claim(w.worker_id)
        except OperationalError as exc:
            if is_locked_database_exception(exc):
                return None
            raise
        if task_result is None:
            return False
        w.run_task(task_result)
        return True

    def _tick_scheduler(self) -> None:
        if self.scheduler is None or not self.scheduler.due():
            return
        try:
            self.scheduler.tick()
        except OperationalError as exc:  # e.g. SQLite busy past its timeout: try next round
            logger.warning("sweep scheduling failed: %s", exc)

    def _parent_gone(self) -> bool:
        return self.parent_pid is not None and os.getppid() != self.parent_pid

    def run(self) -> None:
        logger.info("worker %s started", self._db_worker.worker_id)
        max_tasks = self._db_worker.max_tasks
        while self.running:
            close_old_connections()
            if self._parent_gone():
                logger.warning("parent process exited: stopping")
                break
            self._tick_scheduler()
            ran = self.run_one()
            close_old_connections()
            if self.batch and ran is False:
                break
            if max_tasks is not None and self.tasks_run >= max_tasks:
                break
            if self.running and not ran:
                wait = self.interval
                if self.scheduler is not None:
                    wait = min(wait, self.scheduler.seconds_until_due())
                self._wake.wait(max(wait, 0.05))
        logger.info("worker %s stopped after %d tasks", self._db_worker.worker_id, self.tasks_run)


class Command(BaseCommand):
    help = "Run background tasks (django-tasks-db) and enqueue the periodic case sweep."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--sweep-interval",
            type=float,
            default=float(os.getenv("ONEWINDOW_SWEEP_INTERVAL", "60")),
            help="seconds between sweeps, across all workers (default: 60)",
        )
        parser.add_argument("--no-sweep", action="store_true", help="run tasks only, never enqueue sweeps")
        parser.add_argument("--once", action="store_true", help="run one sweep synchronously and exit")
        parser.add_argument("--today", help="with --once: sweep as of this date (YYYY-MM-DD)")
        parser.add_argument(
            "--interval", type=float, default=1.0, help="seconds to wait when the queue is empty (default: 1)"
        )
        parser.add_argument("--queue-name", default="default", help="queues to run, comma-separated or '*'")
        parser.add_argument("--backend", default="default", help="the task backend (default: 'default')")
        parser.add_argument("--batch", action="store_true", help="run the tasks that are ready, then exit")
        parser.add_argument("--max-tasks", type=int, default=None, help="exit after this many tasks")
        parser.add_argument("--worker-id", default=None, help="unique id of this worker (default: random)")
        parser.add_argument(
            "--parent-pid", type=int, default=None, help="exit when this parent process exits"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["once"]:
            from onewindow.cases.tasks import sweep_cases

            try:
                today = date.fromisoformat(opts["today"]) if opts["today"] else None
            except ValueError as exc:
                raise CommandError(f"--today must be YYYY-MM-DD: {opts['today']!r}") from exc
            # The same function the scheduled task runs, called in this process.
            counts = sweep_cases.func(today.isoformat() if today else None)
            self.stdout.write(json.dumps({"sweep": counts}, ensure_ascii=False))
            return
        if opts["today"]:
            raise CommandError("--today only goes with --once")
        if opts["sweep_interval"] <= 0:
            raise CommandError("--sweep-interval must be > 0")
        from django_tasks import task_backends

        try:
            task_backends[opts["backend"]]
        except Exception as exc:  # InvalidTaskBackendError
            raise CommandError(str(exc)) from exc
        self._configure_logging(opts["verbosity"])
        scheduler = (
            None if opts["no_sweep"] else SweepScheduler(opts["sweep_interval"], backend=opts["backend"])
        )
        worker = Worker(
            scheduler=scheduler,
            backend_name=opts["backend"],
            queue_names=opts["queue_name"].split(","),
            interval=opts["interval"],
            batch=opts["batch"],
            max_tasks=opts["max_tasks"],
            worker_id=opts["worker_id"],
            parent_pid=opts["parent_pid"],
        )
        worker.configure_signals()
        worker.run()

    def _configure_logging(self, verbosity: int) -> None:
        level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
        for name in ("onewindow.worker", "django_tasks_db", "django_tasks"):
            lg = logging.getLogger(name)
            lg.setLevel(level)
            if not lg.handlers:
                handler = logging.StreamHandler()
                handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
                lg.addHandler(handler)
                lg.propagate = False
