"""Licence life cycle (DESIGN §7): issue (on approval, through the cases hook), renew, suspend,
reinstate, revoke, expire; and use (用证) at intake, through the exchange resolver's hooks.
Every state change runs in a transaction, re-reads the licence under a row lock and is audited."""

from __future__ import annotations

import calendar
import hashlib
import logging
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from onewindow.audit.services import record
from onewindow.core import fastsql
from onewindow.core.errors import ConflictError, ForbiddenError, InvalidError, NotFoundError
from onewindow.core.i18n import bi
from onewindow.core.permissions import has_role, is_sysadmin
from onewindow.core.roles import Role
from onewindow.core.validators import id_check_digit, mask_id, uscc_check_char
from onewindow.licences import keys, signing
from onewindow.licences.identifiers import make_licence_id
from onewindow.licences.models import (
    ConsentMode,
    HolderKind,
    KeyAlgorithm,
    Licence,
    LicenceSequence,
    LicenceStatus,
    LicenceType,
    LicenceUsage,
    UsageResult,
)
from onewindow.org.models import Department, IdType

log = logging.getLogger(__name__)
DATA = Path(__file__).resolve().parent / "data" / "licence_types.yaml"
CONTENT_FORMAT = "onewindow-licence/1"


# ---------------------------------------------------------------------------------------------
# Licence types


def load_licence_types(path: Path = DATA, *, actor: Any = "system") -> int:
    """Create or update the licence types of a YAML file (idempotent); returns how many."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    n = 0
    with transaction.atomic():
        for t in doc["types"]:
            values = {
                "name": t["name"],
                "name_en": t.get("name_en", ""),
                "department_code": t.get("department", ""),
                "holder_kind": t.get("holder", HolderKind.ANY),
                "validity_months": int(t.get("validity_months", 0)),
                "fields": t.get("fields", []),
                "active": True,
            }
            obj, created = LicenceType.objects.get_or_create(code=t["code"], defaults=values)
            if not created and any(getattr(obj, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(obj, k, v)
                obj.save()
                record("licences.type_update", obj, actor=actor, data={"code": obj.code})
            elif created:
                record("licences.type_create", obj, actor=actor, data={"code": obj.code})
            n += 1
    clear_type_cache()
    return n


# Licence types are reference data: each process keeps the active ones for a minute, so the
# 一证通办 resolver does not read them once per material. An edit shows within TYPE_TTL seconds.
TYPE_TTL = 60.0
_types: dict[str, Any] = {"at": -1e9, "by_code": {}}


def clear_type_cache() -> None:
    _types["at"] = -1e9


def get_type(code: str) -> LicenceType | None:
    import time

    now = time.monotonic()
    if now - _types["at"] > TYPE_TTL:
        by_code = {t.code: t for t in LicenceType.objects.filter(active=True)}
        if not by_code and not LicenceType.objects.exists():
            load_licence_types()  # a fresh database: the bundled types
            by_code = {t.code: t for t in LicenceType.objects.filter(active=True)}
        _types["by_code"], _types["at"] = by_code, now
    t = _types["by_code"].get(code)
    if t is None:
        # Not cached (new, or created after the cache was filled): one read, never a stale "no".
        t = LicenceType.objects.filter(code=code, active=True).first()
        if t is not None:
            _types["by_code"][code] = t
    return t


# ---------------------------------------------------------------------------------------------
# Masking and claims


def mask_name(name: str, id_type: str = IdType.RESIDENT_ID) -> str:
    """陈晓明 → 陈*明, 李四 → 李*; organisation names are public and stay whole."""
    if id_type == IdType.USCC or not name:
        return name
    if len(name) <= 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def signed_content_of(lic: Licence) -> dict[str, Any]:
    """What the SM2 signature covers (as RFC 8785 canonical JSON). Status is not in it: status
    changes are checked online, the signed facts never change."""
    return {
        "format": CONTENT_FORMAT,
        "licence_id": lic.licence_id,
        "type": {"code": lic.type.code, "name": lic.type.name},
        "serial": lic.serial,
        "version": lic.version,
        "holder": {"id_type": lic.holder_id_type, "id_number": lic.holder_id_number, "name": lic.holder_name},
        "issuer": {"uscc": lic.issuer_uscc, "name": lic.issuer_name},
        "issue_date": lic.issue_date.isoformat(),
        "valid_from": lic.valid_from.isoformat(),
        "valid_to": lic.valid_to.isoformat() if lic.valid_to else None,
        "surface": lic.surface,
        "source_case": lic.source_case.number if lic.source_case_id else None,
        "previous": lic.previous.licence_id if lic.previous_id else None,
        "ed25519_kid": lic.ed25519_kid,
        "sm2_kid": lic.sm2_kid,
    }


def qr_claims_of(lic: Licence, content: bytes) -> dict[str, Any]:
    """The JWS payload: small (a QR code at level M), holder masked, and bound to the full
    signed content by its SHA-256 (`dig`)."""
    return {
        "iss": lic.issuer_uscc,
        "isn": lic.issuer_name,
        "jti": lic.licence_id,
        "lt": lic.type.code,
        "ltn": lic.type.name,
        "sub": mask_id(lic.holder_id_number),
        "sn": mask_name(lic.holder_name, lic.holder_id_type),
        "idt": lic.issue_date.isoformat(),
        "vf": lic.valid_from.isoformat(),
        "vt": lic.valid_to.isoformat() if lic.valid_to else None,
        "ver": lic.version,
        "dig": signing.b64u(hashlib.sha256(content).digest()),
    }


# ---------------------------------------------------------------------------------------------
# Issue


def _next_serial(type_code: str, uscc: str, year: int) -> str:
    last = fastsql.next_in_sequence(LicenceSequence, f"{type_code}.{uscc}.{year}")
    if last > 999_999:
        raise ConflictError(bi("本年度证照流水号已用尽", "Licence serials for this year are exhausted"))
    return f"{year:04d}{last:06d}"


def _sign(lic: Licence, actor: Any) -> None:
    ed = keys.active_key(lic.issuer, KeyAlgorithm.ED25519, actor=actor)
    sm = keys.active_key(lic.issuer, KeyAlgorithm.SM2, actor=actor)
    lic.ed25519_kid, lic.sm2_kid = ed.kid, sm.kid
    content = signing.canonical_json(signed_content_of(lic))
    lic.signed_content = content.decode("utf-8")
    lic.sm2_signature = signing.b64(signing.sm2_sign(content, keys.private_bytes(sm), bytes(sm.public_key)))
    lic.qr_payload = signing.jws_sign(qr_claims_of(lic, content), ed.kid, keys.private_bytes(ed))


@transaction.atomic
def issue(
    *,
    type_code: str,
    holder_id_type: str,
    holder_id_number: str,
    holder_name: str,
    issuer: Department,
    actor: Any,
    surface: dict[str, Any] | None = None,
    valid_from: date | None = None,
    valid_to: date | None = None,
    source_case: Any = None,
    previous: Licence | None = None,
    issue_date: date | None = None,
) -> Licence:
    """Number, sign (Ed25519 JWS for the QR code, SM2 over the canonical JSON) and store a licence."""
    ltype = get_type(type_code)
    if ltype is None:
        raise InvalidError(
            bi(f"未知的证照类型：{type_code}", f"Unknown licence type: {type_code}"),
            fields={"type": [bi("未知的证照类型", "unknown licence type")]},
        )
    today = issue_date or fastsql.localdate()
    start = valid_from or today
    if valid_to is None and ltype.validity_months:
        valid_to = add_months(start, ltype.validity_months) - timedelta(days=1)
    if valid_to is not None and valid_to < start:
        raise InvalidError(bi("有效期止早于有效期起", "valid_to is before valid_from"))
    if previous is not None:
        serial, version = previous.serial, previous.version + 1
    else:
        serial, version = _next_serial(ltype.code, issuer.uscc, today.year), 1
    lic = Licence(
        licence_id=make_licence_id(ltype.code, issuer.uscc, serial, version),
        type=ltype,
        serial=serial,
        version=version,
        holder_id_type=holder_id_type,
        holder_id_number=holder_id_number,
        holder_name=holder_name[:100],
        issuer=issuer,
        issuer_uscc=issuer.uscc,
        issuer_name=issuer.name,
        issue_date=today,
        valid_from=start,
        valid_to=valid_to,
        surface={k: str(v)[:200] for k, v in (surface or {}).items() if v not in (None, "")},
        source_case=source_case,
        previous=previous,
    )
    _sign(lic, actor)
    fastsql.insert(lic)
    record(
        "licences.issue",
        lic,
        actor=actor,
        object_id=lic.licence_id,
        data={
            "type": ltype.code,
            "holder": mask_id(holder_id_number),
            "issuer": issuer.code,
            "case": source_case.number if source_case is not None else None,
            "previous": previous.licence_id if previous else None,
        },
    )
    return lic


def _value(source: str, case: Any) -> str:
    form = case.form_data or {}
    for option in source.split("|"):
        kind, _, name = option.strip().partition(".")
        v: Any = None
        if kind == "form":
            v = form.get(name)
        elif kind == "applicant":
            v = {
                "name": case.applicant_name,
                "id_number": case.applicant_id_number,
                "legal_rep_name": case.legal_rep_name,
            }.get(name)
        elif kind == "item" and case.item_id:
            v = getattr(case.item, name, None)
        elif kind == "case":
            v = getattr(case, name, None)
        if isinstance(v, bool):
            v = "是" if v else "否"
        if v not in (None, "", [], {}):
            return "、".join(map(str, v)) if isinstance(v, list) else str(v)
    return ""


def surface_for(ltype: LicenceType, case: Any) -> dict[str, str]:
    return {f["name"]: _value(f.get("source", ""), case) for f in ltype.fields if f.get("name")}


def licence_types_of(item: Any) -> list[str]:
    """The licence types an item outputs: its outputs of kind licence, else its own licence type
    when its result is a licence. Cached per item version (the catalogue cache's rules)."""
    from onewindow.cases.services import catalog_cached

    return catalog_cached(("licence_types", item.pk, item.updated_at), lambda: _licence_types_of(item))


def _licence_types_of(item: Any) -> list[str]:
    codes = [o.licence_type for o in item.outputs.all() if o.kind == "licence" and o.licence_type]
    if not codes and item.result_type == "licence" and item.licence_type:
        codes = [item.licence_type]
    return list(dict.fromkeys(codes))


_DEPARTMENT = fastsql.prepared(("licences_department",), lambda v: Department.objects.filter(pk=v))
_ISSUED_FOR_CASE = fastsql.prepared(
    ("licences_issued_for_case",),
    lambda case, code: Licence.objects.filter(source_case_id=case, type__code=code).values_list("pk")[:1],
    (fastsql.Prepared.INT_MARK, fastsql.Prepared.STR_MARK),
)


def _issuer_of(case: Any) -> Department:
    """The case's handling department (read unless the case came with it), else its item's."""
    if not case.handling_department_id:
        return case.item.department
    if type(case).handling_department.is_cached(case):
        return case.handling_department
    return _DEPARTMENT.first(case.handling_department_id)


def issue_for_case(case: Any, actor: Any) -> list[Licence]:
    """The output producer (cases.services.output_producers): inside the approve transaction,
    issue each licence the item outputs, once per case and type."""
    if case.item_id is None:
        return []
    codes = licence_types_of(case.item)
    if not codes:
        return []  # most items output an approval document: nothing to sign
    issuer = _issuer_of(case)
    out = []
    for code in codes:
        if _ISSUED_FOR_CASE.first((case.pk, code)) is not None:
            continue
        ltype = get_type(code)
        if ltype is None:
            log.warning("case %s: licence type %s is not defined; no licence issued", case.number, code)
            record(
                "licences.issue_skipped",
                case,
                actor=actor,
                data={"type": code, "reason": "unknown licence type"},
            )
            continue
        out.append(
            issue(
                type_code=code,
                holder_id_type=case.applicant_type,
                holder_id_number=case.applicant_id_number,
                holder_name=case.applicant_name,
                issuer=issuer,
                actor=actor,
                surface=surface_for(ltype, case),
                source_case=case,
            )
        )
    return out


# ---------------------------------------------------------------------------------------------
# Status changes


def may_view(user: Any, lic: Licence) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if is_sysadmin(user):
        return True
    from onewindow.licences.queries import holder_ids

    if lic.holder_id_number in holder_ids(user):
        return True
    return any(g.department_id == lic.issuer_id for g in _grants(user))


def may_manage(user: Any, lic: Licence) -> bool:
    """Suspend, reinstate, revoke, renew: the issuing department's approvers, or an admin."""
    if not isinstance(user, AbstractBaseUser):
        return False
    return is_sysadmin(user) or has_role(
        user, Role.APPROVER, region=lic.issuer.region.code, department=lic.issuer_id
    )


def _grants(user: Any) -> list[Any]:
    from onewindow.core.permissions import grants

    return grants(user)


def _locked(licence_id: str, actor: Any) -> Licence:
    lic = (
        Licence.objects.select_for_update()
        .select_related("issuer", "issuer__region", "type")
        .filter(licence_id=licence_id)
        .first()
    )
    if lic is None or (isinstance(actor, AbstractBaseUser) and not may_view(actor, lic)):
        raise NotFoundError(
            bi(f"证照不存在：{licence_id}", f"No such licence: {licence_id}"), code="licence_not_found"
        )
    if isinstance(actor, AbstractBaseUser) and not may_manage(actor, lic):
        raise ForbiddenError(
            bi("只有颁发部门或管理员可以变更证照状态", "Only the issuing department or an admin may do this"),
            code="not_issuer",
        )
    return lic


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidError(
            bi("请填写理由", "A reason is required"), fields={"reason": [bi("必填", "required")]}
        )
    return reason[:300]


def _set_status(lic: Licence, status: str, reason: str, actor: Any, action: str) -> Licence:
    old = lic.status
    lic.status, lic.status_reason, lic.status_changed_at = status, reason, fastsql.now()
    lic.save(update_fields=["status", "status_reason", "status_changed_at", "updated_at"])
    record(
        f"licences.{action}",
        lic,
        actor=actor,
        object_id=lic.licence_id,
        data={"from": old, "to": status, "reason": reason},
    )
    return lic


@transaction.atomic
def revoke(licence_id: str, *, actor: Any, reason: str) -> Licence:
    lic = _locked(licence_id, actor)
    reason = _reason(reason)
    if lic.status in (LicenceStatus.REVOKED, LicenceStatus.SUPERSEDED):
        raise _conflict(lic, "注销", "revoke")
    return _set_status(lic, LicenceStatus.REVOKED, reason, actor, "revoke")


@transaction.atomic
def suspend(licence_id: str, *, actor: Any, reason: str) -> Licence:
    lic = _locked(licence_id, actor)
    reason = _reason(reason)
    if lic.status != LicenceStatus.VALID:
        raise _conflict(lic, "暂停", "suspend")
    return _set_status(lic, LicenceStatus.SUSPENDED, reason, actor, "suspend")


@transaction.atomic
def reinstate(licence_id: str, *, actor: Any, reason: str) -> Licence:
    lic = _locked(licence_id, actor)
    reason = _reason(reason)
    if lic.status != LicenceStatus.SUSPENDED:
        raise _conflict(lic, "恢复", "reinstate")
    return _set_status(lic, LicenceStatus.VALID, reason, actor, "reinstate")


@transaction.atomic
def renew(licence_id: str, *, actor: Any, valid_to: date | None = None, reason: str = "延续") -> Licence:
    """A new version (same serial, version + 1, new validity from today); the old one is
    marked superseded and verifies as such."""
    lic = _locked(licence_id, actor)
    if lic.status not in (LicenceStatus.VALID, LicenceStatus.EXPIRED):
        raise _conflict(lic, "延续", "renew")
    if lic.version >= 999:
        raise _conflict(lic, "延续", "renew")
    new = issue(
        type_code=lic.type.code,
        holder_id_type=lic.holder_id_type,
        holder_id_number=lic.holder_id_number,
        holder_name=lic.holder_name,
        issuer=lic.issuer,
        actor=actor,
        surface=lic.surface,
        valid_to=valid_to,
        source_case=None,
        previous=lic,
    )
    _set_status(lic, LicenceStatus.SUPERSEDED, f"{reason}：{new.licence_id}"[:300], actor, "supersede")
    return new


def _conflict(lic: Licence, zh: str, en: str) -> ConflictError:
    label = LicenceStatus(lic.status).label
    return ConflictError(
        bi(f"证照当前状态为「{label}」，不能{zh}", f"The licence is {lic.status}: cannot {en}"),
        code="invalid_transition",
        extra={"status": lic.status},
    )


@transaction.atomic
def mark_expired(today: date | None = None, *, actor: Any = "system") -> int:
    """The sweep: valid licences past their end date become expired (verification reads them as
    expired from the date anyway; this makes lists and reports agree)."""
    today = today or fastsql.localdate()
    n = 0
    for lic in Licence.objects.select_for_update().filter(status=LicenceStatus.VALID, valid_to__lt=today):
        _set_status(lic, LicenceStatus.EXPIRED, f"有效期至 {lic.valid_to:%Y-%m-%d}", actor, "expire")
        n += 1
    return n


# ---------------------------------------------------------------------------------------------
# Use (用证)


REFUSAL = {
    LicenceStatus.SUSPENDED: ("证照已暂停", "the licence is suspended"),
    LicenceStatus.REVOKED: ("证照已注销/吊销", "the licence is revoked"),
    LicenceStatus.EXPIRED: ("证照已过期", "the licence has expired"),
    LicenceStatus.SUPERSEDED: ("证照已换发", "the licence was replaced by a newer version"),
    "not_yet_valid": ("证照尚未生效", "the licence is not yet valid"),
}


_LICENCE_CHOICE_FIELDS = (
    "id",
    "licence_id",
    "type_id",
    "holder_id_number",
    "status",
    "status_reason",
    "valid_from",
    "valid_to",
    "issuer_name",
    "issue_date",
)
# One holder's licences of one type (compiled once): what choosing one reads.
_HOLDER_LICENCES = fastsql.prepared(
    ("licences_of_holder",),
    lambda holder, type_id: (
        Licence.objects.filter(holder_id_number=holder, type_id=type_id)
        .only(*_LICENCE_CHOICE_FIELDS)
        .order_by("-issue_date", "-id")
    ),
    (fastsql.Prepared.STR_MARK, fastsql.Prepared.INT_MARK),
)


def _holds_kind(holder_id: str, kind: str) -> bool:
    """Can this ID number hold licences of `kind`: a USCC an organisation's, a resident ID a
    person's (by their check characters, as an all-digit USCC exists)."""
    if kind == HolderKind.ANY or len(holder_id) != 18:
        return True
    first17, last = holder_id[:17], holder_id[17].upper()
    check = uscc_check_char if kind == HolderKind.ORGANISATION else id_check_digit
    try:
        return check(first17) == last
    except ValueError:  # not made of that code's characters
        return False


def holder_licences(holder_ids: list[str], type_code: str) -> list[Licence]:
    """The holders' licences of a type, newest first: only what choosing one, refusing it and
    recording its use read (not the signed content), with the cached type."""
    ltype = get_type(type_code)
    if ltype is None:
        return []
    # Only holders of the type's kind: a business licence is never a person's.
    holders = [h for h in dict.fromkeys(holder_ids) if h and _holds_kind(h, ltype.holder_kind)]
    rows = [lic for h in holders for lic in _HOLDER_LICENCES.all((h, ltype.pk))]
    rows.sort(key=lambda lic: (lic.issue_date, lic.pk), reverse=True)
    for lic in rows:
        lic.type = ltype
    return rows


def pick(licences: list[Licence], today: date | None = None) -> tuple[Licence | None, Licence | None]:
    """(a usable licence, else the most recent unusable one to give the reason)."""
    today = today or fastsql.localdate()
    usable = [lic for lic in licences if lic.effective_status(today) == LicenceStatus.VALID]
    if usable:
        return usable[0], None
    return None, (licences[0] if licences else None)


def refusal_text(lic: Licence, today: date | None = None) -> str:
    st = lic.effective_status(today or fastsql.localdate())
    zh, en = REFUSAL.get(st, ("证照不可用", "the licence cannot be used"))
    extra = f"（{lic.status_reason}）" if lic.status_reason and st != LicenceStatus.EXPIRED else ""
    if st == LicenceStatus.EXPIRED and lic.valid_to:
        extra = f"（有效期至 {lic.valid_to:%Y-%m-%d}）"
    return f"{lic.type.name}{zh}{extra} / {en}"[:300]


def check_coverage(item: Any, material: Any, holder_id: str) -> tuple[bool, str, str]:
    """licence_checkers hook: does the holder have a usable licence of the material's type?"""
    code = material.source.split(":", 1)[1].strip() if ":" in material.source else ""
    ltype = get_type(code)
    if ltype is None:
        return False, "to_supply", f"证照类型未定义 / licence type {code} not defined"
    # Only what the verdict needs: a narrow read instead of whole licences with their JSON.
    candidates = (
        list(
            Licence.objects.filter(holder_id_number=holder_id, type__code=code)
            .only(
                "id",
                "type_id",
                "status",
                "status_reason",
                "valid_from",
                "valid_to",
                "issuer_name",
                "issue_date",
            )
            .order_by("-issue_date", "-id")
        )
        if holder_id
        else []
    )
    for lic in candidates:
        lic.type = ltype  # the cached type: refusal_text reads its name
    ok, bad = pick(candidates)
    if ok is not None:
        until = f"有效期至 {ok.valid_to:%Y-%m-%d}" if ok.valid_to else "长期有效"
        return True, "licence", f"{ltype.name}（{ok.issuer_name}，{until}）"
    if bad is not None:
        return False, "to_supply", refusal_text(bad)
    return False, "to_supply", f"未查到{ltype.name}电子证照 / no e-licence {ltype.name_en or code} found"


def record_usage(
    lic: Licence,
    *,
    actor: Any,
    department: Department | None,
    purpose: str,
    case_number: str = "",
    consent: str = ConsentMode.APPLICATION,
    result: str = UsageResult.USED,
    reason: str = "",
) -> LicenceUsage:
    user = actor if isinstance(actor, AbstractBaseUser) else None
    name = (user.get_full_name() or user.get_username()) if user else str(actor or "system")
    usage = fastsql.new(
        LicenceUsage,
        licence=lic,
        department=department,
        official=user,
        official_name=name[:150],
        purpose=purpose[:300],
        case_number=case_number,
        consent=consent,
        result=result,
        reason=reason[:300],
    )
    fastsql.insert(usage)
    record(
        "licences.use",
        lic,
        actor=actor,
        object_id=lic.licence_id,
        data={"case": case_number, "result": result, "department": department.code if department else None},
    )
    return usage


def fill_material(case: Any, m: Any, actor: Any) -> bool:
    """licence_fillers hook, at acceptance: take the holder's usable licence of the material's
    type, record the use, and mark the material satisfied (trust level A); a suspended, revoked
    or expired licence is refused with the reason and the material stays to supply."""
    from onewindow.cases.models import MaterialStatus, SatisfiedBy

    code = m.source.split(":", 1)[1].strip() if ":" in m.source else ""
    if get_type(code) is None:
        return False
    ids = [case.applicant_id_number]
    from onewindow.exchange.resolver import trusted_legal_rep

    rep = trusted_legal_rep(case)
    if rep and rep != case.applicant_id_number:
        ids.append(rep)
    ok, bad = pick(holder_licences(ids, code))
    purpose = f"办理「{case.item.name}」：{m.name}" if case.item_id else m.name
    fields = ["satisfied_by", "status", "trust_level", "reference", "reason", "updated_at"]
    if ok is not None:
        record_usage(
            ok, actor=actor, department=case.handling_department, purpose=purpose, case_number=case.number
        )
        m.satisfied_by, m.status, m.trust_level = SatisfiedBy.LICENCE, MaterialStatus.OK, "A"
        m.reference = f"licence:{ok.licence_id}"[:200]
        m.reason = f"{ok.type.name}（{ok.issuer_name}）"[:300]
        fastsql.update(m, fields)
        return True
    if bad is not None:
        text = refusal_text(bad)
        record_usage(
            bad,
            actor=actor,
            department=case.handling_department,
            purpose=purpose,
            case_number=case.number,
            result=UsageResult.REFUSED,
            reason=text,
        )
        m.reference = f"licence:{bad.licence_id}"[:200]
    else:
        text = f"未查到有效的电子证照，请提交{m.name} / no e-licence found: please supply it"
    m.status, m.reason = MaterialStatus.TO_SUPPLY, text[:300]
    fastsql.update(m, fields)
    return False
