"""Pages: "who used my data" for applicants; datasets, grants, the access log (search and
export) and the anomaly report for data admins."""

from __future__ import annotations

import csv
import io
from datetime import datetime, time
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_date

from onewindow.audit.services import record
from onewindow.core.permissions import has_role
from onewindow.core.roles import Role
from onewindow.exchange.models import AccessResult, Dataset, Grant
from onewindow.exchange.queries import access_log_for_admin, anomalies, my_data_access, search_log

EXPORT_LIMIT = 50_000
COLUMNS = [
    "at",
    "official_name",
    "department",
    "case_number",
    "item_code",
    "dataset",
    "fields",
    "subject",
    "purpose",
    "result",
    "reason",
    "response_hash",
]


def _require_data_admin(request: HttpRequest) -> None:
    if not has_role(request.user, Role.DATA_ADMIN):
        raise PermissionDenied


@login_required
def my_data(request: HttpRequest) -> HttpResponse:
    page = Paginator(my_data_access(request.user), 30).get_page(request.GET.get("page"))
    return render(request, "exchange/my_data.html", {"page": page})


@login_required
def datasets(request: HttpRequest) -> HttpResponse:
    _require_data_admin(request)
    context = {
        "datasets": Dataset.objects.select_related("owner").order_by("code"),
        "grants": Grant.objects.select_related("consumer", "dataset").order_by(
            "dataset__code", "consumer__code"
        ),
        "today": timezone.localdate(),
    }
    return render(request, "exchange/datasets.html", context)


def _date(value: str) -> Any:
    """A YYYY-MM-DD filter value; anything else (2024-02-30 included) is no filter."""
    try:
        return parse_date((value or "")[:10])
    except ValueError:
        return None


def _filters(request: HttpRequest) -> dict[str, Any]:
    g = request.GET
    since = _date(g.get("since", ""))
    until = _date(g.get("until", ""))
    tz = timezone.get_current_timezone()
    return {
        "subject": g.get("subject", "")[:30],
        "official": g.get("official", "")[:150],
        "dataset": g.get("dataset", "")[:50],
        "case_number": g.get("case_number", "")[:32],
        "result": g.get("result", "") if g.get("result", "") in AccessResult.values else "",
        "since": datetime.combine(since, time.min, tz) if since else None,
        "until": datetime.combine(until, time.max, tz) if until else None,
    }


@login_required
def access_log(request: HttpRequest) -> HttpResponse:
    _require_data_admin(request)
    filters = _filters(request)
    qs = search_log(access_log_for_admin(request.user), **filters)
    fmt = request.GET.get("format")
    if fmt in ("csv", "xlsx"):
        # An export is itself a use of personal data: it is audited.
        record(
            "exchange.access_log.export",
            actor=request.user,
            object_type="exchange.accessrecord",
            object_id="*",
            data={"format": fmt, "filters": {k: str(v) for k, v in filters.items() if v}},
        )
        rows = qs[:EXPORT_LIMIT]
        return _export_csv(rows) if fmt == "csv" else _export_xlsx(rows)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "exchange/access_log.html",
        {
            "page": page,
            "f": request.GET,
            "results": AccessResult.choices,
            "datasets": Dataset.objects.order_by("code").values_list("code", flat=True),
        },
    )


def _row(r: Any) -> list[Any]:
    return [
        timezone.localtime(r.at).strftime("%Y-%m-%d %H:%M:%S"),
        r.official_name,
        r.department.name if r.department else "",
        r.case_number,
        r.item_code,
        r.dataset,
        ",".join(r.fields),
        r.subject,
        r.purpose,
        r.result,
        r.reason,
        r.response_hash,
    ]


def _export_csv(rows: Any) -> HttpResponse:
    buf = io.StringIO()
    buf.write("\ufeff")  # Excel opens UTF-8 CSV correctly with a BOM
    w = csv.writer(buf)
    w.writerow(COLUMNS)
    for r in rows:
        w.writerow(_row(r))
    resp = HttpResponse(buf.getvalue(), content_type="text/csv; charset=utf-8")
    resp["Content-Disposition"] = 'attachment; filename="access-log.csv"'
    return resp


def _export_xlsx(rows: Any) -> HttpResponse:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook(write_only=False)
    ws = wb.active
    ws.title = "access_log"
    ws.append(COLUMNS)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    for r in rows:
        ws.append(_row(r))
    out = io.BytesIO()
    wb.save(out)
    resp = HttpResponse(
        out.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    resp["Content-Disposition"] = 'attachment; filename="access-log.xlsx"'
    return resp


@login_required
def anomaly_report(request: HttpRequest) -> HttpResponse:
    _require_data_admin(request)
    try:
        days = max(1, min(int(request.GET.get("days", "7")), 90))
        threshold = max(2, min(int(request.GET.get("threshold", "20")), 10_000))
    except ValueError:
        days, threshold = 7, 20
    report = anomalies(access_log_for_admin(request.user), days=days, subjects_threshold=threshold)
    return render(request, "exchange/anomalies.html", {"r": report, "days": days, "threshold": threshold})
