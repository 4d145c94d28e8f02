"""The demo city's shared-data set-up: the registries' datasets, and grants for the departments
whose items name a `data:` source (each grant limited to those items and fields)."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

from django.db import transaction

from onewindow.audit.services import record
from onewindow.catalog.models import ItemState, MaterialRequirement
from onewindow.core.models import SystemFlag
from onewindow.exchange.models import Dataset, Grant
from onewindow.org.models import Department

LEGAL_BASIS = (
    "《国务院关于加快推进全国一体化在线政务服务平台建设的指导意见》（国发〔2018〕27号）；"
    "《政务信息资源共享管理暂行办法》（国发〔2016〕51号）；所列事项的设定依据"
)


def dataset_rows() -> list[dict[str, Any]]:
    from onewindow.registry.lookup import dataset_specs

    rows = []
    for code, spec in sorted(dataset_specs().items()):
        rows.append(
            {
                "code": code,
                "name": spec["name"]["zh"],
                "name_en": spec["name"]["en"],
                "owner": spec["owner"],
                "subject_kind": spec["subject"],
                "needs_consent": bool(spec.get("needs_consent")),
                "fields": [
                    {
                        "name": name,
                        "label_zh": f["zh"],
                        "label_en": f["en"],
                        "sensitivity": f.get("sensitivity", 2),
                        "consent": bool(f.get("consent", False)),
                    }
                    for name, f in spec["fields"].items()
                ],
            }
        )
    return rows


def grant_rows() -> list[dict[str, Any]]:
    """One grant per (consumer department, dataset): the union of the fields its items ask for."""
    acc: dict[tuple[str, str], dict[str, set[str]]] = {}
    qs = MaterialRequirement.objects.filter(
        item__state=ItemState.ACTIVE, source__startswith="data:"
    ).values_list("item__department__code", "item__code", "source")
    for dept, item_code, source in qs:
        body = source.split(":", 1)[1]
        dataset, _, fields = body.partition(".")
        entry = acc.setdefault((dept, dataset), {"fields": set(), "items": set()})
        entry["fields"].update(f.strip() for f in fields.split(",") if f.strip())
        entry["items"].add(item_code)
    return [
        {"consumer": d, "dataset": ds, "fields": sorted(v["fields"]), "items": sorted(v["items"])}
        for (d, ds), v in sorted(acc.items())
    ]


@transaction.atomic
def load_exchange() -> dict[str, int] | None:
    """Idempotent: nothing is written when the datasets and grants are already as computed."""
    datasets = dataset_rows()
    grants = grant_rows()
    fp = hashlib.sha256(
        json.dumps([datasets, grants], sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()
    if SystemFlag.objects.filter(key="demo.exchange", value=fp).exists():
        return None
    depts = {d.code: d for d in Department.objects.all()}
    for row in datasets:
        Dataset.objects.update_or_create(
            code=row["code"],
            defaults={
                "name": row["name"],
                "name_en": row["name_en"],
                "owner": depts[row["owner"]],
                "subject_kind": row["subject_kind"],
                "connector": "local",
                "needs_consent": row["needs_consent"],
                "fields": row["fields"],
                "active": True,
            },
        )
    by_code = {d.code: d for d in Dataset.objects.all()}
    known = {name for row in datasets for name in [f["name"] for f in row["fields"]]}
    made = 0
    for g in grants:
        ds = by_code.get(g["dataset"])
        if ds is None or g["consumer"] not in depts:
            continue  # a source naming a dataset the registries do not have stays uncovered
        fields = [f for f in g["fields"] if f in ds.field_names() and f in known]
        Grant.objects.update_or_create(
            consumer=depts[g["consumer"]],
            dataset=ds,
            defaults={
                "fields": fields,
                "item_codes": g["items"],
                "legal_basis": LEGAL_BASIS,
                "valid_from": date(2024, 1, 1),
                "valid_until": None,
                "active": True,
            },
        )
        made += 1
    SystemFlag.objects.update_or_create(key="demo.exchange", defaults={"value": fp})
    record(
        "exchange.demo.load",
        actor="demo",
        object_type="exchange.dataset",
        object_id="*",
        data={"datasets": len(datasets), "grants": made},
    )
    return {"datasets": len(datasets), "grants": made}
