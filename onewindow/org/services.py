"""Organisation writes: regions, departments, halls, windows, staff grants, applicants."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from onewindow.audit.services import record
from onewindow.core.errors import InvalidError, from_validation_error
from onewindow.core.i18n import bi
from onewindow.core.validators import validate_resident_id, validate_uscc
from onewindow.org.models import (
    LEVEL_DIGITS,
    ApplicantProfile,
    Department,
    Hall,
    IdType,
    Region,
    StaffGrant,
    Window,
)

Actor = AbstractBaseUser | str | None


def level_of(code: str) -> int:
    """The level of a 12-digit division code, from its trailing zero groups."""
    if len(code) != 12 or not code.isdigit():
        raise InvalidError(
            bi(f"区划代码须为 12 位数字：{code}", f"A region code has 12 digits: {code}"),
            fields={"code": [bi("须为 12 位数字", "must be 12 digits")]},
        )
    for level in (1, 2, 3, 4):
        if code[LEVEL_DIGITS[level] :] == "0" * (12 - LEVEL_DIGITS[level]):
            return level
    return 5


def parent_code(code: str) -> str | None:
    level = level_of(code)
    if level == 1:
        return None
    return code[: LEVEL_DIGITS[level - 1]].ljust(12, "0")


@transaction.atomic
def upsert_regions(rows: Iterable[dict[str, Any]], *, actor: Actor, batch_size: int = 2000) -> int:
    """Create or rename regions from `{"code", "name", "name_en"?}` rows (parents first or in
    the same batch). Scales to 100,000+ villages: bulk writes, no per-row queries."""
    rows = sorted(rows, key=lambda r: str(r["code"]))
    existing = dict(Region.objects.values_list("code", "id"))
    to_create: list[Region] = []
    to_update: list[Region] = []
    for r in rows:
        code = str(r["code"])
        level = level_of(code)
        obj = Region(code=code, name=r["name"], name_en=r.get("name_en", ""), level=level)
        if code in existing:
            obj.id = existing[code]
            to_update.append(obj)
        else:
            to_create.append(obj)
    # Create level by level so that parents exist (and have ids) before their children.
    created = 0
    for level in range(1, 6):
        batch = [o for o in to_create if o.level == level]
        for o in batch:
            pc = parent_code(o.code)
            if pc is not None:
                if pc not in existing:
                    raise InvalidError(
                        bi(
                            f"上级区划不存在：{pc}（{o.name}）",
                            f"Parent region {pc} of {o.name} does not exist",
                        ),
                        fields={"code": [bi("上级区划不存在", "parent region missing")]},
                    )
                o.parent_id = existing[pc]
        Region.objects.bulk_create(batch, batch_size=batch_size)
        for o in Region.objects.filter(code__in=[o.code for o in batch]).values_list("code", "id"):
            existing[o[0]] = o[1]
        created += len(batch)
    if to_update:
        Region.objects.bulk_update(to_update, ["name", "name_en"], batch_size=batch_size)
    record(
        "org.regions.upsert",
        actor=actor,
        object_type="org.region",
        object_id="*",
        data={"created": created, "updated": len(to_update)},
    )
    return created


@transaction.atomic
def save_department(
    *,
    actor: Actor,
    code: str,
    name: str,
    uscc: str,
    region: Region,
    name_en: str = "",
    short_name: str = "",
    kind: str = "agency",
    parent: Department | None = None,
) -> Department:
    """Create or update a department; its USCC must pass GB 32100."""
    try:
        uscc = validate_uscc(uscc)
    except ValidationError as exc:
        raise from_validation_error(exc, field="uscc") from exc
    dept, created = Department.objects.update_or_create(
        code=code,
        defaults={
            "name": name,
            "name_en": name_en,
            "short_name": short_name,
            "uscc": uscc,
            "region": region,
            "kind": kind,
            "parent": parent,
        },
    )
    record(
        "org.department.create" if created else "org.department.update",
        dept,
        actor=actor,
        data={"name": name, "uscc": uscc, "region": region.code},
    )
    return dept


@transaction.atomic
def save_hall(
    *,
    actor: Actor,
    code: str,
    name: str,
    region: Region,
    windows: Iterable[dict[str, Any]] = (),
    **fields: Any,
) -> Hall:
    hall, created = Hall.objects.update_or_create(
        code=code, defaults={"name": name, "region": region, **fields}
    )
    depts = {d.code: d for d in Department.objects.all()}
    for w in windows:
        dept = depts.get(w.get("department") or "")
        Window.objects.update_or_create(
            hall=hall, number=str(w["number"]), defaults={"kind": w["kind"], "department": dept}
        )
    record("org.hall.create" if created else "org.hall.update", hall, actor=actor, data={"name": name})
    return hall


@transaction.atomic
def grant_role(
    user: AbstractBaseUser,
    role: str,
    region: Region,
    *,
    actor: Actor,
    department: Department | None = None,
    hall: Hall | None = None,
    window: Window | None = None,
) -> StaffGrant:
    grant, created = StaffGrant.objects.update_or_create(
        user=user, role=role, region=region, department=department, defaults={"hall": hall, "window": window}
    )
    if created:
        record(
            "org.grant.create",
            grant,
            actor=actor,
            object_id=str(grant.pk),
            data={
                "user": user.get_username(),
                "role": role,
                "region": region.code,
                "department": department.code if department else None,
            },
        )
    return grant


@transaction.atomic
def revoke_grant(grant: StaffGrant, *, actor: Actor) -> None:
    record(
        "org.grant.revoke",
        grant,
        actor=actor,
        object_id=str(grant.pk),
        data={"user": grant.user.get_username(), "role": grant.role, "region": grant.region.code},
    )
    grant.delete()


@transaction.atomic
def set_applicant_identity(
    user: AbstractBaseUser,
    *,
    actor: Actor,
    id_type: str,
    id_number: str,
    name: str,
    phone: str = "",
    legal_rep_name: str = "",
    legal_rep_id: str = "",
) -> ApplicantProfile:
    """Bind a verified identity to an applicant account; ID numbers and USCCs are checked."""
    try:
        if id_type == IdType.RESIDENT_ID:
            id_number = validate_resident_id(id_number).number
        else:
            id_number = validate_uscc(id_number)
        if legal_rep_id:
            legal_rep_id = validate_resident_id(legal_rep_id).number
    except ValidationError as exc:
        raise from_validation_error(exc, field="id_number") from exc
    values = {
        "id_type": id_type,
        "id_number": id_number,
        "name": name,
        "phone": phone,
        "legal_rep_name": legal_rep_name,
        "legal_rep_id": legal_rep_id,
    }
    current = ApplicantProfile.objects.filter(user=user).first()
    if current is not None and all(getattr(current, k) == v for k, v in values.items()):
        return current  # unchanged: nothing to write or record
    profile, created = ApplicantProfile.objects.update_or_create(user=user, defaults=values)
    record(
        "org.applicant.bind",
        profile,
        actor=actor,
        object_id=user.get_username(),
        data={"id_type": id_type, "name": name},
    )
    return profile
