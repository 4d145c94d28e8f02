"""Catalogue browser pages: search, the item guide (办事指南) and the bundle guide."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from onewindow.catalog.api import bundle_detail, item_detail
from onewindow.catalog.models import Bundle, ItemState
from onewindow.catalog.queries import current_item, search_bundles, search_items
from onewindow.core.htmx import template_for
from onewindow.org.models import Department


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
        "bundles": search_bundles(q)[:5] if q else Bundle.objects.filter(state=ItemState.ACTIVE)[:10],
    }
    return render(request, template_for(request, "catalog/items.html", "catalog/partials/item_results.html"), context)


def item_guide(request: HttpRequest, code: str) -> HttpResponse:
    item = current_item(code)
    if item is None or item.state != ItemState.ACTIVE:
        raise Http404
    return render(request, "catalog/item.html", {"item": item, "d": item_detail(item)})


def bundle_guide(request: HttpRequest, code: str) -> HttpResponse:
    bundle = Bundle.objects.select_related("lead_department").filter(code=code, state=ItemState.ACTIVE).first()
    if bundle is None:
        raise Http404
    return render(request, "catalog/bundle.html", {"bundle": bundle, "d": bundle_detail(bundle)})
