"""Catalogue browser pages: search, the item guide (办事指南) and the bundle guide."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

from onewindow.catalog.api import bundle_detail, item_detail
from onewindow.catalog.models import ItemState
from onewindow.catalog.queries import current_item, search_bundles, search_items
from onewindow.core.htmx import template_for
from onewindow.org.models import Department


def catalogue_coverage() -> dict[str, object]:
    """一证通办 coverage of the whole active catalogue, cached for ten minutes."""
    from django.core.cache import cache

    from onewindow.catalog.models import ServiceItem
    from onewindow.exchange.resolver import coverage_summary

    value = cache.get("catalog.coverage")
    if value is None:
        items = ServiceItem.objects.filter(state=ItemState.ACTIVE).prefetch_related("materials")
        value = coverage_summary(items)
        cache.set("catalog.coverage", value, 600)
    return value


def item_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:100]
    department = request.GET.get("department") or None
    items = search_items(q, department=department)
    page = Paginator(items, 20).get_page(request.GET.get("page"))
    context = {
        "q": q,
        "department": department,
        "departments": Department.objects.filter(items__state=ItemState.ACTIVE).distinct().order_by("code"),
        "page": page,
        "bundles": search_bundles(q)[: 5 if q else 10],
        "coverage": catalogue_coverage(),
    }
    response = render(
        request, template_for(request, "catalog/items.html", "catalog/partials/item_results.html"), context
    )
    # The same URL answers with a page or a partial: caches must tell them apart.
    patch_vary_headers(response, ("HX-Request",))
    return response


def _departments(codes: set[str]) -> dict[str, Department]:
    return {d.code: d for d in Department.objects.filter(code__in=codes)}


def item_guide(request: HttpRequest, code: str) -> HttpResponse:
    item = current_item(code)
    if item is None or item.state != ItemState.ACTIVE:
        raise Http404
    d = item_detail(item)
    departments = _departments({c for s in d["process_steps"] for c in s["departments"]})
    from onewindow.exchange.resolver import coverage_summary

    context = {"item": item, "d": d, "departments": departments, "coverage": coverage_summary([item])}
    return render(request, "catalog/item.html", context)


def bundle_guide(request: HttpRequest, code: str) -> HttpResponse:
    bundle = search_bundles("").filter(code=code).first()
    if bundle is None:
        raise Http404
    d = bundle_detail(bundle)
    members = [m for st in d["stages"] for m in st["members"]]
    context = {
        "bundle": bundle,
        "d": d,
        "departments": _departments({m["department"] for m in members if m["department"]}),
        "member_names": {m["item"]: m["name"] or m["item"] for m in members},
    }
    return render(request, "catalog/bundle.html", context)
