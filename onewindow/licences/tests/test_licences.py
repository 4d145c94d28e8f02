"""Issue on approval, verification verdicts, revocation rights, use at intake, the wallet."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from onewindow.cases import services as cs
from onewindow.cases.models import CaseStatus, MaterialStatus, SatisfiedBy, WorkItemStatus
from onewindow.cases.tests.conftest import CITIZEN_ID, applicant, submit
from onewindow.catalog.importexport import import_catalog
from onewindow.core.services import create_token
from onewindow.licences import services, signing
from onewindow.licences.identifiers import is_valid_licence_id
from onewindow.licences.models import Licence, LicenceStatus, LicenceType, LicenceUsage, UsageResult
from onewindow.licences.verify import verify, verify_offline


def _approve_all(case: Any, approver: Any, approver2: Any) -> None:
    for who in (approver, approver2):
        case.refresh_from_db()
        for wi in case.work_items.filter(status__in=[WorkItemStatus.OPEN, WorkItemStatus.CLAIMED]):
            cs.claim_work_item(wi, actor=who)
            cs.decide_work_item(wi, actor=who, outcome="approve", opinion="同意")


def _api(user: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user, actor='test')}")


# ---------------------------------------------------------------------------------------------
# Types


def test_every_licence_code_of_the_demo_catalogue_is_a_type(db: Any):
    import re
    from pathlib import Path

    data = Path(__file__).resolve().parents[2] / "demo" / "data"
    codes = set()
    for f in data.glob("*.yaml"):
        codes |= set(re.findall(r"licence(?:_type)?:\s?([A-Z]+)", f.read_text(encoding="utf-8")))
    known = set(LicenceType.objects.values_list("code", flat=True))
    assert codes and codes <= known, codes - known
    assert len(known) >= 40
    assert services.load_licence_types() == len(known)  # idempotent
    t = LicenceType.objects.get(code="YYZZ")
    assert (t.name, t.department_code) == ("营业执照", "scjg") and t.fields


# ---------------------------------------------------------------------------------------------
# Issue on approval


def test_an_approved_case_issues_its_licence(shop: dict[str, Any], personas: dict[str, Any]):
    case = submit(personas)
    cs.accept_case(case, actor=personas["clerk"])
    _approve_all(case, personas["approver"], personas["approver2"])
    case.refresh_from_db()
    assert case.status == CaseStatus.READY
    lic = Licence.objects.get(source_case=case)
    assert lic.type.code == "SPJYXKZ"
    assert (lic.holder_id_number, lic.holder_name, lic.issuer.code) == (CITIZEN_ID, "陈晓明", "scjg")
    assert lic.surface["operator"] == "衢州小吃店" and lic.surface["area"] == "35.5"
    assert lic.valid_to == services.add_months(lic.valid_from, 60) - timedelta(days=1)
    assert is_valid_licence_id(lic.licence_id)
    assert lic.licence_id.split(".")[6] == lic.issuer.uscc
    content = json.loads(lic.signed_content)
    assert content["source_case"] == case.number and content["holder"]["id_number"] == CITIZEN_ID
    assert signing.canonical_json(content).decode() == lic.signed_content
    v = verify(lic.qr_payload)
    assert v.valid and v.status == "valid" and v.holder_masked == "3308**********" + CITIZEN_ID[-4:]
    assert v.holder_name_masked == "陈*明"
    # The holder sees it through the API; the detail carries both signatures.
    r = _api("citizen").get(f"/api/v1/licences/{lic.licence_id}")
    assert r.status_code == 200
    body = r.json()
    assert {"licence_id", "qr_payload", "signed_content", "sm2_signature", "sm2_kid"} <= body.keys()
    assert body["signed_content"] == lic.signed_content and body["may_manage"] is False


def test_serials_count_up_per_type_issuer_and_year(issue: Any):
    a, b = issue(), issue()
    assert int(b.serial) == int(a.serial) + 1
    assert a.serial[:4] == str(timezone.localdate().year)


def test_an_unknown_licence_type_does_not_block_approval(shop: dict[str, Any], personas: dict[str, Any]):
    LicenceType.objects.filter(code="SPJYXKZ").update(active=False)
    case = submit(personas)
    cs.accept_case(case, actor=personas["clerk"])
    _approve_all(case, personas["approver"], personas["approver2"])
    case.refresh_from_db()
    assert case.status == CaseStatus.READY and not Licence.objects.exists()


# ---------------------------------------------------------------------------------------------
# Verdicts


def test_bad_payloads_get_a_verdict_never_an_error(issue: Any, client: Client):
    lic = issue()
    h, p, s = lic.qr_payload.split(".")
    claims = json.loads(signing.b64u_decode(p))
    other_priv, other_pub = signing.new_ed25519()
    cases = {
        "": "empty",
        "garbage": "malformed",
        "a.b.c": "malformed",
        lic.qr_payload[: len(lic.qr_payload) // 2]: "malformed",  # truncated
        lic.qr_payload[:-3]: "bad_signature",  # truncated signature
        f"{h}.{signing.b64u(json.dumps(claims | {'vt': '2099-12-31'}).encode())}.{s}": "bad_signature",
        signing.jws_sign(claims, "no-such-kid", other_priv): "unknown_key",
        signing.jws_sign(claims, lic.ed25519_kid, other_priv): "bad_signature",  # wrong key
        "x" * 5000: "malformed",
        "\x00\u202e": "malformed",
    }
    noalg = signing.b64u(json.dumps({"alg": "none", "kid": lic.ed25519_kid}).encode())
    cases[f"{noalg}.{p}."] = "bad_alg"
    for payload, reason in cases.items():
        v = verify(payload)
        assert (v.valid, v.reason) == (False, reason), (payload[:40], v)
        r = client.get("/api/v1/licences/verify", {"payload": payload.replace("\x00", "")[:4000]})
        assert r.status_code == 200 and r.json()["valid"] is False
    assert client.get("/api/v1/licences/verify").json()["reason"] == "empty"


def test_a_licence_signed_by_another_departments_key_is_refused(issue: Any, city: dict[str, Any]):
    from onewindow.licences.keys import active_key, private_bytes
    from onewindow.licences.models import KeyAlgorithm

    lic = issue()
    claims = json.loads(signing.b64u_decode(lic.qr_payload.split(".")[1]))
    zrgh_key = active_key(city["zrgh"], KeyAlgorithm.ED25519)
    forged = signing.jws_sign(claims, zrgh_key.kid, private_bytes(zrgh_key))
    v = verify(forged)
    assert (v.valid, v.reason) == (False, "wrong_key")


def test_statuses_show_in_the_verdict(issue: Any, personas: dict[str, Any], client: Client):
    lic = issue()
    services.suspend(lic.licence_id, actor=personas["approver"], reason="整改期间")
    v = verify(lic.qr_payload)
    # The status shows publicly; the reason staff wrote does not.
    assert (v.valid, v.status, v.status_reason) == (False, "suspended", "")
    services.reinstate(lic.licence_id, actor=personas["approver"], reason="整改完成")
    assert verify(lic.qr_payload).valid
    services.revoke(lic.licence_id, actor=personas["approver"], reason="以欺骗手段取得")
    v = verify(lic.qr_payload)
    assert (v.valid, v.status, v.reason) == (False, "revoked", "revoked")
    # The public verify page shows the revocation, without login.
    page = client.get("/verify/", {"payload": lic.qr_payload})
    assert page.status_code == 200
    text = page.content.decode()
    assert "证照已注销/吊销" in text and "以欺骗手段取得" not in text and "陈*明" in text
    assert CITIZEN_ID not in text
    # Offline, with only the published keys, the signature still checks out (revocation needs
    # the online check, and the offline verdict says so).
    doc = client.get("/.well-known/onewindow/issuer-keys.json").json()
    off = verify_offline(lic.qr_payload, doc)
    assert off.valid and off.reason == "ok_offline" and off.status == "unknown"


def test_expired_and_not_yet_valid(issue: Any):
    old = issue(valid_from=date(2015, 1, 1), valid_to=date(2020, 1, 1), issue_date=date(2015, 1, 1))
    assert (verify(old.qr_payload).status, verify(old.qr_payload).valid) == ("expired", False)
    assert services.mark_expired() == 1
    old.refresh_from_db()
    assert old.status == LicenceStatus.EXPIRED
    future = issue(valid_from=timezone.localdate() + timedelta(days=10))
    assert verify(future.qr_payload).reason == "not_yet_valid"


def test_renewal_supersedes_the_old_version(issue: Any, personas: dict[str, Any]):
    lic = issue()
    new = services.renew(lic.licence_id, actor=personas["approver"])
    lic.refresh_from_db()
    assert (new.serial, new.version, new.previous) == (lic.serial, 2, lic)
    assert new.licence_id.split(".")[-2] == "002" and is_valid_licence_id(new.licence_id)
    assert lic.status == LicenceStatus.SUPERSEDED
    assert verify(lic.qr_payload).reason == "superseded"
    assert verify(new.qr_payload).valid


# ---------------------------------------------------------------------------------------------
# Who may change a licence


def test_only_the_issuing_department_or_an_admin_may_revoke(issue: Any, personas: dict[str, Any]):
    lic = issue()
    url = f"/api/v1/licences/{lic.licence_id}/revoke"
    body = {"reason": "测试"}
    r = _api("approver_other").post(url, body, content_type="application/json")
    assert r.status_code == 404 and r.json()["error"]["code"] == "licence_not_found"
    r = _api("citizen").post(url, body, content_type="application/json")  # the holder
    assert r.status_code == 403 and r.json()["error"]["message_en"]
    r = _api("clerk").post(url, body, content_type="application/json")
    assert r.status_code in (403, 404)
    r = Client().post(url, body, content_type="application/json")
    assert r.status_code == 401
    r = _api("approver").post(url, {"reason": ""}, content_type="application/json")
    assert r.status_code == 422 and "reason" in r.json()["error"]["fields"]
    assert Licence.objects.get(pk=lic.pk).status == LicenceStatus.VALID
    r = _api("approver").post(url, body, content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    r = _api("approver").post(url, body, content_type="application/json")
    assert r.status_code == 409
    other = issue()
    r = _api("admin").post(
        f"/api/v1/licences/{other.licence_id}/suspend", body, content_type="application/json"
    )
    assert r.status_code == 200 and r.json()["status"] == "suspended"
    r = _api("approver").get("/api/v1/licences/1.2.156.3005.2.YYZZ.nope")
    assert r.status_code == 404


def test_lists_are_scoped(issue: Any, personas: dict[str, Any]):
    lic = issue()
    issue(holder_id_number="330802198511030612", holder_name="周丽华")
    r = _api("citizen").get("/api/v1/licences")
    assert r.status_code == 200 and [x["licence_id"] for x in r.json()["results"]] == [lic.licence_id]
    assert _api("citizen").get("/api/v1/licences", {"holder": "330802198511030612"}).status_code == 403
    assert _api("approver").get("/api/v1/licences").json()["count"] == 2  # issued by their department
    assert _api("approver_other").get("/api/v1/licences").json()["count"] == 0
    assert _api("stranger").get("/api/v1/licences").json()["count"] == 0
    assert _api("admin").get("/api/v1/licences", {"holder": CITIZEN_ID}).json()["count"] == 1
    assert _api("admin").get("/api/v1/licences", {"status": "bogus"}).status_code == 422
    assert _api("approver_other").get(f"/api/v1/licences/{lic.licence_id}").status_code == 404


# ---------------------------------------------------------------------------------------------
# Use at intake


@pytest.fixture
def uses_licence(shop: dict[str, Any]) -> str:
    code = "330800-SCJG-01-0031"
    import_catalog(
        {
            "format": "onewindow-catalog/1",
            "items": [
                {
                    "code": code,
                    "name": "食品经营许可变更",
                    "item_type": "01",
                    "level": "3",
                    "department": "scjg",
                    "served_party": ["1", "2"],
                    "case_type": "promised",
                    "legal_limit": 20,
                    "legal_limit_unit": "workday",
                    "promised_limit": 5,
                    "promised_limit_unit": "workday",
                    "channels": ["window"],
                    "max_visits": 1,
                    "handle_scope": "city",
                    "result_type": "approval_document",
                    "state": "active",
                    "process_template": "two-step",
                    "materials": [
                        {"seq": 1, "name": "变更申请书", "source": "applicant"},
                        {"seq": 2, "name": "食品经营许可证", "source": "licence:SPJYXKZ"},
                    ],
                }
            ],
        },
        actor="test",
    )
    return code


def _submit_and_accept(personas: dict[str, Any], item: str) -> Any:
    case = cs.submit_case(
        actor=personas["clerk"],
        item=item,
        applicant=applicant(),
        channel="window",
        form_data={},
        materials=[cs.MaterialIn(seq=1, satisfied_by="paper")],
    )
    cs.accept_case(case, actor=personas["clerk"])
    return case.materials.get(seq=2)


def test_a_valid_licence_satisfies_a_material_and_the_holder_sees_the_use(
    issue: Any, uses_licence: str, personas: dict[str, Any], client: Client
):
    lic = issue()
    r = _api("clerk").get(f"/api/v1/items/{uses_licence}/resolve", {"applicant_id": CITIZEN_ID})
    row = next(m for m in r.json()["materials"] if m["seq"] == 2)
    assert (row["covered"], row["how"]) == (True, "licence")
    m = _submit_and_accept(personas, uses_licence)
    assert (m.satisfied_by, m.status, m.trust_level) == (SatisfiedBy.LICENCE, MaterialStatus.OK, "A")
    assert m.reference == f"licence:{lic.licence_id}"
    use = LicenceUsage.objects.get()
    assert (use.licence, use.result, use.official, use.case_number) == (
        lic,
        UsageResult.USED,
        personas["clerk"],
        m.case.number,
    )
    assert use.department.code == "scjg" and use.consent == "application"
    r = _api("citizen").get("/api/v1/me/licence-usage")
    assert r.status_code == 200 and r.json()["count"] == 1
    assert r.json()["results"][0]["case_number"] == m.case.number
    assert _api("citizen").get(f"/api/v1/licences/{lic.licence_id}/usages").json()["count"] == 1
    assert _api("stranger").get("/api/v1/me/licence-usage").json()["count"] == 0
    client.force_login(personas["citizen"])
    page = client.get("/wallet/")
    assert page.status_code == 200 and m.case.number in page.content.decode()


@pytest.mark.parametrize("status", ["suspended", "revoked", "expired"])
def test_an_unusable_licence_is_refused_with_the_reason(
    issue: Any, uses_licence: str, personas: dict[str, Any], status: str
):
    if status == "expired":
        issue(valid_from=date(2015, 1, 1), valid_to=date(2020, 1, 1), issue_date=date(2015, 1, 1))
    else:
        lic = issue()
        getattr(services, "suspend" if status == "suspended" else "revoke")(
            lic.licence_id, actor=personas["approver"], reason="违规经营"
        )
    m = _submit_and_accept(personas, uses_licence)
    assert m.status == MaterialStatus.TO_SUPPLY and m.satisfied_by != SatisfiedBy.LICENCE
    expected = {"suspended": "已暂停", "revoked": "已注销", "expired": "已过期"}[status]
    assert expected in m.reason
    assert LicenceUsage.objects.get().result == UsageResult.REFUSED


def test_no_licence_leaves_the_material_to_supply(uses_licence: str, personas: dict[str, Any]):
    m = _submit_and_accept(personas, uses_licence)
    assert m.status == MaterialStatus.TO_SUPPLY and "未查到" in m.reason
    assert not LicenceUsage.objects.exists()


# ---------------------------------------------------------------------------------------------
# Wallet and PDF


def test_the_wallet_and_the_pdf_are_the_holders_only(issue: Any, personas: dict[str, Any]):
    lic = issue()
    c = Client()
    assert c.get("/wallet/").status_code == 302  # login first
    c.force_login(personas["citizen"])
    page = c.get("/wallet/")
    assert page.status_code == 200
    text = page.content.decode()
    assert lic.type.name in text and "<svg" in text and lic.licence_id in text
    pdf = c.get(f"/wallet/{lic.licence_id}.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    for who in ("approver", "stranger", "approver_other"):
        other = Client()
        other.force_login(personas[who])
        assert other.get(f"/wallet/{lic.licence_id}.pdf").status_code == 404
    assert c.get("/wallet/1.2.156.3005.2.X.pdf").status_code == 404


def test_the_verify_page_is_public_and_handles_garbage(issue: Any, client: Client):
    lic = issue()
    assert client.get("/verify/").status_code == 200
    ok = client.get("/verify/", {"payload": f"https://example.org/verify/?payload={lic.qr_payload}"})
    assert ok.status_code == 200 and "证照有效" in ok.content.decode()
    for junk in ("<script>alert(1)</script>", "a" * 4100, "...", "\u202e"):
        r = client.get("/verify/", {"payload": junk})
        assert r.status_code == 200 and "<script>alert(1)</script>" not in r.content.decode()


def test_public_verification_is_rate_limited_per_client(issue: Any, client: Client, settings: Any):
    """Anyone may verify, but one client cannot hammer it: over the rate the page and the API
    answer 429 with a bilingual message; another client's address is counted apart."""
    from django.core.cache import cache

    cache.clear()
    settings.ONEWINDOW_PUBLIC_RATE = "3/m"
    lic = issue()
    for _ in range(3):
        assert client.get("/verify/", {"payload": lic.qr_payload}).status_code == 200
    page = client.get("/verify/", {"payload": lic.qr_payload})
    assert page.status_code == 429 and "请求过于频繁" in page.content.decode()
    assert "证照有效" not in page.content.decode()
    api = client.get("/api/v1/licences/verify", {"payload": lic.qr_payload})
    assert api.status_code == 429 and api["Retry-After"] == "60" and page["Retry-After"] == "60"
    body = api.json()["error"]
    assert body["code"] == "rate_limited" and body["message_en"].startswith("Too many requests")
    # The form itself (no payload) is never counted, and another client is not limited.
    assert client.get("/verify/").status_code == 200
    other = client.get("/api/v1/licences/verify", {"payload": lic.qr_payload}, REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 200 and other.json()["valid"] is True
    # Behind a proxy: the address the proxy adds is counted (a client cannot spoof another by
    # sending its own X-Forwarded-For); without the header, the peer address.
    settings.RATELIMIT_IP_META_KEY = "HTTP_X_FORWARDED_FOR"
    via = {"REMOTE_ADDR": "10.0.0.1"}
    for _ in range(3):
        r = client.get(
            "/verify/", {"payload": lic.qr_payload}, HTTP_X_FORWARDED_FOR="1.2.3.4, 10.9.9.9", **via
        )
        assert r.status_code == 200
    spoofed = client.get(
        "/verify/", {"payload": lic.qr_payload}, HTTP_X_FORWARDED_FOR="5.6.7.8, 10.9.9.9", **via
    )
    assert spoofed.status_code == 429
    assert client.get("/verify/", {"payload": lic.qr_payload}, REMOTE_ADDR="10.0.0.2").status_code == 200
    cache.clear()


def test_public_verification_stays_up_when_the_rate_limit_cache_is_down(issue: Any, client: Client):
    from unittest import mock

    lic = issue()
    with mock.patch("onewindow.core.ratelimit.is_ratelimited", side_effect=ConnectionError("redis down")):
        r = client.get("/api/v1/licences/verify", {"payload": lic.qr_payload})
    assert r.status_code == 200 and r.json()["valid"] is True


def test_demo_licences_load_idempotently(city: dict[str, Any]):
    import yaml

    from onewindow.core.validators import make_uscc
    from onewindow.demo.load import DATA
    from onewindow.demo.personas import COMPANY_USCC
    from onewindow.licences.demo import load_demo_licences
    from onewindow.org import services as org
    from onewindow.org.models import Department

    for d in yaml.safe_load((DATA / "departments.yaml").read_text(encoding="utf-8")):
        if not Department.objects.filter(code=d["code"]).exists():
            org.save_department(
                actor="test",
                code=d["code"],
                name=d["name"],
                uscc=make_uscc("1", "1", "330800", d["org"]),
                region=city["regions"]["衢州市"],
            )
    n = load_demo_licences()
    assert n >= 6 and load_demo_licences() == 0
    assert Licence.objects.filter(holder_id_number=COMPANY_USCC, type__code="YYZZ").exists()
    assert all(verify(lic.qr_payload).valid for lic in Licence.objects.all())


def test_a_holder_is_looked_for_only_among_ids_of_the_licence_types_kind():
    from datetime import date

    from onewindow.core.validators import make_resident_id, make_uscc
    from onewindow.licences.models import HolderKind
    from onewindow.licences.services import _holds_kind

    person = make_resident_id("330803", date(1990, 5, 12), 27, "M")
    firm = make_uscc("9", "1", "330800", "MA5GQ003K")
    digits_only_firm = make_uscc("9", "1", "330800", "123456789")  # an older organisation code
    assert _holds_kind(firm, HolderKind.ORGANISATION) and not _holds_kind(firm, HolderKind.PERSON)
    assert _holds_kind(person, HolderKind.PERSON) and not _holds_kind(person, HolderKind.ORGANISATION)
    assert _holds_kind(digits_only_firm, HolderKind.ORGANISATION)
    assert all(_holds_kind(x, HolderKind.ANY) for x in (person, firm))


@pytest.mark.parametrize("text", ["", "ab+c", "abc=", "YQ\n", "Y Q", "ＹＱ", "é"])
def test_base64url_decoding_refuses_anything_but_its_alphabet(text: str):
    with pytest.raises(signing.SigningError):
        signing.b64u_decode(text)


def test_base64url_decoding_reads_unpadded_text():
    assert signing.b64u_decode("YQ") == b"a" and signing.b64u_decode(signing.b64u(b"\xff\xfe")) == b"\xff\xfe"
