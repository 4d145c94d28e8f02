"""Precompiled row writes for the hot paths (case transitions, shared-data access records):
Django builds a statement from scratch on every `save()`, `create()` or queryset; these build it
once per model and shape (or per query) and run it with fresh values."""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import json
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connections, models, transaction
from django.db.models import F
from django.db.models.base import ModelState
from django.db.models.expressions import Col
from django.db.models.fields.files import FileDescriptor
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query import ModelIterable, get_related_populators
from django.db.models.signals import post_init, pre_init
from django.db.transaction import TransactionManagementError
from django.utils import timezone

_insert_sql: dict[tuple[Any, ...], tuple[str, list[Any], bool]] = {}

# Settings read on every statement or row (DEBUG, USE_TZ): Django's LazySettings keeps each
# value it has read in its own instance dict, and drops it there when the setting is assigned or
# overridden (override_settings replaces the wrapped settings and clears them all). Read there
# directly: reading `settings.X` runs LazyObject's Python-level `__getattribute__`, which also
# raises and catches an AttributeError.
_lazy_settings: dict[str, Any] = object.__getattribute__(settings, "__dict__")


def _setting(name: str) -> Any:
    value = _lazy_settings.get(name, _lazy_settings)
    if value is _lazy_settings:
        value = getattr(settings, name)  # read (and kept in that dict) by LazySettings
    return value


_django_now = timezone.now
_django_localdate = timezone.localdate


def _clock() -> datetime:
    """The current time as `timezone.now()` gives it: aware in UTC when USE_TZ is on (it always
    is in OneWindow)."""
    return datetime.now(UTC if _setting("USE_TZ") else None)


def now() -> datetime:
    """`django.utils.timezone.now()`, without reading USE_TZ through LazySettings. A test that
    patches `django.utils.timezone.now` (a simulated day) is obeyed here too."""
    if timezone.now is not _django_now:
        return timezone.now()
    return _clock()


# Django's current time zone is kept in an asgiref Local (a lock, a context variable and a
# thread check on every read). While nothing in this context has activated one, its context
# variable is unset and the current time zone is the default one.
_tz_var = getattr(getattr(getattr(timezone, "_active", None), "_storage", None), "_data", None)
if not isinstance(_tz_var, contextvars.ContextVar):  # pragma: no cover - another asgiref
    _tz_var = None


def localdate(value: datetime | None = None) -> date:
    """`django.utils.timezone.localdate(value)`: the date of `value` (default: now) in the
    current time zone, without reading asgiref's Local while no time zone was activated."""
    if (
        _tz_var is None
        or _tz_var.get(None) is not None
        or timezone.localdate is not _django_localdate  # a test's simulated day
        or not _setting("USE_TZ")
    ):
        return timezone.localdate(value)
    if value is None:
        value = now()
    elif value.utcoffset() is None:  # naive: Django's ValueError
        return timezone.localdate(value)
    return value.astimezone(timezone.get_default_timezone()).date()


def queries_logged(db: Any) -> bool:
    """`db.queries_logged` (a forced debug cursor or DEBUG), without reading DEBUG through
    LazySettings."""
    return db.force_debug_cursor or _setting("DEBUG")


# Django keeps each thread's connections in an asgiref Local whose storage, in a thread with no
# running event loop, is a plain threading.local; asgiref learns there is no loop by raising and
# catching a RuntimeError on every lookup (350 lookups per bundle lifecycle). The same storage
# read directly, where this asgiref keeps it there; else, and in a running event loop, Django's.
_thread_storage = getattr(connections._connections, "_storage", None)
if not isinstance(_thread_storage, threading.local):  # pragma: no cover - another asgiref
    _thread_storage = None
_running_loop = asyncio._get_running_loop


def connection_of(alias: str) -> Any:
    """`django.db.connections[alias]`: this thread's connection wrapper for `alias`."""
    if _thread_storage is not None and _running_loop() is None:
        db = getattr(_thread_storage, alias, None)
        if db is not None:
            return db
    return connections[alias]


# Fields whose value of one exact Python type goes to the database unchanged (what
# `get_db_prep_save` gives back for it): str for text, int for integers and keys, bool for flags.
_AS_IS: dict[type, type] = {
    models.CharField: str,
    models.TextField: str,
    models.IntegerField: int,
    models.PositiveIntegerField: int,
    models.PositiveSmallIntegerField: int,
    models.SmallIntegerField: int,
    models.BigIntegerField: int,
    models.BooleanField: bool,
}
_AUTO_KEYS = (models.AutoField, models.BigAutoField, models.SmallAutoField)


def _preparer(f: Any, adding: bool) -> Callable[[Any, Any], Any]:
    """(obj, connection) → the field's database value, as `f.get_db_prep_save(f.pre_save(obj,
    adding), connection)` (or, with adding=False, of the attribute as it is) gives it, without
    the calls when the value's type is one that passes unchanged."""
    attname = f.attname
    if type(f) is models.DateTimeField:
        return _datetime_preparer(f, adding and (f.auto_now or f.auto_now_add))
    plain = type(f).pre_save is models.Field.pre_save or not adding
    kind = _AS_IS.get(type(f))
    if kind is None and type(f) is models.ForeignKey and type(f.target_field) in _AUTO_KEYS:
        kind = int
    if plain and kind is str:

        def prep_text(obj: Any, connection: Any) -> Any:
            # A choice (a TextChoices member) is a str too, kept by Django's `to_python`; sent
            # as the plain str it stands for, which the drivers bind without looking for an
            # adapter of its class (sqlite3 does that for every value not exactly a str).
            v = getattr(obj, attname)
            if v is None or type(v) is str:
                return v
            return str.__str__(v) if isinstance(v, str) else f.get_db_prep_save(v, connection)

        return prep_text
    if plain and kind is not None:

        def prep(obj: Any, connection: Any) -> Any:
            v = getattr(obj, attname)
            return v if v is None or type(v) is kind else f.get_db_prep_save(v, connection)

        return prep
    if plain and type(f) is models.DateField:

        def prep_date(obj: Any, connection: Any) -> Any:
            v = getattr(obj, attname)  # a date (not a datetime) or None goes to the adapter
            if v is None or type(v) is date:
                return connection.ops.adapt_datefield_value(v)
            return f.get_db_prep_save(v, connection)

        return prep_date
    if plain and type(f) is models.JSONField:

        def prep_json(obj: Any, connection: Any) -> Any:
            v = getattr(obj, attname)  # None is SQL NULL; a dict or list is encoded
            if v is None:
                return None
            if type(v) is dict or type(v) is list:
                return connection.ops.adapt_json_value(v, f.encoder)
            return f.get_db_prep_save(v, connection)

        return prep_json
    if plain:
        return lambda obj, connection: f.get_db_prep_save(getattr(obj, attname), connection)
    return lambda obj, connection: f.get_db_prep_save(f.pre_save(obj, True), connection)


_WITH_FRACTION = "%04d-%02d-%02d %02d:%02d:%02d.%06d"
_WHOLE_SECONDS = "%04d-%02d-%02d %02d:%02d:%02d"


def sqlite_utc_text(value: datetime) -> str:
    """An aware UTC datetime as Django's SQLite adapter stores it on a UTC connection, the naive
    time's `str()` (ISO text with a space; no fraction when it has no microseconds), made by
    %-formatting the fields: `isoformat` formats each of them with C's printf and then formats
    the offset too, three times the work (a few hundred times per bundle lifecycle). The text
    is remembered as this time's (see `_utc_text`): a row written is read back by the next
    transition."""
    us = value.microsecond
    if us:
        text = _WITH_FRACTION % (
            value.year,
            value.month,
            value.day,
            value.hour,
            value.minute,
            value.second,
            us,
        )
    else:
        text = _WHOLE_SECONDS % (value.year, value.month, value.day, value.hour, value.minute, value.second)
    if not value.fold:  # what parsing the text gives: the same fields, tzinfo UTC, fold 0
        if len(_utc_times) >= _UTC_TIMES_MAX:
            _utc_times.clear()
        _utc_times[text] = value
    return text


def _datetime_preparer(f: Any, auto: bool) -> Callable[[Any, Any], Any]:
    """A time: an aware UTC datetime (what `timezone.now()` gives) goes to PostgreSQL as it is
    and to SQLite (connection time zone UTC) as its naive text, as Django's adapters do;
    anything else takes Django's path. `auto`: set to now first (auto_now, auto_now_add)."""
    attname = f.attname

    def prep(obj: Any, connection: Any) -> Any:
        if auto:
            v = now()
            setattr(obj, attname, v)
        else:
            v = getattr(obj, attname)
            if v is None:
                return None
        if type(v) is datetime and v.tzinfo is UTC:
            if connection.vendor == "postgresql":
                return v
            if connection.vendor == "sqlite" and connection.timezone is UTC:
                return sqlite_utc_text(v)
        return f.get_db_prep_save(v, connection)

    return prep


class _Direct:
    """A cursor for the compiled statements, kept on the connection: the statement goes to the
    backend's cursor (SQLite's converts placeholders once per text; psycopg's prepares a statement
    run often) with Django's checks around it (a transaction broken by an error refuses
    statements; database errors become Django's), without Django's cursor wrapper built and torn
    down for each statement. That wrapper cost about as much as SQLite's own work on these
    statements, and 35-40 µs of client CPU per statement on PostgreSQL (a third of psycopg's
    own). See `cursor`.

    On SQLite with OneWindow's engine it is sqlite3's own cursor, given each text with its
    placeholders converted once (the engine's `qmark`), as Django's cursor wrapper would.

    On PostgreSQL with server-side binding (the project's default) it is psycopg's `RawCursor`:
    each statement's `%s` placeholders are turned into PostgreSQL's own `$1, $2, …` once per text
    here, so psycopg does not parse the text on every execution (it caches that parse only for
    statements under 4 KB and 50 parameters: a transition's locked read and its writes are
    longer). Its times with time zone are read by psycopg's C loader where that gives exactly
    what Django's gives (the connection's time zone and Django's are both UTC): Django's own
    loader, a Python subclass, parses each value in Python."""

    __slots__ = ("db", "raw", "cur", "native", "qmark", "other", "last")

    def __init__(self, db: Any) -> None:
        self.db = db
        self.raw = db.connection
        self.native = _native_cursor_ok(db)
        self.qmark = _qmark_of(db)
        self.other = None  # Django's cursor, for a text that cannot be converted (see _native)
        if self.qmark is not None:
            self.cur = db.connection.cursor()  # sqlite3's own: the text is converted here
        elif self.native:
            from psycopg import RawCursor
            from psycopg.types.datetime import TimestamptzLoader

            self.cur = RawCursor(db.connection)
            if _utc_session(db):
                # psycopg registers its C loader for its Python class.
                self.cur.adapters.register_loader("timestamptz", TimestamptzLoader)
        else:
            self.cur = db.create_cursor()
        self.last = self.cur  # the cursor of the last statement, whose results are read

    def __enter__(self) -> _Direct:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def execute(self, sql: str, params: Any = None) -> _Direct:
        db = self.db
        if db.needs_rollback:
            db.validate_no_broken_transaction()
        cur = self.cur
        if self.qmark is not None and params is not None:
            if type(params) in (list, tuple):
                sql = self.qmark(sql)
            else:  # named parameters: Django's cursor converts them
                if self.other is None:
                    self.other = db.create_cursor()
                cur = self.other
        elif self.native and params is not None:
            native = _native(sql)
            # Positional values, as many as the placeholders: psycopg's raw queries do not count
            # them (an extra typed value would be ignored), Django's cursor refuses a mismatch.
            if native is None or type(params) not in (list, tuple) or len(params) != native[1]:
                if self.other is None:
                    self.other = db.create_cursor()
                cur = self.other
            else:
                sql = native[0]
        self.last = cur  # also when it fails: nothing from an earlier statement is fetched
        with db.wrap_database_errors:
            if params is None:  # run as it is (sqlite3's cursor takes no None for parameters)
                cur.execute(sql)
            else:
                cur.execute(sql, params)
        return self

    def fetchall(self) -> list[Any]:
        with self.db.wrap_database_errors:
            return self.last.fetchall()

    def fetchone(self) -> Any:
        with self.db.wrap_database_errors:
            return self.last.fetchone()

    @property
    def rowcount(self) -> int:
        return self.last.rowcount

    @property
    def lastrowid(self) -> Any:
        return self.last.lastrowid


def _native_cursor_ok(db: Any) -> bool:
    """PostgreSQL with server-side binding through psycopg 3 (a client-side binding cursor, as
    behind PgBouncer, keeps Django's)."""
    if db.vendor != "postgresql":
        return False
    from django.db.backends.postgresql.psycopg_any import is_psycopg3

    if not is_psycopg3:
        return False
    return db.settings_dict.get("OPTIONS", {}).get("server_side_binding") is True


def _qmark_of(db: Any) -> Callable[[str], str] | None:
    """On OneWindow's SQLite engine, its remembered conversion of "%s" placeholders to "?":
    statements then go to sqlite3's cursor without Django's cursor wrapper, whose only work on
    them is that conversion (two Python calls per statement, a few hundred per bundle)."""
    if db.vendor != "sqlite":
        return None
    from onewindow.core.sqlite import base as engine

    wrapper = connections[db.alias]  # `db` may be Django's `connection` proxy
    return engine.qmark if isinstance(wrapper, engine.DatabaseWrapper) else None


def _utc_session(db: Any) -> bool:
    """Django reads times in UTC (USE_TZ, no database TIME_ZONE) and the session's time zone
    is UTC, so psycopg's C loader gives the same aware datetimes as Django's loader."""
    return db.timezone is UTC and db.connection.info.parameter_status("TimeZone") == "UTC"


_native_sql: dict[str, tuple[str, int] | None] = {}


def _native(sql: str) -> tuple[str, int] | None:
    """`sql` with its `%s` placeholders as `$1, $2, …`, and how many there are; None when it
    holds any other `%` sequence (an escaped %, a named placeholder: Django's cursor takes it as
    it is). Remembered per text (bounded)."""
    out = _native_sql.get(sql, _MISSING)
    if out is not _MISSING:
        return out  # type: ignore[return-value]
    pieces = sql.split("%s")
    if any("%" in piece for piece in pieces):
        out = None
    else:
        text = "".join(f"{piece}${i}" for i, piece in enumerate(pieces[:-1], 1)) + pieces[-1]
        out = (text, len(pieces) - 1)
    if len(_native_sql) >= 4096:
        _native_sql.clear()
    _native_sql[sql] = out
    return out


def cursor(db: Any) -> Any:
    """A cursor for one compiled statement on the connection `db` (use it as `with cursor(db) as
    cur:`). Django's own cursor where anyone watches the queries (DEBUG or a test's query log,
    an execute wrapper), before the connection is open, and on a connection shared between
    threads (a live test server's: one kept cursor must not serve two threads at once);
    otherwise the connection's `_Direct` cursor (a new one after a reconnection). The kept
    cursor skips Django's `async_unsafe` guard: OneWindow runs no database code in an event
    loop."""
    # (`_thread_sharing_count`: what `allow_thread_sharing` reads, there under a lock.)
    if db.connection is None or queries_logged(db) or db.execute_wrappers or db._thread_sharing_count:
        return db.cursor()
    direct = db.__dict__.get("_fastsql_direct")
    if direct is None or direct.raw is not db.connection:
        direct = db.__dict__["_fastsql_direct"] = _Direct(db)
    return direct


def _row_params(objs: list[Any], preps: list[Callable[[Any, Any], Any]], connection: Any) -> list[Any]:
    return [prep(obj, connection) for obj in objs for prep in preps]


def _insert_plan(connection: Any, model: Any, n: int, returning: bool) -> tuple[str, list[Any]]:
    key = (connection.alias, model, n, returning)
    plan = _insert_sql.get(key)
    if plan is None:
        opts = model._meta
        targets = [f for f in opts.local_concrete_fields if f is not opts.pk]
        qn = connection.ops.quote_name
        row = "({})".format(", ".join(["%s"] * len(targets)))
        sql = "INSERT INTO {} ({}) VALUES {}{}".format(
            qn(opts.db_table),
            ", ".join(qn(f.column) for f in targets),
            ", ".join([row] * n),
            f" RETURNING {qn(opts.pk.column)}" if returning else "",
        )
        plan = (sql, [_preparer(f, True) for f in targets], returning)
        if n <= 16:  # the usual shapes: a few materials, one event, one work item
            _insert_sql[key] = plan
    return plan[0], plan[1]


def insert_statement(objs: list[Any]) -> tuple[str, list[Any]]:
    """The precompiled multi-row INSERT … RETURNING the keys of `objs` (all new, of one model,
    with auto keys) and its parameters, for a caller that runs it inside a larger statement
    (PostgreSQL: a case event written in the same statement as its audit entry). Hand the keys
    back with `inserted`."""
    model = type(objs[0])
    connection = connection_of(objs[0]._state.db or "default")
    sql, preps = _insert_plan(connection, model, len(objs), True)
    return sql, _row_params(objs, preps, connection)


def inserted(objs: list[Any], keys: Iterable[Any], alias: str = "default") -> list[Any]:
    """Mark `objs` saved with the keys their INSERT returned (in order)."""
    for obj, pk in zip(objs, keys, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = alias
    return objs


def insert_rows(objs: list[Any]) -> list[Any]:
    """`Model.objects.bulk_create(objs)` (all of one model, with auto keys) as one precompiled
    multi-row INSERT … RETURNING the new keys where the database can: the same rows, with
    `auto_now`/`auto_now_add` times and defaults applied, without Django rebuilding the statement
    each time (case events, work items, materials, deliveries, access records). No model
    signals are sent: nothing in OneWindow listens to these models' saves."""
    if not objs:
        return objs
    model = type(objs[0])
    connection = connection_of(objs[0]._state.db or "default")
    returning = connection.features.can_return_rows_from_bulk_insert
    if len(objs) > 1 and not returning:  # (SQLite < 3.35) one row at a time, each key read back
        return [insert_rows([obj])[0] for obj in objs]
    if len(objs) * len(model._meta.local_concrete_fields) > 30_000:
        return model.objects.bulk_create(objs)  # Django splits what exceeds a statement's limits
    sql, preps = _insert_plan(connection, model, len(objs), returning)
    params = _row_params(objs, preps, connection)
    with cursor(connection) as cur:
        cur.execute(sql, params)
        if returning:
            keys = [r[0] for r in cur.fetchall()]
        else:
            keys = [connection.ops.last_insert_id(cur, model._meta.db_table, model._meta.pk.column)]
    return inserted(objs, keys, connection.alias)


def insert(obj: Any) -> Any:
    """One new row (auto key) by `insert_rows`."""
    return insert_rows([obj])[0]


class Prepared:
    """A query of one parameter (or a few) compiled once per process and database, then run with
    new values. With a tuple of marks, `build` takes one argument per mark and `all`/`first` take
    a tuple of values.

    Django spends far more time building a query (and its 50-column SELECT of a case) than
    SQLite spends running it; the hot lookups of the transitions (a case or work item by key,
    locked) are compiled once and only executed afterwards. The rows are converted and turned
    into model instances (with their select_related objects) as a QuerySet would do it."""

    # Values no key has, found again among the compiled parameters.
    INT_MARK = -7_361_924_853
    INT_MARK2 = -7_361_924_854
    STR_MARK = "\x00onewindow-prepared\x00"

    def __init__(self, build: Callable[..., models.QuerySet], mark: Any = INT_MARK) -> None:
        self.build = build
        self.mark = mark
        self.compiled: dict[str, Any] = {}
        self.for_update = False

    def _compile(self, alias: str) -> Any:
        marks = self.mark if isinstance(self.mark, tuple) else (self.mark,)
        qs = self.build(*marks)
        self.for_update = bool(qs.query.select_for_update)
        compiler = qs.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        slots = [[i for i, p in enumerate(params) if p == mark] for mark in marks]
        if any(len(found) != 1 for found in slots):  # a value used twice (or not at all)
            self.compiled[alias] = None
            return None
        slots = [found[0] for found in slots]
        sql, params, slots = _inline_constants(sql, list(params), slots, connections[alias].vendor)
        select, klass_info = compiler.select, compiler.klass_info
        fields = [c[0] for c in select[: compiler.col_count]]
        converters = _quick_converters(compiler.get_converters(fields), connections[alias])
        if qs._iterable_class is not ModelIterable:  # values_list(): plain rows
            plan = (
                sql,
                list(params),
                slots,
                compiler,
                converters,
                None,
                None,
                0,
                0,
                (),
            )
            self.compiled[alias] = plan
            return plan
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        plan = (
            sql,
            list(params),
            slots,
            compiler,
            converters,
            klass_info["model"],
            [c[0].target.attname for c in select[start:end]],
            start,
            end,
            _row_builder(klass_info, select, alias) or get_related_populators(klass_info, select, alias),
        )
        self.compiled[alias] = plan
        return plan

    def all(self, value: Any, using: str = "default") -> list[Any]:
        plan = self.compiled.get(using, False)
        if plan is False:
            plan = self._compile(using)
        values = value if isinstance(self.mark, tuple) else (value,)
        if plan is None:
            return list(self.build(*values).using(using))
        sql, params, slots, compiler, converters, model, attnames, start, end, populators = plan
        connection = connection_of(using)
        if self.for_update and connection.features.has_select_for_update and connection.get_autocommit():
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        params = params.copy()
        for slot, v in zip(slots, values, strict=True):
            params[slot] = v
        with cursor(connection) as cur:
            cur.execute(sql, params)
            rows = cur.fetchall()
        if converters:
            rows = _converted(rows, converters)
        if model is None:
            return [tuple(r) for r in rows]
        if callable(populators):  # the instances built directly (see _row_builder)
            return [populators(row) for row in rows]
        out = []
        for row in rows:
            obj = model.from_db(using, attnames, row[start:end])
            for populator in populators:
                populator.populate(row, obj)
            out.append(obj)
        return out

    def first(self, value: Any, using: str = "default") -> Any:
        rows = self.all(value, using)
        return rows[0] if rows else None


# Descriptors whose __set__ on a new instance only stores the value in its __dict__.
_STORING = (ForeignKeyDeferredAttribute, FileDescriptor)
_MISSING = object()
_DJANGO = object()  # a quick converter's "not mine: Django's converters decide"


def _literal(value: Any, vendor: str) -> str | None:
    """`value` as an SQL literal, for the plain constants a compiled query is built with (a
    status, a flag, a number); None for anything else, which stays a parameter."""
    if type(value) is bool:
        if vendor == "postgresql":
            return "true" if value else "false"
        return "1" if value else "0"  # what SQLite's adapter stores for a bool
    if type(value) is int:
        return str(value)
    if isinstance(value, str):
        text = str.__str__(value)  # a TextChoices member: its value
        if text.isprintable() and not any(c in text for c in "'%\\"):
            return f"'{text}'"
    return None


def _inline_constants(
    sql: str, params: list[Any], slots: list[int], vendor: str
) -> tuple[str, list[Any], list[int]]:
    """The compiled query with its constant parameters (every one but the marks' `slots`)
    written into the SQL as literals. The query planner then sees them: SQLite otherwise
    re-prepares a statement on every run when a parameter is compared with a partial index's
    column (`state = ?` against the one-active-version index of items: 4x the time of the
    query), and PostgreSQL's generic plans cannot use such an index at all. Left as it is when
    the SQL has an escaped % (a placeholder count would be ambiguous)."""
    pieces = sql.split("%s")
    if "%%" in sql or len(pieces) != len(params) + 1:
        return sql, params, slots
    out, kept, new_slots = [pieces[0]], [], {}
    for i, value in enumerate(params):
        literal = None if i in slots else _literal(value, vendor)
        if literal is None:
            new_slots[i] = len(kept)
            kept.append(value)
            literal = "%s"
        out += [literal, pieces[i + 1]]
    return "".join(out), kept, [new_slots[i] for i in slots]


# Times parsed from SQLite's text, and times written as text (`sqlite_utc_text`), by their text:
# the same rows (a case, its bundle's parent, a department) are read again by every transition,
# and a datetime is immutable, so one parse serves them all. Bounded: emptied when full.
_utc_times: dict[str, datetime] = {}
_UTC_TIMES_MAX = 8192


def _utc_text(value: Any) -> Any:
    """SQLite's datetime text (how Django's adapter stores an aware time on a UTC connection) as
    an aware UTC datetime, as `convert_datetimefield_value` gives it; None stays None."""
    if type(value) is str:
        known = _utc_times.get(value)
        if known is not None:
            return known
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
            if len(_utc_times) >= _UTC_TIMES_MAX:
                _utc_times.clear()
            _utc_times[value] = parsed
            return parsed
    if value is None:
        return None
    if type(value) is datetime and value.tzinfo is None:  # a connection that parses declared types
        return value.replace(tzinfo=UTC)
    return _DJANGO  # anything else: Django's converter decides


def _iso_date(value: Any) -> Any:
    """SQLite's date text as a date (`convert_datefield_value`)."""
    if type(value) is str:
        try:
            return date.fromisoformat(value)
        except ValueError:
            return _DJANGO
    if value is None or type(value) is date:
        return value
    return _DJANGO


_BOOLS = {0: False, 1: True}


def _bool(value: Any) -> Any:
    """SQLite's 0 or 1 as a flag (`convert_booleanfield_value`); anything else unchanged."""
    return _BOOLS.get(value, value) if type(value) in (int, bool, float) else value


_scan_json = json.decoder.JSONDecoder().scan_once  # the C scanner json.loads runs


def json_loads(text: str) -> Any:
    """`json.loads(text)` for a str: the JSON scanner run directly on a text whose value starts
    at its first character and ends at its last (what Django and OneWindow write); anything
    else (whitespace around it, a BOM, an error) goes through `json.loads`."""
    try:
        value, end = _scan_json(text, 0)
    except (StopIteration, ValueError):
        return json.loads(text)
    if end != len(text):
        return json.loads(text)
    return value


def _json_text(value: Any) -> Any:
    """A plain JSON column's text decoded (`JSONField.from_db_value` without a decoder); text
    that is not JSON stays text, as there."""
    if type(value) is str:
        try:
            return json_loads(value)
        except json.JSONDecodeError:
            return value
    return None if value is None else _DJANGO


def _one_converter(convs: list[Any], expression: Any, connection: Any) -> Callable[[Any], Any]:
    """A column's converters (Django's, as `get_converters` gives them) as one function of the
    value. The common ones (SQLite's times, dates and flags on a UTC connection, JSON of a plain
    column) are done directly, the way Django's converters do them; for any value they do not
    recognise, and for every other converter, Django's own are called in order."""

    def django(value: Any) -> Any:
        for c in convs:
            value = c(value, expression, connection)
        return value

    quick = None
    if len(convs) == 1:
        (c,) = convs
        func = getattr(c, "__func__", None)
        owner = getattr(c, "__self__", None)
        if connection.vendor == "sqlite":
            ops = type(connection.ops)
            if func is ops.convert_booleanfield_value:
                return _bool
            if func is ops.convert_datefield_value:
                quick = _iso_date
            elif func is ops.convert_datetimefield_value and connection.timezone is UTC and settings.USE_TZ:
                quick = _utc_text
        if (
            func is models.JSONField.from_db_value
            and type(owner) is models.JSONField
            and owner.decoder is None
            and isinstance(expression, Col)
        ):
            quick = _json_text
    if quick is None:
        return django

    def convert(value: Any) -> Any:
        out = quick(value)
        return django(value) if out is _DJANGO else out

    return convert


def _quick_converters(converters: dict[int, Any], connection: Any) -> list[tuple[int, Callable[[Any], Any]]]:
    """`converters` (as `get_converters` gives them) as (position, function of the value) pairs;
    see `_one_converter`."""
    return [
        (pos, _one_converter(convs, expression, connection))
        for pos, (convs, expression) in converters.items()
    ]


def _converted(rows: list[Any], converters: list[tuple[int, Callable[[Any], Any]]]) -> list[list[Any]]:
    out = []
    for row in rows:
        row = list(row)
        for pos, convert in converters:
            row[pos] = convert(row[pos])
        out.append(row)
    return out


def _plain_model(model: Any, attnames: Iterable[str]) -> bool:
    """Instances of `model` are fully built by `Model.from_db` storing the fields' values: no
    inherited parent rows, no `from_db` of its own, no init signal listened to, and no
    attribute among `attnames` whose setter does more than store."""
    if (
        model._meta.parents
        or getattr(model.from_db, "__func__", None) is not models.Model.from_db.__func__
        or pre_init.has_listeners(model)
        or post_init.has_listeners(model)
    ):
        return False
    for name in attnames:
        attr = inspect.getattr_static(model, name, _MISSING)
        if hasattr(type(attr), "__set__") and not isinstance(attr, _STORING):
            return False
    return True


def _row_builder(klass_info: dict[str, Any], select: Any, alias: str) -> Callable[[Any], Any] | None:
    """row → the model instance with its select_related objects, as `Model.from_db` and Django's
    related populators build them, without their per-field descriptor calls: the selected
    columns go straight into the instance's `__dict__` (a deferred field stays absent, as there),
    its state says "from `alias`, not adding", and each related object (None when its key is
    NULL) is cached on it as `select_related` caches it. None where a model is not plain."""
    model = klass_info["model"]
    sf = klass_info["select_fields"]
    start, end = sf[0], sf[-1] + 1
    attnames = tuple(c[0].target.attname for c in select[start:end])
    if klass_info.get("from_parent") or not _plain_model(model, attnames):
        return None
    pk_at = start + attnames.index(model._meta.pk.attname)
    related = []
    for info in klass_info.get("related_klass_infos", []):
        build = _row_builder(info, select, alias)
        if build is None:
            return None
        related.append((build, info["local_setter"], info["remote_setter"]))
    new = model.__new__

    def build(row: Any) -> Any:
        if row[pk_at] is None:  # a NULL key of a related object
            return None
        obj = new(model)
        state = ModelState()
        state.adding = False
        state.db = alias
        d = obj.__dict__
        d["_state"] = state
        d.update(zip(attnames, row[start:end], strict=True))
        for build_related, local_setter, remote_setter in related:
            rel = build_related(row)
            local_setter(obj, rel)
            if rel is not None:
                remote_setter(rel, obj)
        return obj

    return build


_loaded_plain: dict[Any, bool] = {}


def loaded(model: type[Any], alias: str, values: dict[str, Any]) -> Any:
    """`model.from_db(alias, names, row)`: an instance as read from `alias`, its fields' values
    given by attname (every concrete field), built without `Model.__init__` where the model is
    plain (see `_plain_model`)."""
    plain = _loaded_plain.get(model)
    if plain is None:
        plain = _loaded_plain[model] = _plain_model(model, [f.attname for f in model._meta.concrete_fields])
    if not plain:
        return model.from_db(alias, list(values), list(values.values()))
    obj = model.__new__(model)
    state = ModelState()
    state.adding = False
    state.db = alias
    d = obj.__dict__
    d["_state"] = state
    d.update(values)
    return obj


_new_plans: dict[Any, Any] = {}


def _new_plan(model: Any) -> Any:
    """For `new`: the constant defaults of `model`'s fields by attname, the fields whose default
    is computed ((name, attname, callable)), and what each keyword may name ({name or attname:
    (attname, relation or None)}). None when the model is not plain (see _plain_model), has
    virtual or generated fields, or the project routes databases (a relation's database would
    be the router's to choose)."""
    from django.conf import settings

    opts = model._meta
    if settings.DATABASE_ROUTERS or any(f.column is None or f.generated for f in opts.fields):
        return None
    if not _plain_model(model, [f.attname for f in opts.concrete_fields]):
        return None
    constants: dict[str, Any] = {}
    computed: list[tuple[str, str, Callable[[], Any]]] = []
    names: dict[str, tuple[str, Any]] = {}
    for f in opts.concrete_fields:
        rel = None
        if f.is_relation and (f.many_to_one or f.one_to_one):
            ((_, target),) = f.related_fields
            reverse = f.remote_field.cache_name if f.one_to_one else None
            rel = (f.remote_field.model._meta.concrete_model, target.attname, f.cache_name, reverse)
            names[f.name] = (f.attname, rel)
        names[f.attname] = (f.attname, None)
        value = _constant_default(f)
        if value is _MISSING:
            computed.append((f.name, f.attname, _default_of(f)))
        else:
            constants[f.attname] = value
    return constants, computed, names


# Default values that every new instance may share (immutable).
_CONSTANT_TYPES = (str, int, bool, float, Decimal, type(None))


def _constant_default(f: Any) -> Any:
    """`f.get_default()` when it is the same immutable value every time (a constant default,
    or the empty value of a field without one), else _MISSING."""
    if type(f).get_default is not models.Field.get_default or f.has_db_default():
        return _MISSING
    if f.has_default() and callable(f.default):
        return _MISSING
    value = f.get_default()
    return value if type(value) in _CONSTANT_TYPES else _MISSING


def _default_of(f: Any) -> Callable[[], Any]:
    """The callable giving `f.get_default()`: for a `default=timezone.now`, the same clock read
    without LazySettings (Django calls the function the model was defined with: a patched
    `timezone.now` does not reach it); else the one Django's `get_default` calls (one call less
    per field of each new instance), unless the field's class has its own `get_default`."""
    if f.default is _django_now:
        return _clock
    if type(f).get_default is models.Field.get_default:
        return f._get_default
    return f.get_default


def new(model: type[Any], **values: Any) -> Any:
    """`model(**values)` (a new, unsaved instance: given fields set, relations given as objects
    cached, the others at their defaults) without Django's per-field descriptor calls; for the
    models of the transitions, built many times per case. Anything `_new_plan` does not cover
    (unknown or property keywords, a field named twice, models that are not plain) goes to
    `model(**values)`."""
    plan = _new_plans.get(model, False)
    if plan is False:
        plan = _new_plans[model] = _new_plan(model)
    if plan is None:
        return model(**values)
    constants, computed, names = plan
    obj = model.__new__(model)
    state = ModelState()
    d = obj.__dict__
    d["_state"] = state
    d.update(constants)
    for name, attname, default in computed:
        if name not in values and attname not in values:
            d[attname] = default()
    for key, value in values.items():
        spec = names.get(key)
        if spec is None:
            return model(**values)  # a property or an unknown name: Django's way (or error)
        attname, rel = spec
        if rel is None:
            d[attname] = value
            continue
        if attname in values:
            return model(**values)  # given both as the object and as its key: Django's error
        related_model, target, cache_name, reverse = rel
        if value is None:
            d[attname] = None
        elif not isinstance(value, related_model):
            return model(**values)  # Django raises its ValueError
        else:
            if state.db is None:
                state.db = value._state.db or "default"
            if value._state.db is None:
                value._state.db = state.db
            d[attname] = getattr(value, target)
            if reverse is not None:  # one-to-one: the other side knows this one
                value._state.fields_cache[reverse] = obj
        state.fields_cache[cache_name] = value
    return obj


_prepared: dict[tuple[Any, ...], Prepared] = {}


def prepared(
    key: tuple[Any, ...], build: Callable[..., models.QuerySet], mark: Any = Prepared.INT_MARK
) -> Prepared:
    """The Prepared query registered under `key` (built by `build` the first time)."""
    q = _prepared.get(key)
    if q is None:
        q = _prepared[key] = Prepared(build, mark)
    return q


_update_sql: dict[tuple[Any, ...], tuple[str, list[Callable[[Any, Any], Any]]]] = {}


def update_statement(
    obj: models.Model, fields: Iterable[str], connection: Any = None
) -> tuple[str, list[Any]]:
    """The precompiled UPDATE of `obj`'s `fields` by primary key and its parameters, for a
    caller that runs it inside a larger statement (PostgreSQL: a case's change written with its
    event and audit entry). `updated_at` is set when listed. `connection`: `obj`'s database's,
    when the caller has it already."""
    model = type(obj)
    names = tuple(dict.fromkeys(fields))
    if "updated_at" in names:
        obj.updated_at = now()
    if connection is None:
        connection = connection_of(obj._state.db or "default")
    key = (connection.alias, model, names)
    plan = _update_sql.get(key)
    if plan is None:
        opts = model._meta
        targets = [opts.get_field(n) for n in names]
        qn = connection.ops.quote_name
        sql = "UPDATE {} SET {} WHERE {} = %s".format(
            qn(opts.db_table), ", ".join(f"{qn(f.column)} = %s" for f in targets), qn(opts.pk.column)
        )
        plan = _update_sql[key] = (sql, [_preparer(f, False) for f in targets])
    sql, preps = plan
    params = [prep(obj, connection) for prep in preps]
    params.append(obj.pk)
    return sql, params


def update(obj: models.Model, fields: Iterable[str]) -> None:
    """`obj.save(update_fields=fields)` as one precompiled UPDATE by primary key: the same row
    change without Django rebuilding the statement each time. `updated_at` is set when listed.
    (No model signals are sent; nothing in OneWindow listens to cases' or work items' saves.)"""
    connection = connection_of(obj._state.db or "default")
    sql, params = update_statement(obj, fields, connection)
    with cursor(connection) as cur:
        cur.execute(sql, params)
        if cur.rowcount == 0:  # as save(update_fields=...) does
            raise missing_row(obj)


def missing_row(obj: models.Model) -> DatabaseError:
    return DatabaseError(f"{type(obj).__name__} {obj.pk}: the row to update does not exist")


def next_in_sequence(model: type[models.Model], prefix: str) -> int:
    """The next value of the counter row `prefix` of `model` (a counter model: a unique `prefix`
    and a `last` value), the row created at 1 the first time. Unique under concurrency: the
    row's update comes first, so its lock (PostgreSQL) or the write lock (SQLite) orders
    concurrent callers; one statement (UPDATE … RETURNING) where the database can."""
    connection = transaction.get_connection()
    if connection.vendor == "postgresql" or (
        connection.vendor == "sqlite" and connection.Database.sqlite_version_info >= (3, 35)
    ):
        table = connection.ops.quote_name(model._meta.db_table)
        with cursor(connection) as cur:
            cur.execute(f"UPDATE {table} SET last = last + 1 WHERE prefix = %s RETURNING last", [prefix])
            row = cur.fetchone()
        if row is not None:
            return row[0]
    rows = model._default_manager.filter(prefix=prefix)
    if not rows.update(last=F("last") + 1):
        try:
            with transaction.atomic():
                model._default_manager.create(prefix=prefix, last=1)
        except IntegrityError:  # created meanwhile by a concurrent caller
            rows.update(last=F("last") + 1)
    return rows.values_list("last", flat=True).get()
