"""Precompiled row writes for the hot paths (case transitions, shared-data access records):
Django builds an INSERT from scratch on every `save()`/`create()`; these build it once per model
and shape and run it with fresh values."""

from __future__ import annotations

from typing import Any

from django.db import connections

_insert_sql: dict[tuple[Any, ...], tuple[str, list[Any], bool]] = {}


def insert_rows(objs: list[Any]) -> list[Any]:
    """`Model.objects.bulk_create(objs)` (all of one model, with auto keys) as one precompiled
    multi-row INSERT … RETURNING the new keys where the database can: the same rows, with
    `auto_now`/`auto_now_add` times and defaults applied, without Django rebuilding the statement
    each time (case events, work items, materials, deliveries, access records). No model
    signals are sent: nothing in OneWindow listens to these models' saves."""
    if not objs:
        return objs
    model = type(objs[0])
    connection = connections[objs[0]._state.db or "default"]
    returning = connection.features.can_return_rows_from_bulk_insert
    columns = len(model._meta.local_concrete_fields)
    if len(objs) > 1 and (not returning or len(objs) * columns > 30_000):
        return model.objects.bulk_create(objs)  # Django splits what exceeds a statement's limits
    key = (connection.alias, model, len(objs))
    plan = _insert_sql.get(key)
    if plan is None:
        opts = model._meta
        targets = [f for f in opts.local_concrete_fields if f is not opts.pk]
        qn = connection.ops.quote_name
        row = "({})".format(", ".join(["%s"] * len(targets)))
        sql = "INSERT INTO {} ({}) VALUES {}{}".format(
            qn(opts.db_table),
            ", ".join(qn(f.column) for f in targets),
            ", ".join([row] * len(objs)),
            f" RETURNING {qn(opts.pk.column)}" if returning else "",
        )
        plan = (sql, targets, returning)
        if len(objs) <= 16:  # the usual shapes: a few materials, one event, one work item
            _insert_sql[key] = plan
    sql, targets, returning = plan
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for obj in objs for f in targets]
    with connection.cursor() as cur:
        cur.execute(sql, params)
        if returning:
            keys = [r[0] for r in cur.fetchall()]
        else:
            keys = [connection.ops.last_insert_id(cur, model._meta.db_table, model._meta.pk.column)]
    for obj, pk in zip(objs, keys, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
    return objs


def insert(obj: Any) -> Any:
    """One new row (auto key) by `insert_rows`."""
    return insert_rows([obj])[0]
