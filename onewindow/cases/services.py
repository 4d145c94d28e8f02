"""Case transitions (DESIGN §5): each one a service function, atomic, audited, and recorded as a
case event; the current state is re-checked under a row lock, so double clicks and two clerks
at once cannot corrupt a case (the loser gets a 409 with the current status)."""

from __future__ import annotations

import copy
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from onewindow.audit.services import Update, record
from onewindow.cases import clock
from onewindow.cases.models import (
    CLOCK_STATUSES,
    IN_PERSON_CHANNELS,
    OPEN_STATUSES,
    Application,
    Case,
    CaseEvent,
    CaseMaterial,
    CaseSequence,
    CaseStatus,
    Channel,
    Delivery,
    DeliveryMethod,
    MaterialStatus,
    Outcome,
    SatisfiedBy,
    SuspensionKind,
    WorkItem,
    WorkItemStatus,
)
from onewindow.cases.uploads import STORED_EXTENSIONS, check_upload
from onewindow.catalog.formschema import clean_form_data, condition_holds, has_control_chars
from onewindow.catalog.models import HandleScope, ItemState, ProcessAction, ServiceItem
from onewindow.core import fastsql
from onewindow.core.errors import (
    ConflictError,
    ForbiddenError,
    InvalidError,
    NotFoundError,
    from_validation_error,
)
from onewindow.core.i18n import bi
from onewindow.core.permissions import PermissionDeniedError, grants, has_role
from onewindow.core.roles import Role
from onewindow.core.validators import validate_mobile, validate_resident_id, validate_uscc
from onewindow.org.models import LEVEL_DIGITS, ApplicantProfile, Department, Hall, IdType, Region, Window

Actor = AbstractBaseUser | str | None
log = logging.getLogger(__name__)

# Hooks for later apps: fill materials from shared data or licences at acceptance, and issue
# outputs (licences) when a case is approved. Each is called inside the transition's transaction.
material_resolvers: list[Callable[[Case, Actor], None]] = []
output_producers: list[Callable[[Case, Actor], None]] = []
# 一件事 (`cases.bundles`): called inside the transaction after every case event is written,
# with the case as it is in memory (some transitions save the case right after the event).
# Bundles use it to start dependent children, cancel the dependents of a refused child,
# aggregate the parent and deliver the children with their parent. A hook must cost nothing
# (no query) for a case that is neither a bundle parent nor a child.
after_transition: list[Callable[[Case, CaseEvent, Actor], None]] = []


# ---------------------------------------------------------------------------------------------
# Plumbing


def _user(actor: Actor) -> AbstractBaseUser | None:
    return actor if isinstance(actor, AbstractBaseUser) else None


def _actor_name(actor: Actor) -> str:
    if actor is None:
        return "system"
    return actor if isinstance(actor, str) else actor.get_username()


def _is_system(actor: Actor) -> bool:
    """Internal callers (worker, CLI, demo, tests) pass a name instead of a user."""
    return not isinstance(actor, AbstractBaseUser)


def _conflict(case: Case, action: str) -> ConflictError:
    label = CaseStatus(case.status).label
    return ConflictError(
        bi(
            f"办件 {case.number} 当前状态为「{label}」，不能{ACTION_ZH.get(action, action)}",
            f"Case {case.number} is {case.status}: cannot {action.replace('_', ' ')}",
        ),
        code="invalid_transition",
        extra={"status": case.status},
    )


ACTION_ZH = {
    "accept": "受理",
    "not_accept": "不予受理",
    "correction_notice": "一次性告知",
    "receive_correction": "接收补正材料",
    "claim": "认领",
    "decide": "作出决定",
    "request_correction": "要求补正",
    "special_procedure": "启动特别程序",
    "resume": "恢复办理",
    "extend": "延长期限",
    "produce_outputs": "出证",
    "deliver": "送达",
    "withdraw": "撤回",
    "close": "归档",
    "terminate": "终止",
    "deem_accept": "视为受理",
}


# Precompiled statements of the hot paths (see core.fastsql).
_Prepared = fastsql.Prepared
_query = fastsql.prepared
_write = fastsql.update
_insert_rows = fastsql.insert_rows
_insert = fastsql.insert
_new = fastsql.new


# What the transitions read of a case besides its own row (joined, not loaded one by one).
_CASE_RELATED = ("item", "handling_region", "accept_region", "handling_department")
_ACCEPT_RELATED = ("item__process_template", "handling_region", "accept_region")
_DELIVER_RELATED = ("deliver_hall__region", "accept_region", "handling_region")


# Catalogue columns no transition reads (texts and lists shown on the item's page), left out of
# the locked reads that join the item: they are most of the item row's width.
_ITEM_UNREAD = (
    "keywords",
    "legal_basis",
    "served_party",
    "special_procedures",
    "channels",
    "faq",
    "conditions",
    "search_text",
    "visits_reason",
)


def _unread_columns(model: Any) -> tuple[str, ...]:
    if model is ServiceItem:
        return _ITEM_UNREAD
    if model in (Region, Department, Hall):  # reference rows: their times (a template's is read)
        return ("created_at", "updated_at")
    return ()


def _without_unread(qs: Any, related: Iterable[str]) -> Any:
    """`qs` deferring what no transition reads of the rows it joins (`related`, its
    select_related paths): the item's page texts (`_ITEM_UNREAD`) and the reference rows'
    timestamps."""
    deferred: list[str] = []
    for path in dict.fromkeys(p for r in related for p in _prefixes(r)):
        model = qs.model
        for name in path.split("__"):
            model = model._meta.get_field(name).related_model
        deferred += [f"{path}__{c}" for c in _unread_columns(model)]
    return qs.defer(*deferred) if deferred else qs


def _prefixes(path: str) -> list[str]:
    parts = path.split("__")
    return ["__".join(parts[: i + 1]) for i in range(len(parts))]


def _lock(
    case: Case | str, allowed: Iterable[str], action: str, related: tuple[str, ...] = _CASE_RELATED
) -> Case:
    """The case re-read under a row lock; ConflictError (409) when its status does not allow
    `action`. SQLite's IMMEDIATE transactions serialise writers; PostgreSQL locks the row."""
    by, value = ("number", case) if isinstance(case, str) else ("pk", case.pk)
    shown = case if isinstance(case, str) else case.number
    locked = _query(
        ("case", by, related),
        # of=("self",): lock the case row only; PostgreSQL refuses FOR UPDATE on the nullable
        # side of the outer joins, and locking the joined rows would serialise unrelated cases.
        lambda v: _without_unread(
            Case.objects.select_for_update(of=("self",)).select_related(*related), related
        ).filter(**{by: v}),
        _Prepared.STR_MARK if by == "number" else _Prepared.INT_MARK,
    ).first(value)
    if locked is None:
        raise NotFoundError(bi(f"办件不存在：{shown}", f"No such case: {shown}"), code="case_not_found")
    if locked.status not in allowed:
        raise _conflict(locked, action)
    return locked


def _save(case: Case, fields: Iterable[str]) -> None:
    case.row_version += 1
    _write(case, [*fields, "row_version", "updated_at"])


def _event(
    case: Case,
    kind: str,
    actor: Actor,
    *,
    from_status: str = "",
    reason: str = "",
    payload: dict[str, Any] | None = None,
    visit: bool = False,
    at: Any = None,
    count_visit: bool = True,
    save: Iterable[str] | None = None,
    updates: Iterable[Update] = (),
    rows: Iterable[Any] = (),
) -> CaseEvent:
    """The case's event, with its audit entry. The rest of the transition's writes can go with
    them (on PostgreSQL all in one statement): `save`, the case's changed fields (as `_save`
    writes them), `updates`, other rows' changed fields (a work item decided), and `rows`, new
    rows (a delivery)."""
    if visit and count_visit:
        case.visits += 1
    change = None
    if save is not None:
        case.row_version += 1
        change = (case, [*save, "row_version", "updated_at"])
    ev = _new(
        CaseEvent,
        case=case,
        at=at or fastsql.now(),
        actor=_user(actor),
        actor_name=_actor_name(actor),
        kind=kind,
        from_status=from_status,
        to_status=case.status,
        reason=reason,
        payload=payload or {},
        visit=visit,
    )
    record(  # the event is written with its audit entry (one statement on PostgreSQL)
        f"cases.{kind}",
        case,
        actor=actor,
        data={
            "from": from_status,
            "to": case.status,
            "visit": visit,
            **({"reason": reason} if reason else {}),
        },
        rows=[ev, *rows],
        updates=[*updates, *([change] if change else [])],
    )
    for hook in after_transition:  # 一件事: see `after_transition`
        hook(case, ev, actor)
    return ev


def _today() -> date:
    return fastsql.localdate()


def _deny(detail: str = "") -> PermissionDeniedError:
    return PermissionDeniedError(detail=detail)


# ---------------------------------------------------------------------------------------------
# Who may act on a case


def may_handle_intake(actor: Actor, case: Case) -> bool:
    """Intake decisions: a comprehensive-window clerk whose scope covers where the case was
    received, or an approver of the handling department (online pre-review)."""
    if _is_system(actor):
        return True
    return has_role(actor, Role.INTAKE_CLERK, region=case.accept_region.code) or has_role(
        actor, Role.APPROVER, region=case.handling_region.code, department=case.handling_department_id
    )


def may_approve(actor: Actor, work_item: WorkItem) -> bool:
    if _is_system(actor):
        return True
    return has_role(actor, Role.APPROVER, region=work_item.region.code, department=work_item.department_id)


def may_deliver(actor: Actor, case: Case) -> bool:
    if _is_system(actor):
        return True
    region = case.deliver_hall.region.code if case.deliver_hall_id else case.accept_region.code
    return has_role(actor, Role.DELIVERY_CLERK, region=region) or has_role(
        actor, Role.DELIVERY_CLERK, region=case.handling_region.code
    )


def is_own_case(actor: Actor, case: Case) -> bool:
    user = _user(actor)
    if user is None:
        return False
    if case.applicant_user_id == user.pk:
        return True
    profile = ApplicantProfile.objects.filter(user=user).first()
    return profile is not None and profile.id_number == case.applicant_id_number


# ---------------------------------------------------------------------------------------------
# Submission


@dataclass
class ApplicantIn:
    id_type: str
    id_number: str
    name: str
    phone: str = ""
    legal_rep_name: str = ""


@dataclass
class MaterialIn:
    """What the clerk (or applicant) says about one material at intake."""

    seq: int
    satisfied_by: str = ""  # upload | paper | pledge
    status: str = ""  # ok | missing | defective; defaults follow satisfied_by
    reason: str = ""
    file: UploadedFile | None = None


@dataclass
class SubmitResult:
    case: Case
    created: bool = True
    notes: list[str] = field(default_factory=list)


def validate_applicant(applicant: ApplicantIn) -> ApplicantIn:
    """Checks the ID number (GB 11643) or USCC (GB 32100) and the phone; 422 naming the field."""
    errors: dict[str, list[Any]] = {}
    number = applicant.id_number.strip() if applicant.id_number else ""
    try:
        if applicant.id_type == IdType.RESIDENT_ID:
            number = validate_resident_id(number).number
        elif applicant.id_type == IdType.USCC:
            number = validate_uscc(number)
        else:
            errors["applicant.id_type"] = [
                bi("证件类型应为 resident_id 或 uscc", "id_type must be resident_id or uscc")
            ]
    except ValidationError as exc:
        errors["applicant.id_number"] = from_validation_error(exc).fields["__all__"]
    name = (applicant.name or "").strip()
    if has_control_chars(name) or has_control_chars(applicant.legal_rep_name or ""):
        errors["applicant.name"] = [bi("名称包含不允许的控制字符", "the name contains control characters")]
    elif not name:
        errors["applicant.name"] = [bi("申请人名称必填", "the applicant's name is required")]
    elif len(name) > 100:
        errors["applicant.name"] = [bi("申请人名称过长", "the applicant's name is too long")]
    phone = applicant.phone
    if phone:
        try:
            phone = validate_mobile(phone)
        except ValidationError as exc:
            errors["applicant.phone"] = from_validation_error(exc).fields["__all__"]
    if errors:
        first = next(iter(errors))
        raise InvalidError(bi(f"申请人信息有误：{first}", f"Invalid applicant: {first}"), fields=errors)
    return ApplicantIn(
        applicant.id_type, number, name, phone or "", (applicant.legal_rep_name or "").strip()[:50]
    )


def _scope_region(handling: Region, scope: str) -> str:
    """The 12-digit code whose subtree may accept an item of this 通办 scope."""
    level = {HandleScope.HALL: 99, HandleScope.COUNTY: 3, HandleScope.CITY: 2, HandleScope.PROVINCE: 1}[scope]
    if level >= handling.level or scope == HandleScope.HALL:
        return handling.code
    return handling.code[: LEVEL_DIGITS[level]].ljust(12, "0")


def check_handle_scope(item: ServiceItem, accept_region: Region, handling_region: Region) -> None:
    """通办: an item may be accepted anywhere inside its scope around the handling region."""
    scope_code = _scope_region(handling_region, item.handle_scope)
    scope = Region(code=scope_code, level=_level_of(scope_code))
    if item.handle_scope == HandleScope.HALL:
        ok = accept_region.code == handling_region.code
    else:
        ok = scope.contains(accept_region)
    if not ok:
        raise ForbiddenError(
            bi(
                f"事项「{item.name}」的通办范围为{HandleScope(item.handle_scope).label}，不能在{accept_region.name}受理",
                f"Item {item.code} may be accepted only within its scope ({item.handle_scope}), "
                f"not in {accept_region.code}",
            ),
            code="outside_handle_scope",
        )


def _level_of(code: str) -> int:
    from onewindow.org.services import level_of

    return level_of(code)


def _next_number(region_code: str, day: date) -> str:
    """Readable, unique under concurrency: 330803-20261128-00012."""
    prefix = f"{region_code[:6]}-{day:%Y%m%d}"
    return f"{prefix}-{fastsql.next_in_sequence(CaseSequence, prefix):05d}"


def _profile_user(id_number: str) -> int | None:
    """The key of the account whose verified identity is `id_number` (the applicant's own
    account, which sees the case), or None."""
    row = _query(
        ("profile_user",),
        lambda v: ApplicantProfile.objects.filter(id_number=v).values_list("user_id"),
        _Prepared.STR_MARK,
    ).first(id_number)
    return row[0] if row else None


def _clerk_post(actor: Actor) -> tuple[Hall | None, Window | None]:
    for g in grants(_user(actor)):
        if g.role == Role.INTAKE_CLERK and g.hall_id:
            window = (
                _query(
                    ("window",), lambda v: Window.objects.select_related("hall__region").filter(pk=v)
                ).first(g.window_id)
                if g.window_id
                else None
            )
            if window is not None and window.hall_id == g.hall_id:
                return window.hall, window
            hall = Hall.objects.select_related("region").get(pk=g.hall_id)
            return hall, window
    return None, None


def _authorize_submit(actor: Actor, channel: str, applicant: ApplicantIn, hall: Hall | None) -> None:
    if _is_system(actor):
        return
    if channel in (Channel.WINDOW, Channel.KIOSK, Channel.POST):
        if not has_role(actor, Role.INTAKE_CLERK, region=hall.region.code if hall else None):
            raise _deny("intake clerk required")
    elif channel == Channel.GRID:
        if not has_role(actor, Role.GRID_AGENT):
            raise _deny("grid agent required")
    elif channel == Channel.API:
        if not has_role(actor, Role.INTAKE_CLERK):
            raise _deny("intake clerk required")
    else:  # online / mobile: applicants apply for themselves
        user = _user(actor)
        profile = (
            None
            if user is None
            else _query(
                ("profile_of_user",),
                lambda v: ApplicantProfile.objects.filter(user_id=v).values_list("id_number"),
            ).first(user.pk)
        )
        if profile is None or profile[0] != applicant.id_number:
            raise ForbiddenError(
                bi(
                    "网上申请只能以本人（本单位）身份提交",
                    "Online applications can only be made for yourself",
                ),
                code="not_own_identity",
            )


def _build_materials(
    case: Case,
    item: ServiceItem,
    form_data: dict[str, Any],
    given: dict[int, MaterialIn],
    *,
    self_service: bool = False,
) -> list[CaseMaterial]:
    rows: list[CaseMaterial] = []
    errors: dict[str, list[Any]] = {}
    reqs = _item_materials(item)
    known = {r.seq for r in reqs}
    for seq, g in given.items():
        if seq not in known:
            errors[f"materials.{seq}"] = [bi("事项没有这一材料", "no such material for this item")]
        elif g.status and g.status not in MaterialStatus.values:
            errors[f"materials.{seq}.status"] = [bi("材料状态无效", "invalid material status")]
    for req in reqs:
        applies = condition_holds(req.condition, form_data)
        if not applies:
            if req.seq in given and given[req.seq].satisfied_by:
                errors[f"materials.{req.seq}"] = [
                    bi("按所填表单，本材料无需提交", "this material does not apply to what the form says")
                ]
            continue
        m = _new(
            CaseMaterial,
            case=case,
            requirement=req,
            seq=req.seq,
            name=req.name,
            required=req.required,
            source=req.source,
        )
        if fill_material(m, req.source_kind, given.get(req.seq), errors, self_service=self_service):
            rows.append(m)
    if errors:
        raise InvalidError(bi("材料信息有误", "Invalid materials"), fields=errors)
    return rows


def _self_service_refusal(kind: str, g: MaterialIn | None) -> Any:
    """Applicants acting for themselves (online, or answering a correction) can upload a file,
    or sign a pledge where the item offers one; a paper check is the clerk's to make."""
    if g is None or not g.satisfied_by or g.satisfied_by == SatisfiedBy.UPLOAD:
        return None
    if g.satisfied_by == SatisfiedBy.PLEDGE and kind == "pledge":
        return None
    return bi(
        "申请人只能上传材料（或在可告知承诺的材料上签署承诺）",
        "Applicants may only upload a material (or sign a pledge where one is offered)",
    )


def fill_material(
    m: CaseMaterial,
    kind: str,
    g: MaterialIn | None,
    errors: dict[str, list[Any]],
    *,
    self_service: bool = False,
) -> bool:
    """How a new case material stands, from its source kind and what the applicant (or clerk)
    said about it: pledges and exemptions are satisfied, shared data and licences are "to
    supply" until fetched, a paper check or an upload (checked by content and size) satisfies
    it, or it is marked missing/defective with the reason. False (with `errors` filled under
    `materials.<seq>…`) when the input is invalid."""
    seq = m.seq
    if self_service and (refusal := _self_service_refusal(kind, g)) is not None:
        errors[f"materials.{seq}.satisfied_by"] = [refusal]
        return False
    if kind == "pledge":
        m.satisfied_by, m.status = SatisfiedBy.PLEDGE, MaterialStatus.OK
    elif kind == "exempt":
        m.satisfied_by, m.status = SatisfiedBy.EXEMPT, MaterialStatus.OK
    elif kind in ("data", "licence") and not (g and g.satisfied_by):
        m.status = MaterialStatus.TO_SUPPLY
    if g is not None and g.status and g.status not in MaterialStatus.values:
        errors[f"materials.{seq}.status"] = [bi("材料状态无效", "invalid material status")]
        return False
    if g is not None and g.satisfied_by:
        if g.satisfied_by not in (SatisfiedBy.UPLOAD, SatisfiedBy.PAPER, SatisfiedBy.PLEDGE):
            errors[f"materials.{seq}.satisfied_by"] = [
                bi("提交方式应为 upload、paper 或 pledge", "satisfied_by must be upload, paper or pledge")
            ]
            return False
        m.satisfied_by = g.satisfied_by
        m.status = g.status or MaterialStatus.OK
        m.reason = (g.reason or "")[:300]
        if g.satisfied_by == SatisfiedBy.UPLOAD and not _attach_upload(m, g, errors):
            return False
    elif g is not None and g.status in (MaterialStatus.DEFECTIVE, MaterialStatus.MISSING):
        m.status, m.reason = g.status, (g.reason or "")[:300]
    return True


def _attach_upload(m: CaseMaterial, g: MaterialIn, errors: dict[str, list[Any]]) -> bool:
    if g.file is None:
        errors[f"materials.{m.seq}.file"] = [bi("请上传文件", "a file is required for an upload")]
        return False
    try:
        info = check_upload(g.file)
    except InvalidError as exc:
        errors[f"materials.{m.seq}.file"] = [exc.message]
        return False
    # Stored under a random name of its own with its content's extension, in the month's folder:
    # the applicant's file name (often a person's name) stays out of the storage's paths and
    # never clashes with an earlier upload's (Django would look for a free name with one
    # more existence check and a random suffix). The name given is kept for display.
    # (A copy of the caller's file object renamed: the object itself keeps its name.)
    stored = copy.copy(g.file)
    stored.name = uuid.uuid4().hex + STORED_EXTENSIONS[info.content_type]
    m.file, m.file_name, m.file_hash = stored, info.name, info.sha256
    m.file_size, m.content_type = info.size, info.content_type
    return True


# What a submission never reads of the item: the texts of its page (its channels, parties
# served and form are read).
_ITEM_UNREAD_AT_SUBMIT = tuple(f for f in _ITEM_UNREAD if f not in ("channels", "served_party"))


def _items_at_submit() -> Any:
    """Items, as a submission reads them (their department, region and template)."""
    return ServiceItem.objects.select_related("department__region", "process_template").defer(
        *_ITEM_UNREAD_AT_SUBMIT
    )


def _no_active_item(code: str) -> NotFoundError:
    return NotFoundError(
        bi(f"事项不存在或未启用：{code}", f"No active service item: {code}"), code="item_not_found"
    )


def active_item(code: str) -> ServiceItem:
    item = _query(
        ("active_item",),
        lambda v: _items_at_submit().filter(code=v, state=ItemState.ACTIVE),
        _Prepared.STR_MARK,
    ).first(code)
    if item is None:
        raise _no_active_item(code)
    return item


def active_items(codes: Iterable[str], bundle_id: int) -> dict[str, ServiceItem]:
    """The active item of each of `codes`, members of the bundle `bundle_id`, by code: one
    compiled query for all the bundle's members (one active version per code is a database
    constraint); NotFoundError for a code without one, as `active_item`.

    Every version of the members' codes is read and the active one kept here: with the state in
    the WHERE clause SQLite (without statistics, as a fresh database has none) chose the index on
    (state, department) and scanned all ~1,000 active items, 1.6 ms instead of 0.1 ms."""
    from onewindow.catalog.models import BundleMember

    found = {
        item.code: item
        for item in _query(
            ("bundle_item_versions",),
            lambda v: (
                _items_at_submit()
                .filter(code__in=BundleMember.objects.filter(bundle_id=v).values("item_code"))
                .order_by()
            ),
        ).all(bundle_id)
        if item.state == ItemState.ACTIVE
    }
    for code in codes:
        if code not in found:
            raise _no_active_item(code)
    return found


@transaction.atomic
def submit_case(
    *,
    actor: Actor,
    item: ServiceItem | str,
    applicant: ApplicantIn,
    channel: str,
    form_data: dict[str, Any] | None = None,
    materials: Iterable[MaterialIn] = (),
    accept_hall: Hall | None = None,
    deliver_hall: Hall | None = None,
    delivery_method: str | None = None,
    delivery_address: str = "",
    delegation: str = "",
) -> Case:
    """Submit an application for one item through any channel (DESIGN §5: — → SUBMITTED).

    At a window the clerk's hall is where the case is received and, by default, delivered;
    the item's 通办 scope must cover that hall. Nothing is saved when any input is invalid."""
    if isinstance(item, str):
        item = active_item(item)
    if channel not in Channel.values:
        raise InvalidError(
            bi(f"渠道无效：{channel}", f"Unknown channel: {channel}"),
            fields={"channel": [bi("取值无效", "invalid value")]},
        )
    applicant = validate_applicant(applicant)
    cleaned = clean_form_data(item.form_schema or [], form_data)
    window = None
    if (
        accept_hall is None
        and channel in (Channel.WINDOW, Channel.KIOSK, Channel.POST)
        and not _is_system(actor)
    ):
        accept_hall, window = _clerk_post(actor)
        if accept_hall is None:
            raise ForbiddenError(
                bi("您没有在服务大厅的受理窗口岗位", "You are not posted at a hall's window"),
                code="no_window",
            )
    api_region: Region | None = None
    if channel == Channel.API and not _is_system(actor) and accept_hall is None:
        # A system submitting for a clerk: received where that clerk is posted (or their region),
        # so the 通办 scope applies as at a window.
        accept_hall, window = _clerk_post(actor)
        if accept_hall is None:
            clerk = [g for g in grants(_user(actor)) if g.role == Role.INTAKE_CLERK]
            if clerk:
                api_region = Region.objects.get(code=clerk[0].region_code)
    _authorize_submit(actor, channel, applicant, accept_hall)
    handling_region = item.department.region
    accept_region = accept_hall.region if accept_hall else (api_region or handling_region)
    if channel == Channel.GRID:
        agent_regions = [g for g in grants(_user(actor)) if g.role == Role.GRID_AGENT]
        if agent_regions:
            accept_region = Region.objects.get(code=agent_regions[0].region_code)
        if not delegation.strip():
            raise InvalidError(
                bi("网格代办须填写委托记录", "A grid agent needs the villager's delegation"),
                fields={"delegation": [bi("必填", "required")]},
            )
    check_handle_scope(item, accept_region, handling_region)
    method = delivery_method or (DeliveryMethod.WINDOW if accept_hall else DeliveryMethod.ELECTRONIC)
    if method not in DeliveryMethod.values:
        raise InvalidError(
            bi("送达方式无效", "Invalid delivery method"),
            fields={"delivery_method": [bi("取值无效", "invalid value")]},
        )
    if method == DeliveryMethod.COURIER and not delivery_address.strip():
        raise InvalidError(
            bi("邮寄送达须填写地址", "Courier delivery needs an address"),
            fields={"delivery_address": [bi("必填", "required")]},
        )
    now = fastsql.now()
    user = _user(actor)
    application = _insert(_new(Application, channel=channel, submitted_by=user))
    profile_user = _profile_user(applicant.id_number)
    case = _new(
        Case,
        number=_next_number(accept_region.code, fastsql.localdate(now)),
        application=application,
        item=item,
        applicant_type=applicant.id_type,
        applicant_id_number=applicant.id_number,
        applicant_name=applicant.name,
        applicant_phone=applicant.phone,
        legal_rep_name=applicant.legal_rep_name,
        applicant_user_id=profile_user,
        agent=user if channel == Channel.GRID else None,
        delegation=delegation.strip()[:200],
        channel=channel,
        accept_hall=accept_hall,
        accept_window=window,
        accept_region=accept_region,
        handling_department=item.department,
        handling_region=handling_region,
        deliver_hall=deliver_hall or accept_hall,
        delivery_method=method,
        delivery_address=delivery_address.strip()[:300],
        form_data=cleaned,
        status=CaseStatus.SUBMITTED,
        received_at=now,
        created_by=user,
    )
    visit = channel in IN_PERSON_CHANNELS
    rows = _build_materials(
        case,
        item,
        cleaned,
        {m.seq: m for m in materials},
        self_service=channel in (Channel.ONLINE, Channel.MOBILE) and not _is_system(actor),
    )
    # The intake visit is counted in the inserted row (no second write of the case).
    case.visits = 1 if visit else 0
    case.row_version = 1 if visit else 0
    _insert(case)
    for m in rows:
        m.case = case
    _event(
        case,
        "submit",
        actor,
        payload={"channel": channel, "item": item.code, "version": item.version},
        visit=visit,
        count_visit=False,
        at=now,
        rows=rows,  # the materials, written with the event
    )
    return case


# ---------------------------------------------------------------------------------------------
# Intake decisions


def _missing(case: Case, materials: list[CaseMaterial] | None = None) -> list[CaseMaterial]:
    """Required materials the applicant still owes: missing or defective. Materials "to supply"
    from shared data or e-licences do not block acceptance (容缺受理): the platform fetches them
    at acceptance, and what it cannot fetch stays marked with the reason."""
    return [
        m
        for m in (case.materials.all() if materials is None else materials)
        if m.required and m.status in (MaterialStatus.MISSING, MaterialStatus.DEFECTIVE)
    ]


def _case_materials(case: Case) -> list[CaseMaterial]:
    return _query(("materials",), lambda v: CaseMaterial.objects.filter(case_id=v)).all(case.pk)


def _apply_material_updates(
    case: Case, updates: Iterable[MaterialIn], *, self_service: bool = False
) -> list[str]:
    """Apply corrected materials; returns the stored files that new uploads replaced (they stay
    in storage as part of the case's record: the caller names them in its event)."""
    by_seq = {m.seq: m for m in case.materials.all()}
    errors: dict[str, list[Any]] = {}
    changed = []
    replaced: list[str] = []
    for u in updates:
        m = by_seq.get(u.seq)
        if m is None:
            errors[f"materials.{u.seq}"] = [bi("办件没有这一材料", "no such material on this case")]
            continue
        if self_service and (refusal := _self_service_refusal(m.source.split(":", 1)[0], u)) is not None:
            errors[f"materials.{u.seq}.satisfied_by"] = [refusal]
            continue
        if u.satisfied_by:
            if u.satisfied_by not in (SatisfiedBy.UPLOAD, SatisfiedBy.PAPER, SatisfiedBy.PLEDGE):
                errors[f"materials.{u.seq}.satisfied_by"] = [
                    bi("提交方式应为 upload、paper 或 pledge", "satisfied_by must be upload, paper or pledge")
                ]
                continue
            if u.status and u.status not in MaterialStatus.values:
                errors[f"materials.{u.seq}.status"] = [bi("材料状态无效", "invalid material status")]
                continue
            m.satisfied_by = u.satisfied_by
            m.status = u.status or MaterialStatus.OK
            before = m.file.name if m.file else ""
            if u.satisfied_by == SatisfiedBy.UPLOAD and not _attach_upload(m, u, errors):
                continue
            if before and before != (m.file.name if m.file else ""):
                replaced.append(before)
        elif u.status:
            if u.status not in MaterialStatus.values:
                errors[f"materials.{u.seq}.status"] = [bi("材料状态无效", "invalid material status")]
                continue
            m.status = u.status
        m.reason = (u.reason or "")[:300]
        changed.append(m)
    if errors:
        raise InvalidError(bi("材料信息有误", "Invalid materials"), fields=errors)
    for m in changed:
        m.save()
    return replaced


@transaction.atomic
def send_correction_notice(
    case: Case | str, *, actor: Actor, materials: Iterable[MaterialIn] = (), note: str = ""
) -> Case:
    """一次性告知: list ALL missing or defective materials at once (SUBMITTED → AWAITING_CORRECTION)."""
    case = _lock(case, {CaseStatus.SUBMITTED}, "correction_notice")
    if not may_handle_intake(actor, case):
        raise _deny()
    _no_child_intake(case, actor, "correction_notice")
    replaced = _apply_material_updates(case, materials)
    problems = _missing(case)
    if not problems:
        raise ConflictError(
            bi("材料齐全，无需一次性告知，请直接受理", "All materials are in order: accept instead"),
            code="nothing_to_correct",
            extra={"status": case.status},
        )
    old = case.status
    case.status = CaseStatus.AWAITING_CORRECTION
    _save(case, ["status"])
    _event(
        case,
        "correction_notice",
        actor,
        from_status=old,
        reason=note[:2000],
        payload={
            "materials": [
                {"seq": m.seq, "name": m.name, "status": m.status, "reason": m.reason} for m in problems
            ],
            **({"replaced_files": replaced} if replaced else {}),
        },
    )
    return case


@transaction.atomic
def receive_correction(
    case: Case | str, *, actor: Actor, materials: Iterable[MaterialIn] = (), in_person: bool = True
) -> Case:
    """Corrected materials received (AWAITING_CORRECTION → SUBMITTED); at a window it is a visit."""
    case = _lock(case, {CaseStatus.AWAITING_CORRECTION}, "receive_correction")
    clerk = may_handle_intake(actor, case)
    if not (clerk or is_own_case(actor, case)):
        raise _deny()
    replaced = _apply_material_updates(case, materials, self_service=not clerk)
    old = case.status
    case.status = CaseStatus.SUBMITTED
    _event(
        case,
        "correction_received",
        actor,
        from_status=old,
        visit=in_person and not is_own_case(actor, case),
        payload={"replaced_files": replaced} if replaced else None,
    )
    _save(case, ["status", "visits"])
    return case


@transaction.atomic
def not_accept(case: Case | str, *, actor: Actor, reason: str, basis: str = "") -> Case:
    """不予受理 with written reasons (SUBMITTED → NOT_ACCEPTED, final)."""
    if not (reason or "").strip():
        raise InvalidError(
            bi("不予受理须说明理由", "A reason is required"), fields={"reason": [bi("必填", "required")]}
        )
    case = _lock(case, {CaseStatus.SUBMITTED}, "not_accept")
    if not may_handle_intake(actor, case):
        raise _deny()
    _no_child_intake(case, actor, "not_accept")
    old = case.status
    case.status = CaseStatus.NOT_ACCEPTED
    case.decision_reason, case.decision_basis = reason.strip()[:2000], basis.strip()[:2000]
    case.decided_at = fastsql.now()
    _save(case, ["status", "decision_reason", "decision_basis", "decided_at"])
    _event(case, "not_accept", actor, from_status=old, reason=case.decision_reason)
    return case


# 全市通办 (DESIGN §5): a case received at a hall of another region than its handling region
# is forwarded to the handling department within this many working days of acceptance.
FORWARD_WORKDAYS = 1


def _set_forward_due(case: Case) -> None:
    """At acceptance: the forwarding due of a case received at another region's hall."""
    if case.accept_hall_id and case.accept_region_id != case.handling_region_id and case.clock_start:
        case.forward_due = clock.shift(case.clock_start, FORWARD_WORKDAYS, case.handling_region.code)


def _no_child_intake(case: Case, actor: Actor, action: str) -> None:
    """一件事: a child case's intake decisions are its parent's (only the system starts it)."""
    if case.parent_id and not _is_system(actor):
        raise ConflictError(
            bi(
                f"办件 {case.number} 是一件事的成员事项，请在一件事办件上{ACTION_ZH.get(action, action)}",
                f"Case {case.number} is a member of a bundle: {action.replace('_', ' ')} its parent case",
            ),
            code="bundle_child",
            extra={"status": case.status},
        )


def _start_clock(case: Case, start: date, started_at: Any) -> None:
    region = case.handling_region.code
    dues = clock.compute_dues(case.item, start, started_at, region)
    case.clock_start = start
    case.accepted_at = started_at
    case.promised_due, case.legal_due = dues.promised, dues.legal
    case.promised_due_at = dues.promised_at
    case.due_is_provisional = dues.provisional


# Per-process caches of catalogue rows that a transition reads on every call. A service item
# version's materials and outputs, and a process template's steps, are keyed by the row's id and
# `updated_at` (an import or an edit through the admin bumps it), so a changed version is a
# different key; every entry also expires after CATALOG_TTL seconds, which bounds how long a
# change that did not bump `updated_at` (a step's departments, a department's region) can be
# served stale by a long-running process.
CATALOG_TTL = 60.0
_catalog_cache: dict[tuple[Any, ...], tuple[float, Any]] = {}


def _cached(key: tuple[Any, ...], load: Callable[[], Any]) -> Any:
    now = time.monotonic()
    hit = _catalog_cache.get(key)
    if hit is not None and now - hit[0] < CATALOG_TTL:
        return hit[1]
    value = load()
    if len(_catalog_cache) > 4096:
        _catalog_cache.clear()
    _catalog_cache[key] = (now, value)
    return value


def catalog_cached(key: tuple[Any, ...], load: Callable[[], Any]) -> Any:
    """The per-process catalogue cache for other apps (same keys and lifetime rules)."""
    return _cached(key, load)


def clear_catalog_cache() -> None:
    _catalog_cache.clear()


def _item_materials(item: ServiceItem) -> list[Any]:
    return _cached(("materials", item.pk, item.updated_at), lambda: list(item.materials.all()))


def item_materials(item: ServiceItem) -> list[Any]:
    """An item version's material requirements, cached per process (see CATALOG_TTL)."""
    return _item_materials(item)


def _item_outputs(item: ServiceItem) -> list[str]:
    return _cached(("outputs", item.pk, item.updated_at), lambda: [o.name for o in item.outputs.all()])


def _steps(item: ServiceItem) -> list[dict[str, Any]]:
    """The item's process as plain steps: seq, name, limit, departments (with their regions),
    actions. Cached per template version (see CATALOG_TTL); the caller must not change them."""
    if item.process_template_id:
        template = item.process_template
        key = ("steps", template.pk, template.updated_at, item.department_id)
        steps = _cached(key, lambda: _load_steps(item))
        if steps:
            return steps
    return _cached(("steps-default", item.pk, item.updated_at), lambda: _default_steps(item))


def _item_department(item: ServiceItem) -> Any:
    from onewindow.org.models import Department

    return Department.objects.select_related("region").get(pk=item.department_id)


def _load_steps(item: ServiceItem) -> list[dict[str, Any]]:
    steps = []
    default = None
    for s in item.process_template.steps.all().prefetch_related("departments__region"):
        depts = list(s.departments.all())
        if not depts:
            default = default or _item_department(item)
            depts = [default]
        steps.append(
            {
                "seq": s.seq,
                "name": s.name,
                "limit": s.limit_workdays,
                "departments": depts,
                "actions": list(s.actions or []),
            }
        )
    return steps


def _default_steps(item: ServiceItem) -> list[dict[str, Any]]:
    limit = Decimal(item.promised_limit if item.promised_limit_unit != "minute" else 0)
    return [
        {
            "seq": 1,
            "name": "审查决定",
            "limit": limit,
            "departments": [_item_department(item)],
            "actions": [a.value for a in ProcessAction],
        }
    ]


def _open_step(case: Case, step: dict[str, Any], start: date, write: bool = True) -> list[WorkItem]:
    """The step's work items, one per department; written unless `write` is False (then the
    caller writes them with its event)."""
    due = clock.step_due(start, step["limit"], case.handling_region.code)
    if case.promised_due and due > case.promised_due:
        due = case.promised_due
    items = [
        _new(
            WorkItem,
            case=case,
            step_seq=step["seq"],
            step_name=step["name"],
            step_limit=step["limit"],
            department=d,
            region=d.region if d.region.contains(case.handling_region) else case.handling_region,
            actions=list(step["actions"]),
            due=due,
        )
        for d in step["departments"]
    ]
    return _insert_rows(items) if write else items


@transaction.atomic
def accept_case(case: Case | str, *, actor: Actor) -> Case:
    """受理 (SUBMITTED → ACCEPTED): the clock starts the next working day (acceptance day not
    counted) and the first step's work items are created for the back office."""
    case = _lock(case, {CaseStatus.SUBMITTED}, "accept", _ACCEPT_RELATED)
    if not may_handle_intake(actor, case):
        raise _deny()
    _no_child_intake(case, actor, "accept")
    if case.bundle_id:  # 一件事: one acceptance of the parent starts its first stage's children
        from onewindow.cases import bundles

        return bundles.accept_parent(case, actor)
    return accept_locked(case, actor)


def accept_locked(
    case: Case, actor: Actor, materials: list[CaseMaterial] | None = None, also_save: Iterable[str] = ()
) -> Case:
    """受理 of a case already locked (with `_ACCEPT_RELATED`) and checked by the caller (accept_case,
    or bundles starting a held child inside its parent's transaction): materials resolved,
    clock started, first step opened. `materials`: the case's rows when the caller has read
    them; `also_save`: fields the caller changed, written with the acceptance.

    Bundles call this without a savepoint and keep the child held on a ConflictError: every
    conflict must be raised before the clock starts and work items open (what is written before
    it, the shared-data reads and licence uses with their records, stays true)."""
    if materials is None:
        materials = _case_materials(case)
    # The resolvers fetch materials from shared data and e-licences: only worth calling when
    # some material is still to be obtained that way. They fill in and save these same rows.
    if material_resolvers and any(
        m.status != MaterialStatus.OK and m.source.startswith(("data:", "licence:")) for m in materials
    ):
        case._materials = materials
        try:
            for resolve in material_resolvers:
                resolve(case, actor)
        finally:
            del case._materials
    missing = _missing(case, materials)
    if missing:
        raise ConflictError(
            bi(
                "材料不齐全，请一次性告知需补正的材料：" + "、".join(m.name for m in missing),
                "Materials are missing or defective; send a one-time correction notice: "
                + ", ".join(str(m.seq) for m in missing),
            ),
            code="materials_incomplete",
            extra={"status": case.status, "materials": [m.seq for m in missing]},
        )
    now = fastsql.now()
    _start_clock(case, fastsql.localdate(now), now)
    old = case.status
    case.status = CaseStatus.ACCEPTED
    # A submitted case has no work items yet: the flags see only the ones opened here.
    opened = _open_step(case, _steps(case.item)[0], case.clock_start, write=False)
    clock.refresh_flags(case, now=now, work_items=opened)
    _set_forward_due(case)
    _event(
        case,
        "accept",
        actor,
        from_status=old,
        at=now,
        payload={"promised_due": case.promised_due.isoformat(), "legal_due": case.legal_due.isoformat()},
        rows=opened,
        save=[
            *also_save,
            "status",
            "clock_start",
            "accepted_at",
            "promised_due",
            "legal_due",
            "promised_due_at",
            "due_is_provisional",
            "sla",
            "legal_breach",
            "step_overdue",
            "forward_due",
        ],
    )
    return case


@transaction.atomic
def deem_accepted(case: Case | str, *, actor: Actor = "system") -> Case:
    """No notice within 5 working days of receipt: the case is accepted as of receipt
    (行政许可法 第三十二条), the clock counted from the receipt day."""
    case = _lock(case, {CaseStatus.SUBMITTED}, "deem_accept")
    if case.parent_id or case.bundle_id:  # 一件事: started by the system / accepted by a clerk
        raise _conflict(case, "deem_accept")
    received = fastsql.localdate(case.received_at)
    _start_clock(case, received, case.received_at)
    old = case.status
    case.status = CaseStatus.ACCEPTED
    _open_step(case, _steps(case.item)[0], received)
    clock.refresh_flags(case)
    _save(
        case,
        [
            "status",
            "clock_start",
            "accepted_at",
            "promised_due",
            "legal_due",
            "promised_due_at",
            "due_is_provisional",
            "sla",
            "legal_breach",
            "step_overdue",
        ],
    )
    _event(
        case, "deemed_accept", actor, from_status=old, reason="收到申请之日起五个工作日内未告知补正，视为受理"
    )
    return case


# ---------------------------------------------------------------------------------------------
# Back office


def _lock_work_item(
    work_item: WorkItem | str,
    case_related: tuple[str, ...] = ("handling_region",),
    related: tuple[str, ...] = ("region", "department"),
    unread: tuple[str, ...] = (),
) -> WorkItem:
    """The work item and its case, both locked in one statement (FOR UPDATE OF both rows), with
    the work item's `related` rows and the case's `case_related` rows joined (only what the
    transition reads: every join costs PostgreSQL planning time), less the `unread` columns of
    those rows (paths as for `defer`; one read later would cost a query, which the query budgets
    of test_perf_guards catch). The caller re-checks the case's status (`_check_status`) and the
    work item's."""
    by, value = ("public_id", work_item) if isinstance(work_item, str) else ("pk", work_item.pk)
    related = (*related, "case", *(f"case__{r}" for r in case_related))
    if by == "public_id":
        wi = (
            _without_unread(
                WorkItem.objects.select_for_update(of=("self", "case")).select_related(*related),
                related,
            )
            .defer(*unread)
            .filter(public_id=value)
            .first()
        )
    else:
        wi = _query(
            ("work_item", related, unread),
            lambda v: (
                _without_unread(
                    WorkItem.objects.select_for_update(of=("self", "case")).select_related(*related),
                    related,
                )
                .defer(*unread)
                .filter(pk=v)
            ),
        ).first(value)
    if wi is None:
        raise NotFoundError(bi("审批任务不存在", "No such work item"), code="work_item_not_found")
    return wi


def open_work_items(case: Case) -> list[WorkItem]:
    """The case's open and claimed work items, step by step (what its approvers act on next);
    one precompiled query."""
    return _query(
        ("open_work_items",),
        lambda v: WorkItem.objects.filter(
            case_id=v, status__in=[WorkItemStatus.OPEN, WorkItemStatus.CLAIMED]
        ).order_by("step_seq", "pk"),
    ).all(case.pk)


def _check_status(case: Case, allowed: Iterable[str], action: str) -> Case:
    if case.status not in allowed:
        raise _conflict(case, action)
    return case


@transaction.atomic
def claim_work_item(work_item: WorkItem | str, *, actor: Actor) -> WorkItem:
    """An approver takes a work item; the first claim puts the case IN_REVIEW."""
    # A claim reads none of the form (a bundle's is the largest column of its children).
    wi = _lock_work_item(work_item, (), ("region",), unread=("case__form_data",))
    if not may_approve(actor, wi):
        raise _deny()
    case = _check_status(wi.case, {CaseStatus.ACCEPTED, CaseStatus.IN_REVIEW}, "claim")
    if wi.status != WorkItemStatus.OPEN:
        raise ConflictError(
            bi("该任务已被认领或已完成", "This work item is already claimed or done"),
            code="work_item_taken",
            extra={"status": case.status, "work_item_status": wi.status},
        )
    now = fastsql.now()
    wi.status, wi.assignee, wi.claimed_at = WorkItemStatus.CLAIMED, _user(actor), now
    claimed = [(wi, ["status", "assignee", "claimed_at", "updated_at"])]  # written with the event
    if case.forward_due and case.forwarded_at is None:
        _write(*claimed[0])
        claimed = []
        # 全市通办: the handling department's first claim receives the forwarded case.
        case.forwarded_at = now
        case.forward_late = fastsql.localdate(now) > case.forward_due
        _save(case, ["forwarded_at", "forward_late"])
        _event(
            case,
            "forward_received",
            actor,
            from_status=case.status,
            at=now,
            reason="流转超时" if case.forward_late else "",
            payload={"forward_due": case.forward_due.isoformat(), "late": case.forward_late},
        )
    if case.status == CaseStatus.ACCEPTED:
        old = case.status
        case.status = CaseStatus.IN_REVIEW
        _event(
            case,
            "review_start",
            actor,
            from_status=old,
            payload={"work_item": str(wi.public_id)},
            at=now,
            save=["status"],
            updates=claimed,
        )
    else:
        record(
            "cases.work_item.claim",
            wi,
            actor=actor,
            object_id=str(wi.public_id),
            data={"case": case.number},
            updates=claimed,
        )
    return wi


def _close_case_work(case: Case, status: str = WorkItemStatus.CANCELLED) -> None:
    case.work_items.filter(status__in=[WorkItemStatus.OPEN, WorkItemStatus.CLAIMED]).update(
        status=status, updated_at=fastsql.now()
    )


@transaction.atomic
def decide_work_item(
    work_item: WorkItem | str, *, actor: Actor, outcome: str, opinion: str = "", basis: str = ""
) -> WorkItem:
    """The approver's decision on a claimed work item: approve (the step joins when every
    department is done; the last step approves the case), return (to the previous step), refuse
    (the case is REFUSED), or request correction (the case is SUSPENDED, its clock paused)."""
    if outcome not in Outcome.values:
        raise InvalidError(
            bi(
                "决定应为 approve、return、refuse 或 request_correction",
                "outcome must be approve, return, refuse or request_correction",
            ),
            fields={"outcome": [bi("取值无效", "invalid value")]},
        )
    if outcome in (Outcome.REFUSE, Outcome.REQUEST_CORRECTION, Outcome.RETURN) and not opinion.strip():
        raise InvalidError(
            bi("须填写意见和理由", "An opinion with the reasons is required"),
            fields={"opinion": [bi("必填", "required")]},
        )
    # The item's form is not read by a decision (its producers read the case's form data).
    wi = _lock_work_item(
        work_item, ("item__process_template", "handling_region"), unread=("case__item__form_schema",)
    )
    if not may_approve(actor, wi):
        raise _deny()
    case = _check_status(wi.case, {CaseStatus.IN_REVIEW}, "decide")
    if wi.status != WorkItemStatus.CLAIMED:
        raise ConflictError(
            bi("请先认领该任务", "Claim the work item first"),
            code="work_item_not_claimed",
            extra={"status": case.status, "work_item_status": wi.status},
        )
    if user := _user(actor):
        if wi.assignee_id not in (None, user.pk):
            raise ConflictError(
                bi("该任务已由他人认领", "Someone else has claimed this work item"),
                code="work_item_taken",
                extra={"status": case.status},
            )
    allowed = set(wi.actions or []) | {Outcome.APPROVE}
    if outcome not in allowed:
        raise ConflictError(
            bi("本环节不允许此操作", "This step does not allow that action"),
            code="action_not_allowed",
            extra={"status": case.status},
        )
    now = fastsql.now()
    if outcome == Outcome.REQUEST_CORRECTION:
        _suspend(case, actor, SuspensionKind.CORRECTION, opinion, wi)
        return wi
    wi.status, wi.outcome, wi.opinion = WorkItemStatus.DONE, outcome, opinion.strip()[:4000]
    wi.decided_at, wi.decided_by = now, _user(actor)
    # Written before the case's other work items are closed, or with the approval's event.
    decided = (wi, ["status", "outcome", "opinion", "decided_at", "decided_by", "updated_at"])
    old = case.status
    if outcome == Outcome.REFUSE:
        _write(*decided)
        _close_case_work(case)
        case.status = CaseStatus.REFUSED
        case.decided_at, case.decision_reason, case.decision_basis = now, wi.opinion, basis.strip()[:2000]
        clock.refresh_flags(case, now=now, work_items=[])
        _save(
            case,
            [
                "status",
                "decided_at",
                "decision_reason",
                "decision_basis",
                "sla",
                "legal_breach",
                "step_overdue",
            ],
        )
        _event(
            case,
            "refuse",
            actor,
            from_status=old,
            reason=wi.opinion,
            at=now,
            payload={"work_item": str(wi.public_id), "department": wi.department.code},
        )
        return wi
    steps = _steps(case.item)
    index = next(i for i, s in enumerate(steps) if s["seq"] == wi.step_seq)
    if outcome == Outcome.RETURN:
        if index == 0:
            raise ConflictError(
                bi("第一个环节不能退回", "The first step cannot be returned"),
                code="cannot_return",
                extra={"status": case.status},
            )
        _write(*decided)
        _close_case_work(case)
        _open_step(case, steps[index - 1], fastsql.localdate(now))
        _event(
            case,
            "return",
            actor,
            from_status=old,
            reason=wi.opinion,
            at=now,
            payload={"from_step": wi.step_seq, "to_step": steps[index - 1]["seq"]},
        )
        _save(case, [])
        return wi
    # Approve: the step joins when every department's work item of it is done. The case is
    # locked, and every change of its work items takes that lock, so this list stays true.
    still_open = [w for w in open_work_items(case) if w.pk != wi.pk]
    pending = any(w.step_seq == wi.step_seq for w in still_open)
    payload = {"work_item": str(wi.public_id), "step": wi.step_seq, "department": wi.department.code}
    if pending or index + 1 < len(steps):
        # The step waits for other departments, or the next step opens: the case stays in review.
        opened: list[WorkItem] = []
        save: list[str] | None = []  # a decision on the case's work: its version moves
        if not pending:
            opened = _open_step(case, steps[index + 1], fastsql.localdate(now), write=False)
            flags = (case.sla, case.legal_breach, case.step_overdue)
            clock.refresh_flags(case, now=now, work_items=still_open + opened)
            changed = (case.sla, case.legal_breach, case.step_overdue) != flags
            save = ["sla", "legal_breach", "step_overdue"] if changed else None
        _event(
            case,
            "step_approve",
            actor,
            from_status=old,
            reason=wi.opinion,
            payload=payload,
            at=now,
            save=save,
            updates=[decided],
            rows=opened,
        )
        return wi
    case.status = CaseStatus.APPROVED
    case.decided_at, case.decision_reason, case.decision_basis = now, wi.opinion, basis.strip()[:2000]
    clock.refresh_flags(case, now=now, work_items=still_open)
    approved = [
        "status",
        "decided_at",
        "decision_reason",
        "decision_basis",
        "sla",
        "legal_breach",
        "step_overdue",
    ]
    # The APPROVED state is written together with READY (producers work on the case object and
    # save what they change themselves).
    case.row_version += 1
    _event(
        case, "approve", actor, from_status=old, reason=wi.opinion, payload=payload, at=now, updates=[decided]
    )
    _produce_outputs(case, actor, also_save=approved)
    return wi


def _produce_outputs(case: Case, actor: Actor, also_save: Iterable[str] = ()) -> None:
    """APPROVED → READY once the outputs exist (licences are issued by registered producers)."""
    for produce in output_producers:
        produce(case, actor)
    old = case.status
    case.status = CaseStatus.READY
    _event(
        case,
        "outputs_ready",
        actor,
        from_status=old,
        payload={"outputs": _item_outputs(case.item) if case.item_id else []},
        save=["status", *also_save],
    )


def _suspend(case: Case, actor: Actor, kind: str, reason: str, wi: WorkItem | None) -> None:
    old = case.status
    today = _today()
    case.status, case.suspension, case.paused_on = CaseStatus.SUSPENDED, kind, today
    if kind == SuspensionKind.CORRECTION:
        case.correction_deadline = today + timedelta(days=clock.CORRECTION_WINDOW_DAYS)
    _save(case, ["status", "suspension", "paused_on", "correction_deadline"])
    _event(
        case,
        "suspend",
        actor,
        from_status=old,
        reason=reason.strip()[:4000],
        payload={"kind": kind, "work_item": str(wi.public_id) if wi else None},
    )


SPECIAL_PROCEDURES = {
    "hearing": "听证",
    "inspection": "现场核查",
    "expert_review": "专家评审",
    "testing": "检验检测",
    "quarantine": "检疫",
    "public_notice": "公示",
}


@transaction.atomic
def start_special_procedure(
    work_item: WorkItem | str, *, actor: Actor, reason: str, procedure: str = "hearing"
) -> Case:
    """特别程序 (hearing, inspection, expert review, testing, quarantine, public notice): the case
    is SUSPENDED and its clock paused (行政许可法 第四十五条). Only on a work item the actor holds."""
    errors: dict[str, list[Any]] = {}
    if not reason.strip():
        errors["reason"] = [bi("必填", "required")]
    if procedure not in SPECIAL_PROCEDURES:
        errors["procedure"] = [
            bi("可选：" + "、".join(SPECIAL_PROCEDURES.values()), "one of: " + ", ".join(SPECIAL_PROCEDURES))
        ]
    if errors:
        raise InvalidError(bi("特别程序信息有误", "Invalid special procedure"), fields=errors)
    wi = _lock_work_item(work_item)
    if not may_approve(actor, wi):
        raise _deny()
    case = _check_status(wi.case, {CaseStatus.IN_REVIEW}, "special_procedure")
    user = _user(actor)
    if wi.status != WorkItemStatus.CLAIMED or (user is not None and wi.assignee_id not in (None, user.pk)):
        raise ConflictError(
            bi("只能在本人已认领的任务上启动特别程序", "Start a special procedure on a work item you hold"),
            code="work_item_not_claimed",
            extra={"status": case.status, "work_item_status": wi.status},
        )
    if ProcessAction.SPECIAL_PROCEDURE not in (wi.actions or []):
        raise ConflictError(
            bi("本环节不允许启动特别程序", "This step does not allow a special procedure"),
            code="action_not_allowed",
            extra={"status": case.status},
        )
    _suspend(case, actor, SuspensionKind.SPECIAL, f"{procedure}: {reason}", wi)
    return case


@transaction.atomic
def resume_case(
    case: Case | str,
    *,
    actor: Actor,
    materials: Iterable[MaterialIn] = (),
    note: str = "",
    in_person: bool = False,
) -> Case:
    """SUSPENDED → IN_REVIEW: the due dates (and the open steps' dues) move by the working days
    lost while paused."""
    case = _lock(case, {CaseStatus.SUSPENDED}, "resume")
    dept_ok = _is_system(actor) or has_role(
        actor, Role.APPROVER, region=case.handling_region.code, department=case.handling_department_id
    )
    intake_ok = case.suspension == SuspensionKind.CORRECTION and (
        may_handle_intake(actor, case) or is_own_case(actor, case)
    )
    if not (dept_ok or intake_ok):
        raise _deny()
    replaced = _apply_material_updates(
        case, materials, self_service=not dept_ok and not may_handle_intake(actor, case)
    )
    region = case.handling_region.code
    today = _today()
    lost = clock.workdays_lost(case.paused_on or today, today, region)
    old_due = case.promised_due
    case.promised_due = clock.shift(case.promised_due, lost, region)
    case.legal_due = clock.shift(case.legal_due, lost, region)
    if case.promised_due_at and old_due and case.promised_due:
        case.promised_due_at += case.promised_due - old_due
    for wi in case.work_items.filter(status__in=[WorkItemStatus.OPEN, WorkItemStatus.CLAIMED]):
        wi.due = clock.shift(wi.due, lost, region)
        wi.save(update_fields=["due", "updated_at"])
    old, kind = case.status, case.suspension
    case.paused_workdays += lost
    case.status, case.suspension, case.paused_on, case.correction_deadline = (
        CaseStatus.IN_REVIEW,
        "",
        None,
        None,
    )
    clock.refresh_flags(case)
    _save(
        case,
        [
            "status",
            "suspension",
            "paused_on",
            "correction_deadline",
            "paused_workdays",
            "promised_due",
            "legal_due",
            "promised_due_at",
            "sla",
            "legal_breach",
            "step_overdue",
            "visits",
        ],
    )
    _event(
        case,
        "resume",
        actor,
        from_status=old,
        reason=note.strip()[:2000],
        payload={"kind": kind, "workdays_lost": lost, **({"replaced_files": replaced} if replaced else {})},
        visit=in_person and not is_own_case(actor, case),
    )
    if case.visits:
        _save(case, ["visits"])
    return case


MAX_EXTENSION_WORKDAYS = 10  # 行政许可法 第四十二条: 经本行政机关负责人批准，可以延长十日


@transaction.atomic
def extend_case(case: Case | str, *, actor: Actor, workdays: int, reason: str) -> Case:
    """延长审批 (IN_REVIEW → IN_REVIEW): promised and legal dues extended, at most ten working
    days in all."""
    errors: dict[str, list[Any]] = {}
    if not reason.strip():
        errors["reason"] = [bi("须说明延期理由", "a reason is required")]
    if not 1 <= int(workdays) <= MAX_EXTENSION_WORKDAYS:
        errors["workdays"] = [
            bi(
                f"延长期限应为 1 到 {MAX_EXTENSION_WORKDAYS} 个工作日",
                f"must be between 1 and {MAX_EXTENSION_WORKDAYS} working days",
            )
        ]
    if errors:
        raise InvalidError(bi("延期申请有误", "Invalid extension"), fields=errors)
    case = _lock(case, {CaseStatus.IN_REVIEW}, "extend")
    if not (
        _is_system(actor)
        or has_role(
            actor, Role.APPROVER, region=case.handling_region.code, department=case.handling_department_id
        )
    ):
        raise _deny()
    holding = case.work_items.filter(status__in=[WorkItemStatus.OPEN, WorkItemStatus.CLAIMED])
    if not any(ProcessAction.REQUEST_EXTENSION in (w.actions or []) for w in holding):
        raise ConflictError(
            bi("当前环节不允许延期", "The current step does not allow an extension"),
            code="action_not_allowed",
            extra={"status": case.status},
        )
    if case.extended_workdays + workdays > MAX_EXTENSION_WORKDAYS:
        raise ConflictError(
            bi("累计延长不能超过十个工作日", "Extensions may not exceed ten working days in all"),
            code="extension_limit",
            extra={"status": case.status},
        )
    region = case.handling_region.code
    case.promised_due = clock.shift(case.promised_due, workdays, region)
    case.legal_due = clock.shift(case.legal_due, workdays, region)
    case.extended_workdays += workdays
    clock.refresh_flags(case)
    _save(case, ["promised_due", "legal_due", "extended_workdays", "sla", "legal_breach", "step_overdue"])
    _event(
        case,
        "extend",
        actor,
        from_status=case.status,
        reason=reason.strip()[:2000],
        payload={"workdays": workdays, "promised_due": case.promised_due.isoformat()},
    )
    return case


# ---------------------------------------------------------------------------------------------
# Delivery, withdrawal, closing, expiry


@transaction.atomic
def deliver_case(
    case: Case | str,
    *,
    actor: Actor,
    method: str,
    hall: Hall | None = None,
    courier: str = "",
    waybill: str = "",
    address: str = "",
    received_by: str = "",
) -> Case:
    """统一出件 (READY or REFUSED → DELIVERED): window pickup is a visit; courier and
    electronic delivery are not."""
    errors: dict[str, list[Any]] = {}
    if method not in DeliveryMethod.values:
        errors["method"] = [bi("送达方式无效", "invalid delivery method")]
    if method == DeliveryMethod.COURIER:
        if not waybill.strip():
            errors["waybill"] = [bi("邮寄须填写运单号", "a waybill number is required")]
        elif not waybill.strip().isalnum() or len(waybill.strip()) > 40:
            errors["waybill"] = [bi("运单号格式不正确", "the waybill number is malformed")]
    if method == DeliveryMethod.WINDOW and not received_by.strip():
        errors["received_by"] = [bi("窗口领取须登记签收人", "who received it must be recorded")]
    if errors:
        raise InvalidError(bi("送达信息有误", "Invalid delivery"), fields=errors)
    case = _lock(case, {CaseStatus.READY, CaseStatus.REFUSED}, "deliver", _DELIVER_RELATED)
    if not may_deliver(actor, case):
        raise _deny()
    if method == DeliveryMethod.COURIER and not (address or case.delivery_address).strip():
        raise InvalidError(
            bi("邮寄送达须有收件地址", "Courier delivery needs an address"),
            fields={"address": [bi("必填", "required")]},
        )
    now = fastsql.now()
    if method == DeliveryMethod.WINDOW and hall is None:
        hall = case.deliver_hall or case.accept_hall
    delivery = _new(
        Delivery,
        case=case,
        method=method,
        hall=hall if method == DeliveryMethod.WINDOW else None,
        courier=courier.strip()[:50],
        waybill=waybill.strip()[:40],
        address=(address or case.delivery_address).strip()[:300],
        received_by=received_by.strip()[:100],
        delivered_at=now,
        delivered_by=_user(actor),
    )
    old = case.status
    case.status, case.delivered_at, case.delivery_method = CaseStatus.DELIVERED, now, method
    _event(
        case,
        "deliver",
        actor,
        from_status=old,
        at=now,
        visit=method == DeliveryMethod.WINDOW,
        payload={"method": method, "waybill": waybill.strip()[:40], "hall": hall.code if hall else None},
        save=["status", "delivered_at", "delivery_method", "visits"],
        rows=[delivery],
    )
    return case


@transaction.atomic
def withdraw_case(case: Case | str, *, actor: Actor, reason: str = "") -> Case:
    """The applicant withdraws (any open status → WITHDRAWN); open work items are cancelled."""
    case = _lock(case, OPEN_STATUSES - {CaseStatus.REFUSED, CaseStatus.READY}, "withdraw")
    # The applicant, or a window clerk acting on the applicant's written request.
    clerk = not _is_system(actor) and has_role(actor, Role.INTAKE_CLERK, region=case.accept_region.code)
    if not (_is_system(actor) or is_own_case(actor, case) or clerk):
        raise _deny()
    _close_case_work(case)
    old = case.status
    case.status, case.sla = CaseStatus.WITHDRAWN, ""
    _save(case, ["status", "sla"])
    _event(case, "withdraw", actor, from_status=old, reason=reason.strip()[:2000])
    # 一件事: only the children that can still be withdrawn (a READY or REFUSED child has its
    # result; it is delivered or kept, not withdrawn).
    for child in case.children.filter(status__in=OPEN_STATUSES - {CaseStatus.REFUSED, CaseStatus.READY}):
        withdraw_case(child, actor=actor, reason=reason)
    return case


@transaction.atomic
def close_case(case: Case | str, *, actor: Actor, reason: str = "") -> Case:
    """归档 (DELIVERED → CLOSED), after rating or when archived."""
    case = _lock(case, {CaseStatus.DELIVERED}, "close")
    old = case.status
    case.status, case.closed_at = CaseStatus.CLOSED, fastsql.now()
    _save(case, ["status", "closed_at"])
    _event(case, "close", actor, from_status=old, reason=reason)
    return case


@transaction.atomic
def terminate_expired_correction(case: Case | str, *, actor: Actor = "system") -> Case:
    """The correction window expired with no corrected materials (SUSPENDED → TERMINATED)."""
    case = _lock(case, {CaseStatus.SUSPENDED}, "terminate")
    if (
        case.suspension != SuspensionKind.CORRECTION
        or not case.correction_deadline
        or case.correction_deadline >= _today()
    ):
        raise _conflict(case, "terminate")
    _close_case_work(case)
    old = case.status
    case.status, case.sla = CaseStatus.TERMINATED, ""
    _save(case, ["status", "sla"])
    _event(
        case,
        "terminate",
        actor,
        from_status=old,
        reason="补正期限届满未补正材料",
        payload={"deadline": case.correction_deadline.isoformat()},
    )
    return case


# ---------------------------------------------------------------------------------------------
# Periodic work (run by `onewindow worker`)


def deemed_acceptance_due(today: date | None = None) -> list[str]:
    """Numbers of SUBMITTED cases whose five working days after receipt have passed."""
    from onewindow.workcal.calendar import get_calendar

    today = today or _today()
    out = []
    # 一件事 children are started by the system (held until then), never deemed accepted.
    for number, received, region in Case.objects.filter(
        status=CaseStatus.SUBMITTED, item__isnull=False, parent__isnull=True
    ).values_list("number", "received_at", "handling_region__code"):
        limit = get_calendar(region).add_workdays(
            fastsql.localdate(received), clock.DEEMED_ACCEPTANCE_WORKDAYS
        )
        if today > limit.date:
            out.append(number)
    return out


def sweep(today: date | None = None) -> dict[str, int]:
    """Deemed acceptances, expired corrections, and the SLA flags of every running clock."""
    today = today or _today()
    deemed = 0
    for number in deemed_acceptance_due(today):
        try:
            deem_accepted(number)
            deemed += 1
        except ConflictError:
            pass  # someone acted on it meanwhile
    terminated = 0
    for number in Case.objects.filter(
        status=CaseStatus.SUSPENDED, suspension=SuspensionKind.CORRECTION, correction_deadline__lt=today
    ).values_list("number", flat=True):
        try:
            terminate_expired_correction(number)
            terminated += 1
        except ConflictError:
            pass
    flagged = refresh_all_flags(today)
    return {
        "deemed_accepted": deemed,
        "terminated": terminated,
        "flags_changed": flagged,
        "idempotency_purged": purge_idempotent_responses(),
        "orphan_uploads_purged": purge_orphan_uploads(),
    }


# A stored API answer (it may carry an applicant's full ID number) is kept only as long as a
# client could still be retrying: a day.
IDEMPOTENCY_KEEP = timedelta(days=1)


def purge_idempotent_responses() -> int:
    from onewindow.cases.models import IdempotentResponse

    deleted, _ = IdempotentResponse.objects.filter(created_at__lt=fastsql.now() - IDEMPOTENCY_KEEP).delete()
    return deleted


# An uploaded file is written to storage when its material row is inserted, inside the
# transaction: a submission that then fails (or whose request rolls back) leaves the file with
# no row. Such files are removed once they are older than any transaction could be. A file that
# a correction replaced is no orphan: it is part of the case's record, named in that event's
# `replaced_files`. The purge runs at most once a day (the sweep runs every minute).
ORPHAN_UPLOAD_AGE = timedelta(days=1)
ORPHAN_PURGE_EVERY = timedelta(days=1)
_PURGE_FLAG = "cases.orphan_uploads_purged_at"


def purge_orphan_uploads(now: Any = None, *, force: bool = False) -> int:
    """Delete the uploads of this and last month's folders that no case material refers to, no
    event names as replaced, and that are older than `ORPHAN_UPLOAD_AGE` (audited with their
    count); at most once per `ORPHAN_PURGE_EVERY` unless `force`. Returns the count."""
    from onewindow.core.models import SystemFlag

    field = CaseMaterial._meta.get_field("file")
    storage = field.storage
    now = now or fastsql.now()
    last = SystemFlag.objects.filter(key=_PURGE_FLAG).values_list("updated_at", flat=True).first()
    if not force and last is not None and now - last < ORPHAN_PURGE_EVERY:
        return 0
    SystemFlag.objects.update_or_create(key=_PURGE_FLAG, defaults={"value": now.isoformat()})
    cutoff = now - ORPHAN_UPLOAD_AGE
    this_month = timezone.localtime(now).date().replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    candidates: list[str] = []
    for month in (last_month, this_month):
        folder = month.strftime(str(field.upload_to)).rstrip("/")
        try:
            _dirs, files = storage.listdir(folder)
        except FileNotFoundError:
            continue  # no upload in that month
        except NotImplementedError:
            log.warning("storage %s cannot list files: orphan uploads are not purged", storage)
            return 0
        for name in files:
            path = f"{folder}/{name}"
            try:
                if storage.get_modified_time(path) < cutoff:
                    candidates.append(path)
            except FileNotFoundError:
                continue  # deleted meanwhile
            except NotImplementedError:
                log.warning("storage %s keeps no file times: orphan uploads are not purged", storage)
                return 0
    removed = 0
    kept: set[str] = set()
    if candidates:  # files replaced by corrections in the months looked at
        since = timezone.make_aware(datetime.combine(last_month, datetime.min.time()))
        for payload in CaseEvent.objects.filter(at__gte=since, payload__has_key="replaced_files").values_list(
            "payload", flat=True
        ):
            kept.update(payload.get("replaced_files") or [])
    for i in range(0, len(candidates), 500):
        batch = candidates[i : i + 500]
        used = kept | set(CaseMaterial.objects.filter(file__in=batch).values_list("file", flat=True))
        for path in batch:
            if path not in used:
                storage.delete(path)
                removed += 1
    if removed:
        record(
            "cases.orphan_uploads_purged",
            actor="system",
            object_type="storage",
            object_id=str(field.upload_to),
            data={"files": removed},
        )
    return removed


def refresh_all_flags(today: date | None = None) -> int:
    """Recompute the flags of every case whose clock runs; write only the ones that changed."""
    now = fastsql.now()
    today = today or fastsql.localdate(now)
    changed: list[Case] = []
    qs = (
        Case.objects.filter(status__in=CLOCK_STATUSES)
        .select_related("handling_region")
        .prefetch_related("work_items")
        .order_by("id")
    )
    for case in qs.iterator(chunk_size=500):
        if clock.refresh_flags(case, today=today, now=now):
            changed.append(case)
    for i in range(0, len(changed), 500):
        with transaction.atomic():
            Case.objects.bulk_update(changed[i : i + 500], ["sla", "legal_breach", "step_overdue"])
    return len(changed)
