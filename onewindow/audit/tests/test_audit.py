from __future__ import annotations

import json
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils.functional import lazy
from hypothesis import example, given
from hypothesis import strategies as st

from onewindow.audit.models import AuditEntry
from onewindow.audit.services import record, verify
from onewindow.cases.models import CaseStatus


def _entries(n: int) -> None:
    for i in range(n):
        record(
            "test.action",
            actor="tester",
            object_type="test.thing",
            object_id=str(i),
            data={"i": i, "名": "值"},
        )


@pytest.mark.django_db
def test_it_chains_entries_and_verifies():
    _entries(5)
    rows = list(AuditEntry.objects.order_by("seq"))
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:], strict=False))
    result = verify()
    assert result.ok is True
    assert result.checked == 5


@pytest.mark.django_db
def test_it_names_the_first_altered_entry():
    _entries(5)
    # Tamper behind the model's back, as an attacker with database access would.
    AuditEntry.objects.filter(seq=3).update(data={"i": 99})
    result = verify()
    assert result.ok is False
    assert result.broken_seq == 3
    assert "altered" in result.reason


@pytest.mark.django_db
def test_it_detects_a_deleted_entry():
    _entries(5)
    with connection.cursor() as c:
        c.execute("DELETE FROM audit_auditentry WHERE seq = 2")
    result = verify()
    assert result.ok is False
    assert result.broken_seq == 2


@pytest.mark.django_db
def test_it_detects_truncation_of_the_tail():
    _entries(4)
    with connection.cursor() as c:
        c.execute("DELETE FROM audit_auditentry WHERE seq = 4")
    result = verify()
    assert result.ok is False
    assert result.broken_seq == 4


@pytest.mark.django_db
def test_entries_are_append_only_through_the_orm():
    _entries(1)
    entry = AuditEntry.objects.get()
    entry.action = "changed"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()


@pytest.mark.django_db
def test_a_rolled_back_change_leaves_no_entry():
    _entries(1)
    with pytest.raises(RuntimeError), transaction.atomic():
        record("test.rollback", actor="tester", object_type="t", object_id="1")
        raise RuntimeError("boom")
    assert AuditEntry.objects.count() == 1
    _entries(1)
    assert verify().ok is True


@pytest.mark.django_db
def test_the_command_reports_ok_and_names_the_broken_link():
    _entries(3)
    out = StringIO()
    call_command("audit", "verify", stdout=out)
    assert "ok: 3 entries" in out.getvalue()
    AuditEntry.objects.filter(seq=2).update(actor="mallory")
    with pytest.raises(CommandError, match="#2"):
        call_command("audit", "verify")


@pytest.mark.django_db
def test_sqlite_appends_in_one_statement_and_the_head_follows():
    """SQLite: one INSERT … SELECT per entry; the head moves by the trigger that every migration
    rebuilding the entry table must create again (migrations/_sqlite_trigger.py)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from onewindow.audit.models import AuditHead

    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    with connection.cursor() as cur:
        cur.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_auditentry'")
        assert [r[0] for r in cur.fetchall()] == ["audit_head_follows_entry"]
    record("test.first", actor="tester", object_type="t", object_id="1")
    with CaptureQueriesContext(connection) as ctx:
        entry = record("test.second", actor="tester", object_type="t", object_id="2")
    assert [q["sql"].split()[0] for q in ctx.captured_queries if "audit_" in q["sql"]] == ["INSERT"]
    head = AuditHead.objects.get(id=1)
    assert entry.lane == 1 and (head.seq, head.hash) == (entry.seq, entry.hash)
    assert verify().ok


@pytest.mark.django_db
@pytest.mark.parametrize("head_exists", [True, False])
def test_a_row_written_with_its_entry_gets_its_key_and_the_chain_holds(head_exists):
    """`rows`: the change's new row (a case event, say) is written with its entry (on
    PostgreSQL by the same statement), also when the chain has no head yet."""
    from django.test.utils import CaptureQueriesContext

    from onewindow.audit.models import AuditHead
    from onewindow.core.models import SystemFlag

    if head_exists:
        record("test.first", actor="tester", object_type="t", object_id="1")
    else:
        AuditHead.objects.all().delete()
    flag = SystemFlag(key="audit.with_row", value="x")
    with CaptureQueriesContext(connection) as ctx, transaction.atomic():
        entry = record("test.with_row", actor="tester", object_type="t", object_id="2", rows=[flag])
    assert flag.pk is not None and not flag._state.adding
    assert SystemFlag.objects.get(pk=flag.pk).value == "x"
    assert entry.seq == (2 if head_exists else 1) and AuditEntry.objects.get(seq=entry.seq).hash == entry.hash
    if connection.vendor == "postgresql" and head_exists:
        assert len([q for q in ctx.captured_queries if "INSERT" in q["sql"]]) == 1
    assert verify().ok
    with pytest.raises(RuntimeError), transaction.atomic():  # rolled back together
        record("test.with_row", actor="tester", object_type="t", object_id="3", rows=[SystemFlag(key="k2")])
        raise RuntimeError
    assert not SystemFlag.objects.filter(key="k2").exists()


@pytest.mark.django_db
def test_the_entry_returned_is_the_row_stored():
    entry = record("test.same", actor="tester", object_type="t", object_id="9", data={"k": [1, "二"]})
    stored = AuditEntry.objects.get(pk=entry.pk)
    for f in AuditEntry._meta.concrete_fields:
        assert getattr(entry, f.attname) == getattr(stored, f.attname), f.name
    assert not entry._state.adding


@pytest.mark.django_db
def test_a_change_written_with_its_entry_updates_the_row_or_raises_when_it_is_gone():
    """`updates` (and `rows`): one statement with the entry on PostgreSQL."""
    from django.db import DatabaseError
    from django.test.utils import CaptureQueriesContext

    from onewindow.core import fastsql
    from onewindow.core.models import SystemFlag

    record("test.first", actor="tester", object_type="t", object_id="1")
    flag = fastsql.insert(SystemFlag(key="audit.with_update", value="old"))
    flag.value = "new"
    event = SystemFlag(key="audit.with_update.row", value="x")
    with CaptureQueriesContext(connection) as ctx, transaction.atomic():
        entry = record(
            "test.both",
            actor="tester",
            object_type="t",
            object_id="2",
            updates=[(flag, ["value"])],
            rows=[event],
        )
    assert (
        SystemFlag.objects.get(pk=flag.pk).value == "new" and SystemFlag.objects.filter(pk=event.pk).exists()
    )
    if connection.vendor == "postgresql":
        assert len(ctx.captured_queries) == 1 + 2  # with BEGIN and COMMIT
    assert AuditEntry.objects.get(seq=entry.seq).hash == entry.hash and verify().ok
    gone = SystemFlag(pk=10**9, key="gone")
    gone._state.adding, gone._state.db = False, "default"
    before = AuditEntry.objects.count()
    with pytest.raises(DatabaseError), transaction.atomic():
        record("test.gone", actor="tester", object_type="t", object_id="3", updates=[(gone, ["value"])])
    assert AuditEntry.objects.count() == before and verify().ok


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@given(
    texts=st.tuples(st.text(), st.text(), st.text(), st.text()),
    data=st.dictionaries(st.text(max_size=8), _json, max_size=5),
    at=st.datetimes(timezones=st.just(UTC)),
    seq=st.integers(min_value=1, max_value=10**12),
)
@example(
    texts=('"\\\n', "名", "\x00\u2028", "</script>"),
    data={"b": 1, "a": [1.5, "二"]},
    at=datetime(2026, 1, 1, tzinfo=UTC),
    seq=1,
)
def test_the_prefix_written_key_by_key_is_the_canonical_body_hashed(texts, data, at, seq):
    """What SQLite hashes (prefix, seq, "}") is the body `entry_hash` and `verify` hash."""
    import hashlib

    from onewindow.audit.services import GENESIS, _body_prefix, _canonical, entry_hash

    actor, action, otype, oid = texts
    payload = json.loads(_canonical(data))  # what record() appends: the data read back
    for prefix in (
        _body_prefix(at, actor, action, otype, oid, payload),
        _body_prefix(at, actor, action, otype, oid, payload, _canonical(payload)),
        _body_prefix(at, lazy(lambda: actor, str)(), action, otype, oid, payload),  # the encoder's path
    ):
        digest = hashlib.sha256((GENESIS + prefix + str(seq) + "}").encode()).hexdigest()
        assert digest == entry_hash(GENESIS, seq, at, actor, action, otype, oid, payload)


_any_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.decimals(allow_nan=False),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=3), inner, max_size=4)
        | st.dictionaries(st.integers(-20, 20), inner, max_size=4)  # keys of one kind sort
    ),
    max_leaves=12,
)


@given(data=st.dictionaries(st.text(max_size=8), _any_json, max_size=5))
@example(data={"k": {2: "a", 10: "b"}})
@example(data={"to": CaseStatus.ACCEPTED, "n": [1.5, -0.0, float("inf")]})
def test_data_called_plain_reads_back_as_the_same_canonical_text(data):
    """record() keeps the data's first canonical text for the entry when `_plain` says reading
    it back and encoding it again gives the same text."""
    from onewindow.audit.services import _canonical, _plain

    text = _canonical(data)
    if _plain(data):
        assert _canonical(json.loads(text)) == text


@pytest.mark.django_db
def test_data_with_number_keys_and_decimals_is_stored_and_hashed_as_read_back():
    from decimal import Decimal

    entry = record(
        "test.keys",
        actor="tester",
        object_type="t",
        object_id="1",
        data={"k": {2: "a", 10: "b"}, "d": Decimal("1.50")},
    )
    assert AuditEntry.objects.get(pk=entry.pk).data == {"k": {"2": "a", "10": "b"}, "d": "1.50"}
    assert verify().ok


@pytest.mark.django_db
def test_the_stored_data_reads_back_as_the_data_recorded():
    entry = record(
        "test.text", actor="tester", object_type="t", object_id="1", data={"名": "值", "n": [1, 2.5]}
    )
    assert AuditEntry.objects.get(pk=entry.pk).data == {"名": "值", "n": [1, 2.5]}
    assert verify().ok


@pytest.mark.django_db
def test_ids_given_as_numbers_and_lazy_texts_are_hashed_as_stored():
    from django.utils.translation import gettext_lazy

    record("test.number", actor="tester", object_type="t", object_id=5, data={"n": 1})
    record(gettext_lazy("test.lazy"), actor="tester", object_type="t", object_id="6")
    assert AuditEntry.objects.get(action="test.number").object_id == "5"
    assert verify().ok
