"""Back-office pages (DESIGN §1, §5, §11): the approver's worklist, the case page, the delivery
window, the supervisor's board and "my cases".

Every page starts from the scoped queries (`visible_cases`, `visible_work_items`, `get_case_for`,
`get_work_item_for`), so a case outside the user's scope is a 404 and lists are filtered by scope.
Every state change goes through a service function; its errors become messages naming the
field (or, for a 409, the current status), followed by a redirect (POST → redirect → GET).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, F, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from onewindow.cases import bundles, services
from onewindow.cases.filters import CaseListFilter
from onewindow.cases.models import (
    OPEN_STATUSES,
    CaseStatus,
    Delivery,
    DeliveryMethod,
    Outcome,
    SlaLevel,
    SuspensionKind,
    WorkItemStatus,
)
from onewindow.cases.queries import get_case_for, get_work_item_for, visible_cases, visible_work_items
from onewindow.catalog.models import CaseType, ProcessAction
from onewindow.core.errors import ConflictError, DomainError, ForbiddenError, NotFoundError
from onewindow.core.htmx import is_htmx, template_for
from onewindow.core.permissions import PermissionDeniedError, has_role, region_q
from onewindow.core.roles import Role

PAGE_SIZE = 25

# Field names of service errors, as the user reads them.
FIELD_LABELS = {
    "outcome": gettext_lazy("决定"),
    "opinion": gettext_lazy("意见"),
    "basis": gettext_lazy("法律依据"),
    "reason": gettext_lazy("理由"),
    "workdays": gettext_lazy("延长工作日"),
    "method": gettext_lazy("送达方式"),
    "received_by": gettext_lazy("签收人"),
    "courier": gettext_lazy("快递公司"),
    "waybill": gettext_lazy("运单号"),
    "address": gettext_lazy("地址"),
    "materials": gettext_lazy("材料"),
}

EVENT_LABELS = {
    "submit": gettext_lazy("提交申请"),
    "correction_notice": gettext_lazy("一次性告知补正"),
    "receive_correction": gettext_lazy("接收补正材料"),
    "not_accept": gettext_lazy("不予受理"),
    "accept": gettext_lazy("受理"),
    "deem_accept": gettext_lazy("视为受理"),
    "review_start": gettext_lazy("开始审查"),
    "step_approve": gettext_lazy("环节审查通过"),
    "approve": gettext_lazy("准予许可"),
    "refuse": gettext_lazy("不予许可"),
    "return": gettext_lazy("退回上一环节"),
    "suspend": gettext_lazy("挂起"),
    "resume": gettext_lazy("恢复办理"),
    "extend": gettext_lazy("延长审批期限"),
    "outputs_ready": gettext_lazy("结果已生成，待出件"),
    "deliver": gettext_lazy("送达"),
    "withdraw": gettext_lazy("撤回"),
    "close": gettext_lazy("办结归档"),
    "terminate": gettext_lazy("终止"),
}

SPECIAL_PROCEDURES = [
    ("hearing", gettext_lazy("听证")),
    ("inspection", gettext_lazy("现场核查")),
    ("expert_review", gettext_lazy("专家评审")),
]


# ---------------------------------------------------------------------------------------------
# Plumbing


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "403.html", status=403)


def role_required(*wanted: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Log in first; then 403 unless the user holds one of `wanted` (or sysadmin) somewhere.
    The scope of each row is the job of the scoped queries."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if wanted and not has_role(request.user, wanted):
                return _forbidden(request)
            try:
                return view(request, *args, **kwargs)
            except NotFoundError as exc:
                raise Http404(str(exc.message)) from exc
            except (PermissionDeniedError, ForbiddenError):
                return _forbidden(request)

        return wrapped

    return decorator


def _status_label(value: str) -> str:
    try:
        return str(CaseStatus(value).label)
    except ValueError:
        return value


def _error_text(exc: DomainError) -> str:
    """The message of a service error, with each field named, and for a conflict the case's
    current status."""
    text = str(exc.message)
    parts = []
    for name, msgs in (exc.fields or {}).items():
        label = FIELD_LABELS.get(name, name)
        parts.append(f"{label}：{'；'.join(str(m) for m in msgs)}")
    if parts:
        text = f"{text}（{'；'.join(parts)}）"
    if isinstance(exc, ConflictError):
        status = exc.extra.get("status")
        wi_status = exc.extra.get("work_item_status")
        if status and _status_label(status) not in text:
            text += " " + _("（办件当前状态：%(status)s）") % {"status": _status_label(status)}
        if wi_status:
            try:
                wi_label = str(WorkItemStatus(wi_status).label)
            except ValueError:
                wi_label = wi_status
            text += " " + _("（任务当前状态：%(status)s）") % {"status": wi_label}
    return text


def _run(request: HttpRequest, action: Callable[[], Any], success: str) -> bool:
    """Call a service; success or its error as a message. Not-found and permission errors
    propagate (404 / 403)."""
    try:
        action()
    except (NotFoundError, PermissionDeniedError, ForbiddenError):
        raise
    except DomainError as exc:
        messages.error(request, _error_text(exc))
        return False
    messages.success(request, success)
    return True


def _back(request: HttpRequest, default: str) -> HttpResponseRedirect:
    """PRG: 303 to `next` when it is a local URL, else to `default`. htmx follows the redirect
    and gets the partial of the page it came from."""
    target = request.POST.get("next") or ""
    local = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    if not (local and target.startswith("/")):
        target = default
    response = HttpResponseRedirect(target)
    response.status_code = 303
    return response


def _page(request: HttpRequest, qs: Any) -> Any:
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


def _render_list(
    request: HttpRequest, page_tpl: str, partial_tpl: str, context: dict[str, Any]
) -> HttpResponse:
    context["is_partial"] = is_htmx(request)
    response = render(request, template_for(request, page_tpl, partial_tpl), context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def nav_context(user: Any) -> dict[str, bool]:
    return {
        "nav_worklist": has_role(user, Role.APPROVER),
        "nav_delivery": has_role(user, Role.DELIVERY_CLERK),
        "nav_supervision": has_role(user, Role.SUPERVISOR),
    }


# ---------------------------------------------------------------------------------------------
# 1. Worklist


def _worklist_rows(user: Any) -> Any:
    return visible_work_items(user).select_related("case__handling_department", "case__accept_region")


@require_GET
@role_required(Role.APPROVER)
def worklist(request: HttpRequest) -> HttpResponse:
    f = CaseListFilter(request.GET, kind="work_item")
    qs = f.apply(_worklist_rows(request.user), request.user).order_by(
        F("case__promised_due").asc(nulls_last=True), "due", "id"
    )
    page = _page(request, qs)
    for wi in page.object_list:
        allowed = set(wi.actions or []) | {Outcome.APPROVE}
        wi.outcome_choices = [(v, label) for v, label in Outcome.choices if v in allowed]
        wi.allows_special = ProcessAction.SPECIAL_PROCEDURE in (wi.actions or [])
    context = {
        "filter": f,
        "params": f.params(),
        "page": page,
        "special_procedures": SPECIAL_PROCEDURES,
        **nav_context(request.user),
    }
    return _render_list(
        request, "cases/backoffice/worklist.html", "cases/backoffice/partials/worklist_results.html", context
    )


def _worklist_url() -> str:
    return reverse("cases_backoffice:worklist")


@require_POST
@role_required(Role.APPROVER)
def claim(request: HttpRequest, public_id: str) -> HttpResponse:
    wi = get_work_item_for(request.user, public_id)
    _run(
        request,
        lambda: services.claim_work_item(wi, actor=request.user),
        _("已认领办件 %(number)s 的“%(step)s”环节") % {"number": wi.case.number, "step": wi.step_name},
    )
    return _back(request, _worklist_url())


@require_POST
@role_required(Role.APPROVER)
def decide(request: HttpRequest, public_id: str) -> HttpResponse:
    wi = get_work_item_for(request.user, public_id)
    outcome = request.POST.get("outcome", "")
    try:
        label = Outcome(outcome).label
    except ValueError:
        label = outcome
    _run(
        request,
        lambda: services.decide_work_item(
            wi,
            actor=request.user,
            outcome=outcome,
            opinion=request.POST.get("opinion", ""),
            basis=request.POST.get("basis", ""),
        ),
        _("办件 %(number)s：“%(step)s”环节已%(outcome)s")
        % {"number": wi.case.number, "step": wi.step_name, "outcome": label},
    )
    return _back(request, _worklist_url())


@require_POST
@role_required(Role.APPROVER)
def special(request: HttpRequest, public_id: str) -> HttpResponse:
    wi = get_work_item_for(request.user, public_id)
    procedure = request.POST.get("procedure", "hearing")
    if procedure not in dict(SPECIAL_PROCEDURES):
        procedure = "hearing"
    _run(
        request,
        lambda: services.start_special_procedure(
            wi, actor=request.user, reason=request.POST.get("reason", ""), procedure=procedure
        ),
        _("办件 %(number)s 已启动特别程序，计时暂停") % {"number": wi.case.number},
    )
    return _back(request, _worklist_url())


# ---------------------------------------------------------------------------------------------
# 2. Case page


def _case_actions(user: Any, case: Any) -> dict[str, bool]:
    dept_approver = has_role(
        user, Role.APPROVER, region=case.handling_region.code, department=case.handling_department_id
    )
    own = services.is_own_case(user, case)
    intake = services.may_handle_intake(user, case)
    return {
        "can_resume": case.status == CaseStatus.SUSPENDED
        and (dept_approver or (case.suspension == SuspensionKind.CORRECTION and (intake or own))),
        "can_extend": case.status == CaseStatus.IN_REVIEW
        and dept_approver
        and case.extended_workdays < services.MAX_EXTENSION_WORKDAYS,
        "can_withdraw": case.status in (OPEN_STATUSES - {CaseStatus.REFUSED, CaseStatus.READY})
        and (own or has_role(user, Role.INTAKE_CLERK, region=case.accept_region.code)),
        "can_deliver": case.status in (CaseStatus.READY, CaseStatus.REFUSED)
        and has_role(user, Role.DELIVERY_CLERK)
        and services.may_deliver(user, case),
    }


@require_GET
@role_required()
def detail(request: HttpRequest, number: str) -> HttpResponse:
    case = get_case_for(request.user, number)
    work_items = list(
        case.work_items.select_related("department", "assignee", "decided_by").order_by(
            "step_seq", "department__code", "id"
        )
    )
    steps: dict[int, dict[str, Any]] = {}
    for wi in work_items:
        step = steps.setdefault(wi.step_seq, {"seq": wi.step_seq, "name": wi.step_name, "items": []})
        step["items"].append(wi)
    events = list(case.events.order_by("at", "id"))
    for ev in events:
        ev.label = EVENT_LABELS.get(ev.kind, ev.kind)
    try:
        delivery = case.delivery
    except Delivery.DoesNotExist:
        delivery = None
    extra_visits = case.visits - (case.item.max_visits if case.item_id else 1)
    # Only the children this user may see (another department's child stays invisible).
    children = list(
        visible_cases(request.user)
        .filter(parent=case)
        .select_related("item", "handling_department")
        .order_by("stage_seq", "number")
    )
    context = {
        "case": case,
        "materials": list(case.materials.all()),
        "steps": list(steps.values()),
        "events": events,
        "delivery": delivery,
        "children": children,
        # 一件事: the children by stage (progress), for a parent case.
        "stages": bundles.progress(case, children) if case.bundle_id else [],
        "is_immediate": bool(case.item_id and case.item.case_type == CaseType.IMMEDIATE),
        "over_visits": extra_visits > 0,
        "max_extension": services.MAX_EXTENSION_WORKDAYS - case.extended_workdays,
        **_case_actions(request.user, case),
        **nav_context(request.user),
    }
    return render(request, "cases/backoffice/detail.html", context)


def _detail_url(number: str) -> str:
    return reverse("cases_backoffice:detail", args=[number])


@require_POST
@role_required()
def resume(request: HttpRequest, number: str) -> HttpResponse:
    case = get_case_for(request.user, number)
    _run(
        request,
        lambda: services.resume_case(
            case,
            actor=request.user,
            note=request.POST.get("note", ""),
            in_person=request.POST.get("in_person") == "1",
        ),
        _("办件 %(number)s 已恢复办理") % {"number": case.number},
    )
    return _back(request, _detail_url(case.number))


@require_POST
@role_required(Role.APPROVER)
def extend(request: HttpRequest, number: str) -> HttpResponse:
    case = get_case_for(request.user, number)
    raw = request.POST.get("workdays", "")
    try:
        workdays = int(raw)
    except ValueError:
        messages.error(request, f"{FIELD_LABELS['workdays']}：{_('请填写整数')}")
        return _back(request, _detail_url(case.number))
    _run(
        request,
        lambda: services.extend_case(
            case, actor=request.user, workdays=workdays, reason=request.POST.get("reason", "")
        ),
        _("办件 %(number)s 已延长 %(n)d 个工作日") % {"number": case.number, "n": workdays},
    )
    return _back(request, _detail_url(case.number))


@require_POST
@role_required()
def withdraw(request: HttpRequest, number: str) -> HttpResponse:
    case = get_case_for(request.user, number)
    _run(
        request,
        lambda: services.withdraw_case(case, actor=request.user, reason=request.POST.get("reason", "")),
        _("办件 %(number)s 已撤回") % {"number": case.number},
    )
    return _back(request, _detail_url(case.number))


# ---------------------------------------------------------------------------------------------
# 3. Delivery window


def _delivery_scope(user: Any) -> Q:
    """Where the user delivers: the case's delivery hall (or, without one, where it was received)
    or where it was handled: the same rule as `services.may_deliver`."""
    return (
        region_q(user, Role.DELIVERY_CLERK, "deliver_hall__region__code")
        | (Q(deliver_hall__isnull=True) & region_q(user, Role.DELIVERY_CLERK, "accept_region__code"))
        | region_q(user, Role.DELIVERY_CLERK, "handling_region__code")
    )


@require_GET
@role_required(Role.DELIVERY_CLERK)
def delivery(request: HttpRequest) -> HttpResponse:
    f = CaseListFilter(request.GET, kind="case")
    qs = (
        visible_cases(request.user)
        .filter(_delivery_scope(request.user))
        .filter(status__in=[CaseStatus.READY, CaseStatus.REFUSED])
    )
    qs = f.apply(qs).order_by(F("decided_at").asc(nulls_last=True), "id")
    context = {
        "filter": f,
        "params": f.params(),
        "page": _page(request, qs),
        "methods": DeliveryMethod.choices,
        **nav_context(request.user),
    }
    return _render_list(
        request, "cases/backoffice/delivery.html", "cases/backoffice/partials/delivery_results.html", context
    )


@require_POST
@role_required(Role.DELIVERY_CLERK)
def deliver(request: HttpRequest, number: str) -> HttpResponse:
    case = get_case_for(request.user, number)
    method = request.POST.get("method", "")
    try:
        label = DeliveryMethod(method).label
    except ValueError:
        label = method
    _run(
        request,
        lambda: services.deliver_case(
            case,
            actor=request.user,
            method=method,
            courier=request.POST.get("courier", ""),
            waybill=request.POST.get("waybill", ""),
            address=request.POST.get("address", ""),
            received_by=request.POST.get("received_by", ""),
        ),
        _("办件 %(number)s 已送达（%(method)s）") % {"number": case.number, "method": label},
    )
    return _back(request, reverse("cases_backoffice:delivery"))


# ---------------------------------------------------------------------------------------------
# 4. Supervisor board


@require_GET
@role_required(Role.SUPERVISOR)
def supervision(request: HttpRequest) -> HttpResponse:
    user = request.user
    scope = region_q(user, Role.SUPERVISOR, "handling_region__code") | region_q(
        user, Role.SUPERVISOR, "accept_region__code"
    )
    warned = (
        visible_cases(user)
        .filter(scope)
        .filter(status__in=OPEN_STATUSES)
        .filter(Q(sla__in=[SlaLevel.YELLOW, SlaLevel.RED]) | Q(legal_breach=True))
    )
    counts = warned.aggregate(
        yellow=Count("id", filter=Q(sla=SlaLevel.YELLOW)),
        red=Count("id", filter=Q(sla=SlaLevel.RED)),
        breach=Count("id", filter=Q(legal_breach=True)),
        total=Count("id"),
    )
    by_department = (
        warned.values("handling_department__name", "handling_department__name_en")
        .annotate(
            yellow=Count("id", filter=Q(sla=SlaLevel.YELLOW)),
            red=Count("id", filter=Q(sla=SlaLevel.RED)),
            breach=Count("id", filter=Q(legal_breach=True)),
            total=Count("id"),
        )
        .order_by("-red", "-total", "handling_department__name")
    )
    level = request.GET.get("level", "")
    rows_qs = warned
    if level in (SlaLevel.YELLOW, SlaLevel.RED):
        rows_qs = rows_qs.filter(sla=level)
    elif level == "breach":
        rows_qs = rows_qs.filter(legal_breach=True)
    rows_qs = rows_qs.order_by(F("promised_due").asc(nulls_last=True), "received_at")
    page = _page(request, rows_qs)
    today = timezone.localdate()
    for case in page.object_list:
        case.days_over = _days_over(case.promised_due, today)
        case.legal_days_over = _days_over(case.legal_due, today)
    context = {
        "counts": counts,
        "by_department": by_department,
        "page": page,
        "level": level,
        "today": today,
        **nav_context(user),
    }
    return render(request, "cases/backoffice/supervision.html", context)


def _days_over(due: date | None, today: date) -> int:
    return max(0, (today - due).days) if due else 0


# ---------------------------------------------------------------------------------------------
# 5. My cases


@require_GET
@role_required()
def case_list(request: HttpRequest) -> HttpResponse:
    f = CaseListFilter(request.GET, kind="case")
    qs = f.apply(visible_cases(request.user)).order_by("-received_at", "-id")
    context = {"filter": f, "params": f.params(), "page": _page(request, qs), **nav_context(request.user)}
    page_tpl = "cases/backoffice/case_list.html"
    partial_tpl = "cases/backoffice/partials/case_list_results.html"
    return _render_list(request, page_tpl, partial_tpl, context)
