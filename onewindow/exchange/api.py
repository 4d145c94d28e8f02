"""Shared-data API: the 一证通办 resolver and "who used my data"."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Router, Schema

from onewindow.catalog.queries import current_item
from onewindow.core.api_utils import AUTH, page_params, paginate
from onewindow.core.errors import ForbiddenError, NotFoundError, from_validation_error
from onewindow.core.i18n import bi
from onewindow.core.permissions import has_role
from onewindow.core.roles import Role
from onewindow.core.validators import mask_id, validate_resident_id, validate_uscc
from onewindow.exchange.queries import my_data_access, my_subject_ids
from onewindow.exchange.resolver import resolve

router = Router(tags=["shared data"])


class CoverageOut(Schema):
    seq: int
    name: str
    source: str
    covered: bool
    how: str
    reason: str


class ResolveOut(Schema):
    item: str
    applicant_id_masked: str
    covered: int
    total: int
    materials: list[CoverageOut]


class AccessOut(Schema):
    at: datetime
    official: str
    department: str | None
    case_number: str
    item_code: str
    dataset: str
    fields: list[str]
    purpose: str
    result: str
    reason: str


class AccessList(Schema):
    count: int
    results: list[AccessOut]


def may_resolve_as_staff(user: Any, item: Any) -> bool:
    """Staff resolve for applicants in front of them: an intake clerk (or grid agent) whose post
    lies inside the item's 通办 scope, or an approver of the item's department in its region."""
    from onewindow.cases.services import check_handle_scope
    from onewindow.core.errors import ForbiddenError as Outside
    from onewindow.core.permissions import grants
    from onewindow.org.models import Region

    if has_role(user, Role.APPROVER, region=item.department.region.code, department=item.department):
        return True
    for g in grants(user):
        if g.role in (Role.INTAKE_CLERK, Role.GRID_AGENT, Role.SYSADMIN):
            if g.role == Role.SYSADMIN:
                return True
            region = Region.objects.filter(code=g.region_code).first()
            try:
                if region is not None:
                    check_handle_scope(item, region, item.department.region)
                    return True
            except Outside:
                continue
    return False


def validate_subject_id(value: str, field: str = "applicant_id") -> str:
    """A resident ID (GB 11643) or a USCC (GB 32100); 422 naming the check that failed."""
    value = (value or "").strip().upper()
    try:
        if len(value) == 18 and value[:17].isdigit():
            return validate_resident_id(value).number
        return validate_uscc(value)
    except ValidationError as exc:
        raise from_validation_error(exc, field=field) from exc


@router.get(
    "/items/{code}/resolve",
    response=ResolveOut,
    auth=AUTH,
    summary="一证通办: which materials the platform can obtain for this applicant",
)
def resolve_item(
    request: HttpRequest, code: str, applicant_id: str, legal_rep_id: str = ""
) -> dict[str, Any]:
    item = current_item(code)
    if item is None or item.state != "active":
        raise NotFoundError(bi(f"事项不存在：{code}", f"No such service item: {code}"), code="item_not_found")
    number = validate_subject_id(applicant_id)
    rep = validate_subject_id(legal_rep_id, "legal_rep_id") if legal_rep_id else ""
    user = request.auth
    if may_resolve_as_staff(user, item):
        pass
    elif number in my_subject_ids(user):
        # An applicant resolves for themselves; an enterprise's legal representative is the one
        # on its verified profile, never a number passed in.
        from onewindow.org.models import ApplicantProfile

        profile = ApplicantProfile.objects.filter(user=user).first()
        rep = profile.legal_rep_id if profile and profile.id_number == number else ""
    else:
        raise ForbiddenError(
            bi("只能查询本人（本单位）的材料覆盖情况", "You may only resolve for yourself"),
            code="not_own_identity",
        )
    rows = resolve(item, number, actor=user, legal_rep_id=rep)
    return {
        "item": item.code,
        "applicant_id_masked": mask_id(number),
        "covered": sum(r.covered for r in rows),
        "total": len(rows),
        "materials": [r.as_dict() for r in rows],
    }


@router.get("/me/data-access", response=AccessList, auth=AUTH, summary="Who used my data (数据使用记录)")
def me_data_access(request: HttpRequest, page: int = 1, page_size: int = 20) -> dict[str, Any]:
    page, size = page_params(page, page_size)
    return paginate(
        my_data_access(request.auth),
        page,
        size,
        lambda r: {
            "at": r.at,
            "official": r.official_name,
            "department": r.department.name if r.department else None,
            "case_number": r.case_number,
            "item_code": r.item_code,
            "dataset": r.dataset,
            "fields": r.fields,
            "purpose": r.purpose,
            "result": r.result,
            "reason": r.reason,
        },
    )
