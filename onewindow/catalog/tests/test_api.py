from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from onewindow.catalog.importexport import import_catalog
from onewindow.core.services import create_token

CATALOG = {
    "format": "onewindow-catalog/1",
    "process_templates": [
        {
            "code": "review-decide-1",
            "name": "审查—决定",
            "steps": [
                {
                    "seq": 1,
                    "name": "审查",
                    "departments": [],
                    "limit_workdays": 0.5,
                    "actions": ["approve", "return"],
                },
                {
                    "seq": 2,
                    "name": "决定",
                    "departments": [],
                    "limit_workdays": 0.5,
                    "actions": ["approve", "refuse"],
                },
            ],
        },
    ],
    "items": [
        {
            "code": "330800-SCJG-07-0001",
            "name": "企业设立登记",
            "name_en": "Enterprise establishment registration",
            "short_name": "企业开办",
            "keywords": ["开公司", "营业执照"],
            "item_type": "07",
            "level": "3",
            "department": "scjg",
            "served_party": ["2"],
            "case_type": "promised",
            "legal_limit": 3,
            "legal_limit_unit": "workday",
            "promised_limit": 1,
            "promised_limit_unit": "workday",
            "channels": ["window", "online"],
            "max_visits": 0,
            "handle_scope": "city",
            "result_type": "licence",
            "licence_type": "YYZZ",
            "state": "active",
            "process_template": "review-decide-1",
            "materials": [
                {"seq": 1, "name": "公司登记（备案）申请书", "source": "applicant"},
                {"seq": 2, "name": "法定代表人身份证明", "source": "data:population.name,id_number"},
            ],
            "outputs": [{"seq": 1, "name": "营业执照", "kind": "licence", "licence_type": "YYZZ"}],
            "fees": [],
        },
        {
            "code": "330800-ZRGH-01-0002",
            "name": "建设工程规划许可证核发",
            "item_type": "01",
            "level": "3",
            "department": "zrgh",
            "served_party": ["2"],
            "case_type": "promised",
            "legal_limit": 20,
            "legal_limit_unit": "workday",
            "promised_limit": 5,
            "promised_limit_unit": "workday",
            "channels": ["online"],
            "max_visits": 0,
            "handle_scope": "city",
            "result_type": "licence",
            "licence_type": "JSGCGHXKZ",
            "state": "active",
            "materials": [{"seq": 1, "name": "建设工程规划许可申请表", "source": "applicant"}],
        },
        {
            "code": "330800-ZRGH-01-0003",
            "name": "草稿事项",
            "item_type": "01",
            "level": "3",
            "department": "zrgh",
            "served_party": ["2"],
            "case_type": "promised",
            "legal_limit": 20,
            "legal_limit_unit": "workday",
            "promised_limit": 5,
            "promised_limit_unit": "workday",
            "channels": ["online"],
            "max_visits": 0,
            "handle_scope": "city",
            "result_type": "none",
            "state": "draft",
        },
    ],
    "bundles": [
        {
            "code": "business-startup",
            "name": "企业开办一件事",
            "lead_department": "scjg",
            "promised_limit": 1,
            "promised_limit_unit": "workday",
            "max_visits": 0,
            "state": "active",
            "stages": [{"seq": 1, "name": "设立登记", "members": [{"item": "330800-SCJG-07-0001"}]}],
        },
    ],
}


@pytest.fixture
def catalog(city: dict[str, Any]) -> None:
    import_catalog(CATALOG, actor="test", source="test")


def test_it_lists_active_items_with_paging(client: Client, catalog: None):
    r = client.get("/api/v1/items?page_size=1")
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 2
    assert len(body["results"]) == 1
    r2 = client.get("/api/v1/items?page=2&page_size=1")
    assert r2.json()["results"][0]["code"] != body["results"][0]["code"]


def test_it_filters_by_department_and_searches(client: Client, catalog: None):
    assert [i["code"] for i in client.get("/api/v1/items?department=zrgh").json()["results"]] == [
        "330800-ZRGH-01-0002"
    ]
    for q in ["企业设立", "开公司", "qysldj", "营业执照"]:
        codes = [i["code"] for i in client.get("/api/v1/items", {"q": q}).json()["results"]]
        assert codes == ["330800-SCJG-07-0001"], q


def test_it_shows_an_item_guide(client: Client, catalog: None):
    body = client.get("/api/v1/items/330800-SCJG-07-0001").json()
    assert body["name"] == "企业设立登记"
    assert [m["source"] for m in body["materials"]] == ["applicant", "data:population.name,id_number"]
    assert body["process_steps"][0]["departments"] == ["scjg"]
    assert body["total_fee"] == "0" or float(body["total_fee"]) == 0


def test_an_unknown_item_is_a_404_in_the_error_shape(client: Client, catalog: None):
    r = client.get("/api/v1/items/330800-NOPE-01-9999")
    assert r.status_code == 404
    err = r.json()["error"]
    assert err["code"] == "item_not_found"
    assert "330800-NOPE-01-9999" in err["message"]
    assert err["message_en"].startswith("No such service item")


def test_drafts_are_visible_only_to_catalogue_admins(client: Client, catalog: None, personas: dict[str, Any]):
    assert client.get("/api/v1/items/330800-ZRGH-01-0003").status_code == 404
    token = create_token("cataloger", actor="test")
    r = client.get("/api/v1/items/330800-ZRGH-01-0003", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    assert r.json()["state"] == "draft"


def test_bad_paging_is_a_422_naming_the_field(client: Client, catalog: None):
    r = client.get("/api/v1/items?page=0&page_size=1000")
    assert r.status_code == 422
    assert set(r.json()["error"]["fields"]) == {"page", "page_size"}
    r = client.get("/api/v1/items?page=abc")
    assert r.status_code == 422
    assert "page" in r.json()["error"]["fields"]


def test_bundles_list_and_detail(client: Client, catalog: None):
    assert client.get("/api/v1/bundles").json()["count"] == 1
    body = client.get("/api/v1/bundles/business-startup").json()
    assert body["stages"][0]["members"][0]["name"] == "企业设立登记"
    assert client.get("/api/v1/bundles/nope").status_code == 404


def test_guidance_ranks_bundles_and_items(client: Client, catalog: None):
    hits = client.get("/api/v1/guidance", {"q": "企业开办"}).json()
    assert hits[0] == {"kind": "bundle", "code": "business-startup", "name": "企业开办一件事", "score": 1.0}
    assert any(h["code"] == "330800-SCJG-07-0001" for h in hits)


def test_me_needs_a_caller_and_shows_roles(client: Client, personas: dict[str, Any]):
    r = client.get("/api/v1/me")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer wrong"}).status_code == 401
    token = create_token("citizen", actor="test")
    body = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert body["username"] == "citizen"
    assert body["roles"] == ["applicant"]
    assert body["id_type"] == "resident_id"


def test_the_openapi_schema_builds(client: Client, db: Any):
    r = client.get("/api/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    assert "/api/v1/items" in paths
    assert "/api/v1/items/{code}" in paths


def test_schema_names_are_unique_so_each_endpoint_documents_its_own_shape(client: Client, db: Any):
    schemas = client.get("/api/openapi.json").json()["components"]["schemas"]
    assert "satisfied_by" not in schemas["MaterialOut"]["properties"]
    assert "satisfied_by" in schemas["CaseMaterialOut"]["properties"]
    assert "uscc" in schemas["DepartmentDetailOut"]["properties"]


def test_api_errors_keep_their_shape_outside_the_endpoints(client: Client, db: Any):
    r = client.get("/api/v1/nope")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")
    r = client.delete("/api/v1/items")
    assert (r.status_code, r.json()["error"]["code"]) == (405, "method_not_allowed")
    r = client.post("/api/v1/cases", data="{}", content_type="application/json")
    assert (r.status_code, r.json()["error"]["code"]) == (401, "unauthorized")
    assert client.get("/api/v1/items", {"q": "a\x00b"}).status_code == 400
