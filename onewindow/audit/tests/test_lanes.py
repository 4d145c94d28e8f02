"""The audit log's lanes: independent hash chains, each verified on its own. PostgreSQL appends
in the lane of the connection (so that workers do not take turns at one head); SQLite in lane 1."""

from __future__ import annotations

import threading
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction

from onewindow.audit import services
from onewindow.audit.models import AuditEntry, AuditHead
from onewindow.audit.services import LANES, record, verify


def _in_lane(monkeypatch: pytest.MonkeyPatch, lane: int, n: int, start: int = 0) -> None:
    monkeypatch.setattr(services, "lane_of", lambda _connection: lane)
    for i in range(start, start + n):
        record("test.lane", actor="tester", object_type="t", object_id=f"{lane}-{i}", data={"i": i})


@pytest.mark.django_db
def test_each_lane_is_a_chain_of_its_own_and_all_are_verified(monkeypatch: pytest.MonkeyPatch):
    _in_lane(monkeypatch, 1, 2)
    _in_lane(monkeypatch, 3, 3)
    _in_lane(monkeypatch, 1, 1, start=2)  # the lanes interleave in time
    for lane, n in ((1, 3), (3, 3)):
        rows = list(AuditEntry.objects.filter(lane=lane).order_by("seq"))
        assert [r.seq for r in rows] == list(range(1, n + 1))
        assert rows[0].prev_hash == services.GENESIS
        assert all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:], strict=False))
        head = AuditHead.objects.get(id=lane)
        assert (head.seq, head.hash) == (rows[-1].seq, rows[-1].hash)
    result = verify()
    assert result.ok and result.checked == 6
    out = StringIO()
    call_command("audit", "verify", stdout=out)
    assert "ok: 6 entries" in out.getvalue()


@pytest.mark.django_db
def test_a_broken_link_is_named_with_its_lane(monkeypatch: pytest.MonkeyPatch):
    _in_lane(monkeypatch, 1, 3)
    _in_lane(monkeypatch, 5, 3)
    AuditEntry.objects.filter(lane=5, seq=2).update(actor="mallory")
    result = verify()
    assert (result.ok, result.lane, result.broken_seq) == (False, 5, 2)
    assert "altered" in result.reason
    with pytest.raises(CommandError, match="lane 5 at entry #2"):
        call_command("audit", "verify")


@pytest.mark.django_db
def test_a_cut_tail_and_an_entry_moved_to_another_lane_are_caught(monkeypatch: pytest.MonkeyPatch):
    _in_lane(monkeypatch, 2, 3)
    _in_lane(monkeypatch, 7, 2)
    with connection.cursor() as c:
        c.execute("DELETE FROM audit_auditentry WHERE lane = 7 AND seq = 2")
    result = verify()
    assert (result.ok, result.lane, result.broken_seq) == (False, 7, 2)
    assert "head says #2" in result.reason
    # An entry moved to another lane breaks its chain (the first lane verified is reported).
    with connection.cursor() as c:
        c.execute("UPDATE audit_auditentry SET lane = 9 WHERE lane = 2 AND seq = 3")
    result = verify()
    assert (result.ok, result.lane) == (False, 2)


@pytest.mark.django_db
def test_a_checkpoint_records_the_lanes_and_verify_catches_a_lane_cut_back_behind_it(
    monkeypatch: pytest.MonkeyPatch,
):
    """Each lane is a chain of its own: cutting a quiet lane's tail and setting its head back
    leaves a valid chain. The checkpoint (every sweep) recorded the lane's head in another
    entry, and `verify` holds every lane to the furthest point any checkpoint recorded."""
    _in_lane(monkeypatch, 3, 3)
    _in_lane(monkeypatch, 5, 2)
    entry = services.checkpoint()
    assert entry is not None and entry.action == services.CHECKPOINT and entry.lane == 5
    assert entry.data == {
        "lanes": {str(h.id): [h.seq, h.hash] for h in AuditHead.objects.filter(id=3)}
        | {"5": list(AuditEntry.objects.filter(lane=5, seq=2).values_list("seq", "hash").get())}
    }
    assert services.checkpoint() is None  # nothing moved since (its own entry aside)
    call_command("audit", "checkpoint", stdout=StringIO())
    _in_lane(monkeypatch, 5, 1, start=2)
    assert services.checkpoint() is not None  # lane 5 moved
    assert verify().ok
    # Lane 3 cut back to its first entry, its head set to match: a valid chain on its own.
    first = AuditEntry.objects.get(lane=3, seq=1)
    with connection.cursor() as c:
        c.execute("DELETE FROM audit_auditentry WHERE lane = 3 AND seq > 1")
    AuditHead.objects.filter(id=3).update(seq=1, hash=first.hash, prev_hash=first.prev_hash)
    result = verify()
    assert (result.ok, result.lane, result.broken_seq) == (False, 3, 3)
    assert "checkpoint recorded" in result.reason
    # The whole lane gone, head and all: caught the same way.
    with connection.cursor() as c:
        c.execute("DELETE FROM audit_auditentry WHERE lane = 3")
    AuditHead.objects.filter(id=3).delete()
    result = verify()
    assert (result.ok, result.lane, result.broken_seq) == (False, 3, 3)


@pytest.mark.django_db
def test_one_lane_needs_no_checkpoint(monkeypatch: pytest.MonkeyPatch):
    _in_lane(monkeypatch, 1, 2)
    assert services.checkpoint() is None


@pytest.mark.django_db
def test_a_head_that_is_missing_or_not_the_last_entry_and_an_entry_outside_the_chain_are_caught(
    monkeypatch: pytest.MonkeyPatch,
):
    _in_lane(monkeypatch, 4, 2)
    head = AuditHead.objects.get(id=4)
    AuditHead.objects.filter(id=4).update(hash="f" * 64)  # same seq, another hash
    result = verify()
    assert (result.ok, result.lane) == (False, 4) and "head" in result.reason
    AuditHead.objects.filter(id=4).delete()
    result = verify()
    assert (result.ok, result.lane, result.reason) == (False, 4, "the lane's head is missing")
    AuditHead.objects.create(id=4, seq=head.seq, hash=head.hash, prev_hash=head.prev_hash)
    assert verify().ok
    # A row numbered 0 is outside the walk from 1: counted, it is caught.
    row = AuditEntry.objects.get(lane=4, seq=1)
    with connection.cursor() as c:
        c.execute(
            "INSERT INTO audit_auditentry (lane, seq, at, actor, action, object_type, object_id, data,"
            " prev_hash, hash) SELECT lane, 0, at, actor, action, object_type, object_id, data, prev_hash,"
            " hash FROM audit_auditentry WHERE id = %s",
            [row.pk],
        )
    result = verify()
    assert (result.ok, result.lane) == (False, 4) and "outside the chain" in result.reason


@pytest.mark.django_db
def test_a_lane_outside_the_range_is_caught():
    AuditHead.objects.create(id=LANES + 1)
    result = verify()
    assert (result.ok, result.lane) == (False, LANES + 1)


@pytest.mark.django_db
def test_sqlite_keeps_one_chain():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    entry = record("test.one", actor="tester", object_type="t", object_id="1")
    assert entry.lane == 1 and services.lane_of(connection) == 1


def _backend_pid() -> int:
    return connection.connection.info.backend_pid


def _pin(lane: int) -> None:
    """This thread's connection appends to `lane` (as if its server process gave that lane)."""
    wrapper = connections["default"]
    wrapper.ensure_connection()
    wrapper.__dict__["_audit_lane"] = (wrapper.connection, lane)


@pytest.mark.django_db(transaction=True)
def test_postgresql_appends_in_the_lane_of_the_connection():
    """Each connection (a worker's) appends to the lane its server process number gives; the
    entries of two connections form two chains, or one when the numbers meet modulo LANES."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    lanes: dict[str, int] = {}

    def append(name: str) -> None:
        try:
            record("test.worker", actor="tester", object_type="t", object_id=name)
            record("test.worker", actor="tester", object_type="t", object_id=name + "-2")
            lanes[name] = _backend_pid() % LANES + 1
        finally:
            connections.close_all()

    for name in ("a", "b"):
        worker = threading.Thread(target=append, args=(name,))
        worker.start()
        worker.join()
    for name, lane in lanes.items():
        written = AuditEntry.objects.filter(object_id__startswith=name).values_list("lane", flat=True)
        assert set(written) == {lane}
    result = verify()
    assert result.ok and result.checked == 4


@pytest.mark.django_db(transaction=True)
def test_postgresql_appends_in_two_lanes_do_not_wait_for_each_other():
    """One connection's open transaction holds its lane's head; a connection in another lane
    appends and commits meanwhile (with one chain it would wait for the first to commit)."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    held = threading.Event()
    release = threading.Event()
    errors: list[BaseException] = []

    def holder() -> None:
        try:
            with transaction.atomic():
                _pin(4)
                record("test.hold", actor="tester", object_type="t", object_id="held")
                held.set()
                release.wait(10)
        except BaseException as exc:  # reported below
            errors.append(exc)
            held.set()
        finally:
            connections.close_all()

    worker = threading.Thread(target=holder)
    worker.start()
    try:
        assert held.wait(10)
        with transaction.atomic():
            _pin(6)
            with connection.cursor() as cur:
                cur.execute("SET LOCAL lock_timeout = '2s'")  # a wait for lane 4 would fail here
            entry = record("test.side", actor="tester", object_type="t", object_id="side")
        assert entry.lane == 6 and entry.seq == 1
    finally:
        connections["default"].__dict__.pop("_audit_lane", None)
        release.set()
        worker.join()
    assert not errors
    assert sorted(AuditEntry.objects.values_list("lane", "seq")) == [(4, 1), (6, 1)]
    assert verify().ok


@pytest.mark.django_db(transaction=True)
def test_postgresql_writes_a_change_with_its_entry_in_the_connections_lane():
    """The one-statement path (`rows`, `updates`) appends in the lane too, not in lane 1."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    from onewindow.core import fastsql
    from onewindow.core.models import SystemFlag

    try:
        _pin(11)
        flag = fastsql.insert(SystemFlag(key="audit.lane.update", value="old"))
        flag.value = "new"
        row = SystemFlag(key="audit.lane.row", value="x")
        with transaction.atomic():
            entry = record(
                "test.lane",
                actor="tester",
                object_type="t",
                object_id="1",
                updates=[(flag, ["value"])],
                rows=[row],
            )
        assert (entry.lane, entry.seq) == (11, 1)
        assert AuditEntry.objects.get(pk=entry.pk).lane == 11 and AuditHead.objects.get(id=11).seq == 1
        assert SystemFlag.objects.get(pk=flag.pk).value == "new" and row.pk is not None
        assert verify().ok
    finally:
        connections["default"].__dict__.pop("_audit_lane", None)
