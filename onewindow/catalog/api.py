"""Catalogue read API: /items, /items/{code}, /bundles, /bundles/{code}, /guidance.

The catalogue is public information (办事指南), so these endpoints need no login; drafts and
retired versions are visible only to catalogue admins."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema

from onewindow.catalog import codelists
from onewindow.catalog.models import Bundle, ItemState, ServiceItem
from onewindow.catalog.queries import current_item, search_bundles, search_items
from onewindow.core.api_utils import optional_user, page_params, paginate
from onewindow.core.errors import InvalidError, NotFoundError
from onewindow.core.i18n import bi
from onewindow.core.permissions import has_role
from onewindow.core.roles import Role

router = Router(tags=["catalog"])


class ItemFilters(Schema):
    q: str = ""
    department: str | None = None
    item_type: str | None = None
    case_type: str | None = None
    channel: str | None = None
    served_party: str | None = None
    state: str | None = None
    page: int = 1
    page_size: int = 20


class DepartmentOut(Schema):
    code: str
    name: str
    name_en: str


class ItemSummary(Schema):
    code: str
    version: int
    name: str
    name_en: str
    short_name: str
    item_type: str
    item_type_label: str
    department: DepartmentOut
    case_type: str
    legal_limit: int
    legal_limit_unit: str
    promised_limit: int
    promised_limit_unit: str
    channels: list[str]
    max_visits: int
    handle_scope: str
    state: str


class ItemList(Schema):
    count: int
    results: list[ItemSummary]


class MaterialOut(Schema):
    seq: int
    name: str
    required: bool
    condition: str
    form: str
    originals: int
    copies: int
    accept_standard: str
    source: str
    note: str


class OutputOut(Schema):
    seq: int
    name: str
    kind: str
    licence_type: str


class FeeOut(Schema):
    seq: int
    name: str
    amount: Decimal
    unit: str
    basis: str


class StepOut(Schema):
    seq: int
    name: str
    departments: list[str]
    limit_workdays: Decimal
    actions: list[str]


class ItemDetail(ItemSummary):
    keywords: list[str]
    level: str
    legal_basis: str
    served_party: list[str]
    special_procedures: str
    visits_reason: str
    undifferentiated: bool
    result_type: str
    licence_type: str
    conditions: str
    consult_phone: str
    form_schema: list[dict[str, Any]]
    faq: list[dict[str, Any]]
    process_template: str | None
    process_steps: list[StepOut]
    materials: list[MaterialOut]
    outputs: list[OutputOut]
    fees: list[FeeOut]
    total_fee: Decimal


class BundleMemberOut(Schema):
    item: str
    name: str
    name_en: str
    department: str
    optional: bool
    depends_on: list[str]


class BundleStageOut(Schema):
    seq: int
    name: str
    limit_workdays: Decimal | None
    members: list[BundleMemberOut]


class BundleSummary(Schema):
    code: str
    name: str
    name_en: str
    lead_department: DepartmentOut
    promised_limit: int
    promised_limit_unit: str
    max_visits: int
    member_count: int
    state: str


class BundleList(Schema):
    count: int
    results: list[BundleSummary]


class BundleDetail(BundleSummary):
    description: str
    keywords: list[str]
    form_schema: list[dict[str, Any]]
    stages: list[BundleStageOut]


class GuidanceHit(Schema):
    kind: str
    code: str
    name: str
    score: float


def _dept(d: Any) -> dict[str, str]:
    return {"code": d.code, "name": d.name, "name_en": d.name_en}


def item_summary(item: ServiceItem) -> dict[str, Any]:
    return {
        "code": item.code,
        "version": item.version,
        "name": item.name,
        "name_en": item.name_en,
        "short_name": item.short_name,
        "item_type": item.item_type,
        "item_type_label": codelists.label("item_type", item.item_type),
        "department": _dept(item.department),
        "case_type": item.case_type,
        "legal_limit": item.legal_limit,
        "legal_limit_unit": item.legal_limit_unit,
        "promised_limit": item.promised_limit,
        "promised_limit_unit": item.promised_limit_unit,
        "channels": item.channels,
        "max_visits": item.max_visits,
        "handle_scope": item.handle_scope,
        "state": item.state,
    }


def item_detail(item: ServiceItem) -> dict[str, Any]:
    steps = []
    if item.process_template_id:
        for s in item.process_template.steps.prefetch_related("departments"):
            steps.append(
                {
                    "seq": s.seq,
                    "name": s.name,
                    "departments": [d.code for d in s.departments.all()] or [item.department.code],
                    "limit_workdays": s.limit_workdays,
                    "actions": s.actions,
                }
            )
    fees = list(item.fees.all())
    return {
        **item_summary(item),
        "keywords": item.keywords,
        "level": item.level,
        "legal_basis": item.legal_basis,
        "served_party": item.served_party,
        "special_procedures": item.special_procedures,
        "visits_reason": item.visits_reason,
        "undifferentiated": item.undifferentiated,
        "result_type": item.result_type,
        "licence_type": item.licence_type,
        "conditions": item.conditions,
        "consult_phone": item.consult_phone,
        "form_schema": item.form_schema,
        "faq": item.faq,
        "process_template": item.process_template.code if item.process_template_id else None,
        "process_steps": steps,
        "materials": list(item.materials.all()),
        "outputs": list(item.outputs.all()),
        "fees": fees,
        "total_fee": sum((f.amount for f in fees), start=Decimal("0")),
    }


def bundle_summary(b: Bundle) -> dict[str, Any]:
    return {
        "code": b.code,
        "name": b.name,
        "name_en": b.name_en,
        "lead_department": _dept(b.lead_department),
        "promised_limit": b.promised_limit,
        "promised_limit_unit": b.promised_limit_unit,
        "max_visits": b.max_visits,
        "member_count": b.members.count(),
        "state": b.state,
    }


def bundle_detail(b: Bundle) -> dict[str, Any]:
    codes = list(b.members.values_list("item_code", flat=True))
    items = {
        i.code: i
        for i in ServiceItem.objects.filter(code__in=codes, state=ItemState.ACTIVE).select_related(
            "department"
        )
    }
    stages = []
    for st in b.stages.prefetch_related("members"):
        stages.append(
            {
                "seq": st.seq,
                "name": st.name,
                "limit_workdays": st.limit_workdays,
                "members": [
                    {
                        "item": m.item_code,
                        "name": items[m.item_code].name if m.item_code in items else "",
                        "name_en": items[m.item_code].name_en if m.item_code in items else "",
                        "department": items[m.item_code].department.code if m.item_code in items else "",
                        "optional": m.optional,
                        "depends_on": m.depends_on,
                    }
                    for m in st.members.all()
                ],
            }
        )
    return {
        **bundle_summary(b),
        "description": b.description,
        "keywords": b.keywords,
        "form_schema": b.form_schema,
        "stages": stages,
    }


def _may_see_drafts(request: HttpRequest) -> bool:
    return has_role(optional_user(request), Role.CATALOG_ADMIN)


@router.get("/items", response=ItemList, summary="List and search service items")
def list_items(request: HttpRequest, filters: Query[ItemFilters]) -> dict[str, Any]:
    state = filters.state or ItemState.ACTIVE
    if state not in ItemState.values:
        raise InvalidError(
            bi("状态取值无效", "Invalid state"),
            fields={
                "state": [bi("可选：" + "/".join(ItemState.values), "one of: " + "/".join(ItemState.values))]
            },
        )
    if state != ItemState.ACTIVE and not _may_see_drafts(request):
        state = ItemState.ACTIVE
    page, size = page_params(filters.page, filters.page_size)
    qs = search_items(
        filters.q,
        department=filters.department,
        item_type=filters.item_type,
        case_type=filters.case_type,
        channel=filters.channel,
        served_party=filters.served_party,
        state=state,
    )
    return paginate(qs, page, size, item_summary)


@router.get("/items/{code}", response=ItemDetail, summary="One service item with its guide")
def get_item(request: HttpRequest, code: str, version: int | None = None) -> dict[str, Any]:
    item = current_item(code, version)
    if item is None or (item.state != ItemState.ACTIVE and not _may_see_drafts(request)):
        raise NotFoundError(bi(f"事项不存在：{code}", f"No such service item: {code}"), code="item_not_found")
    return item_detail(item)


@router.get("/bundles", response=BundleList, summary="List 一件事 bundles")
def list_bundles(request: HttpRequest, q: str = "", page: int = 1, page_size: int = 20) -> dict[str, Any]:
    page, size = page_params(page, page_size)
    return paginate(search_bundles(q), page, size, bundle_summary)


@router.get("/bundles/{code}", response=BundleDetail, summary="One bundle with stages and member items")
def get_bundle(request: HttpRequest, code: str) -> dict[str, Any]:
    b = Bundle.objects.select_related("lead_department").filter(code=code).first()
    if b is None or (b.state != ItemState.ACTIVE and not _may_see_drafts(request)):
        raise NotFoundError(bi(f"一件事不存在：{code}", f"No such bundle: {code}"), code="bundle_not_found")
    return bundle_detail(b)


@router.get(
    "/guidance", response=list[GuidanceHit], summary="Ranked items and bundles for a free-text question"
)
def guidance(request: HttpRequest, q: str, limit: int = 10) -> list[dict[str, Any]]:
    limit = max(1, min(limit, 50))
    hits: list[dict[str, Any]] = []
    for i, b in enumerate(search_bundles(q)[:3]):
        hits.append({"kind": "bundle", "code": b.code, "name": b.name, "score": round(1.0 - 0.05 * i, 3)})
    for i, item in enumerate(search_items(q)[:limit]):
        hits.append({"kind": "item", "code": item.code, "name": item.name, "score": round(0.9 - 0.02 * i, 3)})
    return sorted(hits, key=lambda h: -h["score"])[:limit]
