"""OneWindow's SQLite engine: WAL checkpoints in a thread instead of inside commits."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import connections

from onewindow.core.sqlite import base as engine


def _wal_db(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")  # only the checkpointer copies pages
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
    return conn


def _write(conn: sqlite3.Connection, rows: int) -> None:
    for _ in range(rows):  # one transaction (and at least one page) each
        conn.execute("INSERT INTO t (body) VALUES (?)", ["x" * 3000])


def _frames(conn: sqlite3.Connection) -> int:
    """Pages in the log now (a PASSIVE checkpoint reports them; it copies what it can)."""
    return conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]


def test_a_round_copies_the_log_and_restarts_it_once_it_is_long(tmp_path: Path):
    db = tmp_path / "ow.sqlite3"
    writer = _wal_db(db)
    _write(writer, 50)
    cp = engine.Checkpointer(str(db), interval=60, restart_frames=40)
    reader = sqlite3.connect(db, isolation_level=None, uri=True)
    cp.checkpoint(reader)
    assert (cp.checkpoints, cp.restarts) == (1, 1)
    _write(writer, 1)  # after a RESTART the next writer starts the log again from its beginning
    assert _frames(writer) < 5
    _write(writer, 10)  # a short log is copied but not restarted
    cp.checkpoint(reader)
    assert (cp.checkpoints, cp.restarts) == (2, 1)
    assert writer.execute("SELECT count(*) FROM t").fetchone() == (61,)


def test_a_database_not_in_wal_mode_ends_the_thread(tmp_path: Path):
    db = tmp_path / "plain.sqlite3"
    sqlite3.connect(db).execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    cp = engine.Checkpointer(str(db), interval=0.01)
    cp.start()
    cp.join(5)
    assert not cp.is_alive() and cp.checkpoints == 0


def test_a_checkpoint_running_elsewhere_is_left_for_the_next_round():
    """Another process's checkpointer holding the checkpoint lock: SQLite answers busy with no
    page counts (-1); the round does nothing and the thread goes on."""

    class Busy:
        def __init__(self) -> None:
            self.statements: list[str] = []

        def execute(self, sql: str) -> Any:
            self.statements.append(sql)
            return type("Row", (), {"fetchone": staticmethod(lambda: (1, -1, -1))})()

    cp = engine.Checkpointer("unused", interval=60, restart_frames=1)
    conn = Busy()
    cp.checkpoint(conn)  # type: ignore[arg-type]
    assert conn.statements == ["PRAGMA wal_checkpoint(PASSIVE)"] and (cp.checkpoints, cp.restarts) == (0, 0)


def test_the_thread_checkpoints_every_interval_and_stops(tmp_path: Path):
    db = tmp_path / "ow.sqlite3"
    writer = _wal_db(db)
    cp = engine.Checkpointer(str(db), interval=0.02, restart_frames=1)
    cp.start()
    try:
        _write(writer, 5)
        deadline = time.monotonic() + 10
        while cp.restarts == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert cp.checkpoints >= 1 and cp.restarts >= 1
    finally:
        cp.stop()
        cp.join(5)
    assert not cp.is_alive()


def test_one_checkpointer_per_file_and_process(tmp_path: Path):
    db = str(tmp_path / "ow.sqlite3")
    _wal_db(Path(db))
    first = engine.checkpointer_for(db, 60)
    try:
        assert engine.checkpointer_for(db, 60) is first and first.is_alive()
        first.pid = -1  # as if inherited through fork: its thread is not this process's
        second = engine.checkpointer_for(db, 60)
        assert second is not first and second.is_alive()
    finally:
        for cp in (first, engine._checkpointers.pop(db)):
            cp.stop()


@pytest.mark.django_db
def test_the_engine_starts_it_for_a_wal_file_only(tmp_path: Path, settings: Any):
    """A file database in WAL mode gets a checkpointer and SQLite's own automatic checkpoints
    only as a safety net; an in-memory database (the tests') gets none."""
    db = str(tmp_path / "engine.sqlite3")
    settings_dict = {
        **connections["default"].settings_dict,
        "NAME": db,
        "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL;", "checkpoint_interval": 60},
    }
    wrapper = engine.DatabaseWrapper(settings_dict, alias="checkpointed")
    try:
        wrapper.ensure_connection()
        assert engine._checkpointers[db].is_alive()
        (frames,) = wrapper.connection.execute("PRAGMA wal_autocheckpoint").fetchone()
        assert frames == engine.SAFETY_FRAMES
    finally:
        wrapper.close()
        engine._checkpointers.pop(db).stop()
    before = dict(engine._checkpointers)
    memory = engine.DatabaseWrapper(
        {**settings_dict, "NAME": ":memory:", "OPTIONS": {"checkpoint_interval": 60}}, alias="memory"
    )
    memory.ensure_connection()
    assert engine._checkpointers == before
    memory.connection.close()


def test_two_processes_checkpointers_on_one_file_both_keep_running(tmp_path: Path):
    """As with several server processes: their checkpointers meet (one of them answered busy)
    and neither stops; every committed row is there."""
    db = tmp_path / "ow.sqlite3"
    writer = _wal_db(db)
    pair = [engine.Checkpointer(str(db), interval=0.002, restart_frames=20) for _ in range(2)]
    for cp in pair:
        cp.start()
    try:
        for _ in range(20):
            _write(writer, 10)
            time.sleep(0.005)
        assert all(cp.is_alive() for cp in pair)
        assert sum(cp.checkpoints for cp in pair) > 0
    finally:
        for cp in pair:
            cp.stop()
            cp.join(5)
    assert writer.execute("SELECT count(*) FROM t").fetchone() == (200,)


@pytest.mark.django_db
def test_a_new_database_file_gets_2_kib_pages_and_an_old_one_keeps_its_own(tmp_path: Path):
    """The project's SQLite options make a new file with 2 KiB pages in WAL mode (fewer bytes
    written per commit); an existing file keeps its page size and opens as before."""
    from django.conf import settings

    def opened(name: Path) -> tuple[int, str]:
        settings_dict = {
            **connections["default"].settings_dict,
            "ENGINE": "onewindow.core.sqlite",
            "NAME": str(name),
            "OPTIONS": {**settings.SQLITE_OPTIONS, "checkpoint_interval": 0},
        }
        wrapper = engine.DatabaseWrapper(settings_dict, alias="paged")
        try:
            wrapper.ensure_connection()
            with wrapper.cursor() as cur:
                cur.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY)")
                cur.execute("PRAGMA page_size")
                (size,) = cur.fetchone()
                cur.execute("PRAGMA journal_mode")
                (mode,) = cur.fetchone()
            return size, mode
        finally:
            wrapper.close()

    assert opened(tmp_path / "new.sqlite3") == (2048, "wal")
    old = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(old, isolation_level=None)
    conn.execute("PRAGMA page_size=4096")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    conn.close()
    assert opened(old) == (4096, "wal")


def test_none_and_bools_are_bound_as_null_and_integers():
    assert engine._null(None) is None
    with sqlite3.connect(":memory:") as conn:
        row = conn.execute("SELECT ?, typeof(?), ?, ?, typeof(?)", (None, None, True, False, True)).fetchone()
    assert row == (None, "null", 1, 0, "integer")


@pytest.mark.django_db
def test_flags_and_empty_values_read_back_through_the_orm():
    from onewindow.org.models import Department, Region, RegionLevel

    region = Region.objects.create(code="339900", name="测试市", level=RegionLevel.CITY)
    on = Department.objects.create(code="t-on", name="启用", uscc="1" * 18, region=region, active=True)
    off = Department.objects.create(code="t-off", name="停用", uscc="2" * 18, region=region, active=False)
    assert list(Department.objects.filter(pk__in=[on.pk, off.pk], active=True)) == [on]
    assert list(Department.objects.filter(pk__in=[on.pk, off.pk], active=False)) == [off]
    assert Department.objects.get(pk=off.pk).parent_id is None
    assert Department.objects.filter(pk=off.pk, parent__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_a_transaction_begins_on_sqlite3s_connection_unless_the_queries_are_watched():
    from django.db import transaction
    from django.test.utils import CaptureQueriesContext

    from onewindow.core.models import SystemFlag

    conn = connections["default"]
    if not isinstance(conn, engine.DatabaseWrapper):
        pytest.skip("OneWindow's SQLite engine only")
    conn.ensure_connection()
    sent: list[str] = []
    conn.connection.set_trace_callback(sent.append)
    try:
        with transaction.atomic():
            SystemFlag.objects.create(key="begin", value="1")
    finally:
        conn.connection.set_trace_callback(None)
    mode = conn.transaction_mode
    assert sent[0] == (f"BEGIN {mode}" if mode else "BEGIN") and sent[-1] == "COMMIT"
    assert mode == "IMMEDIATE"  # OneWindow's settings: writers queue at BEGIN, not mid-transaction
    with CaptureQueriesContext(conn) as seen, transaction.atomic():
        SystemFlag.objects.filter(key="begin").update(value="2")
    assert seen[0]["sql"] == "BEGIN IMMEDIATE"
    assert SystemFlag.objects.get(key="begin").value == "2"
