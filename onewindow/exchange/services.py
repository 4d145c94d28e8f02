"""Reading shared data: every read is authorised (grant, consent) and logged, whatever its
result. Staff never see registry data without a case and a grant."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q

from onewindow.audit.services import record
from onewindow.core import fastsql
from onewindow.core.errors import InvalidError, NotFoundError
from onewindow.core.i18n import bi
from onewindow.exchange import connectors
from onewindow.exchange.models import AccessRecord, AccessResult, Consent, ConsentMode, Dataset, Grant
from onewindow.org.models import Department

Actor = AbstractBaseUser | str | None


@dataclass(frozen=True)
class Fetch:
    result: str
    data: dict[str, Any] | None
    reason: str
    record_id: int

    @property
    def ok(self) -> bool:
        return self.result == AccessResult.GRANTED


def parse_source(source: str) -> tuple[str, list[str]]:
    """`data:population.name,id_number` → ("population", ["name", "id_number"])."""
    body = source.split(":", 1)[1]
    dataset, _, fields = body.partition(".")
    return dataset, [f.strip() for f in fields.split(",") if f.strip()]


def _hash(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def active_grant(
    department: Department, dataset: Dataset, fields: list[str], item_code: str, on: date | None = None
) -> Grant | None:
    """A grant covering all `fields` for this item, valid on `on`; None when denied."""
    return grant_covering(active_grants(department, [dataset], on), dataset, fields, item_code)


def _valid_grants(department: Department, on: date | None) -> Any:
    on = on or fastsql.localdate()
    return Grant.objects.filter(consumer=department, active=True, valid_from__lte=on).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=on)
    )


# A department's active grants on one dataset (the per-read check of `fetch`): compiled once.
_GRANTS_ON = fastsql.prepared(
    ("exchange_grants_on",),
    lambda consumer, dataset: (
        Grant.objects.filter(consumer_id=consumer, dataset_id=dataset, active=True)
        .only("id", "dataset_id", "fields", "item_codes", "valid_from", "valid_until")
        .order_by("pk")
    ),
    (fastsql.Prepared.INT_MARK, fastsql.Prepared.INT_MARK2),
)


def active_grants(
    department: Department | None, datasets: Iterable[Dataset], on: date | None = None
) -> list[Grant]:
    """The department's grants on these datasets that are active and valid on `on`, one query
    per dataset (each checked with `grant_covering`)."""
    if department is None:
        return []
    on = on or fastsql.localdate()
    return [
        g
        for d in datasets
        for g in _GRANTS_ON.all((department.pk, d.pk))
        if g.valid_from <= on and (g.valid_until is None or g.valid_until >= on)
    ]


# Datasets are reference data: each process keeps the active ones (with their owners) for
# DATASET_TTL seconds. Grants are never cached: a revoked grant is refused on the next read.
DATASET_TTL = 60.0
_dataset_cache: dict[str, Any] = {"at": -1e9, "by_code": {}}


def clear_dataset_cache() -> None:
    _dataset_cache["at"] = -1e9


def active_datasets() -> dict[str, Dataset]:
    now = time.monotonic()
    if now - _dataset_cache["at"] > DATASET_TTL:
        _dataset_cache["by_code"] = {
            d.code: d for d in Dataset.objects.filter(active=True).select_related("owner")
        }
        _dataset_cache["at"] = now
    return _dataset_cache["by_code"]


def datasets_and_grants(
    department: Department | None, codes: Iterable[str], on: date | None = None
) -> tuple[dict[str, Dataset], list[Grant]]:
    """For one resolve: the active datasets among `codes` (with their owners) and the
    department's grants on them that are active and valid on `on` (each checked with
    `grant_covering`): one query for the grants, none for the (cached) datasets."""
    codes = set(codes)
    known = active_datasets()
    datasets = {c: known[c] for c in codes if c in known}
    grants: list[Grant] = []
    if department is not None and datasets:
        grants = list(
            _valid_grants(department, on)
            .filter(dataset_id__in=[d.pk for d in datasets.values()])
            .only("id", "dataset_id", "fields", "item_codes")
        )
    return datasets, grants


def grant_covering(
    grants: Iterable[Grant], dataset: Dataset, fields: list[str], item_code: str
) -> Grant | None:
    """The first of `grants` (from `active_grants`) on `dataset` covering all `fields` for this
    item; None when denied."""
    for g in grants:
        if g.dataset_id == dataset.pk and set(fields) <= set(g.fields) and item_code in (g.item_codes or []):
            return g
    return None


def has_consent(subject: str, dataset: Dataset, case_number: str) -> bool:
    now = fastsql.now()
    return (
        Consent.objects.filter(
            subject=subject, dataset=dataset, case_number=case_number, revoked_at__isnull=True
        )
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .exists()
    )


@transaction.atomic
def give_consent(
    *, subject: str, datasets: list[Dataset], case_number: str, actor: Actor, mode: str, delegation: str = ""
) -> list[Consent]:
    """The subject's authorisation, given at submission by the applicant or through the agent's
    recorded delegation."""
    if mode == ConsentMode.AGENT and not delegation.strip():
        raise InvalidError(
            bi("代办授权须有委托记录", "An agent's consent needs the delegation record"),
            fields={"delegation": [bi("必填", "required")]},
        )
    out = []
    for ds in datasets:
        c, _ = Consent.objects.get_or_create(
            subject=subject,
            dataset=ds,
            case_number=case_number,
            defaults={
                "mode": mode,
                "given_by": actor if isinstance(actor, AbstractBaseUser) else None,
                "delegation": delegation.strip()[:200],
            },
        )
        out.append(c)
    if out:
        record(
            "exchange.consent.give",
            actor=actor,
            object_type="exchange.consent",
            object_id=case_number,
            data={"datasets": [d.code for d in datasets], "mode": mode},
        )
    return out


_DATASET = fastsql.prepared(
    ("exchange_dataset",),
    lambda v: Dataset.objects.filter(code=v, active=True).select_related("owner"),
    fastsql.Prepared.STR_MARK,
)


def fetch(
    dataset_code: str,
    subject: str,
    fields: list[str],
    *,
    actor: Actor,
    department: Department,
    purpose: str,
    case_number: str = "",
    item_code: str = "",
    memo: dict[Any, Any] | None = None,
) -> Fetch:
    """Read `fields` about `subject` for a case. Denied unless a grant covers the department,
    the fields and the item (and the subject consented when the dataset needs it); every
    outcome writes an AccessRecord. Only granted fields ever leave this function.

    `memo`, shared by the reads of one transaction (the children of a bundle starting
    together): the dataset row, the department's grants on it and the registry's answer about a
    subject are read once in it; each case's read is checked and logged all the same."""
    # Read fresh (not from the dataset cache): switching a dataset off or making a field need
    # consent takes effect on the next read.
    if memo is None:
        dataset = _DATASET.first(dataset_code)
    else:
        key = ("dataset", dataset_code)
        dataset = memo[key] if key in memo else memo.setdefault(key, _DATASET.first(dataset_code))
    user = actor if isinstance(actor, AbstractBaseUser) else None
    name = actor.get_username() if user else str(actor or "system")
    started = time.monotonic()

    def log(result: str, reason: str = "", data: Any = None) -> Fetch:
        rec = fastsql.new(
            AccessRecord,
            at=fastsql.now(),
            official=user,
            official_name=name,
            department=department,
            case_number=case_number,
            item_code=item_code,
            dataset=dataset_code,
            fields=list(fields),
            subject=subject,
            purpose=purpose[:200],
            result=result,
            reason=reason[:300],
            response_hash=_hash(data) if data is not None else "",
            duration_ms=int((time.monotonic() - started) * 1000),
        )
        fastsql.insert(rec)
        return Fetch(result, data if result == AccessResult.GRANTED else None, reason, rec.pk)

    if dataset is None:
        return log(AccessResult.DENIED, f"unknown dataset {dataset_code}")
    unknown = [f for f in fields if f not in dataset.field_names()]
    if unknown:
        return log(AccessResult.DENIED, "unknown fields: " + ",".join(unknown))
    if not case_number:
        return log(AccessResult.DENIED, "no case: shared data is read only for a case")
    if memo is None:
        grants = active_grants(department, [dataset])
    else:
        gkey = ("grants", department.pk, dataset.pk)
        grants = memo[gkey] if gkey in memo else memo.setdefault(gkey, active_grants(department, [dataset]))
    if grant_covering(grants, dataset, fields, item_code) is None:
        return log(AccessResult.DENIED, "no grant for this department, item and fields")
    if dataset.needs_consent_for(list(fields)) and not has_consent(subject, dataset, case_number):
        return log(AccessResult.DENIED, "the subject has not consented")
    asked = ("answer", dataset_code, subject, tuple(fields))
    answer = memo.get(asked) if memo is not None else None
    if answer is None:
        answer = connectors.query(dataset, subject, fields)
        if memo is not None and answer.ok:
            memo[asked] = answer
    if not answer.ok:
        return log(AccessResult.FAILED, answer.failure)
    if answer.data is None:
        return log(AccessResult.NOT_FOUND, f"not found in {dataset.name}")
    data = {f: answer.data.get(f) for f in fields}  # field filtering: only what was granted and asked
    return log(AccessResult.GRANTED, "", data)


def probe(
    dataset_code: str,
    subject: str,
    *,
    actor: Actor,
    department: Department | None,
    purpose: str,
    item_code: str = "",
) -> str:
    """Does the registry know the subject? Used by the 一证通办 resolver before a case exists.
    Reads no field values, and is logged like any read (result and reason only)."""
    dataset = Dataset.objects.filter(code=dataset_code, active=True).first()
    result, rec = probe_record(
        dataset,
        dataset_code,
        subject,
        actor=actor,
        department=department,
        purpose=purpose,
        item_code=item_code,
    )
    rec.save()
    return result


def probe_record(
    dataset: Dataset | None,
    dataset_code: str,
    subject: str,
    *,
    actor: Actor,
    department: Department | None,
    purpose: str,
    item_code: str = "",
) -> tuple[str, AccessRecord]:
    """`probe` with the dataset already read (None: unknown or inactive): the result and its
    access record, NOT yet saved. The caller must write it (`write_records`), whatever happens
    next: e.g. the resolver writes the records of one resolve in one insert."""
    user = actor if isinstance(actor, AbstractBaseUser) else None
    name = actor.get_username() if user else str(actor or "system")
    if dataset is None:
        result, reason = AccessResult.DENIED, f"unknown dataset {dataset_code}"
    else:
        answer = connectors.exists(dataset, subject)
        if not answer.ok:
            result, reason = AccessResult.FAILED, answer.failure
        elif answer.data is None:
            result, reason = AccessResult.NOT_FOUND, f"not found in {dataset.name}"
        else:
            result, reason = AccessResult.GRANTED, "existence check: no field values read"
    rec = fastsql.new(
        AccessRecord,
        at=fastsql.now(),
        official=user,
        official_name=name,
        department=department,
        item_code=item_code,
        dataset=dataset_code,
        fields=[],
        subject=subject,
        purpose=purpose[:200],
        result=result,
        reason=reason[:300],
    )
    return result, rec


def write_records(records: list[AccessRecord]) -> None:
    """Write unsaved access records (from `probe_record`) in one insert."""
    if records:
        AccessRecord.objects.bulk_create(records)


def dataset_or_404(code: str) -> Dataset:
    ds = Dataset.objects.filter(code=code).first()
    if ds is None:
        raise NotFoundError(bi(f"数据集不存在：{code}", f"No such dataset: {code}"), code="dataset_not_found")
    return ds


def consent_datasets_for(case: Any) -> list[Dataset]:
    """The datasets that the case's materials read and that need the subject's consent."""
    codes: dict[str, list[str]] = {}
    for m in case.materials.all():
        if m.source.startswith("data:"):
            code, fields = parse_source(m.source)
            codes.setdefault(code, []).extend(fields)
    return [
        d for d in Dataset.objects.filter(code__in=codes, active=True) if d.needs_consent_for(codes[d.code])
    ]


def consent_for_case(
    case: Any, *, actor: Actor, mode: str = ConsentMode.APPLICANT, delegation: str = ""
) -> int:
    """Record the applicant's consent (given at submission) for every dataset the case needs it
    for; an agent gives it through the recorded delegation. Returns the number of datasets."""
    datasets = consent_datasets_for(case)
    if datasets:
        give_consent(
            subject=case.applicant_id_number,
            datasets=datasets,
            case_number=case.number,
            actor=actor,
            mode=mode,
            delegation=delegation or getattr(case, "delegation", ""),
        )
    return len(datasets)
