"""Issuer signing keys: created lazily per department on first issue, rotated on demand, and
published (public halves only) at /.well-known/onewindow/issuer-keys.json."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from onewindow.audit.services import record
from onewindow.core import fastsql
from onewindow.licences import signing
from onewindow.licences.models import KeyAlgorithm, SigningKey
from onewindow.org.models import Department

# Public keys by kid. A kid embeds a digest of its public key, so an entry can never go stale.
_PUBLIC: dict[str, tuple[str, bytes, str]] = {}


def _kid(dept: Department, alg: str, generation: int, public: bytes) -> str:
    tag = signing.b64u(hashlib.sha256(public).digest())[:8]
    return f"{dept.uscc}-{'ed' if alg == KeyAlgorithm.ED25519 else 'sm2'}-{generation}-{tag}"


def _create(dept: Department, alg: str, generation: int) -> SigningKey:
    priv, pub = signing.new_ed25519() if alg == KeyAlgorithm.ED25519 else signing.new_sm2()
    kid = _kid(dept, alg, generation, pub)
    return SigningKey.objects.create(
        department=dept,
        algorithm=alg,
        generation=generation,
        kid=kid,
        public_key=pub,
        private_sealed=signing.seal(priv, kid, settings.ONEWINDOW_KEY_ENCRYPTION_KEY),
        active=True,
    )


# The department's active key for an algorithm (one, by the partial unique index): compiled once,
# read on every licence signed.
_ACTIVE = fastsql.prepared(
    ("licences_active_key",),
    lambda dept, alg: SigningKey.objects.filter(department_id=dept, algorithm=alg, active=True),
    (fastsql.Prepared.INT_MARK, fastsql.Prepared.STR_MARK),
)


def active_key(dept: Department, alg: str, *, actor: Any = "system") -> SigningKey:
    """The department's current key for `alg`, created on first use. Idempotent and safe under
    concurrency: the partial unique index allows one active key per department and algorithm,
    and the loser of a race reads the winner's key."""
    key = _ACTIVE.first((dept.pk, alg))
    if key is not None:
        return key
    try:
        with transaction.atomic():
            key = _create(dept, alg, 1 + SigningKey.objects.filter(department=dept, algorithm=alg).count())
            record("licences.key_create", key, actor=actor, data={"kid": key.kid, "algorithm": alg})
            return key
    except IntegrityError:
        return SigningKey.objects.get(department=dept, algorithm=alg, active=True)


@transaction.atomic
def rotate(dept: Department, *, actor: Any) -> list[SigningKey]:
    """New active Ed25519 and SM2 keys; the old ones stay (inactive) and stay published."""
    Department.objects.select_for_update().filter(pk=dept.pk).first()
    out = []
    for alg in KeyAlgorithm.values:
        old = SigningKey.objects.filter(department=dept, algorithm=alg, active=True).first()
        if old is not None:
            old.active, old.retired_at = False, timezone.now()
            old.save(update_fields=["active", "retired_at", "updated_at"])
        last = SigningKey.objects.filter(department=dept, algorithm=alg).aggregate(m=Max("generation"))["m"]
        gen = (last or 0) + 1
        key = _create(dept, alg, gen)
        record(
            "licences.key_rotate",
            key,
            actor=actor,
            data={"kid": key.kid, "algorithm": alg, "retired": old.kid if old else None},
        )
        out.append(key)
    return out


def private_bytes(key: SigningKey) -> bytes:
    return signing.unseal(key.private_sealed, key.kid, settings.ONEWINDOW_KEY_ENCRYPTION_KEY)


def public_by_kid(kid: str) -> tuple[str, bytes, str] | None:
    """(algorithm, public key bytes, issuer USCC) of a published key, or None."""
    hit = _PUBLIC.get(kid)
    if hit is not None:
        return hit
    row = (
        SigningKey.objects.filter(kid=kid).values_list("algorithm", "public_key", "department__uscc").first()
    )
    if row is None:
        return None
    hit = (row[0], bytes(row[1]), row[2])
    _PUBLIC[kid] = hit
    return hit


def issuer_keys_document() -> dict[str, Any]:
    """The published keys: a JWKS (RFC 7517) of Ed25519 keys under `keys` (each with the issuer
    USCC in `iss`) and SM2 public keys as PEM under `sm2_keys`. Retired keys stay published."""
    keys, sm2_keys = [], []
    rows = SigningKey.objects.select_related("department").order_by(
        "department__code", "algorithm", "generation"
    )
    for k in rows:
        pub = bytes(k.public_key)
        common = {
            "kid": k.kid,
            "iss": k.department.uscc,
            "issuer_name": k.department.name,
            "active": k.active,
            "created": k.created_at.date().isoformat(),
        }
        if k.algorithm == KeyAlgorithm.ED25519:
            keys.append(signing.ed25519_jwk(k.kid, pub) | common)
        else:
            sm2_keys.append(common | {"alg": "SM2-with-SM3", "pem": signing.sm2_public_pem(pub)})
    return {"keys": keys, "sm2_keys": sm2_keys}
