"""Role and scope checks: the one place that decides who may do what (DESIGN §1, §11).

Every view, API endpoint and CLI command asks these functions; list queries are filtered with
`region_q()` / `department_ids()` rather than hidden in templates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Q
from django.utils import timezone

from onewindow.core.roles import Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    from onewindow.org.models import Department, Region


class PermissionDeniedError(Exception):
    """The actor lacks a role or scope. Pages and the API answer 403 (or 404 to hide existence)."""

    def __init__(self, role: str | Iterable[str] = "", detail: str = "") -> None:
        self.role = role
        self.detail = detail
        super().__init__(detail or f"role required: {role}")


@dataclass(frozen=True)
class Grant:
    role: str
    region_code: str
    region_lo: str
    region_hi: str
    department_id: int | None
    department_code: str | None
    hall_id: int | None
    window_id: int | None

    def covers_region(self, region_code: str) -> bool:
        return self.region_lo <= region_code <= self.region_hi


def grants(user: AbstractBaseUser | AnonymousUser | None) -> list[Grant]:
    """The user's current grants, cached on the user object for the request."""
    if user is None or not user.is_authenticated:
        return []
    cached = getattr(user, "_ow_grants", None)
    if cached is not None:
        return cached
    from onewindow.org.models import StaffGrant

    today = timezone.localdate()
    rows = (
        StaffGrant.objects.filter(user=user)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .select_related("region", "department")
    )
    result = []
    for g in rows:
        lo, hi = g.region.code_range()
        result.append(
            Grant(
                g.role,
                g.region.code,
                lo,
                hi,
                g.department_id,
                g.department.code if g.department else None,
                g.hall_id,
                g.window_id,
            )
        )
    if getattr(user, "is_superuser", False):
        result.append(Grant(Role.SYSADMIN, "", "000000000000", "999999999999", None, None, None, None))
    user._ow_grants = result  # type: ignore[union-attr]
    return result


def roles(user: AbstractBaseUser | AnonymousUser | None) -> set[str]:
    found = {g.role for g in grants(user)}
    # hasattr is False when the one-to-one profile row does not exist.
    if user is not None and user.is_authenticated and hasattr(user, "applicant"):
        found.add(Role.APPLICANT)
    return found


def is_sysadmin(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    return Role.SYSADMIN in roles(user)


def has_role(
    user: AbstractBaseUser | AnonymousUser | None,
    role: str | Iterable[str],
    *,
    region: Region | str | None = None,
    department: Department | int | None = None,
) -> bool:
    """True when one of the user's grants gives `role` (or sysadmin) covering the region and
    department asked about. A grant without a department covers every department in its region."""
    wanted = {role} if isinstance(role, str) else set(role)
    region_code = region if isinstance(region, str) or region is None else region.code
    dept_id = department if isinstance(department, int) or department is None else department.pk
    for g in grants(user):
        if g.role != Role.SYSADMIN and g.role not in wanted:
            continue
        if region_code is not None and not g.covers_region(region_code):
            continue
        if dept_id is not None and g.department_id is not None and g.department_id != dept_id:
            continue
        return True
    return False


def require(
    user: AbstractBaseUser | AnonymousUser | None,
    role: str | Iterable[str],
    *,
    region: Region | str | None = None,
    department: Department | int | None = None,
) -> None:
    if not has_role(user, role, region=region, department=department):
        raise PermissionDeniedError(role)


def region_q(user: AbstractBaseUser | AnonymousUser | None, role: str | Iterable[str], field: str) -> Q:
    """A filter on a region-code field (e.g. "handling_region__code") to the user's scope for
    `role`; matches nothing when the user has no such grant."""
    wanted = {role} if isinstance(role, str) else set(role)
    q = Q(pk__in=[])
    for g in grants(user):
        if g.role == Role.SYSADMIN:
            return Q()
        if g.role in wanted:
            q |= Q(**{f"{field}__gte": g.region_lo, f"{field}__lte": g.region_hi})
    return q


def department_ids(
    user: AbstractBaseUser | AnonymousUser | None, role: str | Iterable[str]
) -> set[int] | None:
    """Departments the user acts for in `role`; None means "any department" (sysadmin or a grant
    without a department)."""
    wanted = {role} if isinstance(role, str) else set(role)
    ids: set[int] = set()
    for g in grants(user):
        if g.role == Role.SYSADMIN:
            return None
        if g.role in wanted:
            if g.department_id is None:
                return None
            ids.add(g.department_id)
    return ids
