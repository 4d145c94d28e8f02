"""Loading the demo city (DESIGN §13), idempotently: a second run changes and duplicates nothing.

Order: regions → departments → halls and windows → catalogue (generic process templates, the
hand-written items and bundles, the generated items) → personas and their grants.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from onewindow.core.models import SystemFlag
from onewindow.core.roles import Role
from onewindow.core.validators import make_uscc
from onewindow.demo import personas as P
from onewindow.org import services as org
from onewindow.org.models import Department, Hall, IdType, Region, Window

DATA = Path(__file__).parent / "data"
ACTOR = "demo"
HAND_WRITTEN_FILES = ["items_business.yaml", "items_people.yaml"]
CATALOG_ADMINS_GROUP = "事项管理员 catalogue admins"


def _yaml(name: str) -> Any:
    return yaml.safe_load((DATA / name).read_text(encoding="utf-8"))


def _fingerprint(data: Any) -> str:
    return hashlib.sha256(
        json.dumps(data, sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()


def _flag_matches(key: str, value: str) -> bool:
    return SystemFlag.objects.filter(key=key, value=value).exists()


def _set_flag(key: str, value: str) -> None:
    SystemFlag.objects.update_or_create(key=key, defaults={"value": value})


def demo_catalog() -> dict[str, Any]:
    """The demo catalogue in the exchange format: generic templates, hand-written and generated items."""
    from onewindow.demo.generate import generate_catalog, generic_process_templates

    data: dict[str, Any] = {
        "format": "onewindow-catalog/1",
        "process_templates": generic_process_templates(),
        "items": [],
        "bundles": [],
    }
    for name in HAND_WRITTEN_FILES:
        part = _yaml(name)
        data["process_templates"].extend(part.get("process_templates") or [])
        data["items"].extend(part.get("items") or [])
        data["bundles"].extend(part.get("bundles") or [])
    data["items"].extend(generate_catalog()["items"])
    return data


def load_regions() -> None:
    rows = _yaml("regions.yaml")
    key = "demo.regions"
    fp = _fingerprint(rows)
    if not _flag_matches(key, fp):
        org.upsert_regions(rows, actor=ACTOR)
        _set_flag(key, fp)


def load_departments() -> None:
    city = Region.objects.get(code=P.CITY)
    rows = _yaml("departments.yaml")
    existing = {d.code: d for d in Department.objects.all()}
    for row in rows:
        uscc = make_uscc("1", "1", city.code[:6], row["org"])
        d = existing.get(row["code"])
        if d and (d.name, d.uscc, d.short_name, d.name_en) == (
            row["name"],
            uscc,
            row["short"],
            row["name_en"],
        ):
            continue
        parent = Department.objects.filter(code=row["parent"]).first() if row.get("parent") else None
        org.save_department(
            actor=ACTOR,
            code=row["code"],
            name=row["name"],
            name_en=row["name_en"],
            short_name=row["short"],
            uscc=uscc,
            region=city,
            kind=row["kind"],
            parent=parent,
        )


def load_halls() -> None:
    rows = _yaml("halls.yaml")
    key = "demo.halls"
    fp = _fingerprint(rows)
    if _flag_matches(key, fp):
        return
    for row in rows:
        row = dict(row)
        region = Region.objects.get(code=str(row.pop("region")))
        windows = row.pop("windows", [])
        org.save_hall(
            actor=ACTOR,
            code=row.pop("code"),
            name=row.pop("name"),
            region=region,
            windows=windows,
            **{k: v for k, v in row.items() if k in ("name_en", "address", "phone", "opening_hours")},
        )
    _set_flag(key, fp)


def load_catalog() -> dict[str, int] | None:
    from onewindow.catalog.importexport import import_catalog

    data = demo_catalog()
    key = "demo.catalog"
    fp = _fingerprint(data)
    if _flag_matches(key, fp):
        return None
    result = import_catalog(data, actor=ACTOR, source="onewindow demo")
    _set_flag(key, fp)
    return {"items": result.items, "bundles": result.bundles, "templates": result.templates}


def _region_for(code_or_name: str) -> Region:
    if code_or_name.isdigit():
        return Region.objects.get(code=code_or_name)
    return Region.objects.get(code=P.township_code(code_or_name))


def _catalog_admins_group() -> Group:
    group, _ = Group.objects.get_or_create(name=CATALOG_ADMINS_GROUP)
    perms = Permission.objects.filter(content_type__app_label="catalog")
    group.permissions.set(perms)
    return group


def load_personas() -> list[P.Persona]:
    User = get_user_model()
    for p in P.PERSONAS + approver_personas():
        user, created = User.objects.get_or_create(username=p.username)
        if created or not user.check_password(p.password):
            user.set_password(p.password)
        user.is_superuser = p.superuser
        user.is_staff = p.superuser or any(r in (Role.CATALOG_ADMIN, Role.DATA_ADMIN) for r, _, _ in p.grants)
        user.save()
        if any(r == Role.CATALOG_ADMIN for r, _, _ in p.grants):
            user.groups.add(_catalog_admins_group())
        hall = Hall.objects.filter(code=p.hall).first() if p.hall else None
        window = Window.objects.filter(hall=hall, number=p.window).first() if hall and p.window else None
        for role, region, dept in p.grants:
            department = Department.objects.get(code=dept) if dept else None
            org.grant_role(
                user, role, _region_for(region), actor=ACTOR, department=department, hall=hall, window=window
            )
        if p.username == "citizen":
            org.set_applicant_identity(
                user,
                actor=ACTOR,
                id_type=IdType.RESIDENT_ID,
                id_number=P.CITIZEN_ID,
                name=P.CITIZEN_NAME,
                phone=P.CITIZEN_PHONE,
            )
        elif p.username == "company":
            org.set_applicant_identity(
                user,
                actor=ACTOR,
                id_type=IdType.USCC,
                id_number=P.COMPANY_USCC,
                name=P.COMPANY_NAME,
                phone=P.COMPANY_PHONE,
                legal_rep_name=P.COMPANY_REP_NAME,
                legal_rep_id=P.COMPANY_REP_ID,
            )
    return P.PERSONAS + approver_personas()


def approver_personas() -> list[P.Persona]:
    """One approver per demo department: approver-<department code>."""
    return [
        P.Persona(
            f"approver-{d.code}",
            f"审批人员（{d.name}）",
            f"Approver, {d.name_en}",
            [(Role.APPROVER, d.region.code, d.code)],
        )
        for d in Department.objects.select_related("region").order_by("code")
    ]


@dataclass
class LoadReport:
    catalog: dict[str, int] | None
    personas: list[P.Persona]


def load_demo_city() -> LoadReport:
    with transaction.atomic():
        load_regions()
        load_departments()
        load_halls()
    catalog = load_catalog()
    with transaction.atomic():
        people = load_personas()
    from onewindow.exchange.demo import load_exchange
    from onewindow.registry.load import load_registries

    load_registries()
    load_exchange()
    _load_licences()
    return LoadReport(catalog, people)


def _load_licences() -> None:
    """The personas' e-licences, when the licences app is installed."""
    from django.apps import apps

    if apps.is_installed("onewindow.licences"):
        from onewindow.licences.demo import load_demo_licences

        load_demo_licences()
