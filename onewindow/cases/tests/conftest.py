"""A small catalogue for case tests: a two-step item of 市场监管 with a parallel step, an
immediate item, and a county-scoped item."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from onewindow.cases import services as cs
from onewindow.catalog.importexport import import_catalog
from onewindow.core.validators import make_resident_id
from onewindow.org import services as org
from onewindow.org.models import Hall, Window

CITIZEN_ID = make_resident_id("330803", date(1990, 5, 12), 27, "M")

CATALOG = {
    "format": "onewindow-catalog/1",
    "process_templates": [
        {
            "code": "two-step",
            "name": "审查—决定",
            "steps": [
                {
                    "seq": 1,
                    "name": "审查",
                    "departments": [],
                    "limit_workdays": 2,
                    "actions": [
                        "approve",
                        "return",
                        "refuse",
                        "request_correction",
                        "special_procedure",
                        "request_extension",
                    ],
                },
                {
                    "seq": 2,
                    "name": "决定",
                    "departments": [],
                    "limit_workdays": 1,
                    "actions": ["approve", "return", "refuse"],
                },
            ],
        },
        {
            "code": "joint",
            "name": "联合审查",
            "steps": [
                {
                    "seq": 1,
                    "name": "联合审查",
                    "departments": ["scjg", "zrgh"],
                    "limit_workdays": 3,
                    "actions": ["approve", "refuse", "request_correction"],
                },
                {
                    "seq": 2,
                    "name": "决定",
                    "departments": ["scjg"],
                    "limit_workdays": 1,
                    "actions": ["approve", "refuse"],
                },
            ],
        },
    ],
    "items": [
        {
            "code": "330800-SCJG-01-0001",
            "name": "食品经营许可",
            "item_type": "01",
            "level": "3",
            "department": "scjg",
            "served_party": ["1", "2"],
            "case_type": "promised",
            "legal_limit": 20,
            "legal_limit_unit": "workday",
            "promised_limit": 5,
            "promised_limit_unit": "workday",
            "channels": ["window", "online"],
            "max_visits": 1,
            "handle_scope": "city",
            "result_type": "licence",
            "licence_type": "SPJYXKZ",
            "state": "active",
            "process_template": "two-step",
            "form_schema": [
                {
                    "name": "shop_name",
                    "label_zh": "店铺名称",
                    "label_en": "Shop name",
                    "type": "text",
                    "required": True,
                    "max_length": 50,
                },
                {
                    "name": "area",
                    "label_zh": "经营面积",
                    "label_en": "Area",
                    "type": "decimal",
                    "required": True,
                    "min": 1,
                },
                {"name": "has_cold_chain", "label_zh": "冷链", "label_en": "Cold chain", "type": "boolean"},
            ],
            "materials": [
                {"seq": 1, "name": "食品经营许可申请书", "source": "applicant"},
                {"seq": 2, "name": "经营场所平面图", "source": "applicant"},
                {
                    "seq": 3,
                    "name": "冷链设施说明",
                    "source": "applicant",
                    "condition": "has_cold_chain == true",
                },
                {"seq": 4, "name": "食品安全承诺书", "source": "pledge"},
            ],
            "outputs": [{"seq": 1, "name": "食品经营许可证", "kind": "licence", "licence_type": "SPJYXKZ"}],
        },
        {
            "code": "330800-SCJG-07-0002",
            "name": "营业执照遗失补领",
            "item_type": "07",
            "level": "3",
            "department": "scjg",
            "served_party": ["2"],
            "case_type": "immediate",
            "legal_limit": 1,
            "legal_limit_unit": "workday",
            "promised_limit": 30,
            "promised_limit_unit": "minute",
            "channels": ["window"],
            "max_visits": 1,
            "handle_scope": "city",
            "result_type": "licence",
            "licence_type": "YYZZ",
            "state": "active",
            "materials": [{"seq": 1, "name": "补领申请书", "source": "applicant"}],
        },
        {
            "code": "330800-SCJG-01-0003",
            "name": "联合审查事项",
            "item_type": "01",
            "level": "3",
            "department": "scjg",
            "served_party": ["2"],
            "case_type": "promised",
            "legal_limit": 20,
            "legal_limit_unit": "workday",
            "promised_limit": 10,
            "promised_limit_unit": "workday",
            "channels": ["window"],
            "max_visits": 1,
            "handle_scope": "hall",
            "result_type": "approval_document",
            "state": "active",
            "process_template": "joint",
            "materials": [{"seq": 1, "name": "申请书", "source": "applicant"}],
        },
    ],
}

FORM = {"shop_name": "衢州小吃店", "area": "35.5"}


@pytest.fixture
def shop(city: dict[str, Any], personas: dict[str, Any]) -> dict[str, Any]:
    import_catalog(CATALOG, actor="test", source="test")
    r = city["regions"]
    township_hall = org.save_hall(
        actor="test",
        code="nianli-hall",
        name="廿里镇便民服务中心",
        region=r["廿里镇"],
        windows=[{"number": "A01", "kind": "comprehensive"}],
    )
    county_hall = org.save_hall(
        actor="test",
        code="kecheng-hall",
        name="柯城区政务服务中心",
        region=r["柯城区"],
        windows=[{"number": "A01", "kind": "comprehensive"}],
    )
    # Post the clerks at their halls' windows.
    from onewindow.core.roles import Role
    from onewindow.org.models import StaffGrant

    for username, hall in (("clerk", city["hall"]), ("clerk2", township_hall), ("county_clerk", county_hall)):
        StaffGrant.objects.filter(user=personas[username], role=Role.INTAKE_CLERK).update(
            hall=hall, window=Window.objects.get(hall=hall, number="A01")
        )
    from onewindow.conftest import make_user

    personas["delivery"] = make_user("delivery", (Role.DELIVERY_CLERK, r["衢州市"], None))
    personas["supervisor"] = make_user("supervisor", (Role.SUPERVISOR, r["衢州市"], None))
    personas["approver2"] = make_user("approver2", (Role.APPROVER, r["衢州市"], city["scjg"]))
    return {
        "hall": Hall.objects.get(code="city-hall"),
        "township_hall": township_hall,
        "county_hall": county_hall,
    }


def paper(*seqs: int) -> list[cs.MaterialIn]:
    return [cs.MaterialIn(seq=s, satisfied_by="paper") for s in seqs]


def applicant(**kw: Any) -> cs.ApplicantIn:
    return cs.ApplicantIn(
        **({"id_type": "resident_id", "id_number": CITIZEN_ID, "name": "陈晓明", "phone": "13905701234"} | kw)
    )


def submit(
    personas: dict[str, Any],
    *,
    item: str = "330800-SCJG-01-0001",
    clerk: str = "clerk",
    materials: list[cs.MaterialIn] | None = None,
    **kw: Any,
) -> Any:
    return cs.submit_case(
        actor=personas[clerk],
        item=item,
        applicant=applicant(),
        channel="window",
        form_data=kw.pop("form_data", FORM if item.endswith("0001") else {}),
        materials=paper(1, 2) if materials is None else materials,
        **kw,
    )
