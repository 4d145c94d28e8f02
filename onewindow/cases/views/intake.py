"""The comprehensive-window intake pages (综合受理, DESIGN §1, §5, §11).

A clerk at any comprehensive window finds the item (only items whose 通办 scope covers the
clerk's hall), identifies the applicant, fills in the item's form, records how each material
was received, and then accepts (受理), sends a one-time correction notice (一次性告知) or does
not accept (不予受理). Everything goes through the service functions; their errors are put
back on the fields the clerk entered, and nothing is saved when any of them fails (the
submission and the decision run in one transaction). Printed documents: the notice page (and
PDF) and the acceptance receipt PDF (`receipts`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from onewindow.cases import receipts, services
from onewindow.cases.forms import IntakeForms, check_id_number
from onewindow.cases.models import Case, CaseStatus, Channel
from onewindow.cases.queries import get_case_for
from onewindow.catalog.models import Bundle, ItemState, ServiceItem
from onewindow.catalog.queries import search_items
from onewindow.core.errors import ConflictError, DomainError, ForbiddenError, InvalidError, NotFoundError
from onewindow.core.htmx import is_htmx, template_for
from onewindow.core.permissions import PermissionDeniedError, grants, has_role
from onewindow.core.roles import Role
from onewindow.org.models import Hall, Region

MAX_RESULTS = 20  # search results shown
MAX_SCANNED = 400  # candidates checked against the 通办 scope, so a search stays bounded


@dataclass
class Post:
    """Where the clerk works: the hall of their intake grant (its region decides 通办 scope)."""

    hall: Hall | None
    region: Region | None


def clerk_post(user: Any) -> Post:
    for g in grants(user):
        if g.role == Role.INTAKE_CLERK and g.hall_id:
            hall = Hall.objects.select_related("region").filter(pk=g.hall_id).first()
            if hall is not None:
                return Post(hall, hall.region)
    for g in grants(user):
        if g.role in (Role.INTAKE_CLERK, Role.SYSADMIN) and g.region_code:
            return Post(None, Region.objects.filter(code=g.region_code).first())
    return Post(None, None)


def intake_clerk_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous → login; a user without the intake_clerk role → 403."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not has_role(request.user, Role.INTAKE_CLERK):
            raise PermissionDenied("intake clerk required")
        return view(request, *args, **kwargs)

    return wrapped


def in_scope(item: ServiceItem, region: Region | None) -> bool:
    """May an item be accepted in `region` (its 通办 scope around the handling department)?"""
    if region is None:
        return False
    try:
        services.check_handle_scope(item, region, item.department.region)
    except ForbiddenError:
        return False
    return True


def scoped_search(q: str, region: Region | None) -> list[ServiceItem]:
    """At most MAX_RESULTS active items matching `q` that may be accepted in `region`."""
    found: list[ServiceItem] = []
    if not q or region is None:
        return found
    for item in search_items(q).select_related("department__region")[:MAX_SCANNED]:
        if in_scope(item, region):
            found.append(item)
            if len(found) >= MAX_RESULTS:
                break
    return found


def _error_page(request: HttpRequest, message: Any, status: int) -> HttpResponse:
    return render(request, "cases/intake/error.html", {"message": message, "status": status}, status=status)


# ---------------------------------------------------------------------------------------------
# 1. Find the item


@require_GET
@intake_clerk_required
def start(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:100]
    post = clerk_post(request.user)
    context = {
        "q": q,
        "post": post,
        "items": scoped_search(q, post.region),
        "max_results": MAX_RESULTS,
        # 一件事: the bundles that may be taken at any comprehensive window.
        "bundles": Bundle.objects.filter(state=ItemState.ACTIVE).order_by("code"),
    }
    response = render(
        request,
        template_for(request, "cases/intake/start.html", "cases/intake/partials/results.html"),
        context,
    )
    patch_vary_headers(response, ("HX-Request",))
    return response


@require_GET
@intake_clerk_required
def check_id(request: HttpRequest) -> HttpResponse:
    """htmx check-on-blur of the applicant's ID number or USCC (the checksum only)."""
    id_type = request.GET.get("a-id_type", "resident_id")
    number = request.GET.get("a-id_number", "").strip()[:40]
    context: dict[str, Any] = {"number": number, "ok": False, "message": "", "coverage": None}
    if number:
        try:
            context["normalised"] = check_id_number(id_type, number)
            context["ok"] = True
        except ValidationError as exc:
            context["message"] = "；".join(str(m) for m in exc.messages)
    code = request.GET.get("item", "")[:64]
    if context["ok"] and code:
        # 一证通办: what the platform can obtain for this applicant (existence checks are logged).
        from onewindow.exchange.resolver import resolve

        try:
            item = services.active_item(code)
        except NotFoundError:
            item = None
        if item is not None:
            rows = resolve(item, context["normalised"], actor=request.user)
            context["coverage"] = rows
            context["covered"] = sum(r.covered for r in rows)
    return render(request, "cases/intake/partials/id_check.html", context)


# ---------------------------------------------------------------------------------------------
# 2. The intake form


def _item_or_404(code: str) -> ServiceItem:
    try:
        return services.active_item(code)
    except NotFoundError as exc:
        raise Http404(str(exc.message)) from exc


def _render_item(
    request: HttpRequest, item: ServiceItem, forms: IntakeForms, post: Post, status: int = 200
) -> HttpResponse:
    forms.applicant.fields["id_number"].widget.attrs.update(
        {
            "hx-get": reverse("cases_intake:check_id"),
            "hx-trigger": "blur changed",
            "hx-include": "[name='a-id_type']",
            "hx-vals": json.dumps({"item": item.code}),
            "hx-target": "#id-check",
            "hx-swap": "innerHTML",
            "aria-describedby": "id-check",
        }
    )
    context = {
        "item": item,
        "forms": forms,
        "post": post,
        "material_rows": forms.materials.rows(),
        "has_errors": status >= 400,
        "uploads_chosen": bool(request.FILES),
    }
    return render(request, "cases/intake/item.html", context, status=status)


@require_http_methods(["GET", "POST"])
@intake_clerk_required
def item(request: HttpRequest, code: str) -> HttpResponse:
    item = _item_or_404(code)
    post = clerk_post(request.user)
    if not in_scope(item, post.region):
        where = post.hall.name if post.hall else (post.region.name if post.region else "—")
        return _error_page(
            request,
            _("事项「%(item)s」的通办范围不包括%(where)s，不能在本窗口受理。")
            % {"item": item.name, "where": where},
            403,
        )
    if request.method != "POST":
        return _render_item(request, item, IntakeForms(item), post)

    forms = IntakeForms(item, request.POST, request.FILES)
    if not forms.is_valid():
        return _render_item(request, item, forms, post, status=422)
    action = forms.action
    form_data = forms.item_form.form_data()
    if action == "accept":
        missing = forms.materials.incomplete(form_data)
        if missing:
            names = _("、").join(r.name for r in missing)
            forms.non_field_errors.append(
                _("材料不齐全，不能受理：%(names)s。请补齐，或选择“一次性告知”。") % {"names": names}
            )
            forms.mark_incomplete([r.seq for r in missing], _("受理需要这份材料"))
            return _render_item(request, item, forms, post, status=409)
    try:
        case = _decide(request, item, forms, form_data, action)
    except InvalidError as exc:
        forms.add_service_errors(exc)
        return _render_item(request, item, forms, post, status=422)
    except ConflictError as exc:
        forms.non_field_errors.append(str(exc.message))
        forms.mark_incomplete(list(exc.extra.get("materials") or []), _("受理需要这份材料"))
        return _render_item(request, item, forms, post, status=409)
    except (ForbiddenError, PermissionDeniedError) as exc:
        message = exc.message if isinstance(exc, DomainError) else _("您无权在本窗口受理此事项")
        forms.non_field_errors.append(str(message))
        return _render_item(request, item, forms, post, status=403)
    except NotFoundError as exc:
        raise Http404(str(exc.message)) from exc
    url = reverse("cases_intake:done", args=[case.number])
    if is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


def _decide(
    request: HttpRequest, item: ServiceItem, forms: IntakeForms, form_data: dict[str, Any], action: str
) -> Case:
    """Submit and decide in one transaction: a refused decision leaves nothing behind."""
    user = request.user
    delivery = forms.delivery.cleaned_data
    decision = forms.decision.cleaned_data
    with transaction.atomic():
        case = services.submit_case(
            actor=user,
            item=item,
            applicant=forms.applicant.applicant_in(),
            channel=Channel.WINDOW,
            form_data=form_data,
            materials=forms.materials.materials_in(),
            delivery_method=delivery["delivery_method"],
            delivery_address=delivery.get("delivery_address") or "",
        )
        if delivery.get("consent"):
            from onewindow.exchange.services import consent_for_case

            consent_for_case(case, actor=user)
        if action == "accept":
            case = services.accept_case(case, actor=user)
        elif action == "notice":
            case = services.send_correction_notice(case, actor=user, note=decision.get("note") or "")
        else:
            case = services.not_accept(
                case, actor=user, reason=decision.get("reason") or "", basis=decision.get("basis") or ""
            )
    return case


# ---------------------------------------------------------------------------------------------
# 3–5. After the decision: the result page, the notice, the receipt


def _case_or_404(request: HttpRequest, number: str) -> Case:
    try:
        return get_case_for(request.user, number)
    except NotFoundError as exc:
        raise Http404(str(exc.message)) from exc


@require_GET
@login_required
def done(request: HttpRequest, number: str) -> HttpResponse:
    case = _case_or_404(request, number)
    context = {
        "case": case,
        "case_url": receipts.tracking_path(case.number),
        "accepted": case.accepted_at is not None,
        "awaiting": case.status == CaseStatus.AWAITING_CORRECTION,
        "not_accepted": case.status == CaseStatus.NOT_ACCEPTED,
        "materials": case.materials.all().order_by("seq"),
    }
    return render(request, "cases/intake/done.html", context)


@require_GET
@login_required
def notice(request: HttpRequest, number: str) -> HttpResponse:
    case = _case_or_404(request, number)
    payload = receipts.notice_payload(case, receipts.tracking_url(request, case.number))
    return render(request, "cases/intake/notice.html", {"case": case, "n": payload})


def _pdf(body: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@login_required
def notice_pdf(request: HttpRequest, number: str) -> HttpResponse:
    case = _case_or_404(request, number)
    payload = receipts.notice_payload(case, receipts.tracking_url(request, case.number))
    return _pdf(receipts.notice_pdf(payload), f"notice-{case.number}.pdf")


@require_GET
@login_required
def receipt(request: HttpRequest, number: str) -> HttpResponse:
    case = _case_or_404(request, number)
    if case.accepted_at is None:
        return _error_page(
            request, _("办件 %(number)s 尚未受理，没有受理回执。") % {"number": case.number}, 409
        )
    payload = receipts.receipt_payload(case, receipts.tracking_url(request, case.number))
    return _pdf(receipts.receipt_pdf(payload), f"receipt-{case.number}.pdf")


# ---------------------------------------------------------------------------------------------
# 一件事: one form, one set of materials, one acceptance (DESIGN §4)


class BundleIntakeForms(IntakeForms):
    """The intake forms of a bundle: the merged form and the merged material set."""

    def __init__(self, bundle: Any, requirements: list[Any], data: Any = None, files: Any = None) -> None:
        from onewindow.cases.forms import (
            ApplicantForm,
            DecisionForm,
            DeliveryForm,
            ItemDataForm,
            MaterialsForm,
        )

        self.item = bundle
        self.applicant = ApplicantForm(data, prefix="a")
        self.item_form = ItemDataForm(data, schema=bundle.form_schema or [])
        self.materials = MaterialsForm(data, files, requirements=requirements)
        self.delivery = DeliveryForm(data, prefix="d")
        self.decision = DecisionForm(data, prefix="x")
        self.non_field_errors = []


def _bundle_or_404(code: str) -> Any:
    from onewindow.cases import bundles

    try:
        return bundles.active_bundle(code)
    except NotFoundError as exc:
        raise Http404(str(exc.message)) from exc


@require_http_methods(["GET", "POST"])
@intake_clerk_required
def bundle(request: HttpRequest, code: str) -> HttpResponse:
    from onewindow.cases import bundles

    b = _bundle_or_404(code)
    post = clerk_post(request.user)
    every = bundles.members_of(b, [m.item_code for m in b.members.all()])
    outside = [m.item for m in every if not m.optional and not in_scope(m.item, post.region)]
    if outside:
        where = post.hall.name if post.hall else (post.region.name if post.region else "—")
        return _error_page(
            request,
            _("一件事「%(bundle)s」的成员事项「%(item)s」的通办范围不包括%(where)s，不能在本窗口受理。")
            % {"bundle": b.name, "item": outside[0].name, "where": where},
            403,
        )
    requirements = bundles.merged_requirements(every)
    chosen = request.POST.getlist("members") if request.method == "POST" else []

    def page(forms: BundleIntakeForms, status: int = 200) -> HttpResponse:
        context = {
            "bundle": b,
            "members": every,
            "chosen": set(chosen),
            "forms": forms,
            "post": post,
            "material_rows": forms.materials.rows(),
            "has_errors": status >= 400,
            "uploads_chosen": bool(request.FILES),
        }
        return render(request, "cases/intake/bundle.html", context, status=status)

    if request.method != "POST":
        return page(BundleIntakeForms(b, requirements))
    forms = BundleIntakeForms(b, requirements, request.POST, request.FILES)
    if not forms.is_valid():
        return page(forms, 422)
    action = forms.action
    user = request.user
    delivery = forms.delivery.cleaned_data
    decision = forms.decision.cleaned_data
    try:
        with transaction.atomic():
            case = bundles.submit_bundle(
                actor=user,
                bundle=b,
                applicant=forms.applicant.applicant_in(),
                channel=Channel.WINDOW,
                form_data=forms.item_form.form_data(),
                materials=forms.materials.materials_in(),
                members=chosen,
                delivery_method=delivery["delivery_method"],
                delivery_address=delivery.get("delivery_address") or "",
            )
            if delivery.get("consent"):
                bundles.consent_for_bundle(case, actor=user)
            if action == "accept":
                services.accept_case(case, actor=user)
            elif action == "notice":
                services.send_correction_notice(case, actor=user, note=decision.get("note") or "")
            else:
                services.not_accept(
                    case, actor=user, reason=decision.get("reason") or "", basis=decision.get("basis") or ""
                )
    except InvalidError as exc:
        forms.add_service_errors(exc)
        return page(forms, 422)
    except ConflictError as exc:
        forms.non_field_errors.append(str(exc.message))
        forms.mark_incomplete(list(exc.extra.get("materials") or []), _("受理需要这份材料"))
        return page(forms, 409)
    except (ForbiddenError, PermissionDeniedError) as exc:
        message = exc.message if isinstance(exc, DomainError) else _("您无权在本窗口受理此事项")
        forms.non_field_errors.append(str(message))
        return page(forms, 403)
    url = reverse("cases_intake:done", args=[case.number])
    if is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)
