"""Licence API (DESIGN §14): list, detail, verify (public), revoke / suspend / reinstate / renew,
and the holder's usage log."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from onewindow.core import ratelimit
from onewindow.core.api_utils import AUTH, page_params, paginate
from onewindow.core.errors import ForbiddenError, NotFoundError
from onewindow.core.i18n import bi
from onewindow.core.permissions import is_sysadmin
from onewindow.core.validators import mask_id
from onewindow.licences import services
from onewindow.licences.models import Licence, LicenceStatus
from onewindow.licences.queries import holder_ids, my_usages, visible_licences
from onewindow.licences.verify import verify

router = Router(tags=["licences"])


class LicenceRow(Schema):
    licence_id: str
    type: str
    type_name: str
    holder_masked: str
    holder_name: str
    issuer: str
    issuer_name: str
    issue_date: date
    valid_from: date
    valid_to: date | None
    status: str
    version: int


class LicenceList(Schema):
    count: int
    results: list[LicenceRow]


class LicenceDetail(LicenceRow):
    holder_id_type: str
    holder_id_number: str
    surface: dict[str, Any]
    surface_labels: dict[str, str]
    status_reason: str
    status_changed_at: datetime | None
    source_case: str | None
    previous: str | None
    next_version: str | None
    qr_payload: str
    ed25519_kid: str
    signed_content: str
    sm2_signature: str
    sm2_kid: str
    may_manage: bool


class ReasonBody(Schema):
    reason: str = Field(..., max_length=300)


class RenewBody(Schema):
    valid_to: date | None = None
    reason: str = Field("延续", max_length=300)


class UsageOut(Schema):
    at: datetime
    licence_id: str
    type_name: str
    department: str | None
    official: str
    purpose: str
    case_number: str
    consent: str
    result: str
    reason: str


class UsageList(Schema):
    count: int
    results: list[UsageOut]


class VerdictOut(Schema):
    valid: bool
    status: str
    reason: str
    message: str
    message_en: str
    licence_id: str
    type: str
    type_name: str
    holder_masked: str
    holder_name_masked: str
    issuer: str
    issuer_name: str
    issue_date: str
    valid_from: str
    valid_to: str | None
    version: int | None
    kid: str
    signature_valid: bool
    checked_online: bool
    status_reason: str
    status_changed_at: str | None


ERRORS = {400: dict, 401: dict, 403: dict, 404: dict, 409: dict, 422: dict}


def row(lic: Licence) -> dict[str, Any]:
    return {
        "licence_id": lic.licence_id,
        "type": lic.type.code,
        "type_name": lic.type.name,
        "holder_masked": mask_id(lic.holder_id_number),
        "holder_name": lic.holder_name,
        "issuer": lic.issuer_uscc,
        "issuer_name": lic.issuer_name,
        "issue_date": lic.issue_date,
        "valid_from": lic.valid_from,
        "valid_to": lic.valid_to,
        "status": lic.effective_status(),
        "version": lic.version,
    }


def detail(lic: Licence, user: Any) -> dict[str, Any]:
    nxt = Licence.objects.filter(previous=lic).values_list("licence_id", flat=True).first()
    return row(lic) | {
        "holder_id_type": lic.holder_id_type,
        "holder_id_number": lic.holder_id_number,
        "surface": lic.surface,
        "surface_labels": {f["name"]: f.get("label_zh", f["name"]) for f in lic.type.fields if "name" in f},
        "status_reason": lic.status_reason,
        "status_changed_at": lic.status_changed_at,
        "source_case": lic.source_case.number if lic.source_case_id else None,
        "previous": lic.previous.licence_id if lic.previous_id else None,
        "next_version": nxt,
        "qr_payload": lic.qr_payload,
        "ed25519_kid": lic.ed25519_kid,
        "signed_content": lic.signed_content,
        "sm2_signature": lic.sm2_signature,
        "sm2_kid": lic.sm2_kid,
        "may_manage": services.may_manage(user, lic),
    }


def _get_visible(user: Any, licence_id: str) -> Licence:
    lic = (
        visible_licences(user)
        .select_related("source_case", "previous", "issuer__region")
        .filter(licence_id=licence_id)
        .first()
    )
    if lic is None:
        raise NotFoundError(
            bi(f"证照不存在：{licence_id}", f"No such licence: {licence_id}"), code="licence_not_found"
        )
    return lic


@router.get(
    "/licences/verify",
    auth=None,
    response={200: VerdictOut, 429: dict},
    summary="Verify a licence QR payload (public): signature, issuer, dates, revocation",
)
def verify_payload(request: HttpRequest, payload: str = "") -> dict[str, Any]:
    ratelimit.check(request, "licences.verify")
    return verify(payload[:4000]).as_dict()


@router.get("/licences", auth=AUTH, response={200: LicenceList, **ERRORS}, summary="Licences in scope")
def list_licences(
    request: HttpRequest,
    holder: str = "",
    type: str = "",
    status: str = "",
    page: int = 1,
    page_size: int = 20,
) -> dict[str, Any]:
    page, size = page_params(page, page_size)
    user = request.auth
    qs = visible_licences(user)
    holder = holder.strip().upper()
    if holder:
        mine = holder in holder_ids(user)
        staff = is_sysadmin(user) or any(True for _ in _staff_departments(user))
        if not mine and not staff:
            raise ForbiddenError(
                bi("只能查询本人（本单位）的证照", "You may only list your own licences"),
                code="not_own_identity",
            )
        qs = qs.filter(holder_id_number=holder)
    if type:
        qs = qs.filter(type__code=type.strip().upper())
    if status:
        if status not in LicenceStatus.values:
            from onewindow.core.errors import InvalidError

            raise InvalidError(
                bi("状态无效", "Invalid status"), fields={"status": [bi("取值不在允许范围内", "not allowed")]}
            )
        qs = qs.filter(status=status)
    return paginate(qs.order_by("-issue_date", "-id"), page, size, row)


def _staff_departments(user: Any) -> list[int]:
    from onewindow.core.permissions import grants

    return [g.department_id for g in grants(user) if g.department_id]


@router.get(
    "/licences/{licence_id}", auth=AUTH, response={200: LicenceDetail, **ERRORS}, summary="One licence"
)
def get_licence(request: HttpRequest, licence_id: str) -> dict[str, Any]:
    return detail(_get_visible(request.auth, licence_id), request.auth)


def _after(request: HttpRequest, lic: Licence) -> dict[str, Any]:
    return detail(_get_visible(request.auth, lic.licence_id), request.auth)


@router.post(
    "/licences/{licence_id}/revoke",
    auth=AUTH,
    response={200: LicenceDetail, **ERRORS},
    summary="注销/吊销 (issuing department or admin)",
)
def revoke(request: HttpRequest, licence_id: str, payload: ReasonBody) -> dict[str, Any]:
    return _after(request, services.revoke(licence_id, actor=request.auth, reason=payload.reason))


@router.post(
    "/licences/{licence_id}/suspend",
    auth=AUTH,
    response={200: LicenceDetail, **ERRORS},
    summary="暂停 (issuing department or admin)",
)
def suspend(request: HttpRequest, licence_id: str, payload: ReasonBody) -> dict[str, Any]:
    return _after(request, services.suspend(licence_id, actor=request.auth, reason=payload.reason))


@router.post(
    "/licences/{licence_id}/reinstate",
    auth=AUTH,
    response={200: LicenceDetail, **ERRORS},
    summary="恢复 (issuing department or admin)",
)
def reinstate(request: HttpRequest, licence_id: str, payload: ReasonBody) -> dict[str, Any]:
    return _after(request, services.reinstate(licence_id, actor=request.auth, reason=payload.reason))


@router.post(
    "/licences/{licence_id}/renew",
    auth=AUTH,
    response={200: LicenceDetail, **ERRORS},
    summary="延续: a new version (issuing department or admin)",
)
def renew(request: HttpRequest, licence_id: str, payload: RenewBody) -> dict[str, Any]:
    new = services.renew(licence_id, actor=request.auth, valid_to=payload.valid_to, reason=payload.reason)
    return _after(request, new)


def _usage(u: Any) -> dict[str, Any]:
    return {
        "at": u.at,
        "licence_id": u.licence.licence_id,
        "type_name": u.licence.type.name,
        "department": u.department.name if u.department else None,
        "official": u.official_name,
        "purpose": u.purpose,
        "case_number": u.case_number,
        "consent": u.consent,
        "result": u.result,
        "reason": u.reason,
    }


@router.get(
    "/licences/{licence_id}/usages",
    auth=AUTH,
    response={200: UsageList, **ERRORS},
    summary="Uses of one licence (holder, issuer, admin)",
)
def licence_usages(
    request: HttpRequest, licence_id: str, page: int = 1, page_size: int = 20
) -> dict[str, Any]:
    page, size = page_params(page, page_size)
    lic = _get_visible(request.auth, licence_id)
    qs = lic.usages.select_related("licence", "licence__type", "department")
    return paginate(qs, page, size, _usage)


@router.get(
    "/me/licence-usage",
    auth=AUTH,
    response={200: UsageList, **ERRORS},
    summary="Who used my licences (用证记录)",
)
def me_licence_usage(request: HttpRequest, page: int = 1, page_size: int = 20) -> dict[str, Any]:
    page, size = page_params(page, page_size)
    return paginate(my_usages(request.auth), page, size, _usage)
