"""Verification of a licence QR payload (a compact JWS): signature, issuer, identifier, validity
dates and, online, the licence's current status. Bad input of any kind gives a verdict with
`valid: false` and a reason; nothing here raises on what a scanner or a stranger sends.

`verify_offline()` needs only the published keys document; `verify()` is what the platform's
page and API call (the published keys from the database, cached, plus the revocation check)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.utils import timezone

from onewindow.core import fastsql
from onewindow.licences import signing
from onewindow.licences.identifiers import parse_licence_id

# Reason codes and their texts (zh, en).
REASONS: dict[str, tuple[str, str]] = {
    "ok": ("证照有效", "The licence is valid"),
    "ok_offline": (
        "签名有效（离线核验，未检查注销状态）",
        "Signature valid (offline: revocation not checked)",
    ),
    "empty": ("请输入或扫描证照二维码内容", "Paste or scan the licence QR code"),
    "malformed": ("二维码内容不是有效的电子证照签名数据", "The QR content is not a signed licence payload"),
    "bad_alg": ("不支持的签名算法", "Unsupported signature algorithm"),
    "unknown_key": (
        "签名密钥未知：不是本平台颁发部门的公钥",
        "Unknown signing key: not a published issuer key",
    ),
    "wrong_key": ("签名密钥与颁发部门不符", "The signing key does not belong to the issuer"),
    "bad_signature": ("签名验证失败：内容可能被篡改", "Bad signature: the content may have been altered"),
    "bad_identifier": ("证照标识校验失败", "The licence identifier is invalid"),
    "not_found": ("平台上没有这一证照", "No such licence on the platform"),
    "mismatch": ("二维码与平台记录不一致", "The QR code does not match the platform's record"),
    "not_yet_valid": ("证照尚未生效", "The licence is not yet valid"),
    "expired": ("证照已过期", "The licence has expired"),
    "suspended": ("证照已暂停", "The licence is suspended"),
    "revoked": ("证照已注销/吊销", "The licence has been revoked"),
    "superseded": ("证照已换发，本版本失效", "The licence was replaced by a newer version"),
}


@dataclass
class Verdict:
    valid: bool
    status: str  # valid | expired | suspended | revoked | superseded | not_yet_valid | invalid | unknown
    reason: str
    message: str = ""
    message_en: str = ""
    licence_id: str = ""
    type: str = ""
    type_name: str = ""
    holder_masked: str = ""
    holder_name_masked: str = ""
    issuer: str = ""
    issuer_name: str = ""
    issue_date: str = ""
    valid_from: str = ""
    valid_to: str | None = None
    version: int | None = None
    kid: str = ""
    signature_valid: bool = False
    checked_online: bool = False
    status_reason: str = ""
    status_changed_at: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("extra")
        d.update(self.extra)
        return d


def _verdict(reason: str, *, valid: bool = False, status: str = "invalid", **kw: Any) -> Verdict:
    zh, en = REASONS[reason]
    return Verdict(valid=valid, status=status, reason=reason, message=zh, message_en=en, **kw)


def extract_payload(text: Any) -> str:
    """The JWS from what was pasted or scanned: the JWS itself, or a verify-page URL carrying it
    as `?payload=`."""
    if not isinstance(text, str):
        return ""
    text = text.strip()
    if text.startswith(("http://", "https://", "/")) and "?" in text:
        q = parse_qs(urlsplit(text[:4000]).query)
        for name in ("payload", "p"):
            if q.get(name):
                return q[name][0].strip()
    return text


def _claims_fields(claims: dict[str, Any]) -> dict[str, Any]:
    def s(name: str) -> str:
        v = claims.get(name)
        return v if isinstance(v, str) else ""

    vt = claims.get("vt")
    ver = claims.get("ver")
    return {
        "licence_id": s("jti"),
        "type": s("lt"),
        "type_name": s("ltn"),
        "holder_masked": s("sub"),
        "holder_name_masked": s("sn"),
        "issuer": s("iss"),
        "issuer_name": s("isn"),
        "issue_date": s("idt"),
        "valid_from": s("vf"),
        "valid_to": vt if isinstance(vt, str) else None,
        "version": ver if isinstance(ver, int) and not isinstance(ver, bool) else None,
    }


def _date(v: Any) -> date | None:
    try:
        return date.fromisoformat(v) if isinstance(v, str) else None
    except ValueError:
        return None


def check_signed(
    payload: Any, lookup: Any, today: date | None = None
) -> tuple[Verdict | None, signing.ParsedJws | None, dict[str, Any]]:
    """The offline checks. `lookup(kid)` gives (algorithm, public key bytes, issuer USCC) or
    None. Returns (a failing verdict or None, the parsed JWS, the displayed fields)."""
    token = extract_payload(payload)
    if not token:
        return _verdict("empty"), None, {}
    try:
        parsed = signing.jws_parse(token)
    except signing.SigningError as exc:
        return _verdict("bad_alg" if exc.code == "bad_alg" else "malformed"), None, {}
    shown = _claims_fields(parsed.claims)
    key = lookup(parsed.kid)
    if key is None or key[0] != "Ed25519":
        return _verdict("unknown_key", kid=parsed.kid[:80], **shown), parsed, shown
    alg, public, key_issuer = key
    try:
        ok = signing.jws_verify(parsed, signing.ed25519_public(public))
    except ValueError:
        ok = False
    if not ok:
        return _verdict("bad_signature", kid=parsed.kid, **shown), parsed, shown
    if key_issuer and shown["issuer"] != key_issuer:
        return _verdict("wrong_key", kid=parsed.kid, signature_valid=True, **shown), parsed, shown
    lid = parse_licence_id(shown["licence_id"])
    if lid is None or lid.issuer != shown["issuer"] or lid.type_code != shown["type"]:
        return _verdict("bad_identifier", kid=parsed.kid, signature_valid=True, **shown), parsed, shown
    today = today or timezone.localdate()
    vf, vt = _date(shown["valid_from"]), _date(shown["valid_to"])
    if vf is None or (shown["valid_to"] is not None and vt is None):
        return _verdict("malformed", kid=parsed.kid, signature_valid=True, **shown), parsed, shown
    if vf > today:
        return (
            _verdict("not_yet_valid", status="not_yet_valid", kid=parsed.kid, signature_valid=True, **shown),
            parsed,
            shown,
        )
    if vt is not None and vt < today:
        return (
            _verdict("expired", status="expired", kid=parsed.kid, signature_valid=True, **shown),
            parsed,
            shown,
        )
    return None, parsed, shown


def jwks_lookup(document: dict[str, Any]) -> Any:
    """A `lookup` over a published issuer-keys document (offline verification)."""
    table: dict[str, tuple[str, bytes, str]] = {}
    for k in document.get("keys", []) if isinstance(document, dict) else []:
        if isinstance(k, dict) and k.get("kty") == "OKP" and k.get("crv") == "Ed25519":
            try:
                table[str(k.get("kid"))] = (
                    "Ed25519",
                    signing.b64u_decode(str(k.get("x", ""))),
                    str(k.get("iss", "")),
                )
            except signing.SigningError:
                continue
    return table.get


def verify_offline(payload: Any, document: dict[str, Any], today: date | None = None) -> Verdict:
    """Verification with only the published keys: no revocation check."""
    bad, parsed, shown = check_signed(payload, jwks_lookup(document), today)
    if bad is not None:
        return bad
    assert parsed is not None
    return _verdict("ok_offline", valid=True, status="unknown", kid=parsed.kid, signature_valid=True, **shown)


def verify(payload: Any, *, today: date | None = None) -> Verdict:
    """The platform's verification: the offline checks with the published keys, then the
    licence's current status from the register (revocation, suspension, renewal)."""
    from onewindow.licences.keys import public_by_kid
    from onewindow.licences.models import Licence, LicenceStatus

    today = today or timezone.localdate()
    bad, parsed, shown = check_signed(payload, public_by_kid, today)
    if parsed is None or (bad is not None and bad.reason not in ("expired", "not_yet_valid")):
        return bad  # type: ignore[return-value]
    row = fastsql.prepared(  # the register's current word on it: one compiled query
        ("licence_status",),
        lambda v: Licence.objects.filter(licence_id=v).values_list(
            "qr_payload", "status", "status_changed_at"
        ),
        fastsql.Prepared.STR_MARK,
    ).first(shown["licence_id"])  # licence_id is unique
    if row is None:
        return _verdict("not_found", kid=parsed.kid, signature_valid=True, **shown)
    qr_payload, status, status_changed_at = row
    if qr_payload != extract_payload(payload):
        return _verdict("mismatch", kid=parsed.kid, signature_valid=True, **shown)
    info = {
        "kid": parsed.kid,
        "signature_valid": True,
        "checked_online": True,
        # The free-text reason staff wrote is not shown to the public: only the status and when.
        "status_changed_at": status_changed_at.isoformat() if status_changed_at else None,
    }
    if status in (LicenceStatus.REVOKED, LicenceStatus.SUSPENDED, LicenceStatus.SUPERSEDED):
        return _verdict(status, status=status, **info, **shown)
    if bad is not None:  # expired or not yet valid by its dates
        return _verdict(bad.reason, status=bad.status, **info, **shown)
    if status == LicenceStatus.EXPIRED:
        return _verdict("expired", status="expired", **info, **shown)
    return _verdict("ok", valid=True, status="valid", **info, **shown)
