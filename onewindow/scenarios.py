"""一件事 scenarios: a bundle run end to end through the real services, with simulated staff.

    python -m onewindow.scenarios business-startup [--window]

Uses the database of `ONEWINDOW_HOME` (or `DATABASE_URL`): migrates it and loads the demo city
when needed (about 20 s the first time), then submits the bundle as its demo applicant (online,
or at the city hall's window with `--window` or for bundles that need a visit), accepts it (the
lead department for an online application, the clerk at a window), lets the approver persona of
each department (`approver-<department code>`) claim and approve every open work item, and
delivers the result (electronically). Time is simulated: the clock starts at 09:00 on the next
working day after today and moves through office hours (09:00–17:00 on the working days of the
workcal calendar) as the staff work; departments work in parallel. Staff take a quarter of a
step's limit for steps timed in working days, and half the promised minutes of a 即办件.

The last line printed is JSON: the bundle run (`elapsed_workdays`, `visits`, `forms`,
`materials_supplied`, `fields_entered`) and `separately`: the same figures summed over the member
items applied for one by one (before the reform) — elapsed working days = the sum of their
promised limits (each needs the previous one's output), visits = one trip to apply at a window
plus one to collect each result that is a document, forms = one per item, materials = every
material the applicant supplies to each item (the same document again for each item).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from unittest import mock

OFFICE_OPEN, OFFICE_HOURS = 9, 8
MINIMAL_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _person(region: str, born: date, seq: int, sex: str) -> str:
    from onewindow.core.validators import make_resident_id

    return make_resident_id(region, born, seq, sex)


def scenario_data(code: str) -> dict[str, Any]:
    """Applicant, channel, optional members and the merged form of each demo bundle."""
    from onewindow.core.validators import make_uscc
    from onewindow.demo import personas as P

    person = {
        "id_type": "resident_id",
        "id_number": P.CITIZEN_ID,
        "name": P.CITIZEN_NAME,
        "phone": P.CITIZEN_PHONE,
    }
    company = {
        "id_type": "uscc",
        "id_number": P.COMPANY_USCC,
        "name": P.COMPANY_NAME,
        "phone": P.COMPANY_PHONE,
        "legal_rep_name": P.COMPANY_REP_NAME,
    }
    finance = _person("330802", date(1992, 3, 8), 45, "F")
    if code == "business-startup":
        return {
            "user": "citizen",
            "applicant": person,
            "members": "all",
            "form": {
                "company_name": "衢州市柯城区晓明科技有限公司",
                "legal_rep_name": P.CITIZEN_NAME,
                "legal_rep_id": P.CITIZEN_ID,
                "capital": "50",
                "business_scope": "软件开发；信息技术咨询服务",
                "address": "浙江省衢州市柯城区荷花中路 8 号 1201 室",
                "corporate_shareholder": False,
                "seal_set": "standard",
                "engraver": "衢州市诚信印章有限公司",
                "seal_delivery": "post",
                "finance_officer_name": "王芳",
                "finance_officer_id": finance,
                "taxpayer_type": "small",
                "invoice_types": "ordinary",
                "employee_count": 5,
                "deposit_ratio": "12",
                "bank_verification": "video",
                "phone": P.CITIZEN_PHONE,
            },
        }
    if code == "business-deregistration":
        return {
            "user": "company",
            "applicant": company,
            "members": "all",
            "form": {
                "company_name": P.COMPANY_NAME,
                "uscc": P.COMPANY_USCC,
                "reason": "dissolution",
                "liquidation_leader": P.COMPANY_REP_NAME,
                "liquidation_date": "2025-01-15",
                "tax_pledge_mode": False,
                "staff_accounts": "seal",
                "customs_code": "3308960123",
                "account_number": "33050162623500001234",
                "transfer_account": "33050162623500009876",
                "phone": P.COMPANY_PHONE,
            },
        }
    if code == "foreign-trade-licences":
        return {
            "user": "citizen",
            "applicant": person,
            "members": "all",
            "form": {
                "company_name": "衢州市柯城区晓明进出口贸易有限公司",
                "company_name_en": "Quzhou Kecheng Xiaoming Import & Export Co., Ltd.",
                "legal_rep_name": P.CITIZEN_NAME,
                "legal_rep_id": P.CITIZEN_ID,
                "address": "浙江省衢州市柯城区百汇路 6 号 301 室",
                "capital": "100",
                "business_scope": "货物进出口；技术进出口；食品销售",
                "finance_officer_name": "王芳",
                "finance_officer_id": finance,
                "taxpayer_type": "general",
                "invoice_types": "special",
                "customs_office": "衢州海关",
                "operator_name": P.CITIZEN_NAME,
                "operator_id": P.CITIZEN_ID,
                "main_products": "茶叶、柑橘罐头",
                "refund_method": "exempt_refund",
                "refund_account": "33050162623500004321",
                "fx_contact": P.CITIZEN_NAME,
                "tech_direction": "import",
                "tech_contract_value": "20",
                "tech_foreign_party": "Tea Tech GmbH",
                "ecommerce_role": "seller",
                "food_factory_address": "浙江省衢州市柯城区航埠镇工业园 2 号",
                "food_products": "柑橘罐头",
                "phone": P.CITIZEN_PHONE,
            },
        }
    if code == "property-transfer":
        return {
            "user": "clerk",
            "window": True,
            "applicant": person,
            "members": "all",
            "form": {
                "property_unit_number": "330802001001GB00001F00011201",
                "certificate_number": "浙(2019)衢州市不动产权第0012345号",
                "seller_id": _person("330802", date(1970, 6, 1), 13, "M"),
                "buyer_id": P.CITIZEN_ID,
                "price": "1200000",
                "floor_area": "98.5",
                "ownership": "sole",
                "buyer_first_home": True,
                "seller_only_home_5y": True,
                "by_agent": False,
                "property_address": "浙江省衢州市柯城区新桥街 12 幢 1201 室",
                "water_account": "1001234567",
                "power_account": "3300123456",
                "gas_account": "8801234567",
                "tv_account": "6601234567",
                "phone": P.CITIZEN_PHONE,
            },
        }
    if code == "newborn":
        return {
            "user": "citizen",
            "applicant": person,
            "members": "all",
            "form": {
                "child_name": "陈一诺",
                "child_gender": "female",
                "birth_date": "2025-01-02",
                "mother_id": _person("330803", date(1992, 8, 20), 44, "F"),
                "father_id": P.CITIZEN_ID,
                "child_order": 1,
                "guardian_id": P.CITIZEN_ID,
                "follow": "father",
                "household_number": "330803104201001",
                "home_address": "浙江省衢州市衢江区廿里镇黄泥畈村 18 号",
                "phone": P.CITIZEN_PHONE,
            },
        }
    if code == "construction-permit":
        return {
            "user": "company",
            "applicant": company,
            "members": "all",
            "form": {
                "project_code": "2501-330802-04-01-123456",
                "project_name": "晓明农产品加工厂房新建工程",
                "builder_uscc": P.COMPANY_USCC,
                "project_address": "浙江省衢州市衢江区廿里镇工业功能区",
                "total_floor_area": "12000",
                "designer_uscc": make_uscc("9", "1", "330800", "MA2D3F4H0"),
                "contractor_uscc": make_uscc("9", "1", "330800", "MA2D3F4J9"),
                "contract_amount": "3600",
                "has_civil_defence": True,
                "special_fire_project": True,
                "phone": P.COMPANY_PHONE,
            },
        }
    if code == "electricity-connection":
        return {
            "user": "company",
            "applicant": company,
            "members": "all",
            "form": {
                "applicant_name": P.COMPANY_NAME,
                "applicant_uscc": P.COMPANY_USCC,
                "address": "浙江省衢州市衢江区廿里镇工业功能区 3 号",
                "capacity_kw": "120",
                "use_type": "commercial",
                "road_name": "廿里大道",
                "excavation_area": "30",
                "excavation_length": "60",
                "occupy_area": "50",
                "green_location": "廿里大道东侧绿化带",
                "green_area": "20",
                "works_purpose": "低压电缆敷设",
                "works_start": "2025-03-10",
                "works_end": "2025-03-20",
                "phone": P.COMPANY_PHONE,
            },
        }
    raise KeyError(code)


SCENARIOS = (
    "business-startup",
    "property-transfer",
    "business-deregistration",
    "foreign-trade-licences",
    "newborn",
    "construction-permit",
    "electricity-connection",
)


# ---------------------------------------------------------------------------------------------
# Simulated time


class SimClock:
    """A clock that only moves when told to: through office hours on working days."""

    def __init__(self, start: datetime, region: str) -> None:
        from onewindow.workcal.calendar import get_calendar

        self.now = start
        self.cal = get_calendar(region)
        self.worked = 0.0  # office hours since the start

    @classmethod
    def next_workday(cls, region: str, after: date) -> datetime:
        from django.utils import timezone

        from onewindow.workcal.calendar import get_calendar

        d = get_calendar(region).add_workdays(after, 1).date
        return timezone.make_aware(datetime.combine(d, time(OFFICE_OPEN)))

    def advance(self, hours: float) -> None:
        """Move `hours` of office time forward (overnight and holidays skipped)."""
        from django.utils import timezone

        self.worked += hours
        local = timezone.localtime(self.now)
        while hours > 1e-9:
            close = local.replace(hour=OFFICE_OPEN + OFFICE_HOURS, minute=0, second=0, microsecond=0)
            left = (close - local).total_seconds() / 3600
            if hours <= left:
                local += timedelta(hours=hours)
                hours = 0
            else:
                hours -= max(left, 0)
                d = self.cal.add_workdays(local.date(), 1).date
                local = timezone.make_aware(datetime.combine(d, time(OFFICE_OPEN)))
        self.now = local

    def patch(self) -> Any:
        return mock.patch("django.utils.timezone.now", lambda: self.now)


def step_hours(wi: Any) -> float:
    """How long simulated staff take for a work item."""
    item = wi.case.item
    if item.promised_limit_unit == "minute":
        steps = max(1, wi.case.work_items.values("step_seq").distinct().count())
        return item.promised_limit / 60 / 2 / steps
    return float(Decimal(wi.step_limit or 0)) * OFFICE_HOURS / 4


# ---------------------------------------------------------------------------------------------
# The run


@dataclass
class Result:
    parent: Any
    figures: dict[str, Any]


def _upload() -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("material.pdf", MINIMAL_PDF, content_type="application/pdf")


def run(code: str, *, window: bool | None = None, refuse: str | None = None, quiet: bool = True) -> Result:
    """Run bundle `code` on the loaded demo city; returns the parent case and the figures.
    `refuse`: a member item code whose first decision is a refusal (the partial result)."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from onewindow.cases import bundles
    from onewindow.cases import services as cs
    from onewindow.cases.models import Case, CaseStatus, SatisfiedBy, WorkItem, WorkItemStatus

    User = get_user_model()
    data = scenario_data(code)
    bundle = bundles.active_bundle(code)
    region = bundle.lead_department.region.code
    today = timezone.localdate()
    sim = SimClock(SimClock.next_workday(region, today), region)
    at_window = data.get("window", False) if window is None else window
    members_all = [m.item_code for m in bundle.members.all()]
    chosen = members_all if data["members"] == "all" else data["members"]
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, file=sys.stderr))
    with sim.patch():
        user = User.objects.get(username="clerk" if at_window else data["user"])
        merged = bundles._applying(
            bundles.merged_requirements(bundles.members_of(bundle, members_all)),
            _forms(bundle, data["form"], chosen),
        )
        supplied = [mm for mm in merged if mm.source_kind == "applicant" and mm.required]
        materials = [
            cs.MaterialIn(seq=mm.seq, satisfied_by=SatisfiedBy.PAPER)
            if at_window
            else cs.MaterialIn(seq=mm.seq, satisfied_by=SatisfiedBy.UPLOAD, file=_upload())
            for mm in supplied
        ]
        parent = bundles.submit_bundle(
            actor=user,
            bundle=bundle,
            applicant=cs.ApplicantIn(**data["applicant"]),
            channel="window" if at_window else "online",
            form_data=data["form"],
            materials=materials,
            members=chosen,
            delivery_method="electronic",
        )
        bundles.consent_for_bundle(parent, actor=user)
        say(f"submitted {parent.number} ({parent.children.count()} member items)")
        sim.advance(0.1)
        acceptor = user if at_window else User.objects.get(username=f"approver-{bundle.lead_department.code}")
        cs.accept_case(parent.number, actor=acceptor)
        refused = False
        rounds = 0
        while True:
            open_items = list(
                WorkItem.objects.filter(case__parent=parent, status=WorkItemStatus.OPEN)
                .select_related("case__item", "department")
                .order_by("pk")
            )
            if not open_items:
                break
            rounds += 1
            if rounds > 200:
                raise RuntimeError("the scenario does not converge")
            start = sim.now
            worked = sim.worked
            for wi in open_items:
                approver = User.objects.get(username=f"approver-{wi.department.code}")
                cs.claim_work_item(wi, actor=approver)
            longest = 0.0
            for wi in sorted(open_items, key=step_hours):
                hours = step_hours(wi)
                sim.now, sim.worked = start, worked
                sim.advance(hours)
                longest = max(longest, hours)
                approver = User.objects.get(username=f"approver-{wi.department.code}")
                wi.refresh_from_db()
                if wi.status != WorkItemStatus.CLAIMED:
                    continue  # the case was decided meanwhile (another department refused)
                if refuse and wi.case.item.code == refuse and not refused:
                    refused = True
                    cs.decide_work_item(
                        wi, actor=approver, outcome="refuse", opinion="不符合法定条件（模拟）"
                    )
                else:
                    cs.decide_work_item(wi, actor=approver, outcome="approve", opinion="同意")
            sim.now, sim.worked = start, worked
            sim.advance(longest)
        parent.refresh_from_db()
        if parent.status in (CaseStatus.READY, CaseStatus.REFUSED):
            sim.advance(0.05)
            cs.deliver_case(parent.number, actor="system", method="electronic")
        parent.refresh_from_db()
    children = list(Case.objects.filter(parent=parent).select_related("item").order_by("pk"))
    figures = _figures(bundle, parent, children, sim, data["form"], chosen)
    say(f"{parent.number}: {parent.status}; " + ", ".join(f"{c.item.code} {c.status}" for c in children))
    return Result(parent, figures)


def _forms(bundle: Any, form: dict[str, Any], chosen: list[str]) -> dict[str, dict[str, Any]]:
    from onewindow.cases import bundles
    from onewindow.catalog.formschema import clean_form_data

    cleaned = clean_form_data(bundle.form_schema or [], form)
    return {c: bundles.child_form(bundle, cleaned, c) for c in chosen}


def _figures(
    bundle: Any, parent: Any, children: list[Any], sim: SimClock, form: dict[str, Any], chosen: list[str]
) -> dict[str, Any]:
    from onewindow.cases.models import SatisfiedBy
    from onewindow.catalog.formschema import condition_holds

    events = list(parent.events.order_by("at", "id"))
    start = events[0].at
    end = max(e.at for e in events)
    elapsed_hours = _office_hours(sim, start, end)
    supplied = parent.materials.filter(satisfied_by__in=[SatisfiedBy.UPLOAD, SatisfiedBy.PAPER]).count()
    forms = _forms(bundle, form, chosen)
    before_days = 0.0
    before_visits = before_materials = before_fields = 0
    for c in children:
        item = c.item
        if item.promised_limit_unit == "minute":
            before_days += item.promised_limit / 60 / OFFICE_HOURS
        else:
            before_days += item.promised_limit
        before_visits += 1 + (1 if item.result_type in ("licence", "approval_document") else 0)
        before_fields += len(forms.get(item.code, {}))
        before_materials += sum(
            1
            for m in item.materials.all()
            if m.source_kind == "applicant"
            and m.required
            and condition_holds(m.condition, forms.get(item.code, {}))
        )
    statuses: dict[str, int] = {}
    for c in children:
        statuses[c.status] = statuses.get(c.status, 0) + 1
    return {
        "bundle": bundle.code,
        "case": parent.number,
        "status": parent.status,
        "partial": parent.partial,
        "member_items": len(children),
        "children": statuses,
        "promised_workdays": _promised_days(bundle),
        "elapsed_workdays": round(elapsed_hours / OFFICE_HOURS, 2),
        "visits": parent.visits + sum(c.visits for c in children),
        "forms": 1,
        "fields_entered": len(parent.form_data or {}),
        "materials_supplied": supplied,
        "separately": {
            "elapsed_workdays": round(before_days, 2),
            "visits": before_visits,
            "forms": len(children),
            "fields_entered": before_fields,
            "materials_supplied": before_materials,
        },
    }


def _promised_days(bundle: Any) -> float:
    if bundle.promised_limit_unit == "minute":
        return round(bundle.promised_limit / 60 / OFFICE_HOURS, 3)
    return float(bundle.promised_limit)


def _office_hours(sim: SimClock, start: datetime, end: datetime) -> float:
    """Office hours between two moments (working days, 09:00–17:00)."""
    from django.utils import timezone

    a, b = timezone.localtime(start), timezone.localtime(end)
    if b <= a:
        return 0.0

    def clamp(t: datetime) -> float:
        h = t.hour + t.minute / 60 + t.second / 3600
        return min(max(h - OFFICE_OPEN, 0), OFFICE_HOURS)

    if a.date() == b.date():
        return clamp(b) - clamp(a)
    hours = (OFFICE_HOURS - clamp(a)) if sim.cal.is_workday(a.date()) else 0
    hours += sim.cal.workdays_between(a.date(), b.date() - timedelta(days=1)) * OFFICE_HOURS
    hours += clamp(b) if sim.cal.is_workday(b.date()) else 0
    return max(0.0, hours)


# ---------------------------------------------------------------------------------------------
# Command line


def ensure_demo_city() -> None:
    from django.core.management import call_command

    from onewindow.catalog.models import Bundle

    call_command("migrate", verbosity=0)
    if not Bundle.objects.filter(code="business-startup").exists():
        from onewindow.demo.load import load_demo_city

        print("loading the demo city (first run) …", file=sys.stderr)
        load_demo_city()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m onewindow.scenarios", description=__doc__.split("\n")[0])
    parser.add_argument("bundle", choices=SCENARIOS)
    parser.add_argument("--window", action="store_true", help="apply at the city hall's window")
    parser.add_argument("--refuse", metavar="ITEM", help="refuse this member item (partial result)")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onewindow.settings")
    os.environ.setdefault("ONEWINDOW_DEMO", "True")
    import django

    django.setup()
    ensure_demo_city()
    result = run(args.bundle, window=args.window or None, refuse=args.refuse, quiet=False)
    f = result.figures
    s = f["separately"]
    print(
        f"{f['bundle']} ({f['case']}): {f['status']}{' (partial)' if f['partial'] else ''}, "
        f"{f['member_items']} member items"
    )
    print(
        f"  one thing, one go: {f['elapsed_workdays']} working days (promised {f['promised_workdays']}), "
        f"{f['visits']} visits, {f['forms']} form, {f['materials_supplied']} materials"
    )
    print(
        f"  item by item:      {s['elapsed_workdays']} working days, {s['visits']} visits, "
        f"{s['forms']} forms, {s['materials_supplied']} materials"
    )
    print(json.dumps(f, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
