"""Cases API (DESIGN §5, §14): submit, read, transitions and the back-office worklist.

Thin on purpose: parse → service → serialise. Every read goes through `cases.queries`, so a case
or work item outside the caller's scope is a 404; every state change is one function of
`cases.services`, which answers 403 (visible but not allowed), 409 (wrong status, with the
current `status` in the error body) or 422 (fields)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import date, datetime
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from ninja import Field, Header, Query, Router, Schema
from ninja.responses import NinjaJSONEncoder
from pydantic import ConfigDict, field_validator

from onewindow.cases import services as cs
from onewindow.cases.models import (
    Case,
    CaseStatus,
    IdempotentResponse,
    MaterialStatus,
    SlaLevel,
    WorkItemStatus,
)
from onewindow.cases.queries import get_case_for, get_work_item_for, visible_cases, visible_work_items
from onewindow.core.api_utils import AUTH, page_params, paginate
from onewindow.core.errors import InvalidError, NotFoundError
from onewindow.core.i18n import bi
from onewindow.core.validators import mask_id, mask_phone

router = Router(tags=["cases"])

IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_IDEMPOTENCY_KEY = 100
API_MATERIAL_WAYS = ("", "paper", "pledge", "upload")


# ---------------------------------------------------------------------------------------------
# Input


def _no_nul(value: Any) -> Any:
    """NUL characters are never meaningful and PostgreSQL refuses them (a 500), so: a 422."""
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("must not contain NUL characters")
    if isinstance(value, dict):
        for k, v in value.items():
            _no_nul(k)
            _no_nul(v)
    elif isinstance(value, list):
        for v in value:
            _no_nul(v)
    return value


class In(Schema):
    """Request bodies refuse unknown keys: a misspelt field is a 422, never silently dropped."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _text_without_nul(cls, value: Any) -> Any:
        return _no_nul(value)


class ApplicantBody(In):
    id_type: str
    id_number: str
    name: str
    phone: str = ""
    legal_rep_name: str = ""


class MaterialBody(In):
    seq: int
    satisfied_by: str = ""
    status: str = ""
    reason: str = ""
    # An upload: the file's name and its content in base64 (checked by content and size like a
    # page upload).
    file_name: str = ""
    content_base64: str = ""


class SubmitBody(In):
    item: str | None = None
    bundle: str | None = None
    # 一件事: the optional member items applied for (item codes); required members always are.
    members: list[str] | None = None
    applicant: ApplicantBody
    channel: str
    form_data: dict[str, Any] = {}
    materials: list[MaterialBody] = []
    delivery_method: str | None = None
    delivery_address: str = ""
    delegation: str = ""
    # The applicant's authorisation to read the shared data that needs it (given at submission;
    # through a grid agent, under the recorded delegation).
    consent: bool = False


class CorrectionNoticeBody(In):
    materials: list[MaterialBody] = []
    note: str = ""


class ReceiveCorrectionBody(In):
    materials: list[MaterialBody] = []
    in_person: bool = True


class NotAcceptBody(In):
    reason: str
    basis: str = ""


class WithdrawBody(In):
    reason: str = ""


class DeliverBody(In):
    method: str
    courier: str = ""
    waybill: str = ""
    address: str = ""
    received_by: str = ""


class ResumeBody(In):
    materials: list[MaterialBody] = []
    note: str = ""
    in_person: bool = False


class ExtendBody(In):
    workdays: int
    reason: str


class DecideBody(In):
    outcome: str
    opinion: str = ""
    basis: str = ""


class SpecialProcedureBody(In):
    reason: str
    procedure: str = "hearing"


# A page number beyond any real list still has to fit the database's integers (else a 500).
MAX_PAGE = 1_000_000


class CaseFilters(Schema):
    status: str | None = None
    sla: str | None = None
    page: int = Field(1, le=MAX_PAGE)
    page_size: int = 20


class WorkItemFilters(Schema):
    status: str | None = None
    page: int = Field(1, le=MAX_PAGE)
    page_size: int = 20


# ---------------------------------------------------------------------------------------------
# Output


class ItemRef(Schema):
    code: str
    name: str
    version: int


class ApplicantOut(Schema):
    id_type: str
    id_number: str
    name: str
    phone: str


class FlagsOut(Schema):
    sla: str
    legal_breach: bool
    step_overdue: bool
    # 一件事 parent: some member item was refused, cancelled or withdrawn, the others went on.
    partial: bool = False
    # 全市通办: the handling department received the forwarded case after its forwarding due.
    forward_late: bool = False


class SuspensionOut(Schema):
    kind: str
    since: date | None
    correction_deadline: date | None


class CaseMaterialOut(Schema):
    seq: int
    name: str
    required: bool
    satisfied_by: str
    status: str
    reason: str
    file_name: str


class CaseWorkItemOut(Schema):
    id: str
    step_seq: int
    step_name: str
    department: str
    status: str
    due: date | None
    outcome: str


class EventOut(Schema):
    at: datetime
    kind: str
    from_status: str
    to_status: str
    actor: str
    reason: str
    visit: bool


class ChildOut(Schema):
    number: str
    status: str
    handling_department: str | None
    item: str | None = None
    stage: int | None = None
    held: bool = False
    promised_due: date | None = None


class BundleRef(Schema):
    code: str
    name: str


class CaseSummary(Schema):
    number: str
    status: str
    item: ItemRef | None
    bundle: BundleRef | None = None
    applicant: ApplicantOut
    channel: str
    accept_region: str
    handling_department: str | None
    handling_region: str
    flags: FlagsOut
    promised_due: date | None
    legal_due: date | None
    visits: int
    received_at: datetime


class CaseList(Schema):
    count: int
    results: list[CaseSummary]


class CaseDetail(CaseSummary):
    accept_hall: str | None
    deliver_hall: str | None
    delivery_method: str
    form_data: dict[str, Any]
    promised_due_at: datetime | None
    due_is_provisional: bool
    forward_due: date | None = None
    forwarded_at: datetime | None = None
    parent: str | None = None
    accepted_at: datetime | None
    decided_at: datetime | None
    delivered_at: datetime | None
    suspension: SuspensionOut | None
    materials: list[CaseMaterialOut]
    work_items: list[CaseWorkItemOut]
    events: list[EventOut]
    children: list[ChildOut]


class WorkItemOut(Schema):
    id: str
    case_number: str
    item_name: str
    step_seq: int
    step_name: str
    department: str
    status: str
    due: date | None
    sla: str
    promised_due: date | None
    applicant_name: str
    applicant_id_number: str


class WorkItemList(Schema):
    count: int
    results: list[WorkItemOut]


class ErrorBody(Schema):
    code: str
    message: str
    message_en: str
    fields: dict[str, list[str]] | None = None
    status: str | None = None


class ErrorOut(Schema):
    error: ErrorBody


ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


# ---------------------------------------------------------------------------------------------
# Serialisation


def _item(case: Case) -> dict[str, Any] | None:
    if not case.item_id:
        return None
    return {"code": case.item.code, "name": case.item.name, "version": case.item.version}


def _summary(case: Case, *, masked: bool) -> dict[str, Any]:
    number, phone = case.applicant_id_number, case.applicant_phone
    return {
        "number": case.number,
        "status": case.status,
        "item": _item(case),
        "bundle": {"code": case.bundle.code, "name": case.bundle.name} if case.bundle_id else None,
        "applicant": {
            "id_type": case.applicant_type,
            "id_number": mask_id(number) if masked else number,
            "name": case.applicant_name,
            "phone": mask_phone(phone) if masked else phone,
        },
        "channel": case.channel,
        "accept_region": case.accept_region.code,
        "handling_department": case.handling_department.code if case.handling_department_id else None,
        "handling_region": case.handling_region.code,
        "flags": {
            "sla": case.sla,
            "legal_breach": case.legal_breach,
            "step_overdue": case.step_overdue,
            "partial": case.partial,
            "forward_late": case.forward_late,
        },
        "promised_due": case.promised_due,
        "legal_due": case.legal_due,
        "visits": case.visits,
        "received_at": case.received_at,
    }


def case_detail(case: Case, user: Any) -> dict[str, Any]:
    """The full case for someone who may see it (the full ID number and phone only here)."""
    suspension = None
    if case.status == CaseStatus.SUSPENDED or case.suspension:
        suspension = {
            "kind": case.suspension,
            "since": case.paused_on,
            "correction_deadline": case.correction_deadline,
        }
    children = (
        visible_cases(user).filter(parent=case).select_related("item").order_by("number")
        if case.bundle_id
        else []
    )
    return {
        **_summary(case, masked=False),
        "accept_hall": case.accept_hall.code if case.accept_hall_id else None,
        "deliver_hall": case.deliver_hall.code if case.deliver_hall_id else None,
        "delivery_method": case.delivery_method,
        "form_data": case.form_data,
        "promised_due_at": case.promised_due_at,
        "due_is_provisional": case.due_is_provisional,
        "forward_due": case.forward_due,
        "forwarded_at": case.forwarded_at,
        "parent": case.parent.number if case.parent_id else None,
        "accepted_at": case.accepted_at,
        "decided_at": case.decided_at,
        "delivered_at": case.delivered_at,
        "suspension": suspension,
        "materials": [
            {
                "seq": m.seq,
                "name": m.name,
                "required": m.required,
                "satisfied_by": m.satisfied_by,
                "status": m.status,
                "reason": m.reason,
                "file_name": m.file_name,
            }
            for m in case.materials.all()
        ],
        "work_items": [
            {
                "id": str(wi.public_id),
                "step_seq": wi.step_seq,
                "step_name": wi.step_name,
                "department": wi.department.code,
                "status": wi.status,
                "due": wi.due,
                "outcome": wi.outcome,
            }
            for wi in case.work_items.select_related("department").order_by("step_seq", "id")
        ],
        "events": [
            {
                "at": ev.at,
                "kind": ev.kind,
                "from_status": ev.from_status,
                "to_status": ev.to_status,
                "actor": ev.actor_name,
                "reason": ev.reason,
                "visit": ev.visit,
            }
            for ev in case.events.order_by("at", "id")
        ],
        "children": [
            {
                "number": c.number,
                "status": c.status,
                "handling_department": c.handling_department.code if c.handling_department_id else None,
                "item": c.item.code if c.item_id else None,
                "stage": c.stage_seq,
                "held": c.held,
                "promised_due": c.promised_due,
            }
            for c in children
        ],
    }


def _fresh_detail(request: HttpRequest, case: Case) -> dict[str, Any]:
    """The case as it is after a transition. The caller could see it a moment ago (the scoped
    read came first), so it is re-read by key rather than through the scope again."""
    fresh = Case.objects.select_related(
        "item",
        "bundle",
        "parent",
        "handling_department",
        "accept_hall",
        "deliver_hall",
        "handling_region",
        "accept_region",
    ).get(pk=case.pk)
    return case_detail(fresh, request.auth)


def _work_item_row(wi: Any) -> dict[str, Any]:
    case = wi.case
    return {
        "id": str(wi.public_id),
        "case_number": case.number,
        "item_name": case.item.name if case.item_id else "",
        "step_seq": wi.step_seq,
        "step_name": wi.step_name,
        "department": wi.department.code,
        "status": wi.status,
        "due": wi.due,
        "sla": case.sla,
        "promised_due": case.promised_due,
        "applicant_name": case.applicant_name,
        "applicant_id_number": mask_id(case.applicant_id_number),
    }


def _materials(rows: list[MaterialBody]) -> list[cs.MaterialIn]:
    """Paper checks and pledges (the clerk's), uploads in base64 (anyone's); one entry per material."""
    errors: dict[str, list[Any]] = {}
    seen: set[int] = set()
    for m in rows:
        if m.seq in seen:
            errors[f"materials.{m.seq}"] = [bi("同一材料重复提交", "the same material is listed twice")]
        seen.add(m.seq)
        if m.status and m.status not in MaterialStatus.values:
            errors[f"materials.{m.seq}.status"] = [
                bi("可选：" + "/".join(MaterialStatus.values), "one of: " + "/".join(MaterialStatus.values))
            ]
        if m.satisfied_by not in API_MATERIAL_WAYS:
            errors[f"materials.{m.seq}.satisfied_by"] = [
                bi("提交方式应为 upload、paper 或 pledge", "satisfied_by must be upload, paper or pledge")
            ]
    files: dict[int, Any] = {}
    for m in rows:
        if m.satisfied_by != "upload":
            continue
        try:
            data = base64.b64decode(m.content_base64, validate=True)
        except (binascii.Error, ValueError):
            errors[f"materials.{m.seq}.content_base64"] = [bi("不是有效的 base64", "not valid base64")]
            continue
        if not data:
            errors[f"materials.{m.seq}.content_base64"] = [bi("文件为空", "the file is empty")]
            continue
        files[m.seq] = SimpleUploadedFile((m.file_name or f"material-{m.seq}")[:150], data)
    if errors:
        raise InvalidError(bi("材料信息有误", "Invalid materials"), fields=errors)
    return [
        cs.MaterialIn(
            seq=m.seq, satisfied_by=m.satisfied_by, status=m.status, reason=m.reason, file=files.get(m.seq)
        )
        for m in rows
    ]


# ---------------------------------------------------------------------------------------------
# Idempotency


def _idempotency_key(raw: str | None) -> str | None:
    if raw is None:
        return None
    key = raw.strip()
    if not key or len(key) > MAX_IDEMPOTENCY_KEY or not key.isprintable():
        raise InvalidError(
            bi("Idempotency-Key 无效", "Invalid Idempotency-Key"),
            fields={
                IDEMPOTENCY_HEADER: [
                    bi(
                        f"应为 1 到 {MAX_IDEMPOTENCY_KEY} 个可打印字符",
                        f"must be 1 to {MAX_IDEMPOTENCY_KEY} printable characters",
                    )
                ]
            },
        )
    return key


def _request_hash(payload: Schema) -> str:
    canonical = json.dumps(
        payload.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _stored_response(user: Any, endpoint: str, key: str) -> IdempotentResponse | None:
    return IdempotentResponse.objects.filter(user=user, endpoint=endpoint, key=key).first()


def _replay(stored: IdempotentResponse, request_hash: str) -> JsonResponse:
    if stored.request_hash != request_hash:
        raise InvalidError(
            bi(
                "该 Idempotency-Key 已用于另一个不同的请求",
                "This Idempotency-Key was already used for a different request",
            ),
            code="idempotency_key_reused",
            fields={IDEMPOTENCY_HEADER: [bi("请为新的请求使用新的键", "use a new key for a new request")]},
        )
    return JsonResponse(stored.body, status=stored.status, encoder=NinjaJSONEncoder)


def _as_json(schema: type[Schema], data: dict[str, Any]) -> dict[str, Any]:
    """`data` exactly as Ninja would render it through `schema`, so a replay matches byte for byte."""
    return json.loads(json.dumps(schema.model_validate(data).model_dump(), cls=NinjaJSONEncoder))


# ---------------------------------------------------------------------------------------------
# Cases


@router.post(
    "/cases",
    auth=AUTH,
    response={201: CaseDetail, 400: ErrorOut, **ERRORS},
    summary="Submit an application for one item or a 一件事 bundle",
)
def submit(
    request: HttpRequest,
    payload: SubmitBody,
    idempotency_key: str | None = Header(None, alias=IDEMPOTENCY_HEADER),
) -> Any:
    user = request.auth
    key = _idempotency_key(idempotency_key)
    if payload.bundle is not None and payload.item:
        raise InvalidError(
            bi("请指定事项或一件事，不能同时指定", "Give an item or a bundle, not both"),
            fields={"bundle": [bi("不能与 item 同时指定", "not together with item")]},
        )
    if payload.members is not None and payload.bundle is None:
        raise InvalidError(
            bi("只有一件事可以选择成员事项", "Members can only be chosen for a bundle"),
            fields={"members": [bi("仅用于一件事", "only for a bundle")]},
        )
    if not payload.item and not payload.bundle:
        raise InvalidError(bi("请指定事项", "An item is required"), fields={"item": [bi("必填", "required")]})
    request_hash = _request_hash(payload)
    endpoint = "POST /cases"
    if key is not None and (stored := _stored_response(user, endpoint, key)) is not None:
        return _replay(stored, request_hash)
    from onewindow.cases import bundles

    bundle = item = None
    try:
        if payload.bundle:
            bundle = bundles.active_bundle(payload.bundle)
        else:
            item = cs.active_item(payload.item)
    except NotFoundError as exc:
        what = "bundle" if payload.bundle else "item"
        raise InvalidError(exc.message, code=exc.code, fields={what: [exc.message]}) from exc
    a = payload.applicant
    applicant = cs.ApplicantIn(a.id_type, a.id_number, a.name, a.phone, a.legal_rep_name)
    try:
        with transaction.atomic():
            if bundle is not None:
                # 一件事: one form, one material set, a held child case per member item.
                case = bundles.submit_bundle(
                    actor=user,
                    bundle=bundle,
                    applicant=applicant,
                    channel=payload.channel,
                    form_data=payload.form_data,
                    materials=_materials(payload.materials),
                    members=payload.members,
                    delivery_method=payload.delivery_method,
                    delivery_address=payload.delivery_address,
                    delegation=payload.delegation,
                )
            else:
                case = cs.submit_case(
                    actor=user,
                    item=item,
                    applicant=applicant,
                    channel=payload.channel,
                    form_data=payload.form_data,
                    materials=_materials(payload.materials),
                    delivery_method=payload.delivery_method,
                    delivery_address=payload.delivery_address,
                    delegation=payload.delegation,
                )
            if payload.consent:
                from onewindow.exchange.services import consent_for_case

                mode = "agent" if payload.channel == "grid" else "applicant"
                if bundle is not None:
                    bundles.consent_for_bundle(case, actor=user, mode=mode, delegation=payload.delegation)
                else:
                    consent_for_case(case, actor=user, mode=mode, delegation=payload.delegation)
            body = _as_json(CaseDetail, _fresh_detail(request, case))
            if key is not None:
                IdempotentResponse.objects.create(
                    user=user, endpoint=endpoint, key=key, request_hash=request_hash, status=201, body=body
                )
    except IntegrityError:
        # A concurrent request with the same key won the race: its case stands, ours is rolled back.
        stored = _stored_response(user, endpoint, key) if key is not None else None
        if stored is None:
            raise
        return _replay(stored, request_hash)
    return JsonResponse(body, status=201, encoder=NinjaJSONEncoder)


@router.get("/cases", auth=AUTH, response={200: CaseList, **ERRORS}, summary="Cases in the caller's scope")
def list_cases(request: HttpRequest, filters: Query[CaseFilters]) -> dict[str, Any]:
    page, size = page_params(filters.page, filters.page_size)
    qs = visible_cases(request.auth)
    if filters.status:
        if filters.status not in CaseStatus.values:
            raise InvalidError(
                bi("状态取值无效", "Invalid status"),
                fields={
                    "status": [
                        bi("可选：" + "/".join(CaseStatus.values), "one of: " + "/".join(CaseStatus.values))
                    ]
                },
            )
        qs = qs.filter(status=filters.status)
    if filters.sla:
        levels = [v for v in SlaLevel.values if v]
        if filters.sla not in levels:
            raise InvalidError(
                bi("预警取值无效", "Invalid sla"),
                fields={"sla": [bi("可选：" + "/".join(levels), "one of: " + "/".join(levels))]},
            )
        qs = qs.filter(sla=filters.sla)
    return paginate(qs.order_by("-received_at", "-id"), page, size, lambda c: _summary(c, masked=True))


@router.get("/cases/{number}", auth=AUTH, response={200: CaseDetail, **ERRORS}, summary="One case")
def get_case(request: HttpRequest, number: str) -> dict[str, Any]:
    return case_detail(get_case_for(request.auth, number), request.auth)


@router.post("/cases/{number}/accept", auth=AUTH, response={200: CaseDetail, **ERRORS}, summary="受理")
def accept(request: HttpRequest, number: str) -> dict[str, Any]:
    case = get_case_for(request.auth, number)
    cs.accept_case(case.number, actor=request.auth)
    return _fresh_detail(request, case)


@router.post(
    "/cases/{number}/correction-notice",
    auth=AUTH,
    response={200: CaseDetail, **ERRORS},
    summary="一次性告知: every missing or defective material at once",
)
def correction_notice(request: HttpRequest, number: str, payload: CorrectionNoticeBody) -> dict[str, Any]:
    case = get_case_for(request.auth, number)
    cs.send_correction_notice(
        case.number, actor=request.auth, materials=_materials(payload.materials), note=payload.note
    )
    return _fresh_detail(request, case)


@router.post(
    "/cases/{number}/receive-correction",
    auth=AUTH,
    response={200: CaseDetail, **ERRORS},
    summary="Corrected materials received",
)
def receive_correction(
    request: HttpRequest, number: str, payload: ReceiveCorrectionBody | None = None
) -> dict[str, Any]:
    payload = payload or ReceiveCorrectionBody()
    case = get_case_for(request.auth, number)
    cs.receive_correction(
        case.number, actor=request.auth, materials=_materials(payload.materials), in_person=payload.in_person
    )
    return _fresh_detail(request, case)


@router.post(
    "/cases/{number}/not-accept", auth=AUTH, response={200: CaseDetail, **ERRORS}, summary="不予受理"
)
def not_accept(request: HttpRequest, number: str, payload: NotAcceptBody) -> dict[str, Any]:
    case = get_case_for(request.auth, number)
    cs.not_accept(case.number, actor=request.auth, reason=payload.reason, basis=payload.basis)
    return _fresh_detail(request, case)


@router.post("/cases/{number}/withdraw", auth=AUTH, response={200: CaseDetail, **ERRORS}, summary="撤回")
def withdraw(request: HttpRequest, number: str, payload: WithdrawBody | None = None) -> dict[str, Any]:
    payload = payload or WithdrawBody()
    case = get_case_for(request.auth, number)
    cs.withdraw_case(case.number, actor=request.auth, reason=payload.reason)
    return _fresh_detail(request, case)


@router.post("/cases/{number}/deliver", auth=AUTH, response={200: CaseDetail, **ERRORS}, summary="送达")
def deliver(request: HttpRequest, number: str, payload: DeliverBody) -> dict[str, Any]:
    case = get_case_for(request.auth, number)
    cs.deliver_case(
        case.number,
        actor=request.auth,
        method=payload.method,
        courier=payload.courier,
        waybill=payload.waybill,
        address=payload.address,
        received_by=payload.received_by,
    )
    return _fresh_detail(request, case)


@router.post("/cases/{number}/resume", auth=AUTH, response={200: CaseDetail, **ERRORS}, summary="恢复办理")
def resume(request: HttpRequest, number: str, payload: ResumeBody | None = None) -> dict[str, Any]:
    payload = payload or ResumeBody()
    case = get_case_for(request.auth, number)
    cs.resume_case(
        case.number,
        actor=request.auth,
        materials=_materials(payload.materials),
        note=payload.note,
        in_person=payload.in_person,
    )
    return _fresh_detail(request, case)


@router.post("/cases/{number}/extend", auth=AUTH, response={200: CaseDetail, **ERRORS}, summary="延长审批")
def extend(request: HttpRequest, number: str, payload: ExtendBody) -> dict[str, Any]:
    case = get_case_for(request.auth, number)
    cs.extend_case(case.number, actor=request.auth, workdays=payload.workdays, reason=payload.reason)
    return _fresh_detail(request, case)


# ---------------------------------------------------------------------------------------------
# Back office


@router.get(
    "/work-items", auth=AUTH, response={200: WorkItemList, **ERRORS}, summary="The approver's worklist"
)
def list_work_items(request: HttpRequest, filters: Query[WorkItemFilters]) -> dict[str, Any]:
    page, size = page_params(filters.page, filters.page_size)
    allowed = [WorkItemStatus.OPEN, WorkItemStatus.CLAIMED, WorkItemStatus.DONE]
    if filters.status and filters.status not in allowed:
        raise InvalidError(
            bi("状态取值无效", "Invalid status"),
            fields={"status": [bi("可选：open/claimed/done", "one of: open/claimed/done")]},
        )
    qs = visible_work_items(request.auth, filters.status or None).order_by("due", "id")
    return paginate(qs, page, size, _work_item_row)


@router.post(
    "/work-items/{work_item_id}/claim", auth=AUTH, response={200: CaseDetail, **ERRORS}, summary="认领"
)
def claim(request: HttpRequest, work_item_id: str) -> dict[str, Any]:
    wi = get_work_item_for(request.auth, work_item_id)
    cs.claim_work_item(str(wi.public_id), actor=request.auth)
    return _fresh_detail(request, wi.case)


@router.post(
    "/work-items/{work_item_id}/decide", auth=AUTH, response={200: CaseDetail, **ERRORS}, summary="作出决定"
)
def decide(request: HttpRequest, work_item_id: str, payload: DecideBody) -> dict[str, Any]:
    wi = get_work_item_for(request.auth, work_item_id)
    cs.decide_work_item(
        str(wi.public_id),
        actor=request.auth,
        outcome=payload.outcome,
        opinion=payload.opinion,
        basis=payload.basis,
    )
    return _fresh_detail(request, wi.case)


@router.post(
    "/work-items/{work_item_id}/special-procedure",
    auth=AUTH,
    response={200: CaseDetail, **ERRORS},
    summary="特别程序 (hearing, inspection, expert review)",
)
def special_procedure(
    request: HttpRequest, work_item_id: str, payload: SpecialProcedureBody
) -> dict[str, Any]:
    wi = get_work_item_for(request.auth, work_item_id)
    cs.start_special_procedure(
        str(wi.public_id), actor=request.auth, reason=payload.reason, procedure=payload.procedure
    )
    return _fresh_detail(request, wi.case)
