"""Fixtures for catalogue tests: the demo city, two departments and a small catalogue."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from onewindow.org.models import Department, Region, RegionLevel

SCJG_ITEM = "330800-SCJG-01-0001"
GONGAN_ITEM = "330800-GONGAN-07-0003"
FOOD_ITEM = "330800-SCJG-01-0002"

_CATALOGUE: dict[str, Any] = {
    "format": "onewindow-catalog/1",
    "process_templates": [
        {
            "code": "review-decide-5",
            "name": "审查—决定（5个工作日）",
            "steps": [
                {
                    "seq": 1,
                    "name": "审查",
                    "departments": [],
                    "limit_workdays": 3,
                    "actions": ["approve", "return", "refuse", "request_correction"],
                },
                {
                    "seq": 2,
                    "name": "决定",
                    "departments": ["gongan", "scjg"],
                    "limit_workdays": 1.5,
                    "actions": ["approve", "refuse"],
                },
            ],
        },
        {
            "code": "immediate",
            "name": "即办",
            "steps": [
                {
                    "seq": 1,
                    "name": "受理即办",
                    "departments": [],
                    "limit_workdays": 0.5,
                    "actions": ["approve"],
                }
            ],
        },
    ],
    "items": [
        {
            "code": SCJG_ITEM,
            "version": 1,
            "name": "企业设立登记",
            "item_type": "07",
            "level": "3",
            "department": "scjg",
            "served_party": ["2"],
            "case_type": "promised",
            "legal_limit": 3,
            "legal_limit_unit": "workday",
            "promised_limit": 3,
            "promised_limit_unit": "workday",
            "channels": ["window"],
            "result_type": "licence",
            "licence_type": "YYZZ",
            "state": "retired",
            "process_template": "review-decide-5",
            "form_schema": [{"name": "company_name", "label_zh": "企业名称", "type": "text"}],
            "materials": [{"seq": 1, "name": "申请书", "source": "applicant"}],
        },
        {
            "code": SCJG_ITEM,
            "version": 2,
            "name": "企业设立登记",
            "name_en": "Enterprise establishment registration",
            "short_name": "企业开办",
            "keywords": ["开公司", "注册公司", "营业执照"],
            "item_type": "07",
            "level": "3",
            "department": "scjg",
            "legal_basis": "《中华人民共和国市场主体登记管理条例》第三条",
            "served_party": ["2"],
            "case_type": "promised",
            "legal_limit": 3,
            "legal_limit_unit": "workday",
            "promised_limit": 1,
            "promised_limit_unit": "workday",
            "channels": ["window", "online", "mobile"],
            "max_visits": 0,
            "handle_scope": "city",
            "undifferentiated": True,
            "result_type": "licence",
            "licence_type": "YYZZ",
            "conditions": "申请人具有完全民事行为能力",
            "consult_phone": "0570-12345",
            "state": "active",
            "hand_written": True,
            "process_template": "review-decide-5",
            "form_schema": [
                {
                    "name": "company_name",
                    "label_zh": "企业名称",
                    "label_en": "Company name",
                    "type": "text",
                    "required": True,
                    "max_length": 100,
                },
                {
                    "name": "capital",
                    "label_zh": "注册资本（万元）",
                    "type": "decimal",
                    "required": True,
                    "min": 0,
                },
                {
                    "name": "kind",
                    "label_zh": "企业类型",
                    "type": "choice",
                    "required": True,
                    "choices": [
                        {"value": "llc", "label_zh": "有限责任公司", "label_en": "Limited liability company"}
                    ],
                },
            ],
            "faq": [{"q": "企业名称需要预先核准吗？", "a": "不需要，可在申请时自主申报。"}],
            "materials": [
                {
                    "seq": 1,
                    "name": "公司登记（备案）申请书",
                    "required": True,
                    "form": "either",
                    "originals": 1,
                    "copies": 0,
                    "accept_standard": "由法定代表人签署",
                    "source": "applicant",
                },
                {"seq": 2, "name": "法定代表人身份证", "source": "licence:JMSFZ"},
                {
                    "seq": 3,
                    "name": "住所证明",
                    "condition": "kind == llc",
                    "source": "data:real_estate.owner,address",
                },
                {"seq": 4, "name": "承诺书", "form": "paper", "source": "pledge"},
            ],
            "outputs": [{"seq": 1, "name": "营业执照", "kind": "licence", "licence_type": "YYZZ"}],
        },
        {
            "code": GONGAN_ITEM,
            "name": "印章刻制备案",
            "item_type": "20",
            "level": "3",
            "department": "gongan",
            "served_party": ["2", "5"],
            "case_type": "immediate",
            "legal_limit": 1,
            "legal_limit_unit": "day",
            "promised_limit": 30,
            "promised_limit_unit": "minute",
            "channels": ["window"],
            "max_visits": 2,
            "visits_reason": "须当面领取印章",
            "result_type": "other",
            "state": "active",
            "process_template": "immediate",
            "form_schema": [{"name": "company_name", "label_zh": "企业名称", "type": "text"}],
            "materials": [{"seq": 1, "name": "营业执照", "source": "licence:YYZZ"}],
            "outputs": [{"seq": 1, "name": "印章", "kind": "other"}],
            "fees": [
                {"seq": 1, "name": "刻章费", "amount": 120, "unit": "枚", "basis": "市场调节价"},
                {"seq": 2, "name": "加急费", "amount": 12.5, "unit": "次", "basis": ""},
            ],
        },
        {
            "code": FOOD_ITEM,
            "name": "食品经营许可",
            "item_type": "01",
            "level": "3",
            "department": "scjg",
            "case_type": "promised",
            "legal_limit": 20,
            "legal_limit_unit": "workday",
            "promised_limit": 5,
            "promised_limit_unit": "workday",
            "result_type": "licence",
            "licence_type": "SPJYXKZ",
            "state": "draft",
            "materials": [{"seq": 1, "name": "经营场所平面图", "source": "applicant", "note": "加盖公章"}],
        },
    ],
    "bundles": [
        {
            "code": "business-startup",
            "name": "企业开办一件事",
            "name_en": "Starting a business",
            "description": "营业执照、印章一次办结",
            "keywords": ["开办企业"],
            "lead_department": "scjg",
            "promised_limit": 1,
            "promised_limit_unit": "workday",
            "max_visits": 0,
            "state": "active",
            "form_schema": [
                {
                    "name": "company_name",
                    "label_zh": "企业名称",
                    "type": "text",
                    "required": True,
                    "maps_to": [f"{SCJG_ITEM}.company_name", f"{GONGAN_ITEM}.company_name"],
                },
            ],
            "stages": [
                {
                    "seq": 1,
                    "name": "设立登记",
                    "limit_workdays": 0.5,
                    "members": [{"item": SCJG_ITEM, "optional": False, "depends_on": []}],
                },
                {"seq": 2, "name": "同步办理", "members": [{"item": GONGAN_ITEM, "depends_on": [SCJG_ITEM]}]},
            ],
        },
    ],
}


@pytest.fixture
def region(db: None) -> Region:
    return Region.objects.create(code="330800000000", name="衢州市", name_en="Quzhou", level=RegionLevel.CITY)


@pytest.fixture
def departments(region: Region) -> dict[str, Department]:
    scjg = Department.objects.create(
        code="scjg",
        name="衢州市市场监督管理局",
        short_name="市场监管",
        uscc="11330800002589001X",
        region=region,
    )
    gongan = Department.objects.create(
        code="gongan", name="衢州市公安局", short_name="公安", uscc="113308000025890028", region=region
    )
    return {"scjg": scjg, "gongan": gongan}


@pytest.fixture
def catalogue(departments: dict[str, Department]) -> dict[str, Any]:
    """A small catalogue in the YAML shape: 2 templates, 3 item codes (one in 2 versions), 1 bundle."""
    return copy.deepcopy(_CATALOGUE)
