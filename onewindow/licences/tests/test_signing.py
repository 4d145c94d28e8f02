"""Signatures interoperate with standard tools: OpenSSL for SM2, jwcrypto for the JWS, with
only what the platform publishes."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, override_settings

from onewindow.licences import keys, signing
from onewindow.licences.models import KeyAlgorithm, SigningKey


def test_private_keys_are_sealed_and_bound_to_their_kid():
    sealed = signing.seal(b"k" * 32, "kid-1", "secret")
    assert b"k" * 32 not in base64.b64decode(sealed[3:])
    assert signing.unseal(sealed, "kid-1", "secret") == b"k" * 32
    for kid, secret in (("kid-2", "secret"), ("kid-1", "other")):
        with pytest.raises(signing.SigningError):
            signing.unseal(sealed, kid, secret)


def test_stored_private_keys_need_the_key_encryption_key(issue: Any):
    issue()
    key = SigningKey.objects.get(algorithm=KeyAlgorithm.ED25519)
    assert len(keys.private_bytes(key)) == 32
    with override_settings(ONEWINDOW_KEY_ENCRYPTION_KEY="another key"), pytest.raises(signing.SigningError):
        keys.private_bytes(key)


def test_sm2_sign_and_verify_round_trip():
    d, pub = signing.new_sm2()
    assert 1 <= int.from_bytes(d, "big") < signing.SM2_N
    sig = signing.sm2_sign(b'{"a":1}', d, pub)
    assert signing.sm2_verify(b'{"a":1}', sig, pub)
    assert not signing.sm2_verify(b'{"a":2}', sig, pub)
    assert not signing.sm2_verify(b'{"a":1}', b"\x30\x00", pub)
    assert signing.sm2_public_from_pem(signing.sm2_public_pem(pub)) == pub


def test_canonical_json_is_rfc_8785():
    assert (
        signing.canonical_json({"b": 1, "a": [1.0, "中"], "c": None})
        == '{"a":[1,"中"],"b":1,"c":null}'.encode()
    )


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_openssl_verifies_the_sm2_signature_of_an_issued_licence(issue: Any, client: Client, tmp_path: Path):
    lic = issue()
    doc = client.get("/.well-known/onewindow/issuer-keys.json").json()
    pem = next(k["pem"] for k in doc["sm2_keys"] if k["kid"] == lic.sm2_kid)
    (tmp_path / "sm2.pem").write_text(pem)
    (tmp_path / "content.json").write_bytes(lic.signed_content.encode("utf-8"))
    (tmp_path / "sig.der").write_bytes(base64.b64decode(lic.sm2_signature))
    cmd = [
        "openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "sm2.pem", "-rawin", "-digest", "sm3",
        "-pkeyopt", "distid:1234567812345678", "-in", "content.json", "-sigfile", "sig.der",
    ]  # fmt: skip
    ok = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True)
    assert ok.returncode == 0 and "Signature Verified Successfully" in ok.stdout, ok.stderr
    # One changed byte of the content and OpenSSL refuses it.
    (tmp_path / "content.json").write_bytes(lic.signed_content.replace("陈晓明", "陈晓亮").encode("utf-8"))
    bad = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True)
    assert bad.returncode != 0


def test_jwcrypto_verifies_the_qr_payload_with_only_the_published_jwks(issue: Any, client: Client):
    from jwcrypto import jwk, jws

    lic = issue()
    published = client.get("/.well-known/onewindow/issuer-keys.json")
    assert published.status_code == 200
    jwks = jwk.JWKSet.from_json(published.content)
    token = jws.JWS()
    token.deserialize(lic.qr_payload)
    header = token.jose_header
    assert header["alg"] == "EdDSA" and header["kid"] == lic.ed25519_kid
    token.verify(jwks.get_key(header["kid"]))
    claims = json.loads(token.payload)
    assert claims["jti"] == lic.licence_id and claims["sub"].startswith("3308") and "*" in claims["sub"]
    # The claims are bound to the SM2-signed content by its SHA-256.
    import hashlib

    assert claims["dig"] == signing.b64u(hashlib.sha256(lic.signed_content.encode()).digest())
    # A changed payload fails the standard library too.
    h, p, s = lic.qr_payload.split(".")
    forged = signing.b64u(json.dumps(claims | {"vt": "2099-12-31"}).encode())
    bad = jws.JWS()
    bad.deserialize(f"{h}.{forged}.{s}")
    with pytest.raises(jws.InvalidJWSSignature):
        bad.verify(jwks.get_key(header["kid"]))


def test_the_qr_payload_fits_a_qr_code_at_level_m(issue: Any):
    import segno

    lic = issue("YYZZ", surface={"name": "衢州市衢江区晓明农产品有限公司" * 3, "scope": "农产品" * 60})
    qr = segno.make(lic.qr_payload, error="m", micro=False)
    assert qr.error == "M" and qr.version <= 25, (qr.version, len(lic.qr_payload))


def test_keys_are_created_once_and_rotation_keeps_old_public_keys(issue: Any, city: dict[str, Any]):
    first = issue()
    issue()
    assert SigningKey.objects.filter(department=city["scjg"]).count() == 2  # one Ed25519, one SM2
    ed = keys.active_key(city["scjg"], KeyAlgorithm.ED25519)
    assert keys.active_key(city["scjg"], KeyAlgorithm.ED25519) == ed
    new = keys.rotate(city["scjg"], actor="test")
    assert {k.generation for k in new} == {2}
    second = issue()
    assert second.ed25519_kid != first.ed25519_kid and second.sm2_kid != first.sm2_kid
    doc = keys.issuer_keys_document()
    kids = {k["kid"] for k in doc["keys"]} | {k["kid"] for k in doc["sm2_keys"]}
    assert {first.ed25519_kid, first.sm2_kid, second.ed25519_kid, second.sm2_kid} <= kids
    assert all(k["kty"] == "OKP" and k["crv"] == "Ed25519" for k in doc["keys"])
    assert all("PRIVATE" not in k["pem"] for k in doc["sm2_keys"]) and all("d" not in k for k in doc["keys"])
    from onewindow.licences.verify import verify

    assert verify(first.qr_payload).valid and verify(second.qr_payload).valid


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_done_when_an_approved_cases_licence_verifies_with_standard_tools_and_shows_revocation(
    shop: dict[str, Any], personas: dict[str, Any], client: Client, tmp_path: Path
):
    from jwcrypto import jwk, jws

    from onewindow.cases import services as cs
    from onewindow.cases.models import WorkItemStatus
    from onewindow.cases.tests.conftest import submit
    from onewindow.licences import services
    from onewindow.licences.models import Licence

    case = submit(personas)
    cs.accept_case(case, actor=personas["clerk"])
    for who in ("approver", "approver2"):
        for wi in case.work_items.filter(status__in=[WorkItemStatus.OPEN, WorkItemStatus.CLAIMED]):
            cs.claim_work_item(wi, actor=personas[who])
            cs.decide_work_item(wi, actor=personas[who], outcome="approve", opinion="同意")
    lic = Licence.objects.get(source_case=case)
    doc = client.get("/.well-known/onewindow/issuer-keys.json")
    token = jws.JWS()
    token.deserialize(lic.qr_payload)
    token.verify(jwk.JWKSet.from_json(doc.content).get_key(token.jose_header["kid"]))
    pem = next(k["pem"] for k in doc.json()["sm2_keys"] if k["kid"] == lic.sm2_kid)
    (tmp_path / "sm2.pem").write_text(pem)
    (tmp_path / "content.json").write_bytes(lic.signed_content.encode("utf-8"))
    (tmp_path / "sig.der").write_bytes(base64.b64decode(lic.sm2_signature))
    ok = subprocess.run(
        "openssl pkeyutl -verify -pubin -inkey sm2.pem -rawin -digest sm3 "
        "-pkeyopt distid:1234567812345678 -in content.json -sigfile sig.der".split(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    services.revoke(lic.licence_id, actor=personas["approver"], reason="吊销许可")
    page = client.get("/verify/", {"payload": lic.qr_payload}).content.decode()
    # The public page shows the revocation, not the reason staff wrote.
    assert "证照已注销/吊销" in page and "吊销许可" not in page
