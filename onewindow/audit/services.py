"""Writing and verifying the audit chain.

`record()` is called by service functions inside their own transaction, so changes made from
pages, the API, the CLI and background workers are all recorded, and a rolled-back change leaves
no audit row behind.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import groupby
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, models, transaction

from onewindow.audit.models import AuditEntry, AuditHead
from onewindow.core import fastsql

GENESIS = "0" * 64
# How many independent chains (lanes) PostgreSQL appends to; see `lane_of`. It may grow, never
# shrink: `verify` refuses entries of a lane above it.
LANES = 16
# A change written with an entry: a row and the names of its fields to update.
Update = tuple[models.Model, Iterable[str]]
SYSTEM = "system"


# One encoder for every entry (an encoder keeps no state between calls): what
# `json.dumps(data, cls=DjangoJSONEncoder, sort_keys=True, ensure_ascii=False, separators=(",", ":"))`
# gives, without building an encoder each time.
_ENCODER = DjangoJSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))
_json_string = json.encoder.encode_basestring  # a str as that encoder writes it (ensure_ascii=False)


def _canonical(data: Any) -> str:
    return _ENCODER.encode(data)


def _actor_name(actor: AbstractBaseUser | AnonymousUser | str | None) -> str:
    if actor is None:
        return SYSTEM
    if isinstance(actor, str):
        return actor
    if getattr(actor, "is_anonymous", False):
        return "anonymous"
    return actor.get_username()


def entry_hash(
    prev_hash: str,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    data: Any,
) -> str:
    body = _canonical({**_body(at, actor, action, object_type, object_id, data), "seq": seq})
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def _body(
    at: datetime, actor: str, action: str, object_type: str, object_id: str, data: Any
) -> dict[str, Any]:
    """An entry's hashed body without its seq."""
    return {
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "data": data,
    }


def _body_prefix(
    at: datetime, actor: str, action: str, object_type: str, object_id: str, data: Any, data_text: str = ""
) -> str:
    """The canonical body of an entry up to its seq: keys are sorted and "seq" sorts last, so
    the body hashed by `entry_hash` is exactly `prefix + str(seq) + "}"`. Written key by key
    (the keys' sorted order) with the data's canonical text (`data_text` when the caller has
    it): the same text as encoding the whole body (a test holds them equal), at a third of the
    cost."""
    texts = (actor, action, object_type, object_id)
    if not all(type(t) is str for t in texts):  # e.g. a lazy text: the encoder's own path
        return _canonical(_body(at, actor, action, object_type, object_id, data))[:-1] + ',"seq":'
    return "".join(
        (
            '{"action":',
            _json_string(action),
            ',"actor":',
            _json_string(actor),
            ',"at":"',
            at.astimezone(UTC).isoformat(timespec="microseconds"),
            '","data":',
            data_text or _canonical(data),
            ',"object_id":',
            _json_string(object_id),
            ',"object_type":',
            _json_string(object_type),
            ',"seq":',
        )
    )


def record(
    action: str,
    obj: models.Model | None = None,
    *,
    actor: AbstractBaseUser | AnonymousUser | str | None,
    object_type: str | None = None,
    object_id: str | None = None,
    data: dict[str, Any] | None = None,
    rows: Sequence[models.Model] = (),
    updates: Sequence[Update] = (),
    lane: int | None = None,
) -> AuditEntry:
    """Append one entry to the chain, inside the caller's transaction.

    The change being recorded can be written with the entry: `updates`, (obj, fields) pairs,
    updates of those fields of existing rows (a work item claimed, a case's new status), and
    `rows`, new rows with auto keys (the case's event, a delivery). On PostgreSQL they all go in
    the entry's own statement (one round trip for a transition's writes), elsewhere just before
    it, updates first; a row to update that does not exist raises DatabaseError, as
    `save(update_fields=...)` does.

    Called inside an atomic block (every service function), the entry joins that transaction
    without a savepoint of its own: it commits or rolls back with the change it records. Called
    outside one, it runs in a transaction of its own. The entry goes to the connection's lane
    (`lane_of`), or to `lane` when given (the checkpoints'); the appends of a lane are
    serialised by its head's row lock (PostgreSQL: the UPDATE of the head takes it; SQLite: the
    IMMEDIATE write lock). A transaction appending to several lanes takes them in ascending
    order (`checkpoint`): every other one holds a single head, so none can wait in a circle."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(getattr(obj, "code", None) or getattr(obj, "number", None) or obj.pk)
    # Round-trip through JSON so that what is hashed is exactly what the database gives back.
    data = data or {}
    text = _canonical(data)
    payload = fastsql.json_loads(text)
    # The text is that of what was read back too, unless a key was not a str (read back as one,
    # it may sort elsewhere) or a value was not plain JSON: then it is encoded again.
    if not _plain(data):
        text = ""
    # Microseconds are kept by both SQLite and PostgreSQL, so the stored time hashes the same.
    at = fastsql.now()
    name = _actor_name(actor)
    # Texts as stored (an id given as a number, a lazy translation): the hash covers what is stored.
    texts = ["" if t is None else str(t) for t in (action, object_type, object_id)]
    fields = (at, name, *texts, payload)
    connection = fastsql.connection_of(DEFAULT_DB_ALIAS)  # the atomic block's, as get_connection()
    if not connection.in_atomic_block:
        with transaction.atomic():
            return _append(connection, *fields, rows=rows, updates=updates, text=text, lane=lane)
    try:
        return _append(connection, *fields, rows=rows, updates=updates, text=text, lane=lane)
    except BaseException:
        # Never let the caller commit half an append (head moved, entry missing), even if it
        # catches the error inside its atomic block.
        transaction.set_rollback(True)
        raise


def _plain(value: Any) -> bool:
    """Whether `value` is plain JSON whose dicts have only str keys: its canonical text, read
    back and encoded again, is then the same text (a test holds it)."""
    kind = type(value)
    if kind is dict:
        return all(type(k) is str and _plain(v) for k, v in value.items())
    if kind is list:
        return all(_plain(v) for v in value)
    return isinstance(value, str) or kind is int or kind is bool or kind is float or value is None


def _append(
    connection: Any,
    at: datetime,
    actor: str,
    action: str,
    otype: str,
    oid: str,
    data: Any,
    rows: Sequence[models.Model] = (),
    updates: Sequence[Update] = (),
    text: str = "",
    lane: int | None = None,
) -> AuditEntry:
    """`text`: the data's canonical text when the caller has it; `lane`: the lane to append to
    (default: the connection's, `lane_of`)."""
    lane = lane or lane_of(connection)
    if connection.vendor == "postgresql":
        return _append_postgresql(connection, lane, at, actor, action, otype, oid, data, rows, updates, text)
    for obj, names in updates:
        fastsql.update(obj, names)
    for _model, same in groupby(rows, key=type):  # rows of one model in one INSERT
        fastsql.insert_rows(list(same))
    if connection.vendor == "sqlite" and connection.Database.sqlite_version_info >= (3, 35):
        return _append_sqlite(connection, lane, at, actor, action, otype, oid, data, text)
    return _append_orm(lane, at, actor, action, otype, oid, data)


def lane_of(connection: Any) -> int:
    """The lane this connection appends to.

    PostgreSQL: one of `LANES`, from the number of the server process serving the connection.
    An append locks its lane's head until its transaction has committed and been flushed to
    disk; with a single chain the transitions of all workers took turns there, each waiting for
    the one before it to reach the disk. By connection, workers append side by side (unless
    their process numbers meet modulo `LANES`), and a transaction only ever holds one head, so
    two transactions cannot wait for each other's. SQLite: lane 1 (its writers take turns
    anyway, and the embedded database keeps the single chain it always had)."""
    if connection.vendor != "postgresql":
        return 1
    connection.ensure_connection()
    raw = connection.connection
    kept = connection.__dict__.get("_audit_lane")
    if kept is not None and kept[0] is raw:
        return kept[1]
    info = getattr(raw, "info", None)  # psycopg 3; psycopg 2 has get_backend_pid()
    pid = info.backend_pid if info is not None else raw.get_backend_pid()
    lane = pid % LANES + 1
    connection.__dict__["_audit_lane"] = (raw, lane)
    return lane


def _entry(
    connection: Any,
    pk: int,
    lane: int,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    otype: str,
    oid: str,
    data: Any,
    prev: str,
    digest: str,
) -> AuditEntry:
    # As a row read back.
    return fastsql.loaded(
        AuditEntry,
        connection.alias,
        {
            "id": pk,
            "lane": lane,
            "seq": seq,
            "at": at,
            "actor": actor,
            "action": action,
            "object_type": otype,
            "object_id": oid,
            "data": data,
            "prev_hash": prev,
            "hash": digest,
        },
    )


def _prep(connection: Any, at: datetime, data: Any, data_text: str = "") -> tuple[Any, Any]:
    """The entry's time and data as the database takes them. The data goes as its canonical
    text (`data_text`, when given: JSON that reads back as the data) without encoding it again:
    SQLite stores the text, PostgreSQL its jsonb."""
    sqlite = connection.vendor == "sqlite"
    if sqlite and type(at) is datetime and at.tzinfo is UTC and connection.timezone is UTC:
        db_at = fastsql.sqlite_utc_text(at)  # what Django's adapter gives, without its steps
    else:
        db_at = AuditEntry._meta.get_field("at").get_db_prep_value(at, connection)
    if data_text and sqlite:
        return db_at, data_text
    if data_text and connection.vendor == "postgresql":
        from psycopg.types.json import Jsonb  # as Django's adapter wraps it, with the text made

        return db_at, Jsonb(data, dumps=lambda _data: data_text)
    return db_at, AuditEntry._meta.get_field("data").get_db_prep_value(data, connection)


_ENTRY_COLUMNS = "lane, seq, at, actor, action, object_type, object_id, data, prev_hash, hash"
_CREATE_HEAD = (  # a lane's head, at the genesis
    "INSERT INTO audit_audithead (id, seq, hash, prev_hash) VALUES (%s, 0, %s, %s) "
    "ON CONFLICT (id) DO NOTHING"
)

# One round trip: the UPDATE locks the head row (a concurrent append waits, then re-reads the
# committed head), takes the next seq and computes the new hash in SQL from the locked row's
# hash; the INSERT writes the entry from what the UPDATE returns.
_PG_APPEND = f"""
WITH h AS (
    UPDATE audit_audithead
       SET seq = seq + 1,
           prev_hash = hash,
           hash = encode(sha256(convert_to(hash || %s || (seq + 1)::text || '}}', 'UTF8')), 'hex')
     WHERE id = %s
 RETURNING id, seq, prev_hash, hash
)
INSERT INTO audit_auditentry ({_ENTRY_COLUMNS})
SELECT h.id, h.seq, %s, %s, %s, %s, %s, %s, h.prev_hash, h.hash FROM h
RETURNING id, seq, prev_hash, hash
"""


# The same, with the recorded change written by the same statement: UPDATEs of existing rows
# (u0, u1, …: how many rows they changed comes back) and INSERTs of new ones (r0, r1, …: their
# keys come back). The entry's columns are NULL when the chain has no head yet: the change is
# written all the same, and the entry is appended again once the head exists.
_PG_APPEND_TAIL = (
    """
h AS (
    UPDATE audit_audithead
       SET seq = seq + 1,
           prev_hash = hash,
           hash = encode(sha256(convert_to(hash || %s || (seq + 1)::text || '}', 'UTF8')), 'hex')
     WHERE id = %s
 RETURNING id, seq, prev_hash, hash
),
a AS (
    INSERT INTO audit_auditentry ("""
    + _ENTRY_COLUMNS
    + """)
    SELECT h.id, h.seq, %s, %s, %s, %s, %s, %s, h.prev_hash, h.hash FROM h
    RETURNING id, seq, prev_hash, hash
)
SELECT a.id, a.seq, a.prev_hash, a.hash, CHANGED, KEYS FROM (SELECT 1) AS one LEFT JOIN a ON TRUE"""
)
_pg_with_sql: dict[tuple[str, ...], str] = {}


def _pg_with(update_sqls: list[str], insert_sqls: list[str]) -> str:
    key = (*update_sqls, "", *insert_sqls)
    sql = _pg_with_sql.get(key)
    if sql is None:
        parts = [f"u{i} AS ({q} RETURNING 1)" for i, q in enumerate(update_sqls)]
        parts += [f"r{i} AS ({q})" for i, q in enumerate(insert_sqls)]
        changed = " + ".join(f"(SELECT count(*) FROM u{i})" for i in range(len(update_sqls))) or "0"
        keys = "".join(f", (SELECT * FROM r{i})" for i in range(len(insert_sqls)))  # its key
        tail = _PG_APPEND_TAIL.replace("CHANGED", changed).replace(", KEYS", keys)
        sql = _pg_with_sql[key] = "WITH " + ",\n".join([*parts, tail.strip()])
    return sql


def _exists(obj: models.Model) -> bool:
    return type(obj)._default_manager.filter(pk=obj.pk).exists()


def _append_postgresql(
    connection: Any,
    lane: int,
    at: datetime,
    actor: str,
    action: str,
    otype: str,
    oid: str,
    data: Any,
    rows: Sequence[models.Model] = (),
    updates: Sequence[Update] = (),
    text: str = "",
) -> AuditEntry:
    data_text = text or _canonical(data)
    prefix = _body_prefix(at, actor, action, otype, oid, data, data_text)
    db_at, db_data = _prep(connection, at, data, data_text)
    entry_params = [prefix, lane, db_at, actor, action, otype, oid, db_data]
    row = None
    with fastsql.cursor(connection) as cur:
        if rows or updates:
            sqls: tuple[list[str], list[str]] = ([], [])
            params: list[Any] = []
            for obj, names in updates:
                q, p = fastsql.update_statement(obj, names)
                sqls[0].append(q)
                params += p
            for new in rows:
                q, p = fastsql.insert_statement([new])
                sqls[1].append(q)
                params += p
            cur.execute(_pg_with(*sqls), [*params, *entry_params])
            pk, seq, prev, digest, changed, *keys = cur.fetchone()
            if changed != len(updates):  # each UPDATE changes its one row, by key
                raise fastsql.missing_row(next(obj for obj, _n in updates if not _exists(obj)))
            for new, key in zip(rows, keys, strict=True):
                fastsql.inserted([new], [key], connection.alias)
            row = (pk, seq, prev, digest) if pk is not None else None
            if row is None:
                cur.execute(_CREATE_HEAD, [lane, GENESIS, GENESIS])
        for _ in range(2):
            if row is not None:
                break
            cur.execute(_PG_APPEND, entry_params)
            row = cur.fetchone()
            if row is not None:
                break
            cur.execute(_CREATE_HEAD, [lane, GENESIS, GENESIS])
        else:  # pragma: no cover - the head row was just created
            raise RuntimeError("audit chain head is missing")
    pk, seq, prev, digest = row
    # The database hashed it; check it against the body verify() hashes (`entry_hash`: the
    # prefix is that body's text up to the seq, as a test holds).
    if hashlib.sha256((prev + prefix + str(seq) + "}").encode("utf-8")).hexdigest() != digest:
        raise RuntimeError("audit: the database computed a different entry hash (is the database UTF8?)")
    return _entry(connection, pk, lane, seq, at, actor, action, otype, oid, data, prev, digest)


# One statement: the entry is computed from its lane's head row in SQL (`ow_sha256` is registered
# on every SQLite connection by the app config) and that head follows the new entry by a trigger
# (migrations 0003 and 0005, `migrations/_sqlite_trigger.py`). The transaction (BEGIN
# IMMEDIATE) holds the database's write lock, which serialises appends.
_SQLITE_APPEND = f"""
INSERT INTO audit_auditentry ({_ENTRY_COLUMNS})
SELECT id, seq + 1, %s, %s, %s, %s, %s, %s, hash, ow_sha256(hash || %s || (seq + 1) || '}}')
  FROM audit_audithead WHERE id = %s
RETURNING id, seq, prev_hash, hash
"""


def _append_sqlite(
    connection: Any,
    lane: int,
    at: datetime,
    actor: str,
    action: str,
    otype: str,
    oid: str,
    data: Any,
    text: str = "",
) -> AuditEntry:
    data_text = text or _canonical(data)
    prefix = _body_prefix(at, actor, action, otype, oid, data, data_text)
    db_at, db_data = _prep(connection, at, data, data_text)
    with fastsql.cursor(connection) as cur:
        for _ in range(2):
            cur.execute(_SQLITE_APPEND, [db_at, actor, action, otype, oid, db_data, prefix, lane])
            row = cur.fetchone()
            if row is not None:
                break
            cur.execute(_CREATE_HEAD, [lane, GENESIS, GENESIS])
        else:  # pragma: no cover
            raise RuntimeError("audit chain head is missing")
    pk, seq, prev, digest = row  # hashed by our own ow_sha256: no second computation to check
    return _entry(connection, pk, lane, seq, at, actor, action, otype, oid, data, prev, digest)


def _append_orm(
    lane: int, at: datetime, actor: str, action: str, otype: str, oid: str, data: Any
) -> AuditEntry:
    """Any other database: the head row locked with SELECT ... FOR UPDATE."""
    head, _created = AuditHead.objects.select_for_update().get_or_create(id=lane)
    seq = head.seq + 1
    digest = entry_hash(head.hash, seq, at, actor, action, otype, oid, data)
    entry = AuditEntry.objects.create(
        lane=lane,
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        object_type=otype,
        object_id=oid,
        data=data,
        prev_hash=head.hash,
        hash=digest,
    )
    AuditHead.objects.filter(id=lane).update(seq=seq, hash=digest, prev_hash=head.hash)
    return entry


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str = ""
    lane: int | None = None  # the lane of the broken link


def verify(batch: int = 5000) -> VerifyResult:
    """Walk each lane's chain in order; report the first entry whose link or content does not
    match, a lane whose head does not match its last entry, and a lane cut short of what a
    checkpoint recorded (`checkpoint`). On PostgreSQL the walk reads one snapshot."""
    connection = transaction.get_connection()
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with transaction.atomic():
            with connection.cursor() as cur:
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            return _verify(batch)
    return _verify(batch)


def _verify(batch: int) -> VerifyResult:
    lanes = set(AuditHead.objects.values_list("id", flat=True))
    lanes |= set(AuditEntry.objects.order_by("lane").values_list("lane", flat=True).distinct())
    checked = 0
    claims: dict[int, tuple[int, str]] = {}  # lane: the furthest (seq, hash) a checkpoint recorded
    for lane in sorted(lanes):
        if not 1 <= lane <= LANES:
            return VerifyResult(False, checked, None, f"lane {lane} is not one of 1–{LANES}", lane)
        count, broken = _verify_lane(lane, batch, claims)
        checked += count
        if broken is not None:
            return VerifyResult(False, checked, broken[0], broken[1], lane)
    for lane, (seq, digest) in sorted(claims.items()):
        stored = AuditEntry.objects.filter(lane=lane, seq=seq).values_list("hash", flat=True).first()
        if stored is None:
            return VerifyResult(
                False, checked, seq, f"entry #{seq}, which a checkpoint recorded, is missing", lane
            )
        if stored != digest:
            return VerifyResult(
                False, checked, seq, f"entry #{seq} is not the one a checkpoint recorded", lane
            )
    return VerifyResult(True, checked)


def _verify_lane(
    lane: int, batch: int, claims: dict[int, tuple[int, str]]
) -> tuple[int, tuple[int, str] | None]:
    """How many entries of `lane` hold, and the first broken one (its seq, why) or None. The
    checkpoints met on the way add their records to `claims`.

    The head is read after the entries: an append commits its entry and its head together, so
    a head read later is never behind the entries read, and when appends committed meanwhile
    (SQLite reads no snapshot) the walk goes on to the head's entry."""
    prev = GENESIS
    expected_seq = 1
    qs = AuditEntry.objects.filter(lane=lane).order_by("seq")
    while True:
        rows = list(qs.filter(seq__gte=expected_seq)[:batch])
        for e in rows:
            if e.seq != expected_seq:
                return expected_seq - 1, (expected_seq, f"entry #{expected_seq} is missing")
            if e.prev_hash != prev:
                return expected_seq - 1, (e.seq, f"entry #{e.seq} does not link to #{e.seq - 1}")
            digest = entry_hash(
                e.prev_hash, e.seq, e.at, e.actor, e.action, e.object_type, e.object_id, e.data
            )
            if digest != e.hash:
                return expected_seq - 1, (e.seq, f"entry #{e.seq} was altered (hash mismatch)")
            if e.action == CHECKPOINT:
                _add_claims(e, claims)
            prev = e.hash
            expected_seq += 1
        if rows:
            continue
        checked = expected_seq - 1
        head = AuditHead.objects.filter(id=lane).first()
        if head is not None and head.seq > checked:  # appended since the walk read that far
            if AuditEntry.objects.filter(lane=lane, seq=expected_seq).exists():
                continue
            return checked, (expected_seq, f"entry #{expected_seq} is missing (the head says #{head.seq})")
        break
    if AuditEntry.objects.filter(lane=lane, seq__lt=1).exists():
        return checked, (0, "an entry is numbered 0, outside the chain")
    if head is None:
        if checked:
            return checked, (checked, f"the lane's head is missing (its last entry is #{checked})")
    elif head.seq != checked:
        return checked, (head.seq + 1, f"chain head says #{head.seq}, last entry is #{checked}")
    elif head.hash != prev:
        return checked, (checked, f"chain head's hash is not entry #{checked}'s")
    return checked, None


# ---------------------------------------------------------------------------------------------
# Checkpoints: the lanes held together

CHECKPOINT = "audit.checkpoint"
_CHECKPOINT_FLAG = "audit.checkpoint.heads"


def checkpoint() -> list[AuditEntry]:
    """Record the heads (seq and hash) of the lanes that moved since the last checkpoint in an
    entry appended to each of those lanes; `verify` then reports a lane cut short of what any
    checkpoint recorded. Returns the entries (none when nothing moved, or with one lane).

    Each lane is a chain of its own: without this, the last entries of a lane that has gone
    quiet could be deleted, head and all, while later entries of other lanes stayed. Recorded in
    every lane that moved, a checkpoint can only be removed by cutting all of them back, and so
    everything appended after it: what one chain guaranteed, at the granularity of the sweeps.
    Run by every sweep of `onewindow worker`, and by `onewindow audit checkpoint`. The heads are
    locked in ascending order (appends hold one head each: no waiting in a circle)."""
    from onewindow.core.models import SystemFlag

    if AuditHead.objects.filter(seq__gt=0).count() < 2:
        return []  # one chain holds itself together (SQLite always)
    with transaction.atomic():
        heads = {
            str(h.id): [h.seq, h.hash]
            for h in AuditHead.objects.select_for_update().filter(seq__gt=0).order_by("id")
        }
        flag = SystemFlag.objects.select_for_update().filter(key=_CHECKPOINT_FLAG).first()
        before = json.loads(flag.value) if flag is not None and flag.value else {}
        moved = {lane: head for lane, head in heads.items() if before.get(lane) != head}
        if not moved or len(heads) < 2:
            return []
        entries = [
            record(
                CHECKPOINT,
                actor=SYSTEM,
                object_type="audit.chain",
                object_id="lanes",
                data={"lanes": moved},
                lane=int(lane),
            )
            for lane in sorted(moved, key=int)
        ]
        for entry in entries:  # the heads as they stand after the checkpoint's own entries
            heads[str(entry.lane)] = [entry.seq, entry.hash]
        SystemFlag.objects.update_or_create(key=_CHECKPOINT_FLAG, defaults={"value": json.dumps(heads)})
        return entries


def _add_claims(entry: AuditEntry, claims: dict[int, tuple[int, str]]) -> None:
    lanes = entry.data.get("lanes") if isinstance(entry.data, dict) else None
    if not isinstance(lanes, dict):
        return  # not a checkpoint's data (an entry whose hash holds, written by other code)
    for key, value in lanes.items():
        try:
            lane, (seq, digest) = int(key), value
        except (TypeError, ValueError):
            continue
        if (
            1 <= lane <= LANES
            and type(seq) is int
            and isinstance(digest, str)
            and seq > claims.get(lane, (0, ""))[0]
        ):
            claims[lane] = (seq, digest)
