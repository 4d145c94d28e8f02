"""The precompiled statements behave as the Django calls they replace."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.transaction import TransactionManagementError

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
