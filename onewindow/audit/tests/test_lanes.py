"""The audit log's lanes: independent hash chains, each verified on its own. PostgreSQL appends
in the lane of the connection (so that workers do not take turns at one head); SQLite in lane 1."""

from __future__ import annotations

import threading
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction

from onewindow.audit import services
from onewindow.audit.models import AuditEntry, AuditHead
from onewindow.audit.services import CHECKPOINT, LANES, record, verify


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


def _cut(lane: int, keep: int) -> None:
    """Cut `lane` back to its first `keep` entries and set its head to match: what someone with
    write access to the database could do; the lane is a valid chain on its own."""
    last = AuditEntry.objects.get(lane=lane, seq=keep)
    with connection.cursor() as c:
        c.execute("DELETE FROM audit_auditentry WHERE lane = %s AND seq > %s", [lane, keep])
    AuditHead.objects.filter(id=lane).update(seq=keep, hash=last.hash, prev_hash=last.prev_hash)


def _heads(*lanes: int) -> dict[str, list[Any]]:
    return {str(h.id): [h.seq, h.hash] for h in AuditHead.objects.filter(id__in=lanes)}


@pytest.mark.django_db
def test_a_checkpoint_is_recorded_in_every_lane_that_moved_and_only_then(monkeypatch: pytest.MonkeyPatch):
    _in_lane(monkeypatch, 3, 3)
    _in_lane(monkeypatch, 5, 2)
    moved = _heads(3, 5)
    entries = services.checkpoint()
    assert [(e.lane, e.seq, e.action) for e in entries] == [(3, 4, CHECKPOINT), (5, 3, CHECKPOINT)]
    assert all(e.data == {"lanes": moved} for e in entries)
    assert services.checkpoint() == []  # nothing moved since (its own entries aside)
    out = StringIO()
    call_command("audit", "checkpoint", stdout=out)
    assert "no lane moved" in out.getvalue()
    _in_lane(monkeypatch, 5, 1, start=2)
    moved = _heads(5)
    (entry,) = services.checkpoint()  # lane 5 alone moved
    assert (entry.lane, entry.data) == (5, {"lanes": moved})
    _in_lane(monkeypatch, 3, 1, start=3)
    out = StringIO()
    call_command("audit", "checkpoint", stdout=out)
    assert "recorded in lanes 3" in out.getvalue()
    assert verify().ok


@pytest.mark.django_db
def test_one_lane_needs_no_checkpoint(monkeypatch: pytest.MonkeyPatch):
    _in_lane(monkeypatch, 1, 2)
    assert services.checkpoint() == []


@pytest.mark.django_db
def test_a_lane_cut_back_behind_a_checkpoint_is_caught_whole_or_in_part(monkeypatch: pytest.MonkeyPatch):
    """Each lane is a chain of its own: a quiet lane cut back (its head set to match) is a valid
    chain. The checkpoint recorded its head in the other lane too, and `verify` holds every lane
    to the furthest point any checkpoint recorded."""
    _in_lane(monkeypatch, 3, 3)
    _in_lane(monkeypatch, 5, 2)
    services.checkpoint()
    _in_lane(monkeypatch, 5, 4, start=2)  # lane 5 goes on; lane 3 is quiet
    assert verify().ok
    _cut(3, 1)  # its checkpoint entry (#4) goes too
    result = verify()
    assert (result.ok, result.lane, result.broken_seq) == (False, 3, 3)  # lane 5's copy recorded #3
    assert "checkpoint recorded" in result.reason
    # A new checkpoint of the cut lane does not make it whole again: the furthest record counts.
    services.checkpoint()
    result = verify()
    assert (result.ok, result.lane) == (False, 3)
    # The whole lane gone, head and all: caught the same way.
    with connection.cursor() as c:
        c.execute("DELETE FROM audit_auditentry WHERE lane = 3")
    AuditHead.objects.filter(id=3).delete()
    result = verify()
    assert (result.ok, result.lane, result.broken_seq) == (False, 3, 3)


@pytest.mark.django_db
def test_removing_a_checkpoint_means_cutting_every_lane_it_was_recorded_in(monkeypatch: pytest.MonkeyPatch):
    _in_lane(monkeypatch, 3, 3)
    _in_lane(monkeypatch, 5, 2)
    services.checkpoint()  # lane 3 #4 and lane 5 #3
    _in_lane(monkeypatch, 5, 4, start=2)
    _cut(3, 2)
    _cut(5, 2)  # both copies of the checkpoint gone: and with them what lane 5 recorded after it
    assert verify().ok
    assert AuditEntry.objects.filter(lane=5).count() == 2


@pytest.mark.django_db
def test_a_rewritten_tail_is_not_what_the_checkpoint_recorded(monkeypatch: pytest.MonkeyPatch):
    _in_lane(monkeypatch, 3, 3)
    _in_lane(monkeypatch, 5, 2)
    services.checkpoint()
    _cut(3, 3)  # the checkpoint entry of lane 3 removed; #3 rewritten with its hash recomputed
    e = AuditEntry.objects.get(lane=3, seq=3)
    data = {"i": 99}
    digest = services.entry_hash(e.prev_hash, 3, e.at, e.actor, e.action, e.object_type, e.object_id, data)
    AuditEntry.objects.filter(pk=e.pk).update(data=data, hash=digest)
    AuditHead.objects.filter(id=3).update(hash=digest)
    result = verify()
    assert (result.ok, result.lane, result.broken_seq) == (False, 3, 3)
    assert "not the one a checkpoint recorded" in result.reason


@pytest.mark.django_db
def test_checkpoint_data_of_another_shape_is_no_record(monkeypatch: pytest.MonkeyPatch):
    _in_lane(monkeypatch, 2, 1)
    for data in ({"lanes": [1, 2]}, {"lanes": {"x": 1, "99": [1, "h"], "2": [True, "h"]}}, {}):
        record(CHECKPOINT, actor="tester", object_type="audit.chain", object_id="lanes", data=data)
    assert verify().ok


@pytest.mark.django_db
def test_entries_appended_while_verify_walks_are_no_break(monkeypatch: pytest.MonkeyPatch):
    """SQLite reads no snapshot (nor does PostgreSQL inside a caller's transaction): an append
    committed during the walk moves the head past the entries read; the walk goes on to it."""
    _in_lane(monkeypatch, 6, 3)
    real = services.entry_hash
    appended: list[int] = []

    def hash_and_append(*args: Any) -> str:
        if not appended:
            appended.append(record("test.meanwhile", actor="tester", object_type="t", object_id="m").seq)
        return real(*args)

    monkeypatch.setattr(services, "entry_hash", hash_and_append)
    result = verify(batch=2)
    assert appended == [4] and result.ok and result.checked == 4


@pytest.mark.django_db
def test_a_head_that_is_missing_or_not_the_last_entry_and_an_entry_outside_the_chain_are_caught(
    monkeypatch: pytest.MonkeyPatch,
):
    _in_lane(monkeypatch, 4, 2)
    head = AuditHead.objects.get(id=4)
    AuditHead.objects.filter(id=4).update(hash="f" * 64)  # same seq, another hash
    result = verify()
    assert (result.ok, result.lane) == (False, 4) and "hash" in result.reason
    AuditHead.objects.filter(id=4).update(seq=1, hash=head.hash)  # behind its last entry
    result = verify()
    assert (result.ok, result.lane, result.broken_seq) == (False, 4, 2) and "head says #1" in result.reason
    AuditHead.objects.filter(id=4).delete()
    result = verify()
    assert (result.ok, result.lane) == (False, 4) and "head is missing" in result.reason
    AuditHead.objects.create(id=4, seq=head.seq, hash=head.hash, prev_hash=head.prev_hash)
    assert verify().ok
    # A row numbered 0 is outside the walk from 1: caught all the same.
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


@pytest.mark.django_db
def test_every_sweep_of_the_worker_checkpoints_the_lanes_that_moved(monkeypatch: pytest.MonkeyPatch):
    import json

    def sweep() -> int:
        out = StringIO()
        call_command("worker", "--once", stdout=out)
        return json.loads(out.getvalue())["sweep"]["audit_checkpoint"]

    _in_lane(monkeypatch, 2, 1)
    _in_lane(monkeypatch, 8, 1)
    assert sweep() == 2
    assert sweep() == 0
    _in_lane(monkeypatch, 8, 1, start=1)
    assert sweep() == 1
    assert verify().ok
