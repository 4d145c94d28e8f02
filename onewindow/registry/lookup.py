"""Reading one subject from the demo registries: the `local` connector's source (DESIGN §6).

    lookup("population", "330803199005120555", ["name", "id_number"])
    -> {"name": "陈晓明", "id_number": "330803199005120555"}

`lookup` returns only the requested fields, `None` when the registry does not know the subject,
and raises ValueError for an unknown dataset or field. Access control (grants, consent, the
access log) is the `exchange` app's business, not this module's: it reads whatever it is asked.

Values are JSON-ready (dates as YYYY-MM-DD, amounts as decimal strings, list fields as lists of
dicts) so that the caller can hash and store the response as it is. Each lookup makes 1-3 queries.
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Callable, Iterable
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from django.core.exceptions import ValidationError
from django.db.models import Q

from onewindow.core import fastsql
from onewindow.core.validators import validate_resident_id
from onewindow.registry.generate import AS_OF
from onewindow.registry.models import (
    Birth,
    Death,
    Disability,
    Enterprise,
    Household,
    Marriage,
    MarriageState,
    Person,
    ProvidentFundAccount,
    ProvidentFundUnit,
    Qualification,
    RealEstateOwner,
    RealEstateUnit,
    SocialSecurity,
    SocialSecurityUnit,
    TaxClearance,
    Vehicle,
)

__all__ = ["DATASETS_FILE", "dataset_specs", "exists", "lookup", "needs_consent"]

DATASETS_FILE = Path(__file__).resolve().parent / "data" / "datasets.yaml"
RECORDS = "records"

Row = dict[str, Any]


@cache
def _specs() -> dict[str, Any]:
    return yaml.safe_load(DATASETS_FILE.read_text(encoding="utf-8"))


def dataset_specs() -> dict[str, Any]:
    """The dataset catalogue (data/datasets.yaml): {code: {name, owner, subject, model,
    needs_consent, fields: {field: {zh, en, sensitivity, consent?}}, ...}}. A copy: change it freely."""
    return copy.deepcopy(_specs())


def _spec(dataset: str) -> dict[str, Any]:
    try:
        return _specs()[dataset]
    except (KeyError, TypeError):
        raise ValueError(f"unknown dataset {dataset!r}") from None


def needs_consent(dataset: str, fields: Iterable[str]) -> bool:
    """Whether reading these fields of the dataset needs the subject's consent."""
    spec = _spec(dataset)["fields"]
    fields = list(fields)
    _check_fields(dataset, fields)
    return any(spec[f].get("consent", False) for f in fields)


def _check_fields(dataset: str, fields: Iterable[str]) -> None:
    known = _spec(dataset)["fields"]
    unknown = [f for f in fields if f not in known]
    if unknown:
        raise ValueError(f"unknown field(s) of dataset {dataset!r}: {', '.join(map(str, unknown))}")


def lookup(dataset: str, subject: str, fields: list[str]) -> dict[str, Any] | None:
    """The requested fields of one subject's record in `dataset`, or None if there is none.

    `subject` is the dataset's subject key (see datasets.yaml): a resident ID number, a USCC, a
    不动产单元号 or a 户号; person-keyed datasets that enterprises also appear in (real_estate,
    social_security, provident_fund, qualification, vehicle) take the enterprise's USCC too.
    For datasets with several records per subject the scalar fields describe the most recent
    record and `records` lists them all, each with the other requested scalar fields.
    """
    spec = _spec(dataset)
    if isinstance(fields, str):
        raise TypeError("fields must be a list of field names, not a string")
    fields = list(fields)
    _check_fields(dataset, fields)
    if not isinstance(subject, str) or not subject.strip():
        return None
    record = _READERS[dataset](subject.strip().upper(), set(fields))
    if record is None:
        return None
    if RECORDS in fields:
        wanted = [f for f in fields if f != RECORDS] or [spec.get("record_key") or next(iter(spec["fields"]))]
        record[RECORDS] = [{f: r[f] for f in wanted} for r in record[RECORDS]]
    return {f: _json(record[f]) for f in fields}


def _json(value: Any) -> Any:
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    return value


def _is_resident_id(subject: str) -> bool:
    try:
        validate_resident_id(subject, today=datetime.date.max)
    except ValidationError:
        return False
    return True


def _values(model: Any, exclude: tuple[str, ...] = ("id",)) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields if f.attname not in exclude]


def _one(model: Any, **filters: Any) -> Row | None:
    """The first record (by key) matching one field, as a dict; the query is compiled once."""
    ((name, value),) = filters.items()
    names = _values(model)
    row = fastsql.prepared(
        ("registry", model, name),
        lambda v: model.objects.filter(**{name: v}).order_by("pk").values_list(*names)[:1],
        fastsql.Prepared.STR_MARK,
    ).first(value)
    return dict(zip(names, row, strict=True)) if row is not None else None


# --------------------------------------------------------------------------------------------
# Readers: each returns every field of its dataset (or None), in 1-3 queries
# --------------------------------------------------------------------------------------------


def _population(subject: str, fields: set[str]) -> Row | None:
    return _one(Person, id_number=subject)


def _household(subject: str, fields: set[str]) -> Row | None:
    member: Row | None = None
    number = subject
    if len(subject) == 18:
        member = (
            Person.objects.filter(id_number=subject)
            .values("name", "id_number", "relation", "household_number")
            .first()
        )
        if member is None or not member["household_number"]:
            return None
        number = member["household_number"]
    household = _one(Household, household_number=number)
    if household is None:
        return None
    members: list[Row] = []
    if "members" in fields:
        members = list(
            Person.objects.filter(household_number=number, status="正常")
            .order_by("id")
            .values("name", "id_number")
        )
    if member is None:
        member = {"name": household["head_name"], "id_number": household["head_id"], "relation": "户主"}
    return {
        "household_number": household["household_number"],
        "head_id": household["head_id"],
        "head_name": household["head_name"],
        "address": household["address"],
        "members": members,
        "member_name": member["name"],
        "member_id": member["id_number"],
        "relation": member["relation"],
    }


def _birth(subject: str, fields: set[str]) -> Row | None:
    return _one(Birth, child_id=subject)


def _marriage(subject: str, fields: set[str]) -> Row | None:
    m = (
        Marriage.objects.filter(Q(husband_id=subject) | Q(wife_id=subject))
        .order_by("-registered_on", "-id")
        .values(*_values(Marriage))
        .first()
    )
    if m is None:
        if not Person.objects.filter(id_number=subject).exists():
            return None
        empty = dict.fromkeys(_spec("marriage")["fields"])
        return {**empty, "person_id": subject, "status": "未婚"}
    is_husband = m["husband_id"] == subject
    status = {MarriageState.MARRIED: "已婚", MarriageState.DIVORCED: "离婚", MarriageState.WIDOWED: "丧偶"}[
        m["state"]
    ]
    if status == "丧偶" and Death.objects.filter(deceased_id=subject).exists():
        status = "已婚"  # the one who died was married at death
    return {
        "person_id": subject,
        "status": status,
        "spouse_id": m["wife_id"] if is_husband else m["husband_id"],
        "spouse_name": m["wife_name"] if is_husband else m["husband_name"],
        "registered_on": m["registered_on"],
        "certificate_number": m["certificate_number"],
        "registry_office": m["registry_office"],
    }


def _death(subject: str, fields: set[str]) -> Row | None:
    return _one(Death, deceased_id=subject)


def _enterprise(subject: str, fields: set[str]) -> Row | None:
    return _one(Enterprise, uscc=subject)


def _real_estate(subject: str, fields: set[str]) -> Row | None:
    """The units of a unit number or of an owner (newest registration first), each with all
    its owners: two compiled queries."""
    by_unit = len(subject) == 28
    units = fastsql.prepared(
        ("registry_units", by_unit),
        lambda v: (
            RealEstateUnit.objects.filter(unit_number=v)
            if by_unit
            else RealEstateUnit.objects.filter(owners__owner_id=v).distinct()
        ).order_by("-registered_on", "-id"),
        fastsql.Prepared.STR_MARK,
    ).all(subject)
    if not units:
        return None
    owners_of: dict[str, list[Any]] = {}
    for o in fastsql.prepared(
        ("registry_unit_owners", by_unit),
        lambda v: RealEstateOwner.objects.filter(
            **({"unit_id": v} if by_unit else {"unit__owners__owner_id": v})
        ).order_by("unit_id", "position"),
        fastsql.Prepared.STR_MARK,
    ).all(subject):
        owners_of.setdefault(o.unit_id, []).append(o)
    records = []
    for u in units:
        owners = owners_of.get(u.unit_number, [])
        records.append(
            {
                **{name: getattr(u, name) for name in _values(RealEstateUnit) if name != "region_code"},
                "owner_id": owners[0].owner_id if by_unit and owners else subject,
                "owner": "、".join(o.owner_name for o in owners),
                "co_owners": [
                    {"name": o.owner_name, "id_number": o.owner_id, "share": o.share} for o in owners
                ],
            }
        )
    return _latest(records)


def _latest(records: list[Row]) -> Row | None:
    if not records:
        return None
    return {**records[0], RECORDS: records}


def _payment_history(pattern: str) -> dict[str, Any] | None:
    if not pattern:
        return None
    end = AS_OF.replace(day=1)
    start_month = end.month - 11
    start = datetime.date(end.year + (start_month - 1) // 12, (start_month - 1) % 12 + 1, 1)
    return {
        "from": f"{start:%Y-%m}",
        "to": f"{end:%Y-%m}",
        "months": pattern,
        "months_paid": pattern.count("1"),
    }


def _social_security(subject: str, fields: set[str]) -> Row | None:
    empty = dict.fromkeys(_spec("social_security")["fields"])
    if not _is_resident_id(subject):
        unit = _one(SocialSecurityUnit, employer_uscc=subject)
        if unit is None:
            return None
        return {
            **empty,
            "unit_name": unit["unit_name"],
            "employer_uscc": unit["employer_uscc"],
            "insured_status": unit["unit_status"],
            "insured_since": unit["registered_on"],
            "arrears": unit["arrears"],
            "active_insured": unit["active_insured"],
        }
    row = _one(SocialSecurity, person_id=subject)
    if row is None:
        return None
    return {**empty, **row, "payment_history": _payment_history(row["payment_history"])}


def _provident_fund(subject: str, fields: set[str]) -> Row | None:
    empty = dict.fromkeys(_spec("provident_fund")["fields"])
    if not _is_resident_id(subject):
        unit = _one(ProvidentFundUnit, employer_uscc=subject)
        if unit is None:
            return None
        return {
            **empty,
            "account_number": unit["unit_account_number"],
            "unit_name": unit["unit_name"],
            "employer_uscc": unit["employer_uscc"],
            "arrears": unit["arrears"],
            "active_accounts": unit["active_accounts"],
        }
    row = _one(ProvidentFundAccount, person_id=subject)
    if row is None:
        return None
    return {**empty, **row, "arrears": Decimal("0.00")}


def _qualification(subject: str, fields: set[str]) -> Row | None:
    key = "holder_id" if _is_resident_id(subject) else "register_unit_uscc"
    rows = Qualification.objects.filter(**{key: subject}).order_by("-issued_on", "-id")
    return _latest(list(rows.values(*_values(Qualification))))


def _disability(subject: str, fields: set[str]) -> Row | None:
    return _one(Disability, holder_id=subject)


def _vehicle(subject: str, fields: set[str]) -> Row | None:
    key = "owner_id" if subject.isascii() else "plate_number"
    rows = Vehicle.objects.filter(**{key: subject}).order_by("-registered_on", "-id")
    return _latest(list(rows.values(*_values(Vehicle))))


def _tax_clearance(subject: str, fields: set[str]) -> Row | None:
    return _one(TaxClearance, uscc=subject)


_READERS: dict[str, Callable[[str, set[str]], Row | None]] = {
    "population": _population,
    "household": _household,
    "birth": _birth,
    "marriage": _marriage,
    "death": _death,
    "enterprise": _enterprise,
    "real_estate": _real_estate,
    "social_security": _social_security,
    "provident_fund": _provident_fund,
    "qualification": _qualification,
    "disability": _disability,
    "vehicle": _vehicle,
    "tax_clearance": _tax_clearance,
}


# Existence checks that need no record assembly (the 一证通办 resolver asks "does the registry
# know this subject?" for every material before a case exists). Datasets not listed here answer
# through their reader, so the two can never disagree on what "known" means.
_EXISTS: dict[str, Callable[[str], bool]] = {
    "population": lambda s: Person.objects.filter(id_number=s).exists(),
    "real_estate": lambda s: (
        RealEstateUnit.objects.filter(unit_number=s).exists()
        if len(s) == 28
        else RealEstateOwner.objects.filter(owner_id=s).exists()
    ),
    "enterprise": lambda s: Enterprise.objects.filter(uscc=s).exists(),
}


def exists(dataset: str, subject: str) -> bool:
    """Whether `dataset` has a record for `subject` (ValueError for an unknown dataset)."""
    spec = _spec(dataset)
    if not isinstance(subject, str) or not subject.strip():
        return False
    subject = subject.strip().upper()
    check = _EXISTS.get(dataset)
    if check is not None:
        return check(subject)
    key = spec.get("record_key") or next(iter(spec["fields"]))
    return _READERS[dataset](subject, {key}) is not None
