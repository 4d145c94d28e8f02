"""The precompiled statements behave as the Django calls they replace."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.transaction import TransactionManagementError
from hypothesis import example, given
from hypothesis import strategies as st

from onewindow.cases.models import CaseStatus, SlaLevel
from onewindow.core import fastsql
from onewindow.core.models import SystemFlag


@pytest.mark.django_db
def test_insert_rows_sets_keys_defaults_and_times_like_bulk_create():
    rows = fastsql.insert_rows([SystemFlag(key="a", value="1"), SystemFlag(key="b")])
    assert all(r.pk and not r._state.adding for r in rows)
    stored = {f.key: f for f in SystemFlag.objects.filter(key__in=["a", "b"])}
    assert stored["a"].value == "1" and stored["b"].value == ""  # the field default
    assert stored["a"].updated_at is not None  # auto_now applied
    assert [r.pk for r in rows] == [stored["a"].pk, stored["b"].pk]  # keys in row order
    one = fastsql.insert(SystemFlag(key="c"))
    assert SystemFlag.objects.get(pk=one.pk).key == "c"


@pytest.mark.django_db
def test_update_writes_the_named_fields_and_refuses_a_missing_row():
    flag = fastsql.insert(SystemFlag(key="k", value="old"))
    flag.value, flag.key = "new", "not-written"
    fastsql.update(flag, ["value"])
    fresh = SystemFlag.objects.get(pk=flag.pk)
    assert (fresh.key, fresh.value) == ("k", "new")
    SystemFlag.objects.filter(pk=flag.pk).delete()
    with pytest.raises(DatabaseError):
        fastsql.update(flag, ["value"])


@pytest.mark.django_db(transaction=True)
def test_a_prepared_row_lock_needs_a_transaction_where_the_database_locks_rows():
    fastsql.insert(SystemFlag(key="lock"))
    q = fastsql.prepared(
        ("test_lock",),
        lambda v: SystemFlag.objects.select_for_update().filter(key=v),
        fastsql.Prepared.STR_MARK,
    )
    with transaction.atomic():
        assert q.first("lock").key == "lock"
        assert q.first("missing") is None
    if connection.features.has_select_for_update:
        with pytest.raises(TransactionManagementError):
            q.first("lock")
    else:
        assert q.first("lock").key == "lock"  # SQLite: no row locks, as with the ORM


def test_a_query_without_exactly_one_parameter_falls_back_to_the_orm(db: Any):
    fastsql.insert(SystemFlag(key="same", value="same"))
    fastsql.insert(SystemFlag(key="other", value="x"))
    q = fastsql.prepared(
        ("test_two",), lambda v: SystemFlag.objects.filter(key=v, value=v), fastsql.Prepared.STR_MARK
    )
    assert [f.key for f in q.all("same")] == ["same"]  # the value twice: run through the ORM
    assert q.all("other") == [] and q.compiled == {"default": None}


def test_a_query_of_two_parameters_runs_with_both_values(db: Any):
    fastsql.insert(SystemFlag(key="a", value="1"))
    fastsql.insert(SystemFlag(key="b", value="1"))
    q = fastsql.prepared(
        ("test_pair",),
        lambda k, v: SystemFlag.objects.filter(key=k, value=v),
        (fastsql.Prepared.STR_MARK, fastsql.Prepared.STR_MARK + "2"),
    )
    assert [f.key for f in q.all(("a", "1"))] == ["a"]
    assert q.all(("a", "2")) == [] and q.first(("b", "1")).key == "b"
    assert q.compiled["default"] is not None  # compiled, not run through the ORM


def _kind(v: Any) -> type:
    """A value's type as the database driver takes it: a choice (a str subclass) is sent as its
    plain str, and integers as int (Django wraps them for psycopg: Int4, …)."""
    if isinstance(v, str):
        return str
    return int if isinstance(v, int) and not isinstance(v, bool) else type(v)


@pytest.mark.parametrize(
    "values",
    [
        {"number": "A01", "kind": "comprehensive", "active": True, "hall_id": 7, "department_id": None},
        # Values that Django converts: a choices member, a lazy string, an int flag, a str key.
        {"number": "A02", "kind": "delivery", "active": 1, "hall_id": "8", "department_id": 3},
    ],
)
def test_row_values_are_what_django_would_send(values: dict[str, Any]):
    from django.utils.functional import lazy

    from onewindow.cases.models import CaseEvent
    from onewindow.org.models import Window, WindowKind

    if values["kind"] == "delivery":
        values = {**values, "kind": WindowKind.DELIVERY, "number": lazy(lambda: "A02", str)()}
    window = Window(**values)
    fields = [
        f for f in Window._meta.local_concrete_fields if f.name not in ("id", "created_at", "updated_at")
    ]
    for adding in (True, False):
        fast = [fastsql._preparer(f, adding)(window, connection) for f in fields]
        django = [f.get_db_prep_save(getattr(window, f.attname), connection) for f in fields]
        assert fast == django and [_kind(v) for v in fast] == [_kind(v) for v in django]
        assert all(type(v) is str for v in fast if isinstance(v, str))  # a choice: its plain str
    event = CaseEvent(case_id=1, kind="accept", payload={"名": "值"}, visit=False, actor_id=None)
    fields = [f for f in CaseEvent._meta.local_concrete_fields if f.name not in ("id", "at")]
    fast = [fastsql._preparer(f, True)(event, connection) for f in fields]
    django = [f.get_db_prep_save(f.pre_save(event, True), connection) for f in fields]
    assert [str(v) for v in fast] == [str(v) for v in django]  # JSON payloads: adapter objects


@pytest.mark.parametrize(
    "values",
    [
        {"status": "ACCEPTED", "promised_due": date(2026, 12, 1), "form_data": {"名": ["值", 1]}},
        # Choices members, no dates, JSON of other shapes (a list; a bare string: Django's path).
        {"status": CaseStatus.READY, "promised_due": None, "form_data": [1, {"a": None}]},
        {"status": CaseStatus.SUBMITTED, "legal_due": date(2027, 1, 4), "form_data": "text"},
        {"depends_on": None, "accepted_at": None, "sla": SlaLevel.YELLOW},
    ],
)
def test_dates_json_and_choices_are_sent_as_django_sends_them(values: dict[str, Any]):
    from onewindow.cases.models import Case

    case = Case(number="330800-20261129-00001", **values)
    fields = [f for f in Case._meta.local_concrete_fields if f.name not in ("id", "created_at", "updated_at")]
    for adding in (True, False):
        fast = [fastsql._preparer(f, adding)(case, connection) for f in fields]
        django = [f.get_db_prep_save(getattr(case, f.attname), connection) for f in fields]
        assert [str(v) for v in fast] == [str(v) for v in django]  # JSON: adapter objects on PG
        assert [_kind(v) for v in fast] == [_kind(v) for v in django]


def test_times_are_sent_as_django_sends_them():
    from datetime import UTC, datetime, timedelta, timezone

    from django.utils import timezone as dj_timezone

    from onewindow.cases.models import CaseEvent

    at = CaseEvent._meta.get_field("at")
    for value in (
        dj_timezone.now(),
        datetime(2026, 1, 2, 3, 4, 5, 600, tzinfo=UTC),
        datetime(2026, 1, 2, 11, 4, 5, tzinfo=timezone(timedelta(hours=8))),  # not UTC: Django's path
        None,
    ):
        event = CaseEvent(at=value)
        assert fastsql._preparer(at, True)(event, connection) == at.get_db_prep_save(value, connection)
    created = SystemFlag._meta.get_field("updated_at")  # auto_now: set, then sent
    flag = SystemFlag(key="t")
    sent = fastsql._preparer(created, True)(flag, connection)
    assert flag.updated_at is not None and sent == created.get_db_prep_save(flag.updated_at, connection)


@given(st.datetimes(timezones=st.just(UTC)))
@example(datetime(2026, 11, 29, 2, 41, 42, tzinfo=UTC))  # no fraction
@example(datetime(2000, 1, 1, 0, 0, 0, 1, fold=1, tzinfo=UTC))
@example(datetime(999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC))
def test_a_utc_time_is_the_text_djangos_sqlite_adapter_stores(value: datetime) -> None:
    text = fastsql.sqlite_utc_text(value)
    back = fastsql._utc_text(text)  # remembered, or parsed (a time of fold 1 is not remembered)
    if connection.vendor == "sqlite":  # the project's connection: time zone UTC
        assert text == connection.ops.adapt_datetimefield_value(value)
        django = connection.ops.convert_datetimefield_value(text, None, connection)
    else:  # what Django's SQLite adapter and converter do on a UTC connection
        assert text == str(value.replace(tzinfo=None))
        django = datetime.fromisoformat(text).replace(tzinfo=UTC)
    assert back == django == value
    assert type(back) is datetime and back.tzinfo is django.tzinfo is UTC and back.fold == django.fold == 0


def test_a_compiled_query_writes_its_constants_into_the_sql(db: Any):
    """Constants become literals (the planner sees them: a partial index's condition), the
    values given at each run stay parameters, and an awkward constant stays a parameter."""
    fastsql.insert(SystemFlag(key="a", value="on"))
    fastsql.insert(SystemFlag(key="b", value="it's 100%"))
    plain = fastsql.prepared(
        ("test_const",), lambda v: SystemFlag.objects.filter(key=v, value="on"), fastsql.Prepared.STR_MARK
    )
    awkward = fastsql.prepared(
        ("test_awkward",),
        lambda v: SystemFlag.objects.filter(key=v, value="it's 100%"),
        fastsql.Prepared.STR_MARK,
    )
    assert [f.key for f in plain.all("a")] == ["a"] and plain.all("b") == []
    assert [f.key for f in awkward.all("b")] == ["b"] and awkward.all("a") == []
    sql, params = plain.compiled["default"][:2]
    assert "'on'" in sql and params == [fastsql.Prepared.STR_MARK]
    sql, params = awkward.compiled["default"][:2]
    assert "it's" not in sql and params == [fastsql.Prepared.STR_MARK, "it's 100%"]


@pytest.mark.parametrize(
    ("model_field", "values"),
    [
        (
            ("cases.CaseEvent", "at"),
            [
                "2026-11-28 21:05:05.123456",
                "2026-11-28 21:05:05",
                "2026-11-28T21:05:05+08:00",  # aware text: Django's converter keeps its offset
                "2026-11-28",
                None,
            ],
        ),
        (("cases.Case", "promised_due"), ["2026-11-30", None]),
        (("cases.CaseEvent", "visit"), [0, 1, None]),
        (("cases.CaseEvent", "payload"), ['{"名": "值", "n": [1, 2.5]}', '"text"', "null", "not json", None]),
    ],
)
def test_quick_converters_give_what_djangos_converters_give(model_field: tuple[str, str], values: list[Any]):
    """Compiled reads convert a column's raw values with one function (SQLite's times, dates,
    flags and JSON done directly); for every value it is what Django's own converters give, the
    first time and again."""
    from datetime import datetime

    from django.apps import apps
    from django.db.models.expressions import Col

    label, name = model_field
    field = apps.get_model(label)._meta.get_field(name)
    col = Col(field.model._meta.db_table, field)
    convs = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
    quick = fastsql._one_converter(convs, col, connection)
    for raw in values:
        if connection.vendor == "postgresql" and isinstance(raw, str) and not name == "payload":
            continue  # PostgreSQL sends typed values, not text
        django = raw
        for c in convs:
            django = c(django, col, connection)
        for got in (quick(raw), quick(raw)):  # parsed, then (times) remembered by their text
            assert got == django and type(got) is type(django), (raw, got, django)
            if isinstance(got, datetime):
                assert got.utcoffset() == django.utcoffset()


@pytest.mark.django_db
def test_compiled_statements_run_on_a_kept_cursor_unless_someone_watches_the_queries():
    """The compiled statements run on a cursor kept on the connection (a new one after a
    reconnection); a query log (DEBUG, a test counting queries) or an execute wrapper gets
    Django's own cursor, so that every statement is still seen there."""
    from django.test.utils import CaptureQueriesContext

    flags = fastsql.prepared(
        ("test_kept",), lambda v: SystemFlag.objects.filter(key=v), fastsql.Prepared.STR_MARK
    )
    fastsql.insert(SystemFlag(key="k", value="v"))
    kept = fastsql.cursor(connection)
    assert isinstance(kept, fastsql._Direct) and fastsql.cursor(connection) is kept
    assert [f.value for f in flags.all("k")] == ["v"]
    with CaptureQueriesContext(connection) as seen:
        assert [f.value for f in flags.all("k")] == ["v"]
    assert len(seen) == 1 and "core_systemflag" in seen[0]["sql"]
    statements: list[str] = []

    def watch(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(watch):
        fastsql.update(SystemFlag.objects.get(key="k"), ["value"])
    assert any(s.startswith('UPDATE "core_systemflag"') for s in statements)
    connection.inc_thread_sharing()  # as a live test server shares it with its thread
    try:
        assert not isinstance(fastsql.cursor(connection), fastsql._Direct)
    finally:
        connection.dec_thread_sharing()


def test_the_kept_cursor_converts_placeholders_as_djangos_cursor_does(db: Any):
    """On SQLite the kept cursor is sqlite3's own, given each text with "%s" as "?" and "%%" as
    "%" (as Django's wrapper converts them); a text without parameters is run as it is, and named
    parameters go through Django's cursor."""
    kept = fastsql.cursor(connection)
    texts = [
        ("SELECT %s, '%%', %s", [1, "二"]),
        ("SELECT '%s', '%%'", None),
        ("SELECT %(a)s, %(b)s", {"a": 1, "b": "b"}),
    ]
    for sql, params in texts:
        with connection.cursor() as django_cursor:
            django_cursor.execute(sql, params)
            expected = django_cursor.fetchall()
        assert kept.execute(sql, params).fetchall() == expected
    if connection.vendor == "sqlite":
        import sqlite3

        assert type(kept.cur) is sqlite3.Cursor


@pytest.mark.django_db
def test_the_kept_cursor_raises_djangos_errors_and_refuses_a_broken_transaction():
    from django.db import IntegrityError

    fastsql.insert(SystemFlag(key="dup", value="1"))
    assert isinstance(fastsql.cursor(connection), fastsql._Direct)
    with pytest.raises(IntegrityError):  # Django's, as a caller catching it expects
        with transaction.atomic():
            fastsql.insert(SystemFlag(key="dup", value="2"))
    with transaction.atomic():
        with pytest.raises(IntegrityError):
            with transaction.atomic(savepoint=False):
                fastsql.insert(SystemFlag(key="dup", value="3"))
        with pytest.raises(TransactionManagementError):  # the transaction is broken: no more statements
            fastsql.update(SystemFlag(pk=1, key="x"), ["value"])
    assert list(SystemFlag.objects.filter(key="dup").values_list("value", flat=True)) == ["1"]


@pytest.mark.django_db
def test_postgresql_statements_go_with_native_placeholders_and_read_what_django_reads():
    """On PostgreSQL the kept cursor sends `$1, $2, …` (converted once per text) and reads times
    with psycopg's C loader: the rows are what Django's own cursor reads, value and type, time
    zone included. A text with an escaped %, or values that do not match its placeholders, go
    through Django's cursor as they are."""
    if connection.vendor != "postgresql":
        assert fastsql._native("SELECT %s, %s") == ("SELECT $1, $2", 2)  # the conversion alone
        return
    from datetime import datetime

    from psycopg import RawCursor

    fastsql.insert(SystemFlag(key="native", value="50%"))
    kept = fastsql.cursor(connection)
    assert isinstance(kept, fastsql._Direct) and isinstance(kept.cur, RawCursor)
    sql = 'SELECT "key", "value", "updated_at", %s::jsonb FROM "core_systemflag" WHERE "key" = %s'
    params = ['{"名": [1, 2.5]}', "native"]
    text, count = fastsql._native(sql)
    assert text.endswith('$1::jsonb FROM "core_systemflag" WHERE "key" = $2') and count == 2
    got = kept.execute(sql, params).fetchall()
    with connection.cursor() as cur:
        cur.execute(sql, params)
        django = cur.fetchall()
    assert got == django and [type(v) for v in got[0]] == [type(v) for v in django[0]]
    assert isinstance(got[0][2], datetime) and got[0][2].tzinfo is django[0][2].tzinfo
    escaped = 'SELECT "value" FROM "core_systemflag" WHERE "value" LIKE \'50%%\' AND "key" = %s'
    assert fastsql._native(escaped) is None
    assert kept.execute(escaped, ["native"]).fetchall() == [("50%",)]
    # Values that do not match the placeholders are refused as Django's cursor refuses them (a
    # raw query would ignore an extra one), before anything reaches the server.
    from django.db import ProgrammingError

    with transaction.atomic():
        with pytest.raises(ProgrammingError):
            kept.execute("SELECT %s::int", [1, 2])
        assert kept.execute("SELECT %s::int", [3]).fetchall() == [(3,)]


def test_now_is_djangos_now_and_follows_the_settings_and_a_patched_clock():
    from unittest import mock

    from django.test import override_settings
    from django.utils import timezone

    before = timezone.now()
    value = fastsql.now()
    assert value.tzinfo is UTC and before <= value <= timezone.now()
    with override_settings(USE_TZ=False):
        assert fastsql.now().tzinfo is None
    assert fastsql.now().tzinfo is UTC  # the setting read again once the override ends
    simulated = datetime(2027, 3, 1, 9, 30, tzinfo=UTC)
    with mock.patch("django.utils.timezone.now", return_value=simulated):
        assert fastsql.now() == simulated


def test_queries_are_logged_when_debug_is_on_as_django_decides(db: Any):
    from django.conf import settings
    from django.test import override_settings

    assert fastsql.queries_logged(connection) is connection.queries_logged
    with override_settings(DEBUG=True):
        assert fastsql.queries_logged(connection) is True is connection.queries_logged
        assert not isinstance(fastsql.cursor(connection), fastsql._Direct)
    assert fastsql.queries_logged(connection) is connection.queries_logged
    was = settings.DEBUG
    settings.DEBUG = True  # assigned directly, as Django's test set-up does
    try:
        assert fastsql.queries_logged(connection) is True is connection.queries_logged
    finally:
        settings.DEBUG = was
    assert fastsql.queries_logged(connection) is connection.queries_logged is was


def test_connection_of_is_this_threads_connection_as_django_gives_it():
    import asyncio
    import threading

    from django.db import connections

    assert fastsql.connection_of("default") is connections["default"]
    seen: dict[str, Any] = {}

    def other_thread() -> None:
        seen["ours"] = fastsql.connection_of("default")
        seen["django"] = connections["default"]

        async def in_a_loop() -> None:  # asgiref's context storage: Django's own lookup
            seen["loop"] = fastsql.connection_of("default") is connections["default"]

        asyncio.run(in_a_loop())
        connections["default"].close()

    t = threading.Thread(target=other_thread)
    t.start()
    t.join()
    assert seen["ours"] is seen["django"] and seen["ours"] is not connections["default"]
    assert seen["loop"] is True
    with pytest.raises(Exception, match="doesn't exist"):
        fastsql.connection_of("nonesuch")


def test_localdate_is_djangos_in_the_default_and_in_an_activated_time_zone():
    from unittest import mock

    from django.utils import timezone

    late = datetime(2026, 12, 31, 17, 30, tzinfo=UTC)  # 1 January in Shanghai (UTC+8)
    assert fastsql.localdate(late) == timezone.localdate(late) == date(2027, 1, 1)
    assert fastsql.localdate() == timezone.localdate()
    with timezone.override("America/New_York"):
        assert fastsql.localdate(late) == timezone.localdate(late) == date(2026, 12, 31)
    timezone.activate("Asia/Tokyo")
    try:
        assert fastsql.localdate(datetime(2026, 12, 31, 15, 30, tzinfo=UTC)) == date(2027, 1, 1)
    finally:
        timezone.deactivate()
    assert fastsql.localdate(datetime(2026, 12, 31, 15, 30, tzinfo=UTC)) == date(2026, 12, 31)
    with pytest.raises(ValueError, match="naive"):
        fastsql.localdate(datetime(2026, 12, 31, 15, 30))
    with mock.patch("django.utils.timezone.now", return_value=late):
        assert fastsql.localdate() == date(2027, 1, 1)
    with mock.patch("django.utils.timezone.localdate", return_value=date(2000, 1, 1)):
        assert fastsql.localdate() == fastsql.localdate(late) == date(2000, 1, 1)


@pytest.mark.django_db
def test_a_default_of_timezone_now_is_the_clock_django_calls_for_it():
    """A model's `default=timezone.now` is the function the model was defined with: a patched
    `timezone.now` reaches neither Django's instances nor ours."""
    from unittest import mock

    from onewindow.cases.models import Application

    simulated = datetime(2020, 1, 1, tzinfo=UTC)
    for _ in range(2):  # the first call builds the model's plan, the second uses it
        with mock.patch("django.utils.timezone.now", return_value=simulated):
            ours, django = fastsql.new(Application, channel="online"), Application(channel="online")
        assert ours.created_at > simulated and django.created_at > simulated
        assert abs(ours.created_at - django.created_at).total_seconds() < 60


@pytest.mark.django_db
def test_loaded_builds_what_from_db_builds():
    from django.db.models.signals import post_init

    flag = fastsql.insert(SystemFlag(key="k", value="v"))
    values = {f.attname: getattr(flag, f.attname) for f in SystemFlag._meta.concrete_fields}
    ours = fastsql.loaded(SystemFlag, "default", values)
    django = SystemFlag.from_db("default", list(values), list(values.values()))
    assert type(ours) is SystemFlag and ours == django
    assert {f.attname: getattr(ours, f.attname) for f in SystemFlag._meta.concrete_fields} == values
    assert (
        (ours._state.adding, ours._state.db) == (django._state.adding, django._state.db) == (False, "default")
    )
    seen = []

    def listener(sender: Any, instance: Any, **kwargs: Any) -> None:
        seen.append(instance)

    fastsql._loaded_plain.clear()
    post_init.connect(listener, sender=SystemFlag)
    try:  # a model whose init is listened to is built by Django
        assert fastsql.loaded(SystemFlag, "default", values) == django and len(seen) == 1
    finally:
        post_init.disconnect(listener, sender=SystemFlag)
        fastsql._loaded_plain.clear()


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=10,
)


@given(
    value=_json_values,
    separators=st.sampled_from([(", ", ": "), (",", ":")]),
    around=st.sampled_from(["", " ", "\n", "\ufeff", "x", "]", " 1"]),
    junk=st.text(max_size=6),
)
@example(value=None, separators=(",", ":"), around="", junk="[1, 2] 3")
def test_json_loads_reads_what_json_loads_reads(value, separators, around, junk):
    import json

    text = json.dumps(value, separators=separators, ensure_ascii=False)
    for t in (text, text + around, around + text, junk):
        ours = _decoded_by(fastsql.json_loads, t)
        assert ours == _decoded_by(json.loads, t)


def _decoded_by(loads: Any, text: str) -> Any:
    import json

    try:
        return ("ok", json.dumps(loads(text)))
    except ValueError as exc:
        return ("error", type(exc), str(exc))
