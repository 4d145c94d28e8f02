"""Query budgets of the case transitions (benchmarks/intake.py measures the throughput): a change
that makes a transition read or write more than it needs shows up here.

Each transition is one transaction: its case (or work item and case) locked once in one query,
the catalogue rows it reads served by the per-process catalogue cache, one INSERT per event, one
audit append (one statement on PostgreSQL, three on SQLite), and no savepoint of the audit's own.
The budgets count the transition's savepoint pair (the test runs inside a transaction)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from unittest import mock

import pytest
from django.db import connection, transaction
from django.utils import timezone

from onewindow.audit.models import AuditEntry, AuditHead
from onewindow.audit.services import _body_prefix, entry_hash, record, verify
from onewindow.cases import services as cs
from onewindow.cases.models import CaseStatus
from onewindow.cases.tests.conftest import FORM, applicant, paper, submit

# Statements of one audit append (both databases: one).
AUDIT = 1  # PostgreSQL: UPDATE … INSERT in one statement; SQLite: INSERT … SELECT + trigger
# SAVEPOINT + RELEASE of the transition's atomic block inside the test's transaction.
TX = 2

BUDGET = {
    # item, window+hall, application, applicant profile, number, case, materials, event
    "submit": TX + 8 + AUDIT,
    # case lock, materials, work items, case, event
    "accept": TX + 5 + AUDIT,
    # work item + case lock, work item, case, event
    "claim_first": TX + 4 + AUDIT,
    # work item + case lock, work item (the case is already in review: audit only)
    "claim_next": TX + 2 + AUDIT,
    # work item + case lock, open work items, work item, next step's work items, event (the case
    # row only when its SLA flags change)
    "decide_step": TX + 5 + AUDIT,
    # work item + case lock, open work items, work item, two events, case (once)
    "decide_last": TX + 6 + 2 * AUDIT,
    # case lock, delivery, event, case
    "deliver": TX + 4 + AUDIT,
}


def _lifecycle(personas: dict[str, Any], guard: Any = None) -> Any:
    def run(name: str, fn: Any) -> Any:
        if guard is None:
            return fn()
        with guard(BUDGET[name]):
            return fn()

    case = run(
        "submit",
        lambda: cs.submit_case(
            actor=personas["clerk"],
            item="330800-SCJG-01-0001",
            applicant=applicant(),
            channel="window",
            form_data=FORM,
            materials=paper(1, 2),
        ),
    )
    run("accept", lambda: cs.accept_case(case, actor=personas["clerk"]))
    wi1 = case.work_items.get(step_seq=1)
    run("claim_first", lambda: cs.claim_work_item(wi1, actor=personas["approver"]))
    run("decide_step", lambda: cs.decide_work_item(wi1, actor=personas["approver"], outcome="approve"))
    wi2 = case.work_items.get(step_seq=2)
    run("claim_next", lambda: cs.claim_work_item(wi2, actor=personas["approver2"]))
    run("decide_last", lambda: cs.decide_work_item(wi2, actor=personas["approver2"], outcome="approve"))
    run(
        "deliver",
        lambda: cs.deliver_case(case, actor=personas["delivery"], method="window", received_by="陈晓明"),
    )
    return case


@pytest.fixture
def no_producers():
    # Output producers (e.g. licence issuing) have budgets of their own.
    with mock.patch.object(cs, "output_producers", []):
        yield


def test_each_transition_stays_within_its_query_budget(
    shop: dict[str, Any], personas: dict[str, Any], no_producers: None, django_assert_max_num_queries: Any
):
    _lifecycle(personas)  # fills the per-process catalogue cache
    case = _lifecycle(personas, django_assert_max_num_queries)
    case.refresh_from_db()
    assert case.status == CaseStatus.DELIVERED
    # One version per state: SUBMITTED, ACCEPTED, IN_REVIEW, APPROVED, READY, DELIVERED.
    assert case.row_version == 6
    assert verify().ok


def test_a_lifecycle_writes_one_audit_entry_per_event(
    shop: dict[str, Any], personas: dict[str, Any], no_producers: None
):
    case = _lifecycle(personas)
    kinds = list(case.events.values_list("kind", flat=True))
    assert len(kinds) == 7
    assert AuditEntry.objects.filter(object_id=case.number).count() == 7
    last = AuditEntry.objects.order_by("-id").first()
    head = AuditHead.objects.get(id=last.lane)  # the connection's lane (PostgreSQL), lane 1 on SQLite
    assert (head.seq, head.hash, head.prev_hash) == (last.seq, last.hash, last.prev_hash)
    assert verify().ok


def test_a_changed_process_template_is_not_served_from_the_cache(
    shop: dict[str, Any], personas: dict[str, Any], no_producers: None
):
    from onewindow.catalog.models import ServiceItem

    _lifecycle(personas)
    item = ServiceItem.objects.get(code="330800-SCJG-01-0001", state="active")
    template = item.process_template
    step = template.steps.get(seq=2)
    step.name = "复核"
    step.save()
    template.save()  # bumps updated_at: a new cache key
    case = _lifecycle(personas)
    assert case.work_items.get(step_seq=2).step_name == "复核"


def test_audit_record_joins_the_callers_transaction_without_a_savepoint(transactional_db: None):
    from django.test.utils import CaptureQueriesContext

    record("test.zero", actor="tester", object_type="t", object_id="0")  # creates the chain head
    with transaction.atomic():
        with CaptureQueriesContext(connection) as ctx:
            record("test.one", actor="tester", object_type="t", object_id="1", data={"a": 1})
        sqls = [q["sql"].split()[0].upper() for q in ctx.captured_queries]
        assert "SAVEPOINT" not in sqls
        assert len(sqls) == AUDIT
    assert not connection.in_atomic_block
    # Outside a transaction it opens its own.
    entry = record("test.two", actor="tester", object_type="t", object_id="2", data={"b": [1, "二"]})
    assert entry.pk is not None and entry.seq == 3
    assert AuditEntry.objects.get(seq=3).hash == entry.hash
    assert verify().ok


def test_an_append_that_fails_inside_a_caught_error_does_not_commit_half_an_entry(transactional_db: None):
    record("test.before", actor="tester", object_type="t", object_id="0")
    with transaction.atomic():
        with mock.patch("onewindow.audit.services._entry", side_effect=RuntimeError("boom")):
            try:
                record("test.fails", actor="tester", object_type="t", object_id="1")
            except RuntimeError:
                pass
        assert transaction.get_rollback()
    assert AuditEntry.objects.count() == 1
    assert verify().ok


def test_the_hashed_body_is_the_prefix_and_the_seq():
    import hashlib
    from datetime import UTC, datetime

    at = datetime(2026, 11, 28, 1, 2, 3, 456789, tzinfo=UTC)
    data = {"z": 1, "a": ["受理", {"k": None}], "reason": 'line\nbreak "quoted"'}
    prefix = _body_prefix(at, "clerk", "cases.accept", "cases.case", "330800-20261128-00001", data)
    for seq in (1, 42, 10**12):
        expected = entry_hash(
            "f" * 64, seq, at, "clerk", "cases.accept", "cases.case", "330800-20261128-00001", data
        )
        got = hashlib.sha256(("f" * 64 + prefix + str(seq) + "}").encode("utf-8")).hexdigest()
        assert got == expected


def _tree(obj: Any, depth: int = 0) -> Any:
    """What an instance holds: its stored values, state, deferred fields and, recursively, the
    related objects cached on it."""
    if obj is None or depth > 3:
        return None
    values = {k: v for k, v in obj.__dict__.items() if k != "_state"}
    cache = obj._state.__dict__.get("fields_cache", {})
    return (
        type(obj),
        values,
        (obj._state.adding, obj._state.db),
        sorted(obj.get_deferred_fields()),
        {k: _tree(v, depth + 1) for k, v in cache.items()},
    )


@pytest.mark.django_db(transaction=True)
def test_compiled_locked_reads_build_the_instances_django_builds(shop: Any, personas: dict[str, Any]):
    from onewindow.cases.models import Case, WorkItem

    case = submit(personas)
    cs.accept_case(case, actor=personas["clerk"])
    wi = cs.open_work_items(case)[0]
    cs.claim_work_item(wi, actor=personas["approver"])
    related = ("region", "department", "case", "case__handling_region", "case__parent")
    with transaction.atomic():  # compiled
        cs._lock_work_item(wi, case_related=("handling_region", "parent"))
    with transaction.atomic(), mock.patch.object(WorkItem, "from_db", side_effect=AssertionError):
        compiled = cs._lock_work_item(wi, case_related=("handling_region", "parent"))
        compiled_case = cs._lock(case.number, CaseStatus.values, "test")
    with transaction.atomic():
        django_wi = cs._without_unread(WorkItem.objects.select_related(*related), related).get(pk=wi.pk)
        django_case = cs._without_unread(
            Case.objects.select_related(*cs._CASE_RELATED), cs._CASE_RELATED
        ).get(pk=case.pk)
    assert compiled.case.parent is None  # a NULL key: cached as None, no query
    assert _tree(compiled) == _tree(django_wi)
    assert _tree(compiled_case) == _tree(django_case)
    assert compiled.region.get_deferred_fields() and compiled_case.item.get_deferred_fields()


@pytest.mark.django_db
def test_new_instances_are_the_ones_django_builds(shop: Any, personas: dict[str, Any]):
    from onewindow.cases.models import CaseEvent, CaseMaterial, Delivery, WorkItem
    from onewindow.core import fastsql

    case = submit(personas)
    clerk, now = personas["clerk"], timezone.now()
    cases = [
        (CaseEvent, {"case": case, "actor": clerk, "kind": "x", "payload": {"a": 1}, "visit": True}),
        (CaseEvent, {"case_id": case.pk, "actor": None, "kind": "y"}),  # a key, and no object
        (CaseMaterial, {"case": case, "seq": 3, "name": "<b>x</b>", "required": False}),
        (Delivery, {"case": case, "method": "pickup", "delivered_by": clerk, "created_at": now}),
        (WorkItem, {"case": case, "step_seq": 1, "department_id": case.handling_department_id}),
    ]

    def fresh(values: dict[str, Any]) -> dict[str, Any]:  # defaults made at call time: their kind
        return {k: type(v) if isinstance(v, datetime | uuid.UUID) else v for k, v in values.items()}

    for model, values in cases:
        ours = fastsql.new(model, **values)
        if model is Delivery:  # one-to-one: the case knows its delivery (the next one replaces it)
            assert case._state.fields_cache["delivery"] is ours
        mine = _tree(ours)
        theirs = _tree(model(**values))
        assert (mine[0], fresh(mine[1]), *mine[2:]) == (theirs[0], fresh(theirs[1]), *theirs[2:]), model
    # What it does not cover goes to Django, which raises as usual.
    with pytest.raises(TypeError):
        fastsql.new(CaseEvent, case=case, nonsense=1)
    with pytest.raises(ValueError):
        fastsql.new(CaseEvent, case=clerk)
    other = submit(personas)  # a relation given twice, as an object and as a key: as Django has it
    twice = {"case": case, "case_id": other.pk, "kind": "t"}
    assert fastsql.new(CaseEvent, **twice).case_id == CaseEvent(**twice).case_id == other.pk
    # Constant defaults are shared values; computed ones are made for each instance.
    a, b = fastsql.new(CaseEvent, case=case, kind="a"), fastsql.new(CaseEvent, case=case, kind="b")
    assert a.payload == b.payload == {} and a.payload is not b.payload
    assert (a.reason, a.visit, a.actor_id) == (b.reason, b.visit, b.actor_id) == ("", False, None)
