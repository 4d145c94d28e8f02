"""Shared fixtures: a small city with the personas of DESIGN §14, built through the services."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from onewindow.core.roles import Role
from onewindow.core.validators import make_resident_id, make_uscc
from onewindow.org import services as org
from onewindow.org.models import IdType, Region


@pytest.fixture(autouse=True)
def _fresh_calendar_cache() -> None:
    """Each test sees the calendar of its own (rolled-back) database, not a cached one."""
    from django.core.cache import cache

    from onewindow.cases.services import clear_catalog_cache
    from onewindow.exchange.services import clear_dataset_cache
    from onewindow.licences.services import clear_type_cache
    from onewindow.workcal.calendar import clear_cache

    cache.clear()  # rate-limit counters
    clear_cache()
    clear_type_cache()
    clear_dataset_cache()
    clear_catalog_cache()


@pytest.fixture(autouse=True)
def _own_media_root(settings: Any, tmp_path: Any) -> None:
    """Uploads of a test go to its own folder, not to $ONEWINDOW_HOME/media (so that nothing a
    test stores outlives it, and the sweep of one test never sees another's files)."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def city(db: Any) -> dict[str, Any]:
    """衢州市 with two counties, a township and a village; two departments; a city hall."""
    org.upsert_regions(
        [
            {"code": "330000000000", "name": "浙江省"},
            {"code": "330800000000", "name": "衢州市"},
            {"code": "330802000000", "name": "柯城区"},
            {"code": "330803000000", "name": "衢江区"},
            {"code": "330803104000", "name": "廿里镇"},
            {"code": "330803104201", "name": "黄泥畈村"},
        ],
        actor="test",
    )
    regions = {r.name: r for r in Region.objects.all()}
    scjg = org.save_department(
        actor="test",
        code="scjg",
        name="衢州市市场监督管理局",
        uscc=make_uscc("1", "1", "330800", "002589001"),
        region=regions["衢州市"],
    )
    zrgh = org.save_department(
        actor="test",
        code="zrgh",
        name="衢州市自然资源和规划局",
        uscc=make_uscc("1", "1", "330800", "002589007"),
        region=regions["衢州市"],
    )
    hall = org.save_hall(
        actor="test",
        code="city-hall",
        name="衢州市民中心",
        region=regions["衢州市"],
        windows=[{"number": "A01", "kind": "comprehensive"}, {"number": "D01", "kind": "delivery"}],
    )
    return {"regions": regions, "scjg": scjg, "zrgh": zrgh, "hall": hall}


def make_user(username: str, *grants: tuple[str, Region, Any]) -> Any:
    user = get_user_model().objects.create_user(username=username, password=username + "-pw")
    for role, region, dept in grants:
        org.grant_role(user, role, region, actor="test", department=dept)
    return user


@pytest.fixture
def personas(city: dict[str, Any]) -> dict[str, Any]:
    r = city["regions"]
    users = {
        "approver": make_user("approver", (Role.APPROVER, r["衢州市"], city["scjg"])),
        "approver_other": make_user("approver_other", (Role.APPROVER, r["衢州市"], city["zrgh"])),
        "clerk": make_user("clerk", (Role.INTAKE_CLERK, r["衢州市"], None)),
        "clerk2": make_user("clerk2", (Role.INTAKE_CLERK, r["廿里镇"], None)),
        "county_clerk": make_user("county_clerk", (Role.INTAKE_CLERK, r["柯城区"], None)),
        "cataloger": make_user("cataloger", (Role.CATALOG_ADMIN, r["衢州市"], None)),
        "stranger": make_user("stranger"),
        "citizen": make_user("citizen"),
    }
    org.set_applicant_identity(
        users["citizen"],
        actor="test",
        id_type=IdType.RESIDENT_ID,
        id_number=make_resident_id("330803", date(1990, 5, 12), 27, "M"),
        name="陈晓明",
    )
    admin = get_user_model().objects.create_superuser(username="admin", password="admin-pw")
    users["admin"] = admin
    return users
