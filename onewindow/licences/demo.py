"""Demo licences for the personas (DESIGN §14: `citizen` and `company` hold licences).
`load_demo_licences()` is idempotent: a licence of a type already held is not issued again."""

from __future__ import annotations

from datetime import date
from typing import Any

from onewindow.demo import personas as p
from onewindow.licences import services
from onewindow.licences.models import Licence
from onewindow.org.models import Department, IdType

ACTOR = "demo"

CITIZEN = [
    (
        "JHZ",
        "minzheng",
        {"male_id": p.CITIZEN_ID, "female_id": "330803199203150028", "registered_on": "2018-10-08"},
    ),
    (
        "HKB",
        "gongan",
        {
            "household_number": "330803010456",
            "address": "浙江省衢州市衢江区廿里镇黄泥畈村",
            "member": p.CITIZEN_NAME,
        },
    ),
    (
        "BDCQZS",
        "bdc",
        {
            "unit_number": "330803104201GB00012F00010003",
            "ownership": "共同共有",
            "area": "128.6",
            "right_kind": "国有建设用地使用权/房屋所有权",
        },
    ),
    ("SHBZK", "renshe", {"name": p.CITIZEN_NAME, "bank": "中国工商银行衢州分行"}),
]
COMPANY = [
    (
        "YYZZ",
        "scjg",
        {
            "name": p.COMPANY_NAME,
            "legal_rep": p.COMPANY_REP_NAME,
            "capital": "100",
            "scope": "农产品收购、加工、销售",
            "address": "浙江省衢州市衢江区廿里镇工业功能区1号",
        },
    ),
    (
        "SPJYXKZ",
        "scjg",
        {
            "operator": p.COMPANY_NAME,
            "premises": "浙江省衢州市衢江区廿里镇工业功能区1号",
            "items": "预包装食品销售（含冷藏冷冻食品）",
            "area": "120",
        },
    ),
    (
        "DWMYJYZBADJB",
        "shangwu",
        {"name": p.COMPANY_NAME, "name_en": "Quzhou Qujiang Xiaoming Agricultural Products Co., Ltd."},
    ),
]


def load_demo_licences(actor: Any = ACTOR) -> int:
    """Issue the personas' licences that are missing; returns how many were issued."""
    services.load_licence_types(actor=actor)
    depts = {d.code: d for d in Department.objects.all()}
    n = 0
    holders = [
        (IdType.RESIDENT_ID, p.CITIZEN_ID, p.CITIZEN_NAME, CITIZEN),
        (IdType.USCC, p.COMPANY_USCC, p.COMPANY_NAME, COMPANY),
    ]
    for id_type, number, name, rows in holders:
        for code, dept_code, surface in rows:
            dept = depts.get(dept_code)
            if dept is None or Licence.objects.filter(holder_id_number=number, type__code=code).exists():
                continue
            services.issue(
                type_code=code,
                holder_id_type=id_type,
                holder_id_number=number,
                holder_name=name,
                issuer=dept,
                actor=actor,
                surface=surface,
                valid_from=date(2024, 3, 1) if code in ("YYZZ", "SPJYXKZ") else None,
            )
            n += 1
    return n
