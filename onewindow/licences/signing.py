"""Cryptography of licences, with no database access (DESIGN §7).

- Ed25519 (RFC 8032) through `cryptography`: the QR payload is a JWS compact serialization
  (RFC 7515) with `{"alg": "EdDSA", "kid": ..., "typ": "ow-licence+jws"}` (RFC 8037).
- SM2 with SM3 (GB/T 32918, GB/T 32905) through GmSSL (`gmssl_pyx`, C): the signature covers the licence's
  canonical JSON (RFC 8785 JCS), uses the default user ID `1234567812345678`, and is stored as the
  DER `SEQUENCE { r INTEGER, s INTEGER }` that OpenSSL and GM/T 0009 expect.
- Private keys are sealed with AES-256-GCM under a key derived (HKDF-SHA256) from
  `settings.ONEWINDOW_KEY_ENCRYPTION_KEY`; the key id is the associated data, so a sealed key
  cannot be moved to another key row.

SM2 signing computes the signer's Z value once per key and hands GmSSL the digest e = SM3(Z ‖ M):
GmSSL's own all-in-one call recomputes Z (and its tables) on every signature, ten times slower.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

import gmssl_pyx
import rfc8785
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

ED25519 = "Ed25519"
SM2 = "SM2"
JWS_TYP = "ow-licence+jws"
SM2_USER_ID = b"1234567812345678"
# SM2 curve (GB/T 32918.5): order n and the OIDs of the SubjectPublicKeyInfo.
SM2_N = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123", 16)
_OID_EC_PUBLIC_KEY = "1.2.840.10045.2.1"
_OID_SM2 = "1.2.156.10197.1.301"
MAX_PAYLOAD_CHARS = 2000  # a version-40 QR at level M holds 2,331 bytes; anything longer is garbage


class SigningError(Exception):
    """A signature or key problem; `code` says which (bad_format, bad_signature, ...)."""

    def __init__(self, code: str, detail: str = "") -> None:
        self.code = code
        super().__init__(detail or code)


# --------------------------------------------------------------------------------------------
# Private keys at rest


def _kek(secret: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"onewindow/licences", info=b"signing-key-encryption/v1"
    ).derive(secret.encode("utf-8"))


def seal(private: bytes, kid: str, secret: str) -> str:
    """AES-256-GCM of the raw private key; "v1:" + base64(nonce ‖ ciphertext ‖ tag)."""
    nonce = secrets.token_bytes(12)
    ct = AESGCM(_kek(secret)).encrypt(nonce, private, kid.encode("utf-8"))
    return "v1:" + base64.b64encode(nonce + ct).decode("ascii")


def unseal(sealed: str, kid: str, secret: str) -> bytes:
    if not sealed.startswith("v1:"):
        raise SigningError("bad_key", "unknown sealed-key format")
    raw = base64.b64decode(sealed[3:])
    try:
        return AESGCM(_kek(secret)).decrypt(raw[:12], raw[12:], kid.encode("utf-8"))
    except InvalidTag as exc:
        raise SigningError("bad_key", "the private key cannot be decrypted with this key") from exc


# --------------------------------------------------------------------------------------------
# Base64url and canonical JSON


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_B64U = re.compile(r"[A-Za-z0-9_-]+")


def b64u_decode(text: str) -> bytes:
    if not isinstance(text, str) or _B64U.fullmatch(text) is None:
        raise SigningError("bad_format", "not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise SigningError("bad_format", "not base64url") from exc


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def canonical_json(data: Any) -> bytes:
    """RFC 8785 (JCS) bytes of `data`."""
    return rfc8785.dumps(data)


# --------------------------------------------------------------------------------------------
# Ed25519 and JWS


def new_ed25519() -> tuple[bytes, bytes]:
    """(raw private 32 bytes, raw public 32 bytes)."""
    key = Ed25519PrivateKey.generate()
    priv = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return priv, pub


def ed25519_jwk(kid: str, public: bytes) -> dict[str, str]:
    return {"kty": "OKP", "crv": "Ed25519", "x": b64u(public), "kid": kid, "alg": "EdDSA", "use": "sig"}


def jws_sign(claims: dict[str, Any], kid: str, private: bytes) -> str:
    header = {"alg": "EdDSA", "kid": kid, "typ": JWS_TYP}
    h = b64u(json.dumps(header, separators=(",", ":")).encode("utf-8"))
    p = b64u(canonical_json(claims))
    sig = Ed25519PrivateKey.from_private_bytes(private).sign(f"{h}.{p}".encode("ascii"))
    return f"{h}.{p}.{b64u(sig)}"


@dataclass(frozen=True)
class ParsedJws:
    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes

    @property
    def kid(self) -> str:
        return str(self.header.get("kid", ""))


def jws_parse(token: str) -> ParsedJws:
    """Split and decode a compact JWS; SigningError("bad_format") for anything malformed."""
    if not isinstance(token, str) or len(token) > MAX_PAYLOAD_CHARS:
        raise SigningError("bad_format", "payload too long or not text")
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise SigningError("bad_format", "a compact JWS has three parts")
    h, p, s = parts
    try:
        header = json.loads(b64u_decode(h))
        claims = json.loads(b64u_decode(p))
    except (ValueError, UnicodeDecodeError) as exc:
        raise SigningError("bad_format", "header or payload is not JSON") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise SigningError("bad_format", "header and payload must be JSON objects")
    if header.get("alg") != "EdDSA":
        raise SigningError("bad_alg", f"unsupported alg {header.get('alg')!r}")
    if set(header.get("crit", [])):
        raise SigningError("bad_format", "unsupported critical header")
    if not isinstance(header.get("kid"), str) or not header["kid"]:
        raise SigningError("bad_format", "no kid")
    return ParsedJws(header, claims, f"{h}.{p}".encode("ascii"), b64u_decode(s))


def ed25519_public(public: bytes) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(public)


def jws_verify(parsed: ParsedJws, public: Ed25519PublicKey) -> bool:
    if len(parsed.signature) != 64:
        return False
    try:
        public.verify(parsed.signature, parsed.signing_input)
    except InvalidSignature:
        return False
    return True


# --------------------------------------------------------------------------------------------
# SM2 / SM3


# SM2 curve parameters (GB/T 32918.5) that enter the signer's Z value.
_SM2_ZPARAMS = bytes.fromhex(
    "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC"  # a
    "28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93"  # b
    "32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7"  # xG
    "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0"  # yG
)
_sm2_z_cache: dict[bytes, bytes] = {}


def _sm2_z(public: bytes) -> bytes:
    """Z = SM3(ENTL ‖ ID ‖ a ‖ b ‖ xG ‖ yG ‖ xA ‖ yA) of GB/T 32918.2 §5.5, once per key."""
    z = _sm2_z_cache.get(public)
    if z is None:
        entl = (len(SM2_USER_ID) * 8).to_bytes(2, "big")
        z = _sm2_z_cache[public] = gmssl_pyx.sm3_hash(entl + SM2_USER_ID + _SM2_ZPARAMS + public)
    return z


def new_sm2() -> tuple[bytes, bytes]:
    """(private d as 32 bytes, public x ‖ y as 64 bytes)."""
    public, private = gmssl_pyx.sm2_key_generate()
    return private, public


def sm2_sign(content: bytes, private: bytes, public: bytes) -> bytes:
    """SM2 signature with SM3 and the default user ID, DER-encoded: e = SM3(Z ‖ M) signed by
    GmSSL (its own random k)."""
    if len(private) != 32 or len(public) != 64:
        raise SigningError("bad_key", "an SM2 key is 32 bytes private, 64 bytes public")
    e = gmssl_pyx.sm3_hash(_sm2_z(public) + content)
    try:
        return gmssl_pyx.sm2_sign_sm3_digest(private, e)
    except (gmssl_pyx.InvalidValueError, gmssl_pyx.GmsslInnerError) as exc:
        raise SigningError("bad_key", str(exc).splitlines()[0]) from exc


def sm2_verify(content: bytes, der: bytes, public: bytes) -> bool:
    try:
        r, s = decode_dss_signature(der)
    except ValueError:
        return False
    if not (1 <= r < SM2_N and 1 <= s < SM2_N) or len(public) != 64:
        return False
    e = gmssl_pyx.sm3_hash(_sm2_z(public) + content)
    try:
        return bool(gmssl_pyx.sm2_verify_sm3_digest(public, e, der))
    except (gmssl_pyx.InvalidValueError, gmssl_pyx.GmsslInnerError):
        return False


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _der_oid(oid: str) -> bytes:
    parts = [int(p) for p in oid.split(".")]
    body = bytearray([parts[0] * 40 + parts[1]])
    for p in parts[2:]:
        chunk = [p & 0x7F]
        p >>= 7
        while p:
            chunk.append(0x80 | (p & 0x7F))
            p >>= 7
        body.extend(reversed(chunk))
    return b"\x06" + _der_len(len(body)) + bytes(body)


def sm2_public_pem(public: bytes) -> str:
    """SubjectPublicKeyInfo { id-ecPublicKey, sm2p256v1 (1.2.156.10197.1.301) } as PEM, the form
    `openssl pkey -pubin` reads."""
    alg = _der_oid(_OID_EC_PUBLIC_KEY) + _der_oid(_OID_SM2)
    alg_seq = b"\x30" + _der_len(len(alg)) + alg
    bits = b"\x00\x04" + public
    bitstring = b"\x03" + _der_len(len(bits)) + bits
    spki = alg_seq + bitstring
    der = b"\x30" + _der_len(len(spki)) + spki
    b64 = base64.b64encode(der).decode("ascii")
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    return "-----BEGIN PUBLIC KEY-----\n" + "\n".join(lines) + "\n-----END PUBLIC KEY-----\n"


def sm2_public_from_pem(pem: str) -> bytes:
    """The 64-byte x ‖ y of a PEM made by `sm2_public_pem` (the point is the last 65 bytes)."""
    body = "".join(line for line in pem.strip().splitlines() if not line.startswith("-----"))
    der = base64.b64decode(body)
    if len(der) < 65 or der[-65] != 0x04:
        raise SigningError("bad_key", "not an uncompressed SM2 public key")
    return der[-64:]
