"""Case reads, always scoped by the actor's permissions (DESIGN §11): a case outside a user's
scope does not exist for them (404), in lists and on pages alike."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from onewindow.cases.models import Case, WorkItem, WorkItemStatus
from onewindow.core.errors import NotFoundError
from onewindow.core.i18n import bi
from onewindow.core.permissions import grants, is_sysadmin
from onewindow.core.roles import Role
from onewindow.org.models import ApplicantProfile


def _range(field: str, lo: str, hi: str) -> Q:
    return Q(**{f"{field}__gte": lo, f"{field}__lte": hi})


def case_scope(user: Any) -> Q:
    """Which cases `user` may see: own applications; as an agent, the ones submitted; as intake
    clerk, the ones received in scope; as approver, the ones of their departments in scope (or
    with a work item of theirs); as delivery clerk, the ones delivered in scope; as supervisor,
    everything handled or received in scope."""
    if user is None or not user.is_authenticated:
        return Q(pk__in=[])
    if is_sysadmin(user):
        return Q()
    q = Q(applicant_user=user) | Q(agent=user)
    profile = ApplicantProfile.objects.filter(user=user).values_list("id_number", flat=True).first()
    if profile:
        q |= Q(applicant_id_number=profile)
    for g in grants(user):
        lo, hi = g.region_lo, g.region_hi
        if g.role == Role.INTAKE_CLERK:
            q |= _range("accept_region__code", lo, hi)
        elif g.role == Role.APPROVER:
            dept = Q(handling_department_id=g.department_id) if g.department_id else Q()
            q |= dept & _range("handling_region__code", lo, hi)
            wi = WorkItem.objects.filter(case=OuterRef("pk"), region__code__gte=lo, region__code__lte=hi)
            if g.department_id:
                wi = wi.filter(department_id=g.department_id)
            q |= Q(Exists(wi))
        elif g.role == Role.DELIVERY_CLERK:
            q |= _range("deliver_hall__region__code", lo, hi) | _range("accept_region__code", lo, hi)
        elif g.role == Role.SUPERVISOR:
            q |= _range("handling_region__code", lo, hi) | _range("accept_region__code", lo, hi)
    return q


def visible_cases(user: Any) -> QuerySet[Case]:
    return Case.objects.filter(case_scope(user)).select_related(
        "item", "handling_department", "accept_hall", "deliver_hall", "handling_region", "accept_region"
    )


def get_case_for(user: Any, number: str) -> Case:
    case = visible_cases(user).filter(number=number).first()
    if case is None:
        raise NotFoundError(bi(f"办件不存在：{number}", f"No such case: {number}"), code="case_not_found")
    return case


def work_item_scope(user: Any) -> Q:
    """Work items of the approver's departments in their regions."""
    if user is None or not user.is_authenticated:
        return Q(pk__in=[])
    if is_sysadmin(user):
        return Q()
    q = Q(pk__in=[])
    for g in grants(user):
        if g.role == Role.APPROVER:
            part = _range("region__code", g.region_lo, g.region_hi)
            if g.department_id:
                part &= Q(department_id=g.department_id)
            q |= part
    return q


def visible_work_items(user: Any, status: str | None = None) -> QuerySet[WorkItem]:
    qs = WorkItem.objects.filter(work_item_scope(user)).select_related(
        "case", "case__item", "department", "assignee", "case__handling_region"
    )
    if status == "open":
        qs = qs.filter(status__in=[WorkItemStatus.OPEN, WorkItemStatus.CLAIMED])
    elif status:
        qs = qs.filter(status=status)
    return qs


def get_work_item_for(user: Any, public_id: str) -> WorkItem:
    try:
        uid = uuid.UUID(str(public_id))
    except ValueError:
        uid = None
    wi = visible_work_items(user).filter(public_id=uid).first() if uid else None
    if wi is None:
        raise NotFoundError(bi("审批任务不存在", "No such work item"), code="work_item_not_found")
    return wi
