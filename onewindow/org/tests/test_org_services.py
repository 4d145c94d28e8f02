from __future__ import annotations

from typing import Any

import pytest

from onewindow.audit.models import AuditEntry
from onewindow.core.errors import InvalidError
from onewindow.org import services as org
from onewindow.org.models import Department, Region


def test_regions_form_a_tree_from_their_codes(city: dict[str, Any]):
    village = Region.objects.get(name="黄泥畈村")
    assert village.level == 5
    assert village.parent.name == "廿里镇"
    assert village.parent.parent.name == "衢江区"
    assert [a.name for a in village.ancestors()] == ["浙江省", "衢州市", "衢江区", "廿里镇"]
    county = Region.objects.get(name="衢江区")
    assert set(Region.objects.subtree(county).values_list("name", flat=True)) == {
        "衢江区",
        "廿里镇",
        "黄泥畈村",
    }


def test_a_region_without_its_parent_is_refused(city: dict[str, Any]):
    with pytest.raises(InvalidError):
        org.upsert_regions([{"code": "330881101000", "name": "某镇"}], actor="test")
    assert not Region.objects.filter(code="330881101000").exists()


def test_upserting_regions_again_duplicates_nothing(city: dict[str, Any]):
    before = Region.objects.count()
    org.upsert_regions([{"code": "330803104201", "name": "黄泥畈村"}], actor="test")
    assert Region.objects.count() == before


def test_a_department_needs_a_valid_uscc(city: dict[str, Any]):
    with pytest.raises(InvalidError) as exc:
        org.save_department(
            actor="test", code="bad", name="某局", uscc="11330800002589001A", region=city["regions"]["衢州市"]
        )
    body = exc.value.as_dict()["error"]
    assert "uscc" in body["fields"]
    assert "校验" in body["message"]
    assert "check" in body["message_en"]
    assert not Department.objects.filter(code="bad").exists()


def test_org_changes_are_audited(city: dict[str, Any]):
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"org.regions.upsert", "org.department.create", "org.hall.create"} <= actions


def test_the_regions_api_pages_one_level(client, city: dict[str, Any]):
    body = client.get("/api/v1/regions", {"parent": "330803000000"}).json()
    assert [r["name"] for r in body["results"]] == ["廿里镇"]
    assert body["results"][0]["parent"] == "330803000000"
    body = client.get("/api/v1/regions", {"parent": "330800000000", "q": "黄泥"}).json()
    assert [r["code"] for r in body["results"]] == ["330803104201"]
    r = client.get("/api/v1/regions", {"parent": "999999999999"})
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "region_not_found"
