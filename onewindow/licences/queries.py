"""Scoped reads: a holder sees their own licences and every use of them; staff see the
licences their departments issued; an admin sees all."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from onewindow.core.permissions import grants, is_sysadmin
from onewindow.licences.models import Licence, LicenceUsage
from onewindow.org.models import ApplicantProfile


def holder_ids(user: Any) -> list[str]:
    """The numbers whose licences are "mine": my ID, or my enterprise's USCC (and, for its legal
    representative, their own ID)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    p = ApplicantProfile.objects.filter(user=user).first()
    if p is None:
        return []
    return [n for n in (p.id_number, p.legal_rep_id) if n]


def visible_licences(user: Any) -> QuerySet[Licence]:
    qs = Licence.objects.select_related("type", "issuer")
    if user is None or not getattr(user, "is_authenticated", False):
        return qs.none()
    if is_sysadmin(user):
        return qs
    q = Q(pk__in=[])
    ids = holder_ids(user)
    if ids:
        q |= Q(holder_id_number__in=ids)
    depts = {g.department_id for g in grants(user) if g.department_id}
    if depts:
        q |= Q(issuer_id__in=depts)
    return qs.filter(q)


def my_licences(user: Any) -> QuerySet[Licence]:
    ids = holder_ids(user)
    if not ids:
        return Licence.objects.none()
    return Licence.objects.filter(holder_id_number__in=ids).select_related("type", "issuer")


def my_usages(user: Any) -> QuerySet[LicenceUsage]:
    ids = holder_ids(user)
    if not ids:
        return LicenceUsage.objects.none()
    return LicenceUsage.objects.filter(licence__holder_id_number__in=ids).select_related(
        "licence", "licence__type", "department"
    )
