"""Background tasks of the cases app (DESIGN §3, §5), run by `onewindow worker`.

Nothing here holds a timer: every deadline lives in the database and is recomputed by the sweep,
which the worker enqueues every `--sweep-interval` seconds (one sweep per interval across all
workers, see `onewindow.core.management.commands.worker`). Arguments and return values are
plain JSON, as the database backend stores them.
"""

from __future__ import annotations

import logging
from datetime import date

from django.db import DatabaseError, transaction
from django_tasks import task

from onewindow.cases import clock, services

logger = logging.getLogger(__name__)


def _day(today: str | None) -> date | None:
    return date.fromisoformat(today) if today else None


@task()
def sweep_cases(today: str | None = None) -> dict[str, int]:
    """Deemed acceptances, expired corrections and the SLA flags of every running clock, as of
    `today` (ISO date; default: the local date), and an audit checkpoint when the audit lanes
    moved. Returns the counts of `services.sweep()` and of these."""
    counts = services.sweep(_day(today))
    from django.apps import apps

    if apps.is_installed("onewindow.licences"):
        from onewindow.licences.services import mark_expired

        counts["licences_expired"] = mark_expired(_day(today))
    from onewindow.audit.services import checkpoint

    try:  # last, so that it covers the sweep's own entries; a failure does not undo the sweep
        counts["audit_checkpoint"] = len(checkpoint())  # the audit lanes held together
    except DatabaseError:
        logger.exception("audit checkpoint failed (the next sweep tries again)")
        counts["audit_checkpoint"] = 0
    return counts


@task()
def refresh_case_flags(today: str | None = None) -> int:
    """Only the yellow / red / legal-breach flags (cheaper than a full sweep)."""
    return services.refresh_all_flags(_day(today))


@task()
def recompute_due_dates() -> int:
    """Recompute the due dates of every running clock from the calendar (e.g. after calendar
    data was loaded outside the workcal services). Returns the number of cases changed."""
    with transaction.atomic():
        return clock.recompute_open_due_dates()
