"""Reads of the access log, scoped: a person sees the reads of their own data; data admins
see the log of their region; nobody else sees it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from onewindow.core.permissions import has_role, is_sysadmin
from onewindow.core.roles import Role
from onewindow.exchange.models import AccessRecord, AccessResult
from onewindow.org.models import ApplicantProfile


def my_subject_ids(user: Any) -> list[str]:
    """The numbers whose data is "mine": my ID (or my enterprise's USCC and, for its legal
    representative, their own ID)."""
    if user is None or not user.is_authenticated:
        return []
    p = ApplicantProfile.objects.filter(user=user).first()
    if p is None:
        return []
    return [n for n in (p.id_number, p.legal_rep_id) if n]


def my_data_access(user: Any) -> QuerySet[AccessRecord]:
    ids = my_subject_ids(user)
    return (
        AccessRecord.objects.filter(subject__in=ids).select_related("department")
        if ids
        else AccessRecord.objects.none()
    )


def access_log_for_admin(user: Any) -> QuerySet[AccessRecord]:
    """Data admins (and sysadmins) search the whole log of departments in their region."""
    if is_sysadmin(user):
        return AccessRecord.objects.select_related("department")
    if not has_role(user, Role.DATA_ADMIN):
        return AccessRecord.objects.none()
    from onewindow.core.permissions import region_q

    return AccessRecord.objects.filter(
        region_q(user, Role.DATA_ADMIN, "department__region__code")
    ).select_related("department")


def search_log(
    qs: QuerySet[AccessRecord],
    *,
    subject: str = "",
    official: str = "",
    dataset: str = "",
    case_number: str = "",
    result: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AccessRecord]:
    if subject:
        qs = qs.filter(subject=subject.strip())
    if official:
        qs = qs.filter(official_name=official.strip())
    if dataset:
        qs = qs.filter(dataset=dataset.strip())
    if case_number:
        qs = qs.filter(case_number=case_number.strip())
    if result:
        qs = qs.filter(result=result)
    if since:
        qs = qs.filter(at__gte=since)
    if until:
        qs = qs.filter(at__lt=until)
    return qs


def anomalies(qs: QuerySet[AccessRecord], *, days: int = 7, subjects_threshold: int = 20) -> dict[str, list]:
    """Patterns a data admin should look at: officials reading many different subjects, reads
    without a case, and officials with many denied reads."""
    since = timezone.now() - timedelta(days=days)
    recent = qs.filter(at__gte=since)
    many = (
        recent.filter(result=AccessResult.GRANTED)
        .values("official_name", "department__name")
        .annotate(subjects=Count("subject", distinct=True), reads=Count("id"))
        .filter(subjects__gte=subjects_threshold)
        .order_by("-subjects")
    )
    without_case = (
        recent.filter(Q(case_number="") & ~Q(fields=[]))
        .values("official_name", "department__name")
        .annotate(reads=Count("id"))
        .order_by("-reads")
    )
    denied = (
        recent.filter(result=AccessResult.DENIED)
        .values("official_name", "department__name")
        .annotate(reads=Count("id"))
        .filter(reads__gte=5)
        .order_by("-reads")
    )
    return {
        "many_subjects": list(many[:50]),
        "without_case": list(without_case[:50]),
        "denied": list(denied[:50]),
    }
