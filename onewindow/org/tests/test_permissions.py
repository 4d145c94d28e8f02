from __future__ import annotations

from typing import Any

import pytest

from onewindow.core.permissions import (
    PermissionDeniedError,
    department_ids,
    has_role,
    region_q,
    require,
    roles,
)
from onewindow.core.roles import Role
from onewindow.org.models import Region


def test_a_grant_covers_its_region_subtree(personas: dict[str, Any], city: dict[str, Any]):
    r = city["regions"]
    clerk2 = personas["clerk2"]
    assert has_role(clerk2, Role.INTAKE_CLERK, region=r["廿里镇"]) is True
    assert has_role(clerk2, Role.INTAKE_CLERK, region=r["黄泥畈村"]) is True
    assert has_role(clerk2, Role.INTAKE_CLERK, region=r["衢江区"]) is False
    assert has_role(clerk2, Role.INTAKE_CLERK, region=r["柯城区"]) is False
    assert has_role(personas["clerk"], Role.INTAKE_CLERK, region=r["黄泥畈村"]) is True


def test_a_department_grant_is_limited_to_its_department(personas: dict[str, Any], city: dict[str, Any]):
    approver = personas["approver"]
    assert has_role(approver, Role.APPROVER, department=city["scjg"]) is True
    assert has_role(approver, Role.APPROVER, department=city["zrgh"]) is False
    assert department_ids(approver, Role.APPROVER) == {city["scjg"].pk}
    assert department_ids(personas["admin"], Role.APPROVER) is None


def test_roles_are_not_interchangeable(personas: dict[str, Any]):
    assert has_role(personas["clerk"], Role.APPROVER) is False
    with pytest.raises(PermissionDeniedError):
        require(personas["clerk"], Role.APPROVER)
    assert roles(personas["stranger"]) == set()
    assert roles(personas["citizen"]) == {Role.APPLICANT}


def test_the_superuser_is_a_sysadmin_everywhere(personas: dict[str, Any], city: dict[str, Any]):
    admin = personas["admin"]
    assert has_role(admin, Role.APPROVER, region=city["regions"]["柯城区"], department=city["zrgh"]) is True


def test_region_q_filters_rows_to_the_scope(personas: dict[str, Any]):
    qs = Region.objects.filter(region_q(personas["clerk2"], Role.INTAKE_CLERK, "code"))
    assert set(qs.values_list("name", flat=True)) == {"廿里镇", "黄泥畈村"}
    assert not Region.objects.filter(region_q(personas["stranger"], Role.INTAKE_CLERK, "code")).exists()
    assert Region.objects.filter(region_q(personas["admin"], Role.INTAKE_CLERK, "code")).count() == 6


def test_anonymous_has_nothing(db: Any):
    from django.contrib.auth.models import AnonymousUser

    assert has_role(AnonymousUser(), Role.APPLICANT) is False
    assert roles(None) == set()
