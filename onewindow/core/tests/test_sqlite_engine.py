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
    assert cp.checkpoint(reader) is True
    assert (cp.checkpoints, cp.restarts) == (1, 1)
    _write(writer, 1)  # after a RESTART the next writer starts the log again from its beginning
    assert _frames(writer) < 5
    _write(writer, 10)  # a short log is copied but not restarted
    assert cp.checkpoint(reader) is True and (cp.checkpoints, cp.restarts) == (2, 1)
    assert writer.execute("SELECT count(*) FROM t").fetchone() == (61,)


def test_a_database_not_in_wal_mode_stops_the_checkpointer(tmp_path: Path):
    db = tmp_path / "plain.sqlite3"
    sqlite3.connect(db).execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    cp = engine.Checkpointer(str(db), interval=60)
    assert cp.checkpoint(sqlite3.connect(db)) is False


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
