"""一件事 bundles (DESIGN §4, §5): one form, one set of materials, one acceptance, parallel
departments, dependent stages, one delivery.

A bundle case is a parent `Case` (`bundle` set, no `item`) with one child `Case` per member item,
created together at submission (child numbers: `<parent number>-NN`). Each child is a real case
of its member item's active version, handled by that item's department with the normal work
items, so it shows in that department's worklist unchanged.

Held children. Every child starts `held` (SUBMITTED, no clock, no work items, never deemed
accepted). The system starts a held child (accepts it as "system": its clock starts, its first
step's work items open, its materials from shared data and e-licences are resolved then) when

* its stage is open: every child of an earlier stage is finished (ready, delivered, refused,
  cancelled or withdrawn), and
* the member items it `depends_on` have issued their outputs (their child is READY or
  DELIVERED). A dependency on an optional member that was not chosen is no dependency.

One acceptance of the parent (by a window clerk, or the lead department for an online
application) starts the children that can start at once (the first stage's).

Reacting to the children (through `services.after_transition`, inside the same transaction):
a child's output issued → start what can start now, aggregate the parent; a child refused,
withdrawn or terminated → its dependents (transitively) are cancelled (TERMINATED, with the
reason), the others go on, the parent is marked `partial`; a child claimed → the parent is
IN_REVIEW. The parent's status aggregates the children: ACCEPTED until some child is in
review, then IN_REVIEW; READY when every surviving child is READY (or already delivered);
REFUSED only when no child survives. A correction request on a child suspends that child only.

The parent's clock is the bundle's promised total time from the parent's acceptance (no legal
due: each child keeps its own). The parent's visits are its own in-person events: one intake
at a window, one pickup. Delivering the parent delivers every READY (and REFUSED, with its
decision) child at once, with no visit of their own.

Merged materials. The member items' materials are de-duplicated into one set on the parent:
by licence type for `licence:` sources (a licence is a licence, whatever each item calls it),
else by (name, source). Each merged material records `maps_to` ([[item code, child material
seq], ...]); what the applicant supplies once (upload or paper) is copied to every child that
needs it when the child starts. Shared data and e-licences are resolved per child when it starts,
under its own department's grant (the access log names the department that read the data) —
the applicant supplies them never.

Identity of a new enterprise (企业开办). The applicant of 设立登记 is a person (the future legal
representative). When a child whose item issues an organisation-held licence (YYZZ) is approved
while its applicant is still a person, `assign_new_enterprise` (an output producer that runs
before the licence issuer) gives it the new enterprise's USCC (authority 9, kind 1, the handling
city's code, an organisation code derived from the case number) and the company name of its
form, with the person as legal representative; the business licence is then issued to the
enterprise. Children that depend on it take the enterprise as their applicant when they start
(and their `uscc` form field, left blank in the merged form, is filled in), so the licence is
found in the enterprise's wallet as their material. The person's account stays linked to every
child (`applicant_user`), so they follow all of them.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from django.db import transaction

from onewindow.audit.services import record
from onewindow.cases import clock
from onewindow.cases import services as cs
from onewindow.cases.models import (
    Application,
    Case,
    CaseEvent,
    CaseMaterial,
    CaseStatus,
    Channel,
    Delivery,
    DeliveryMethod,
    MaterialStatus,
    SatisfiedBy,
)
from onewindow.catalog.formschema import clean_form_data, condition_holds
from onewindow.catalog.models import (
    Bundle,
    BundleMember,
    BundleStage,
    CaseType,
    ItemState,
    LimitUnit,
    ServiceItem,
)
from onewindow.core import fastsql
from onewindow.core.errors import ConflictError, ForbiddenError, InvalidError, NotFoundError
from onewindow.core.i18n import bi
from onewindow.core.validators import make_uscc
from onewindow.org.models import Hall, IdType, Region

SYSTEM = "system"
FAILED = frozenset({CaseStatus.REFUSED, CaseStatus.TERMINATED, CaseStatus.WITHDRAWN, CaseStatus.NOT_ACCEPTED})
DONE_OK = frozenset({CaseStatus.READY, CaseStatus.DELIVERED, CaseStatus.CLOSED})
FINISHED = FAILED | DONE_OK
PARENT_RUNNING = frozenset({CaseStatus.ACCEPTED, CaseStatus.IN_REVIEW, CaseStatus.SUSPENDED})
# Child events the parent reacts to.
CHILD_EVENTS = frozenset(
    {"review_start", "outputs_ready", "refuse", "withdraw", "terminate", "deliver", "not_accept"}
)

_state = threading.local()


@contextmanager
def _busy() -> Iterator[None]:
    """While bundles itself changes a bundle's cases, their events do not re-enter the hook."""
    _state.depth = getattr(_state, "depth", 0) + 1
    try:
        yield
    finally:
        _state.depth -= 1


def _is_busy() -> bool:
    return getattr(_state, "depth", 0) > 0


# ---------------------------------------------------------------------------------------------
# The catalogue side: members, merged form, merged materials


# An active bundle with its stages and members: three compiled reads (every submission reads
# them fresh, so a bundle switched off or edited takes effect on the next one).
_BUNDLE = cs._query(
    ("active_bundle",),
    lambda v: Bundle.objects.select_related("lead_department__region").filter(code=v, state=ItemState.ACTIVE),
    cs._Prepared.STR_MARK,
)
_BUNDLE_BY_PK = cs._query(("bundle",), lambda v: Bundle.objects.filter(pk=v))
_STAGES = cs._query(("bundle_stages",), lambda v: BundleStage.objects.filter(bundle_id=v).order_by("seq"))
_MEMBERS = cs._query(("bundle_members",), lambda v: BundleMember.objects.filter(bundle_id=v).order_by("id"))


def active_bundle(code: str) -> Bundle:
    """The active bundle `code`, its `stages` and `members` (each member with its stage) read
    as `prefetch_related` would give them."""
    bundle = _BUNDLE.first(code)
    if bundle is None:
        raise NotFoundError(
            bi(f"一件事不存在或未启用：{code}", f"No active bundle: {code}"), code="bundle_not_found"
        )
    stages = _STAGES.all(bundle.pk)
    by_id = {s.pk: s for s in stages}
    members = _MEMBERS.all(bundle.pk)
    for obj in (*stages, *members):
        obj.bundle = bundle
    for m in members:
        m.stage = by_id[m.stage_id]
    members.sort(key=lambda m: (m.stage.seq, m.pk))  # the model's order
    _prefetched(bundle, "stages", BundleStage, stages)
    _prefetched(bundle, "members", BundleMember, members)
    return bundle


def _prefetched(obj: Any, name: str, model: Any, rows: list[Any]) -> None:
    """Give `obj.<name>.all()` these rows, as `prefetch_related` leaves them."""
    qs = model.objects.all()
    qs._result_cache, qs._prefetch_done = rows, True
    obj.__dict__.setdefault("_prefetched_objects_cache", {})[name] = qs


@dataclass
class Member:
    code: str
    item: ServiceItem
    stage_seq: int
    stage_name: str
    optional: bool
    depends_on: list[str]


def members_of(bundle: Bundle, chosen: Iterable[str] | None = None) -> list[Member]:
    """The member items of a bundle application: every required member, plus the optional ones
    in `chosen` (none by default). Dependencies on members not applied for are dropped (their
    output already exists, e.g. an enterprise that has its business licence)."""
    rows = sorted(bundle.members.all(), key=lambda m: (m.stage.seq, m.pk))
    chosen_set = set(chosen or [])
    known = {m.item_code for m in rows}
    unknown = sorted(chosen_set - known)
    if unknown:
        raise InvalidError(
            bi(f"不是本一件事的成员事项：{'、'.join(unknown)}", f"Not members of this bundle: {unknown}"),
            fields={"members": [bi("成员事项无效", "unknown member items")]},
        )
    picked = [m for m in rows if not m.optional or m.item_code in chosen_set]
    codes = {m.item_code for m in picked}
    items = cs.active_items([m.item_code for m in picked], bundle.pk)
    out = []
    for m in picked:
        out.append(
            Member(
                code=m.item_code,
                item=items[m.item_code],
                stage_seq=m.stage.seq,
                stage_name=m.stage.name,
                optional=m.optional,
                depends_on=[d for d in (m.depends_on or []) if d in codes],
            )
        )
    return out


def choose(every: list[Member], chosen: Iterable[str] | None) -> list[Member]:
    """The members applied for out of `members_of(bundle, <all>)`: required ones and the chosen
    optional ones; dependencies on members not applied for are dropped."""
    chosen_set = set(chosen or [])
    unknown = sorted(chosen_set - {m.code for m in every})
    if unknown:
        raise InvalidError(
            bi(f"不是本一件事的成员事项：{'、'.join(unknown)}", f"Not members of this bundle: {unknown}"),
            fields={"members": [bi("成员事项无效", "unknown member items")]},
        )
    picked = [m for m in every if not m.optional or m.code in chosen_set]
    codes = {m.code for m in picked}
    return [Member(**{**m.__dict__, "depends_on": [d for d in m.depends_on if d in codes]}) for m in picked]


def _field_map(bundle: Bundle) -> dict[str, dict[str, str]]:
    """{item code: {item field: bundle field}} from the merged form's `maps_to`."""
    out: dict[str, dict[str, str]] = {}
    for f in bundle.form_schema or []:
        for target in f.get("maps_to") or []:
            code, _, name = str(target).rpartition(".")
            out.setdefault(code, {})[name] = f["name"]
    return out


def child_form(bundle: Bundle, cleaned: dict[str, Any], code: str) -> dict[str, Any]:
    """A member item's form data from the merged form: every value is entered once."""
    return {
        item_field: cleaned[bundle_field]
        for item_field, bundle_field in _field_map(bundle).get(code, {}).items()
        if bundle_field in cleaned
    }


@dataclass
class MergedMaterial:
    """One material of the merged set (what the intake page and the parent case show)."""

    seq: int
    name: str
    source: str
    required: bool
    condition: str
    accept_standard: str
    form: str
    maps_to: list[tuple[str, int]] = field(default_factory=list)
    conditions: list[tuple[str, str]] = field(default_factory=list)  # (item code, condition)
    requirement: Any = None

    @property
    def source_kind(self) -> str:
        return self.source.split(":", 1)[0]


def merged_requirements(members: list[Member]) -> list[MergedMaterial]:
    """Every material of the members, de-duplicated, numbered 1..N in member order (stable: the
    same numbers on the intake page, in the API and on the parent case)."""
    out: list[MergedMaterial] = []
    by_key: dict[Any, MergedMaterial] = {}
    for m in members:
        for req in cs._item_materials(m.item):
            key = req.source if req.source.startswith("licence:") else (req.name, req.source)
            merged = by_key.get(key)
            if merged is None:
                merged = by_key[key] = MergedMaterial(
                    seq=len(out) + 1,
                    name=req.name,
                    source=req.source,
                    required=req.required,
                    condition=req.condition,
                    accept_standard=req.accept_standard,
                    form=req.form,
                    requirement=req,
                )
                out.append(merged)
            else:
                merged.required = merged.required or req.required
                if not req.condition:
                    merged.condition = ""
            merged.maps_to.append((m.code, req.seq))
            merged.conditions.append((m.code, req.condition))
    return out


def _applying(merged: list[MergedMaterial], forms: dict[str, dict[str, Any]]) -> list[MergedMaterial]:
    """The merged materials that apply to what the member forms say (any member needing it)."""
    out = []
    for mm in merged:
        mapped = [
            (code, seq)
            for (code, seq), (_c, cond) in zip(mm.maps_to, mm.conditions, strict=True)
            if code in forms and condition_holds(cond, forms[code])
        ]
        if mapped:
            out.append(
                MergedMaterial(**{**mm.__dict__, "maps_to": mapped, "conditions": list(mm.conditions)})
            )
    return out


# ---------------------------------------------------------------------------------------------
# Submission


def _clean_member_form(member: Member, bundle: Bundle, data: dict[str, Any], lenient: set[str]) -> dict:
    """The member's form cleaned by its own schema; its errors named by the merged form's
    fields. Fields in `lenient` may be blank now (filled in when the child starts)."""
    schema = [
        {**f, "required": False} if f["name"] in lenient else f for f in (member.item.form_schema or [])
    ]
    try:
        return clean_form_data(schema, data)
    except InvalidError as exc:
        back = _field_map(bundle).get(member.code, {})
        fields: dict[str, list[Any]] = {}
        for key, messages in (exc.fields or {}).items():
            name = key.partition(".")[2]
            target = f"form_data.{back[name]}" if name in back else f"form_data.{member.code}.{name}"
            fields.setdefault(target, []).extend(
                bi(f"「{member.item.name}」{m.zh}", f"{member.code}: {m.en}") if hasattr(m, "zh") else m
                for m in messages
            )
        raise InvalidError(
            bi(f"表单填写有误（{member.item.name}）", f"The form has errors ({member.code})"), fields=fields
        ) from exc


def _merged_rows(
    parent: Case, merged: list[MergedMaterial], given: dict[int, cs.MaterialIn], *, self_service: bool = False
) -> list[CaseMaterial]:
    """The parent's materials from the merged set and what the applicant (or clerk) said."""
    rows: list[CaseMaterial] = []
    errors: dict[str, list[Any]] = {}
    known = {mm.seq for mm in merged}
    for seq, g in given.items():
        if seq not in known and (g.satisfied_by or g.file is not None):
            errors[f"materials.{seq}"] = [bi("本一件事没有这一材料", "no such material for this bundle")]
    for mm in merged:
        m = cs._new(
            CaseMaterial,
            case=parent,
            requirement=mm.requirement,
            seq=mm.seq,
            name=mm.name,
            required=mm.required,
            source=mm.source,
            maps_to=[list(t) for t in mm.maps_to],
        )
        if cs.fill_material(m, mm.source_kind, given.get(mm.seq), errors, self_service=self_service):
            rows.append(m)
    if errors:
        raise InvalidError(bi("材料信息有误", "Invalid materials"), fields=errors)
    return rows


@transaction.atomic
def submit_bundle(
    *,
    actor: cs.Actor,
    bundle: Bundle | str,
    applicant: cs.ApplicantIn,
    channel: str,
    form_data: dict[str, Any] | None = None,
    materials: Iterable[cs.MaterialIn] = (),
    members: Iterable[str] | None = None,
    accept_hall: Hall | None = None,
    deliver_hall: Hall | None = None,
    delivery_method: str | None = None,
    delivery_address: str = "",
    delegation: str = "",
) -> Case:
    """Submit a bundle application (— → SUBMITTED): the parent with the merged form and the
    merged materials, and one held child per member item. Nothing is saved when any input is
    invalid. `members`: the optional member items applied for."""
    if isinstance(bundle, str):
        bundle = active_bundle(bundle)
    if channel not in Channel.values:
        raise InvalidError(
            bi(f"渠道无效：{channel}", f"Unknown channel: {channel}"),
            fields={"channel": [bi("取值无效", "invalid value")]},
        )
    applicant = cs.validate_applicant(applicant)
    cleaned = clean_form_data(bundle.form_schema or [], form_data)
    every = members_of(bundle, [m.item_code for m in bundle.members.all()])
    chosen = choose(every, members)
    is_enterprise = applicant.id_type == IdType.USCC
    forms: dict[str, dict[str, Any]] = {}
    fmap = _field_map(bundle)
    optional_ok = {f["name"]: bool(f.get("required")) for f in bundle.form_schema or []}
    for m in chosen:
        data = child_form(bundle, cleaned, m.code)
        names = {f["name"] for f in m.item.form_schema or []}
        if "uscc" in names and not data.get("uscc") and is_enterprise:
            data["uscc"] = applicant.id_number
        # A dependent item may leave blank what the merged form leaves optional: it comes from
        # the outputs it waits for (the new enterprise's USCC, its customs code, ...).
        lenient = {"uscc"} | {k for k, v in fmap.get(m.code, {}).items() if not optional_ok.get(v, True)}
        if not m.depends_on:
            lenient = set()
        forms[m.code] = _clean_member_form(m, bundle, data, lenient)

    # Where: as for one item (window clerk's hall, API clerk's post, grid agent's village).
    window = None
    if (
        accept_hall is None
        and channel in (Channel.WINDOW, Channel.KIOSK, Channel.POST)
        and not cs._is_system(actor)
    ):
        accept_hall, window = cs._clerk_post(actor)
        if accept_hall is None:
            raise ForbiddenError(
                bi("您没有在服务大厅的受理窗口岗位", "You are not posted at a hall's window"),
                code="no_window",
            )
    api_region: Region | None = None
    if channel == Channel.API and not cs._is_system(actor) and accept_hall is None:
        accept_hall, window = cs._clerk_post(actor)
        if accept_hall is None:
            clerk = [g for g in cs.grants(cs._user(actor)) if g.role == cs.Role.INTAKE_CLERK]
            if clerk:
                api_region = Region.objects.get(code=clerk[0].region_code)
    cs._authorize_submit(actor, channel, applicant, accept_hall)
    lead = bundle.lead_department
    handling_region = lead.region
    accept_region = accept_hall.region if accept_hall else (api_region or handling_region)
    if channel == Channel.GRID:
        agent_regions = [g for g in cs.grants(cs._user(actor)) if g.role == cs.Role.GRID_AGENT]
        if agent_regions:
            accept_region = Region.objects.get(code=agent_regions[0].region_code)
        if not delegation.strip():
            raise InvalidError(
                bi("网格代办须填写委托记录", "A grid agent needs the villager's delegation"),
                fields={"delegation": [bi("必填", "required")]},
            )
    for m in chosen:
        cs.check_handle_scope(m.item, accept_region, m.item.department.region)
    method = delivery_method or (DeliveryMethod.WINDOW if accept_hall else DeliveryMethod.ELECTRONIC)
    if method not in DeliveryMethod.values:
        raise InvalidError(
            bi("送达方式无效", "Invalid delivery method"),
            fields={"delivery_method": [bi("取值无效", "invalid value")]},
        )
    if method == DeliveryMethod.COURIER and not delivery_address.strip():
        raise InvalidError(
            bi("邮寄送达须填写地址", "Courier delivery needs an address"),
            fields={"delivery_address": [bi("必填", "required")]},
        )
    # Numbered over every member (the same numbers whichever optional members are chosen).
    merged = _applying(merged_requirements(every), forms)

    now = fastsql.now()
    user = cs._user(actor)
    application = cs._insert(cs._new(Application, channel=channel, submitted_by=user))
    profile_user = cs._profile_user(applicant.id_number)
    common = {
        "application": application,
        "applicant_type": applicant.id_type,
        "applicant_id_number": applicant.id_number,
        "applicant_name": applicant.name,
        "applicant_phone": applicant.phone,
        "legal_rep_name": applicant.legal_rep_name,
        "applicant_user_id": profile_user,
        "agent": user if channel == Channel.GRID else None,
        "delegation": delegation.strip()[:200],
        "channel": channel,
        "accept_hall": accept_hall,
        "accept_window": window,
        "accept_region": accept_region,
        "deliver_hall": deliver_hall or accept_hall,
        "delivery_method": method,
        "delivery_address": delivery_address.strip()[:300],
        "status": CaseStatus.SUBMITTED,
        "received_at": now,
        "created_by": user,
    }
    visit = channel in cs.IN_PERSON_CHANNELS
    parent = cs._new(
        Case,
        number=cs._next_number(accept_region.code, fastsql.localdate(now)),
        bundle=bundle,
        handling_department=lead,
        handling_region=handling_region,
        form_data=cleaned,
        visits=1 if visit else 0,
        **common,
    )
    rows = _merged_rows(
        parent,
        merged,
        {m.seq: m for m in materials},
        self_service=channel in (Channel.ONLINE, Channel.MOBILE) and not cs._is_system(actor),
    )
    cs._insert(parent)
    for r in rows:
        r.case = parent
    cs._insert_rows(rows)

    children = [
        cs._new(
            Case,
            number=f"{parent.number}-{i:02d}",
            parent=parent,
            item=m.item,
            handling_department=m.item.department,
            handling_region=m.item.department.region,
            form_data=forms[m.code],
            held=True,
            stage_seq=m.stage_seq,
            depends_on=m.depends_on,
            **common,
        )
        for i, m in enumerate(chosen, start=1)
    ]
    cs._insert_rows(children)
    parent_rows = {r.seq: r for r in rows}
    child_rows: list[CaseMaterial] = []
    for c in children:
        built = cs._build_materials(c, c.item, c.form_data, {})
        _copy_supplied(c, built, parent_rows.values())
        child_rows.extend(built)
    cs._insert_rows(child_rows)
    cs._event(
        parent,
        "submit",
        actor,
        payload={
            "channel": channel,
            "bundle": bundle.code,
            "children": [
                {"number": c.number, "item": c.item.code, "version": c.item.version} for c in children
            ],
        },
        visit=visit,
        count_visit=False,
        at=now,
    )
    cs._insert_rows(
        [
            cs._new(
                CaseEvent,
                case=c,
                at=now,
                actor=user,
                actor_name=cs._actor_name(actor),
                kind="submit",
                to_status=c.status,
                payload={
                    "channel": channel,
                    "item": c.item.code,
                    "version": c.item.version,
                    "parent": parent.number,
                    "held": True,
                },
            )
            for c in children
        ]
    )
    return parent


def _copy_supplied(
    child: Case, child_rows: Iterable[CaseMaterial], parent_rows: Iterable[CaseMaterial]
) -> list:
    """Copy what the applicant supplied once (upload, paper, a pledge instead) from the parent's
    merged materials to the child's materials they stand for. Returns the rows changed."""
    code = child.item.code
    by_seq = {m.seq: m for m in child_rows}
    changed = []
    for pm in parent_rows:
        if pm.satisfied_by not in (
            SatisfiedBy.UPLOAD,
            SatisfiedBy.PAPER,
            SatisfiedBy.PLEDGE,
        ) and pm.status not in (
            MaterialStatus.MISSING,
            MaterialStatus.DEFECTIVE,
        ):
            continue
        for c, seq in pm.maps_to:
            m = by_seq.get(seq) if c == code else None
            if m is None or (m.satisfied_by, m.status) == (pm.satisfied_by, pm.status):
                continue
            if m.source.split(":", 1)[0] in ("pledge", "exempt") and pm.status != MaterialStatus.OK:
                continue
            m.satisfied_by, m.status, m.reason = pm.satisfied_by, pm.status, pm.reason
            if pm.file:
                m.file = pm.file.name
                m.file_name, m.file_hash, m.file_size = pm.file_name, pm.file_hash, pm.file_size
                m.content_type = pm.content_type
            m.reference = f"bundle:{pm.case.number}#{pm.seq}" if pm.case_id else ""
            changed.append(m)
    return changed


def consent_for_bundle(
    parent: Case, *, actor: cs.Actor, mode: str = "applicant", delegation: str = ""
) -> int:
    """The applicant's consent to shared-data reads, given once, for the parent and every child."""
    from onewindow.exchange.services import consent_for_case

    n = consent_for_case(parent, actor=actor, mode=mode, delegation=delegation)
    for child in parent.children.all():
        n += consent_for_case(child, actor=actor, mode=mode, delegation=delegation)
    return n


# ---------------------------------------------------------------------------------------------
# Acceptance and starting children


def _bundle_dues(bundle: Bundle, start: Any, started_at: Any, region: str) -> clock.Dues:
    unit = bundle.promised_limit_unit
    spec = SimpleNamespace(
        promised_limit=bundle.promised_limit,
        promised_limit_unit=unit,
        legal_limit=bundle.promised_limit,
        legal_limit_unit=unit,
        case_type=CaseType.IMMEDIATE if unit == LimitUnit.MINUTE else CaseType.PROMISED,
    )
    return clock.compute_dues(spec, start, started_at, region)  # type: ignore[arg-type]


def accept_parent(parent: Case, actor: cs.Actor) -> Case:
    """受理 of a bundle (called by `services.accept_case` with the parent locked and the actor
    checked): the bundle's promised time starts, and the children that can start do."""
    materials = cs._case_materials(parent)
    missing = cs._missing(parent, materials)
    if missing:
        raise ConflictError(
            bi(
                "材料不齐全，请一次性告知需补正的材料：" + "、".join(m.name for m in missing),
                "Materials are missing or defective; send a one-time correction notice: "
                + ", ".join(str(m.seq) for m in missing),
            ),
            code="materials_incomplete",
            extra={"status": parent.status, "materials": [m.seq for m in missing]},
        )
    bundle = _BUNDLE_BY_PK.first(parent.bundle_id)
    now = fastsql.now()
    start = fastsql.localdate(now)
    dues = _bundle_dues(bundle, start, now, parent.handling_region.code)
    old = parent.status
    parent.status = CaseStatus.ACCEPTED
    parent.clock_start, parent.accepted_at = start, now
    parent.promised_due, parent.promised_due_at = dues.promised, dues.promised_at
    parent.legal_due, parent.due_is_provisional = None, dues.provisional
    clock.refresh_flags(parent, now=now, work_items=[])
    with _busy():
        cs._event(
            parent,
            "accept",
            actor,
            from_status=old,
            at=now,
            payload={"promised_due": parent.promised_due.isoformat(), "bundle": bundle.code},
            save=[
                "status",
                "clock_start",
                "accepted_at",
                "promised_due",
                "promised_due_at",
                "legal_due",
                "due_is_provisional",
                "sla",
                "legal_breach",
                "step_overdue",
            ],
        )
        kids = _kids(parent)
        _advance(parent, kids, actor, materials)
        _aggregate(parent, kids, actor)
    return parent


@dataclass
class Kid:
    pk: int
    number: str
    code: str
    name: str
    status: str
    held: bool
    stage: int
    depends_on: list[str]
    applicant_type: str
    applicant_id_number: str
    applicant_name: str


_KIDS = cs._query(
    ("bundle_kids",),
    lambda v: (
        Case.objects.filter(parent_id=v)
        .order_by("stage_seq", "pk")
        .values_list(
            "pk",
            "number",
            "item__code",
            "item__name",
            "status",
            "held",
            "stage_seq",
            "depends_on",
            "applicant_type",
            "applicant_id_number",
            "applicant_name",
        )
    ),
)


def _kids(parent: Case) -> list[Kid]:
    return [Kid(*r[:7], list(r[7] or []), *r[8:]) for r in _KIDS.all(parent.pk)]


def _startable(kid: Kid, kids: list[Kid]) -> bool:
    if not kid.held or kid.status != CaseStatus.SUBMITTED:
        return False
    if any(k.stage < kid.stage and k.status not in FINISHED for k in kids):
        return False
    by_code = {k.code: k for k in kids}
    return all(by_code[d].status in DONE_OK for d in kid.depends_on if d in by_code)


def _advance(
    parent: Case, kids: list[Kid], actor: cs.Actor, parent_materials: list[CaseMaterial] | None = None
) -> None:
    """Start every held child that can start now (stage open, dependencies' outputs issued)."""
    ready = [k for k in kids if _startable(k, kids)]
    if not ready:
        return
    if parent_materials is None:
        parent_materials = cs._case_materials(parent)
    by_code = {k.code: k for k in kids}
    memo: dict[Any, Any] = {}  # what the children starting together read once (this transaction)
    for kid in ready:
        _start_child(parent, kid, by_code, parent_materials, actor, memo)


# What starting a child reads besides the case: the acceptance's rows and the department that
# reads shared data and uses licences for it.
_START_RELATED = (*cs._ACCEPT_RELATED, "handling_department")


def _start_child(
    parent: Case,
    kid: Kid,
    by_code: dict[str, Kid],
    parent_materials: list[CaseMaterial],
    actor: cs.Actor,
    memo: dict[Any, Any],
) -> None:
    # Locked once and accepted in place (inside the parent's transaction: no savepoint).
    try:
        child = cs._lock(kid.number, {CaseStatus.SUBMITTED}, "accept", _START_RELATED)
    except ConflictError:
        return  # no longer waiting (withdrawn meanwhile): nothing to start
    fields: list[str] = ["held"]
    # The enterprise that a dependency created (企业开办) becomes this child's applicant.
    if child.applicant_type != IdType.USCC:
        for d in kid.depends_on:
            dep = by_code.get(d)
            if dep is not None and dep.applicant_type == IdType.USCC:
                if child.legal_rep_name in ("", child.applicant_name):
                    # The applicant whose identity was verified (the account, or the ID card at
                    # a window) is the new enterprise's legal representative: whose shared data
                    # the child may read (the registry does not know the enterprise yet).
                    child._trusted_legal_rep = child.applicant_id_number
                child.legal_rep_name = child.legal_rep_name or child.applicant_name
                child.applicant_type, child.applicant_id_number = IdType.USCC, dep.applicant_id_number
                child.applicant_name = dep.applicant_name
                fields += ["applicant_type", "applicant_id_number", "applicant_name", "legal_rep_name"]
                break
    if child.applicant_type == IdType.USCC and any(f["name"] == "uscc" for f in child.item.form_schema or []):
        if not (child.form_data or {}).get("uscc"):
            child.form_data = {**(child.form_data or {}), "uscc": child.applicant_id_number}
            fields.append("form_data")
    materials = cs._case_materials(child)
    for m in _copy_supplied(child, materials, parent_materials):
        m.save()
    # The children of one bundle share their applicant: whose data may be read is looked up
    # once per applicant in this transaction, and so are the registries' answers about them.
    child._exchange_memo = memo.setdefault("exchange", {})
    reps = memo.setdefault("legal_reps", {})
    rep_key = (child.applicant_id_number, child.channel, (child.form_data or {}).get("legal_rep_id", ""))
    if rep_key in reps and not hasattr(child, "_trusted_legal_rep"):
        child._trusted_legal_rep = reps[rep_key]
    child.held = False
    try:
        cs.accept_locked(child, SYSTEM, materials, also_save=fields)
    except ConflictError as exc:
        # Cannot start (e.g. a material is defective): it stays held, with the reason shown.
        child.held = True
        cs._save(child, fields)
        cs._event(child, "start_blocked", actor, from_status=child.status, reason=str(exc.message)[:2000])
        return
    finally:
        if hasattr(child, "_trusted_legal_rep"):
            reps[rep_key] = child._trusted_legal_rep
    kid.status, kid.held = CaseStatus.ACCEPTED, False
    kid.applicant_type, kid.applicant_id_number = child.applicant_type, child.applicant_id_number
    kid.applicant_name = child.applicant_name


def _cancel_dependents(parent: Case, kids: list[Kid], failed: Kid, actor: cs.Actor, reason: str) -> None:
    """The held children that need the failed child's output (directly or through another
    cancelled child) are cancelled (TERMINATED) with the reason; the others go on."""
    gone = {failed.code}
    changed = True
    while changed:
        changed = False
        for k in kids:
            if k.held and k.status == CaseStatus.SUBMITTED and gone & set(k.depends_on):
                child = Case.objects.select_for_update(of=("self",)).get(pk=k.pk)
                if child.status != CaseStatus.SUBMITTED:
                    continue
                why = f"所依赖的事项「{failed.name}」{CaseStatus(failed.status).label}：{reason}"[:2000]
                child.status, child.held, child.sla = CaseStatus.TERMINATED, False, ""
                child.decision_reason, child.decided_at = why, fastsql.now()
                cs._save(child, ["status", "held", "sla", "decision_reason", "decided_at"])
                cs._event(
                    child,
                    "cancel",
                    actor,
                    from_status=CaseStatus.SUBMITTED,
                    reason=why,
                    payload={"depends_on": failed.number},
                )
                k.status, k.held = CaseStatus.TERMINATED, False
                gone.add(k.code)
                changed = True


def _aggregate(parent: Case, kids: list[Kid], actor: cs.Actor) -> None:
    """The parent's status and `partial` flag from its children's."""
    if parent.status not in PARENT_RUNNING:
        return
    alive = [k for k in kids if k.status not in FAILED]
    partial = bool(alive) and len(alive) < len(kids)
    now = fastsql.now()
    old = parent.status
    if not alive:
        new, kind = CaseStatus.REFUSED, "refuse"
    elif all(k.status in DONE_OK for k in alive):
        new, kind = CaseStatus.READY, "outputs_ready"
    elif any(k.status not in (CaseStatus.SUBMITTED, CaseStatus.ACCEPTED) for k in kids):
        new, kind = CaseStatus.IN_REVIEW, "review_start"
    else:
        new, kind = CaseStatus.ACCEPTED, ""
    if new == old and partial == parent.partial:
        return
    parent.partial = partial
    fields = ["partial"]
    if new != old:
        parent.status = new
        fields.append("status")
        if new in (CaseStatus.READY, CaseStatus.REFUSED):
            parent.decided_at = now
            if new == CaseStatus.REFUSED:
                parent.decision_reason = "一件事的成员事项均未办成（不予许可、撤回或已取消）"
            clock.refresh_flags(parent, now=now, work_items=[])
            fields += ["decided_at", "decision_reason", "sla", "legal_breach", "step_overdue"]
    if not (new != old and kind):
        cs._save(parent, fields)
        return
    payload: dict[str, Any] = {"partial": partial}
    if new != CaseStatus.IN_REVIEW:
        payload["children"] = [{"number": k.number, "status": k.status} for k in kids]
    with _busy():
        cs._event(
            parent,
            kind,
            actor,
            from_status=old,
            at=now,
            reason=parent.decision_reason if new == CaseStatus.REFUSED else "",
            payload=payload,
            save=fields,
        )


# ---------------------------------------------------------------------------------------------
# The hooks


def on_event(case: Case, ev: CaseEvent, actor: cs.Actor) -> None:
    """`services.after_transition`: a child's decision moves its bundle on; a parent's delivery
    or non-acceptance is its children's too. No query for a case outside a bundle."""
    if _is_busy():
        return
    if case.parent_id and ev.kind in CHILD_EVENTS:
        with _busy():
            _child_event(case, ev, actor)
    elif case.bundle_id and ev.kind in ("deliver", "not_accept"):
        with _busy():
            _parent_event(case, ev, actor)


# Without the merged form (the parent's largest column), which nothing that a child's event
# does to its parent reads.
_PARENT_LOCK = cs._query(
    ("bundle_parent",),
    lambda v: (
        Case.objects.select_for_update(of=("self",))
        .select_related("handling_region")
        .defer("form_data")
        .filter(pk=v)
    ),
)


# A parent's status alone: whether a child's review start changes anything.
_PARENT_STATUS = cs._query(
    ("bundle_parent_status",), lambda v: Case.objects.filter(pk=v).order_by().values_list("status")
)


def _child_event(child: Case, ev: CaseEvent, actor: cs.Actor) -> None:
    if ev.kind == "review_start":
        # Already in review (every child's first claim but the bundle's first), or no longer
        # running: nothing to change, and the parent is not read and locked for nothing. A
        # parent in review stays so while this child, locked by its claim, is undecided.
        (status,) = _PARENT_STATUS.first(child.parent_id) or (None,)
        if status == CaseStatus.IN_REVIEW or status not in PARENT_RUNNING:
            return
    parent = _PARENT_LOCK.first(child.parent_id)
    if parent is None or parent.status not in PARENT_RUNNING:
        return
    if ev.kind == "review_start" and parent.status == CaseStatus.IN_REVIEW:
        return  # already in review: another child's review changes nothing
    kids = _kids(parent)
    for k in kids:
        if k.pk == child.pk:  # the event may precede the child's own save
            k.status, k.held = child.status, child.held
            me = k
    if child.status in FAILED:
        reason = ev.reason or child.decision_reason or ""
        cs._event(
            parent,
            "member_failed",
            actor,
            from_status=parent.status,
            reason=reason[:2000],
            payload={"child": child.number, "item": me.code, "status": child.status},
        )
        _cancel_dependents(parent, kids, me, actor, reason)
    if ev.kind in ("outputs_ready", "refuse", "withdraw", "terminate", "not_accept"):
        _advance(parent, kids, actor)
    _aggregate(parent, kids, actor)


_DELIVERY = cs._query(("case_delivery",), lambda v: Delivery.objects.filter(case_id=v).order_by("pk"))
_DELIVERABLE = cs._query(
    ("bundle_deliverable",),
    lambda v: (
        Case.objects.filter(parent_id=v, status__in=[CaseStatus.READY, CaseStatus.REFUSED])
        .defer("form_data")  # delivering reads none of it
        .order_by("stage_seq", "pk")
    ),
)


def _parent_event(parent: Case, ev: CaseEvent, actor: cs.Actor) -> None:
    if ev.kind == "not_accept":
        for child in parent.children.filter(status=CaseStatus.SUBMITTED):
            child.status, child.held = CaseStatus.NOT_ACCEPTED, False
            child.decision_reason, child.decided_at = parent.decision_reason, fastsql.now()
            cs._save(child, ["status", "held", "decision_reason", "decided_at"])
            cs._event(
                child, "not_accept", actor, from_status=CaseStatus.SUBMITTED, reason=parent.decision_reason
            )
        return
    # deliver: every READY child (and REFUSED child, with its decision) goes out with the parent.
    delivery = _DELIVERY.first(parent.pk)
    now = ev.at
    children = _DELIVERABLE.all(parent.pk)
    for c in children:
        c.parent = parent  # as parent.children would have it: not read again
    cs._insert_rows(
        [
            cs._new(
                Delivery,
                case=c,
                method=parent.delivery_method,
                hall_id=delivery.hall_id if delivery else None,
                courier=delivery.courier if delivery else "",
                waybill=delivery.waybill if delivery else "",
                address=delivery.address if delivery else "",
                received_by=delivery.received_by if delivery else "",
                delivered_at=now,
                delivered_by=cs._user(actor),
            )
            for c in children
        ]
    )
    for c in children:
        old = c.status
        c.status, c.delivered_at, c.delivery_method = CaseStatus.DELIVERED, now, parent.delivery_method
        cs._event(
            c,
            "deliver",
            actor,
            from_status=old,
            at=now,
            payload={"method": parent.delivery_method, "with_bundle": parent.number},
            save=["status", "delivered_at", "delivery_method"],
        )


# ---------------------------------------------------------------------------------------------
# A new enterprise's identity (企业开办)


def new_enterprise_uscc(case: Case) -> str:
    """A USCC for an enterprise registered by `case`: 9 (市场监管) 1 (企业), the handling city,
    and an organisation code "MA" + seven characters derived from the case number (the form of
    the codes given to new enterprises since 2015)."""
    from onewindow.core.validators import USCC_CHARSET

    digest = int(hashlib.sha256(case.number.encode()).hexdigest(), 16)
    tail = ""
    for _ in range(7):
        digest, r = divmod(digest, len(USCC_CHARSET))
        tail += USCC_CHARSET[r]
    return make_uscc("9", "1", case.handling_region.code[:6], "MA" + tail)


def assign_new_enterprise(case: Case, actor: cs.Actor) -> None:
    """Output producer, before the licence issuer: a bundle child about to issue an
    organisation-held licence (the business licence) to a person registers the new enterprise."""
    if not case.parent_id or case.applicant_type == IdType.USCC or case.item_id is None:
        return
    from django.apps import apps

    if not apps.is_installed("onewindow.licences"):
        return
    from onewindow.licences.models import HolderKind
    from onewindow.licences.services import get_type, licence_types_of

    types = [get_type(code) for code in licence_types_of(case.item)]
    if not any(t is not None and t.holder_kind == HolderKind.ORGANISATION for t in types):
        return
    name = str((case.form_data or {}).get("company_name") or "").strip()
    if not name:
        return
    if not hasattr(case, "handling_region") or case.handling_region is None:
        case.handling_region = Region.objects.get(pk=case.handling_region_id)
    uscc = new_enterprise_uscc(case)
    person = case.applicant_name
    case.legal_rep_name = case.legal_rep_name or person
    case.applicant_type, case.applicant_id_number, case.applicant_name = IdType.USCC, uscc, name[:100]
    cs._save(case, ["applicant_type", "applicant_id_number", "applicant_name", "legal_rep_name"])
    record("cases.enterprise_registered", case, actor=actor, data={"uscc": uscc, "legal_rep": person})


def install() -> None:
    """Register the hooks (called by the cases app once)."""
    if on_event not in cs.after_transition:
        cs.after_transition.append(on_event)
    if assign_new_enterprise not in cs.output_producers:
        cs.output_producers.insert(0, assign_new_enterprise)


# ---------------------------------------------------------------------------------------------
# Reading a bundle case: progress by stage


def progress(parent: Case, children: list[Case] | None = None) -> list[dict[str, Any]]:
    """The parent's children grouped by the bundle's stages, for the case page."""
    stages = {s.seq: s for s in parent.bundle.stages.all()} if parent.bundle_id else {}
    if children is None:
        children = list(
            parent.children.select_related("item", "handling_department").order_by("stage_seq", "pk")
        )
    out: dict[int, dict[str, Any]] = {}
    for c in children:
        seq = c.stage_seq or 0
        s = stages.get(seq)
        row = out.setdefault(
            seq,
            {
                "seq": seq,
                "name": s.name if s else "",
                "limit": s.limit_workdays if s else None,
                "children": [],
            },
        )
        row["children"].append(c)
    for row in out.values():
        sts = [c.status for c in row["children"]]
        if all(st in FINISHED for st in sts):
            row["state"] = "done"
        elif all(c.held for c in row["children"] if c.status not in FINISHED):
            row["state"] = "waiting"
        else:
            row["state"] = "running"
    return [out[k] for k in sorted(out)]
