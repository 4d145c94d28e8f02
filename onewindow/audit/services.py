"""Writing and verifying the audit chain.

`record()` is called by service functions inside their own transaction, so changes made from
pages, the API, the CLI and background workers are all recorded, and a rolled-back change leaves
no audit row behind.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from onewindow.audit.models import AuditEntry, AuditHead

GENESIS = "0" * 64
SYSTEM = "system"


def _canonical(data: Any) -> str:
    return json.dumps(data, cls=DjangoJSONEncoder, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


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
    body = _canonical(
        {
            "seq": seq,
            "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor": actor,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "data": data,
        }
    )
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def record(
    action: str,
    obj: models.Model | None = None,
    *,
    actor: AbstractBaseUser | AnonymousUser | str | None,
    object_type: str | None = None,
    object_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry to the chain, inside the caller's transaction."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(getattr(obj, "code", None) or getattr(obj, "number", None) or obj.pk)
    # Round-trip through JSON so that what is hashed is exactly what the database gives back.
    payload = json.loads(_canonical(data or {}))
    with transaction.atomic():
        head, _created = AuditHead.objects.select_for_update().get_or_create(id=1)
        seq = head.seq + 1
        # Microseconds are kept by both SQLite and PostgreSQL, so the stored time hashes the same.
        at = timezone.now()
        name = _actor_name(actor)
        digest = entry_hash(head.hash, seq, at, name, action, object_type or "", object_id or "", payload)
        entry = AuditEntry.objects.create(
            seq=seq,
            at=at,
            actor=name,
            action=action,
            object_type=object_type or "",
            object_id=object_id or "",
            data=payload,
            prev_hash=head.hash,
            hash=digest,
        )
        AuditHead.objects.filter(id=1).update(seq=seq, hash=digest)
    return entry


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str = ""


def verify(batch: int = 5000) -> VerifyResult:
    """Walk the chain in order; report the first entry whose link or content does not match."""
    prev = GENESIS
    expected_seq = 1
    checked = 0
    last_seq = 0
    qs = AuditEntry.objects.order_by("seq")
    while True:
        rows = list(qs.filter(seq__gt=last_seq)[:batch])
        if not rows:
            break
        for e in rows:
            if e.seq != expected_seq:
                return VerifyResult(False, checked, expected_seq, f"entry #{expected_seq} is missing")
            if e.prev_hash != prev:
                return VerifyResult(False, checked, e.seq, f"entry #{e.seq} does not link to #{e.seq - 1}")
            digest = entry_hash(
                e.prev_hash, e.seq, e.at, e.actor, e.action, e.object_type, e.object_id, e.data
            )
            if digest != e.hash:
                return VerifyResult(False, checked, e.seq, f"entry #{e.seq} was altered (hash mismatch)")
            prev = e.hash
            expected_seq += 1
            checked += 1
            last_seq = e.seq
    head = AuditHead.objects.filter(id=1).first()
    if head is not None and head.seq != checked:
        return VerifyResult(
            False, checked, checked + 1, f"chain head says #{head.seq}, last entry is #{checked}"
        )
    return VerifyResult(True, checked)
