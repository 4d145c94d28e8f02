"""Django's SQLite backend (ENGINE "onewindow.core.sqlite"), with three changes.

1. The conversion of a statement's "%s" placeholders to SQLite's "?" (a regular-expression pass
   over the whole text on every execution) is remembered per statement text. A case transition
   runs the same few dozen statements over and over; the conversion was a few percent of its
   time.

2. WAL checkpoints run off the request path (OPTIONS "checkpoint_interval", in seconds; absent or
   0: SQLite's own automatic checkpoints, as Django has them). SQLite otherwise checkpoints inside
   the commit that takes the write-ahead log past 1,000 pages, and that commit then waits for two
   fsyncs: 20-25 ms on the CI machine, once every nine or so case lifecycles (about sixty
   transitions), which was a fifth of a lifecycle's time. Here a thread of each process that
   uses a database file checkpoints it every interval: a PASSIVE checkpoint (copies the
   committed pages, waits for nobody), and, once the log holds `RESTART_FRAMES` pages that
   writers kept from being reset, a RESTART (waits for the writer of the moment, then blocks
   writers only while the last pages are copied) so that the log starts again from its
   beginning. Commits still reach the disk within one interval: under light load a committed
   change no longer waits in an unsynced log until 1,000 pages have gathered. SQLite's automatic
   checkpoint stays as a safety net at `SAFETY_FRAMES` (should the thread not keep up).

3. None and bool parameters are bound through registered adapters (see `_null`), not after
   sqlite3's search for one."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from contextlib import closing
from typing import Any

from django.db.backends.sqlite3 import base

log = logging.getLogger(__name__)

_MAX = 4096
_qmark: dict[str, str] = {}

RESTART_FRAMES = 8_000
SAFETY_FRAMES = 20_000


# Change 3: sqlite3 binds int, float and str values directly; for any other value (None and
# bools among them: a few hundred per bundle lifecycle) it first looks for an adapter (a
# registered one, then the `__adapt__` and `__conform__` protocols: two failed attribute
# lookups, one raising a formatted AttributeError). Registered adapters answer at once, with
# what sqlite3 binds anyway: NULL for None, 1 or 0 for a bool. (Django registers its adapters,
# for times and decimals, the same way.)
def _null(value: None) -> None:
    return value


sqlite3.register_adapter(type(None), _null)
sqlite3.register_adapter(bool, int)


def qmark(query: str) -> str:
    """A statement with positional "%s" placeholders in SQLite's "?" style (and "%%" as "%"),
    as Django's cursor wrapper converts it, remembered per text."""
    converted = _qmark.get(query)
    if converted is None:
        converted = base.FORMAT_QMARK_REGEX.sub("?", query).replace("%%", "%")
        if len(_qmark) >= _MAX:  # statements with literals or long IN lists: start over
            _qmark.clear()
        _qmark[query] = converted
    return converted


class SQLiteCursorWrapper(base.SQLiteCursorWrapper):
    def convert_query(self, query: str, *, param_names: Any = None) -> str:
        if param_names is not None:
            return super().convert_query(query, param_names=param_names)
        return qmark(query)


class Checkpointer(threading.Thread):
    """Checkpoints the write-ahead log of one database file every `interval` seconds, on a
    connection of its own (see the module's docstring). One per process and file: see
    `checkpointer_for`."""

    def __init__(self, database: str, interval: float, restart_frames: int = RESTART_FRAMES) -> None:
        super().__init__(name=f"sqlite-checkpoint:{database}", daemon=True)
        self.database = database
        self.interval = interval
        self.restart_frames = restart_frames
        self.pid = os.getpid()
        self.stopped = threading.Event()
        self.checkpoints = 0  # runs that found pages to copy
        self.restarts = 0

    def run(self) -> None:
        try:
            # A short busy timeout: writers wait while a RESTART is pending, so it gives up
            # (to try again next round) rather than wait long for a slow reader.
            conn = sqlite3.connect(self.database, timeout=0.1, uri=True, isolation_level=None)
        except sqlite3.Error:
            log.exception("SQLite checkpoints: cannot open %s; SQLite's automatic ones remain", self.database)
            return
        with closing(conn):
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                return  # a rollback-journal database has no log to checkpoint
            while not self.stopped.wait(self.interval):
                try:
                    self.checkpoint(conn)
                except sqlite3.Error as exc:  # locked, or a disk error: try again next time
                    log.warning("SQLite checkpoint of %s failed: %s", self.database, exc)

    def checkpoint(self, conn: sqlite3.Connection) -> None:
        """One round. A checkpoint already running (another process's checkpointer) makes SQLite
        answer busy with no page counts: nothing is done until the next round."""
        busy, frames, _copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if busy or frames <= 0:
            return
        self.checkpoints += 1
        if frames >= self.restart_frames:
            conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
            self.restarts += 1

    def stop(self) -> None:
        self.stopped.set()


_checkpointers: dict[str, Checkpointer] = {}
_checkpointers_lock = threading.Lock()


def checkpointer_for(database: str, interval: float) -> Checkpointer:
    """The running checkpointer of `database` in this process, started if there is none (or it
    was inherited through fork, where its thread does not exist)."""
    with _checkpointers_lock:
        current = _checkpointers.get(database)
        if current is None or current.pid != os.getpid() or not current.is_alive():
            current = _checkpointers[database] = Checkpointer(database, interval)
            current.start()
        return current


class DatabaseWrapper(base.DatabaseWrapper):
    checkpoint_interval: float = 0.0

    def get_connection_params(self) -> dict[str, Any]:
        params = super().get_connection_params()
        self.checkpoint_interval = float(params.pop("checkpoint_interval", 0) or 0)
        return params

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        conn = super().get_new_connection(conn_params)
        if self.checkpoint_interval > 0 and not self.is_in_memory_db():
            (mode,) = conn.execute("PRAGMA journal_mode").fetchone()
            if mode.lower() == "wal":
                conn.execute(f"PRAGMA wal_autocheckpoint = {SAFETY_FRAMES}")
                checkpointer_for(str(conn_params["database"]), self.checkpoint_interval)
        return conn

    def create_cursor(self, name: str | None = None) -> Any:
        return self.connection.cursor(factory=SQLiteCursorWrapper)

    def _start_transaction_under_autocommit(self) -> None:
        """BEGIN (IMMEDIATE with OneWindow's settings) as Django sends it, on sqlite3's
        connection itself: Django builds a cursor wrapper for this one statement and drops it.
        Django's way when someone watches the queries (a query log, an execute wrapper)."""
        from onewindow.core.fastsql import queries_logged

        if queries_logged(self) or self.execute_wrappers:
            return super()._start_transaction_under_autocommit()
        self.validate_thread_sharing()
        with self.wrap_database_errors:
            self.connection.execute(
                "BEGIN" if self.transaction_mode is None else f"BEGIN {self.transaction_mode}"
            )
        return None
