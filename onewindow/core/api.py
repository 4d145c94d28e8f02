"""GET /me."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from onewindow.core.api_utils import AUTH
from onewindow.core.permissions import grants, roles

router = Router(tags=["me"])


class GrantOut(Schema):
    role: str
    region: str
    department: str | None


class MeOut(Schema):
    username: str
    roles: list[str]
    grants: list[GrantOut]
    id_type: str | None = None
    id_number: str | None = None
    name: str | None = None


@router.get("/me", response=MeOut, auth=AUTH, summary="The caller")
def me(request: HttpRequest) -> dict[str, Any]:
    user = request.auth
    out: dict[str, Any] = {
        "username": user.get_username(),
        "roles": sorted(roles(user)),
        "grants": [
            {"role": g.role, "region": g.region_code, "department": g.department_code} for g in grants(user)
        ],
    }
    profile = getattr(user, "applicant", None) if hasattr(user, "applicant") else None
    if profile is not None:
        out.update(id_type=profile.id_type, id_number=profile.id_number, name=profile.name)
    return out
