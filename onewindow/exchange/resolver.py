"""The 一证通办 resolver: for an item and an applicant's ID number, which materials the platform
can obtain itself (shared data, e-licences, pledges) and which the applicant must supply."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from onewindow.catalog.models import ServiceItem
from onewindow.core import fastsql
from onewindow.exchange import services as ex
from onewindow.exchange.models import AccessRecord, AccessResult, Dataset, Grant, SubjectKind

# Licence coverage is answered by the licences app when it is installed:
# checker(item, material, holder_id) -> (covered, how, reason)
licence_checkers: list[Callable[[ServiceItem, Any, str], tuple[bool, str, str]]] = []
# Filling a licence-sourced material at acceptance: filler(case, case_material, actor) -> bool
licence_fillers: list[Callable[[Any, Any, Any], bool]] = []


@dataclass(frozen=True)
class Coverage:
    seq: int
    name: str
    source: str
    covered: bool
    how: str  # shared_data | licence | pledge | exempt | to_supply
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def subject_for(dataset: Dataset, applicant_id: str, legal_rep_id: str = "") -> str:
    """Whose record a dataset is asked for: the applicant, or for a person-keyed dataset and an
    enterprise applicant, its legal representative."""
    is_uscc = len(applicant_id) == 18 and not applicant_id[:17].isdigit()
    if dataset.subject_kind == SubjectKind.ID_NUMBER and is_uscc:
        return legal_rep_id or applicant_id
    return applicant_id


def resolve(item: ServiceItem, applicant_id: str, *, actor: Any, legal_rep_id: str = "") -> list[Coverage]:
    """Coverage of each material of `item` for this applicant. Existence checks are logged.

    Per call: the item's datasets (with their owners) and the department's grants on them are
    read once (one query), not per material; the probes' access records are written together at the end
    (also when a later material raises, before the exception goes on)."""
    out: list[Coverage] = []
    from onewindow.cases.services import item_materials

    materials = item_materials(item)
    codes = {ex.parse_source(m.source)[0] for m in materials if m.source_kind == "data"}
    datasets, grants = ex.datasets_and_grants(item.department, codes) if codes else ({}, [])
    records: list[AccessRecord] = []
    probed: dict[tuple[str, str], str] = {}
    try:
        for m in materials:
            kind = m.source_kind
            if kind == "pledge":
                out.append(Coverage(m.seq, m.name, m.source, True, "pledge", "告知承诺 / written pledge"))
            elif kind == "exempt":
                out.append(Coverage(m.seq, m.name, m.source, True, "exempt", "免于提交 / exempt"))
            elif kind == "data":
                out.append(
                    _data_coverage(
                        item, m, applicant_id, legal_rep_id, datasets, grants, actor, records, probed
                    )
                )
            elif kind == "licence":
                covered, how, reason = False, "to_supply", "电子证照服务未启用 / e-licences not available"
                for check in licence_checkers:
                    covered, how, reason = check(item, m, applicant_id)
                    break
                out.append(
                    Coverage(m.seq, m.name, m.source, covered, how if covered else "to_supply", reason)
                )
            else:
                out.append(
                    Coverage(
                        m.seq, m.name, m.source, False, "to_supply", "申请人提交 / supplied by the applicant"
                    )
                )
    finally:
        ex.write_records(records)  # every probe made is logged, also when a later material raised
    return out


def _data_coverage(
    item: ServiceItem,
    m: Any,
    applicant_id: str,
    legal_rep_id: str,
    datasets: dict[str, Dataset],
    grants: list[Grant],
    actor: Any,
    records: list[AccessRecord],
    probed: dict[tuple[str, str], str],
) -> Coverage:
    code, fields = ex.parse_source(m.source)
    ds = datasets.get(code)
    if ds is None:
        return Coverage(
            m.seq, m.name, m.source, False, "to_supply", f"数据集未接入 / dataset {code} not connected"
        )
    if ex.grant_covering(grants, ds, fields, item.code) is None:
        return Coverage(
            m.seq,
            m.name,
            m.source,
            False,
            "to_supply",
            f"{item.department.name}未获{ds.name}共享授权 / no data-sharing grant",
        )
    if ds.needs_consent_for(fields):
        # Even the existence of a record (married? registered disabled?) is personal data the
        # subject must consent to: no probe before a case carries that consent.
        return Coverage(
            m.seq,
            m.name,
            m.source,
            True,
            "shared_data",
            f"{ds.name}：经申请人授权后获取 / {ds.name_en or ds.code}: fetched with the applicant's consent",
        )
    subject = subject_for(ds, applicant_id, legal_rep_id)
    if (code, subject) in probed:
        # One existence check per dataset and subject in a resolve: logged once, reused.
        return _coverage_from(probed[(code, subject)], m, ds)
    result, rec = ex.probe_record(
        ds,
        code,
        subject,
        actor=actor,
        department=item.department,
        item_code=item.code,
        purpose=f"一证通办核验：{item.name}",
    )
    records.append(rec)
    probed[(code, subject)] = result
    return _coverage_from(result, m, ds)


def _coverage_from(result: str, m: Any, ds: Dataset) -> Coverage:
    if result == AccessResult.GRANTED:
        return Coverage(
            m.seq,
            m.name,
            m.source,
            True,
            "shared_data",
            f"{ds.name}（{ds.owner.short_name or ds.owner.name}）",
        )
    if result == AccessResult.NOT_FOUND:
        return Coverage(
            m.seq,
            m.name,
            m.source,
            False,
            "to_supply",
            f"{ds.name}中未查到：请提交{m.name} / "
            f"not found in {ds.name_en or ds.code}: please supply {m.name}",
        )
    return Coverage(
        m.seq,
        m.name,
        m.source,
        False,
        "to_supply",
        f"{ds.name}暂不可用：请提交{m.name} / {ds.name_en or ds.code} unavailable: please supply it",
    )


def trusted_legal_rep(case: Any) -> str:
    """The enterprise applicant's legal representative whose data may be read for the case: the
    one on the enterprise's verified profile, else the one in the enterprise registry, else (at a
    window, where the clerk checked the person's ID card) the one on the form. Remembered on the
    case object for the rest of the acceptance."""
    cached = getattr(case, "_trusted_legal_rep", None)
    if cached is None:
        cached = _trusted_legal_rep(case)
        case._trusted_legal_rep = cached
    return cached


def _trusted_legal_rep(case: Any) -> str:
    from onewindow.cases.models import IN_PERSON_CHANNELS
    from onewindow.org.models import ApplicantProfile, IdType

    if case.applicant_type != IdType.USCC:
        return ""  # a person applies for themselves: no one else's data is read

    profile = ApplicantProfile.objects.filter(id_number=case.applicant_id_number).first()
    if profile is not None and profile.legal_rep_id:
        return profile.legal_rep_id
    from onewindow.registry.lookup import lookup

    try:
        known = lookup("enterprise", case.applicant_id_number, ["legal_rep_id"])
    except ValueError:
        known = None
    if known and known.get("legal_rep_id"):
        return str(known["legal_rep_id"])
    if case.channel in IN_PERSON_CHANNELS:
        return str((case.form_data or {}).get("legal_rep_id", "") or "")
    return ""


def fill_case_materials(case: Any, actor: Any) -> None:
    """At acceptance: fetch every material covered by shared data (with the case as purpose),
    store it on the case with its source, and never ask for it again. A registry that fails or
    does not know the subject leaves the material "to supply" with the reason; the case goes on."""
    from onewindow.cases.models import MaterialStatus, SatisfiedBy

    if case.item_id is None:
        return
    datasets = ex.active_datasets()
    legal_rep = trusted_legal_rep(case)
    memo = getattr(case, "_exchange_memo", None)  # one transaction's reads (a bundle's children)
    # The rows the acceptance has read (services.accept_locked), filled in place.
    rows = getattr(case, "_materials", None)
    for m in rows if rows is not None else case.materials.all():
        if m.status == MaterialStatus.OK:
            continue
        if m.source.startswith("licence:"):
            for fill in licence_fillers:
                if fill(case, m, actor):
                    break
            continue
        if not m.source.startswith("data:"):
            continue
        code, fields = ex.parse_source(m.source)
        ds = datasets.get(code)
        subject = subject_for(ds, case.applicant_id_number, legal_rep) if ds else case.applicant_id_number
        got = ex.fetch(
            code,
            subject,
            fields,
            actor=actor,
            department=case.handling_department,
            purpose=f"办理「{case.item.name}」",
            case_number=case.number,
            item_code=case.item.code,
            memo=memo,
        )
        if got.ok:
            m.satisfied_by, m.status, m.trust_level = SatisfiedBy.DATA, MaterialStatus.OK, "A"
            m.reference = f"access:{got.record_id}"
            m.reason = f"{ds.name}（{fastsql.localdate():%Y-%m-%d}）" if ds else ""
        else:
            m.status = MaterialStatus.TO_SUPPLY
            m.reason = (got.reason or "")[:300]
            m.reference = f"access:{got.record_id}"
        fastsql.update(m, ["satisfied_by", "status", "trust_level", "reference", "reason", "updated_at"])


def coverage_summary(items: Any) -> dict[str, Any]:
    """Catalogue KPI without reading any personal data: the share of materials that the
    platform can obtain by design (a valid grant for shared data, an e-licence source, a pledge
    or an exemption). Two queries for grants and datasets, whatever the number of items."""
    from onewindow.exchange.models import Grant

    today = fastsql.localdate()
    active = {d.code: d for d in Dataset.objects.filter(active=True)}
    grants: dict[tuple[int, str], list[Grant]] = {}
    for g in Grant.objects.filter(active=True, valid_from__lte=today).select_related("dataset"):
        if g.valid_until is None or g.valid_until >= today:
            grants.setdefault((g.consumer_id, g.dataset.code), []).append(g)
    total = covered = 0
    for item in items:
        for m in item.materials.all():
            total += 1
            kind = m.source_kind
            if kind in ("pledge", "exempt", "licence"):
                covered += 1
            elif kind == "data":
                code, fields = ex.parse_source(m.source)
                if code in active and any(
                    set(fields) <= set(g.fields) and item.code in (g.item_codes or [])
                    for g in grants.get((item.department_id, code), [])
                ):
                    covered += 1
    return {"materials": total, "covered": covered, "share": round(covered / total, 3) if total else 0.0}
