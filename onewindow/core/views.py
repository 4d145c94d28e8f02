from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from onewindow.catalog.models import Bundle, ItemState, ServiceItem
from onewindow.core.permissions import roles


def home(request: HttpRequest) -> HttpResponse:
    context = {
        "item_count": ServiceItem.objects.filter(state=ItemState.ACTIVE).count(),
        "bundles": Bundle.objects.filter(state=ItemState.ACTIVE).order_by("code")[:10],
        "my_roles": sorted(roles(request.user)),
    }
    return render(request, "core/home.html", context)


def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as c:
        c.execute("SELECT 1")
    return JsonResponse({"ok": True})
