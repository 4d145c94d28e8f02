"""Grants, consent, the access log and the connectors, against a registry served over HTTP by a
local server that the tests start."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from onewindow.cases import services as cs
from onewindow.cases.models import CaseStatus, MaterialStatus
from onewindow.cases.tests.conftest import CITIZEN_ID, applicant
from onewindow.catalog.importexport import import_catalog
from onewindow.core.services import create_token
from onewindow.exchange import connectors
from onewindow.exchange import services as ex
from onewindow.exchange.models import AccessRecord, AccessResult, ConsentMode, Dataset, Grant

RECORDS = {
    CITIZEN_ID: {
        "name": "陈晓明",
        "id_number": CITIZEN_ID,
        "address": "衢州市衢江区廿里镇",
        "status": "married",
        "spouse_id": "330802198511030612",
    },
}


class Registry:
    """A tiny REST registry: GET /<subject>?fields=a,b; its mode decides how it misbehaves."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.hits = 0
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                registry.hits += 1
                subject = self.path.split("?")[0].strip("/")
                if registry.mode == "slow":
                    time.sleep(0.5)
                if registry.mode == "garbage":
                    self._send(200, b"<html>oops</html>", "text/html")
                    return
                if registry.mode == "flaky" and registry.hits % 2 == 1:
                    self._send(503, b"{}")
                    return
                if registry.mode == "down":
                    self._send(500, b"{}")
                    return
                record = RECORDS.get(subject)
                if record is None:
                    self._send(404, b'{"error": "not found"}')
                    return
                # A sloppy registry returns more than asked: the platform must filter.
                self._send(200, json.dumps({"data": record}, ensure_ascii=False).encode())

            def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def registry() -> Iterator[Registry]:
    connectors.reset_breakers()
    r = Registry()
    yield r
    r.close()
    connectors.reset_breakers()


@pytest.fixture
def datasets(shop: dict[str, Any], city: dict[str, Any], registry: Registry) -> dict[str, Dataset]:
    fields = [
        {"name": n, "label_zh": n, "label_en": n, "sensitivity": 2} for n in ("name", "id_number", "address")
    ]
    population = Dataset.objects.create(
        code="population",
        name="人口库",
        owner=city["scjg"],
        subject_kind="id_number",
        connector="http",
        endpoint=registry.url,
        timeout_ms=200,
        fields=fields,
    )
    marriage = Dataset.objects.create(
        code="marriage",
        name="婚姻登记库",
        owner=city["zrgh"],
        subject_kind="id_number",
        connector="http",
        endpoint=registry.url,
        timeout_ms=200,
        needs_consent=True,
        fields=[
            {"name": "status", "label_zh": "婚姻状况", "label_en": "status", "sensitivity": 3},
            {"name": "spouse_id", "label_zh": "配偶", "label_en": "spouse", "sensitivity": 4},
        ],
    )
    Grant.objects.create(
        consumer=city["scjg"],
        dataset=population,
        fields=["name", "id_number"],
        item_codes=["330800-SCJG-01-0009"],
        legal_basis="国发〔2018〕27号",
        valid_from=date(2020, 1, 1),
    )
    Grant.objects.create(
        consumer=city["scjg"],
        dataset=marriage,
        fields=["status"],
        item_codes=["330800-SCJG-01-0009"],
        legal_basis="婚姻登记条例",
        valid_from=date(2020, 1, 1),
    )
    import_catalog(
        {
            "format": "onewindow-catalog/1",
            "items": [
                {
                    "code": "330800-SCJG-01-0009",
                    "name": "个体工商户设立登记",
                    "item_type": "01",
                    "level": "3",
                    "department": "scjg",
                    "served_party": ["1"],
                    "case_type": "promised",
                    "legal_limit": 3,
                    "legal_limit_unit": "workday",
                    "promised_limit": 1,
                    "promised_limit_unit": "workday",
                    "channels": ["window"],
                    "max_visits": 1,
                    "handle_scope": "city",
                    "result_type": "licence",
                    "licence_type": "YYZZ",
                    "state": "active",
                    "materials": [
                        {"seq": 1, "name": "经营者身份证明", "source": "data:population.name,id_number"},
                        {
                            "seq": 2,
                            "name": "婚姻状况证明",
                            "source": "data:marriage.status",
                            "required": False,
                        },
                        {"seq": 3, "name": "经营场所证明", "source": "pledge"},
                    ],
                }
            ],
        },
        actor="test",
    )
    return {"population": population, "marriage": marriage}


def _fetch(
    city: dict[str, Any],
    fields: list[str],
    dataset: str = "population",
    case: str = "C-1",
    item: str = "330800-SCJG-01-0009",
    memo: dict[Any, Any] | None = None,
) -> ex.Fetch:
    return ex.fetch(
        dataset,
        CITIZEN_ID,
        fields,
        actor="clerk-test",
        department=city["scjg"],
        purpose="测试",
        case_number=case,
        item_code=item,
        memo=memo,
    )


def test_a_granted_read_returns_only_the_granted_fields(
    datasets: Any, city: dict[str, Any], registry: Registry
):
    got = _fetch(city, ["name", "id_number"])
    assert got.result == AccessResult.GRANTED
    assert got.data == {"name": "陈晓明", "id_number": CITIZEN_ID}  # the registry's extra fields are dropped
    rec = AccessRecord.objects.get(pk=got.record_id)
    assert (rec.result, rec.subject, rec.case_number, rec.fields) == (
        "granted",
        CITIZEN_ID,
        "C-1",
        ["name", "id_number"],
    )
    assert len(rec.response_hash) == 64


def test_reads_sharing_a_memo_ask_the_registry_once_and_each_is_logged(
    datasets: Any, city: dict[str, Any], registry: Registry
):
    """A bundle's children starting together (one transaction) share a memo: the registry is
    asked once about the subject; every case's read is still checked and logged."""
    memo: dict[Any, Any] = {}
    got = [_fetch(city, ["name"], case=number, memo=memo) for number in ("C-1", "C-2")]
    assert [g.data for g in got] == [{"name": "陈晓明"}] * 2
    assert registry.hits == 1
    assert {k[0] for k in memo} == {"dataset", "grants", "answer"}  # each read once
    logged = AccessRecord.objects.filter(subject=CITIZEN_ID, result=AccessResult.GRANTED)
    assert sorted(logged.values_list("case_number", flat=True)) == ["C-1", "C-2"]
    # A failed answer is not remembered: the next case asks again.
    registry.mode = "down"
    memo.clear()
    assert _fetch(city, ["name"]).result == AccessResult.FAILED
    assert _fetch(city, ["name"], case="C-3", memo=memo).result == AccessResult.FAILED
    assert not [k for k in memo if k[0] == "answer"]


def test_without_a_grant_no_data_leaves_and_a_denied_record_is_written(
    datasets: Any, city: dict[str, Any], registry: Registry
):
    for fields, item, case in (
        (["name", "address"], "330800-SCJG-01-0009", "C-1"),  # a field not granted
        (["name"], "330800-SCJG-01-0001", "C-1"),  # an item not granted
        (["name"], "330800-SCJG-01-0009", ""),
    ):  # no case
        got = _fetch(city, fields, item=item, case=case)
        assert (got.result, got.data) == (AccessResult.DENIED, None)
    other = ex.fetch(
        "population",
        CITIZEN_ID,
        ["name"],
        actor="x",
        department=city["zrgh"],
        purpose="p",
        case_number="C-1",
        item_code="330800-SCJG-01-0009",
    )
    assert other.result == AccessResult.DENIED
    assert registry.hits == 0  # the registry was never asked
    assert AccessRecord.objects.filter(result="denied").count() == 4


def test_an_expired_grant_denies(datasets: Any, city: dict[str, Any], registry: Registry):
    Grant.objects.filter(dataset__code="population").update(valid_until=date.today() - timedelta(days=1))
    assert _fetch(city, ["name"]).result == AccessResult.DENIED


def test_switching_a_dataset_off_takes_effect_on_the_next_read(
    datasets: Any, city: dict[str, Any], registry: Registry
):
    """The dataset cache serves names and lists, never the read itself: a dataset switched off
    is refused at once, in this process too."""
    assert _fetch(city, ["name"]).result == AccessResult.GRANTED
    ex.active_datasets()  # the cache is warm
    Dataset.objects.filter(code="population").update(active=False)
    assert _fetch(city, ["name"]).result == AccessResult.DENIED


def test_a_dataset_that_needs_consent_is_denied_without_it(
    datasets: Any, city: dict[str, Any], registry: Registry
):
    assert _fetch(city, ["status"], dataset="marriage").result == AccessResult.DENIED
    with pytest.raises(Exception):  # noqa: B017 - an agent needs the delegation record
        ex.give_consent(
            subject=CITIZEN_ID,
            datasets=[datasets["marriage"]],
            case_number="C-1",
            actor="agent",
            mode=ConsentMode.AGENT,
        )
    ex.give_consent(
        subject=CITIZEN_ID,
        datasets=[datasets["marriage"]],
        case_number="C-1",
        actor="citizen",
        mode=ConsentMode.APPLICANT,
    )
    got = _fetch(city, ["status"], dataset="marriage")
    assert got.data == {"status": "married"}
    # Consent is for that case only.
    assert _fetch(city, ["status"], dataset="marriage", case="C-2").result == AccessResult.DENIED


def test_a_registry_that_times_out_is_a_failed_read(datasets: Any, city: dict[str, Any], registry: Registry):
    registry.mode = "slow"
    got = _fetch(city, ["name"])
    assert got.result == AccessResult.FAILED
    assert "attempts" in got.reason
    assert registry.hits == connectors.RETRIES


def test_garbage_and_retries_and_the_circuit_breaker(datasets: Any, city: dict[str, Any], registry: Registry):
    registry.mode = "garbage"
    got = _fetch(city, ["name"])
    assert (got.result, got.reason) == (AccessResult.FAILED, "response is not JSON")
    registry.mode = "flaky"  # 503 then 200: the retry succeeds
    registry.hits = 0
    assert _fetch(city, ["name"]).result == AccessResult.GRANTED
    assert registry.hits == 2
    registry.mode = "down"
    for _ in range(connectors.FAIL_MAX):
        _fetch(city, ["name"])
    hits = registry.hits
    got = _fetch(city, ["name"])
    assert got.reason == "circuit open: registry unavailable"
    assert registry.hits == hits  # failing fast, the registry is left alone


def test_a_subject_the_registry_does_not_know(datasets: Any, city: dict[str, Any], registry: Registry):
    got = ex.fetch(
        "population",
        "11010519491231002X",
        ["name"],
        actor="x",
        department=city["scjg"],
        purpose="p",
        case_number="C-1",
        item_code="330800-SCJG-01-0009",
    )
    assert got.result == AccessResult.NOT_FOUND
    assert got.reason == "not found in 人口库"


def test_acceptance_fills_covered_materials_and_the_applicant_sees_each_read(
    datasets: Any, personas: Any, city: dict[str, Any], client: Any
):
    case = cs.submit_case(
        actor=personas["clerk"],
        item="330800-SCJG-01-0009",
        applicant=applicant(),
        channel="window",
        form_data={},
        materials=[],
    )
    cs.accept_case(case, actor=personas["clerk"])
    m = case.materials.get(seq=1)
    assert (m.status, m.satisfied_by, m.trust_level) == (MaterialStatus.OK, "data", "A")
    assert m.reference.startswith("access:")
    # Marriage needs consent that was not given: not fetched, "to supply" with the reason.
    m2 = case.materials.get(seq=2)
    assert (m2.status, m2.reason) == (MaterialStatus.TO_SUPPLY, "the subject has not consented")
    token = create_token("citizen", actor="test")
    body = client.get("/api/v1/me/data-access", headers={"Authorization": f"Bearer {token}"}).json()
    rows = {(r["dataset"], r["result"]) for r in body["results"]}
    assert rows == {("population", "granted"), ("marriage", "denied")}
    assert all(r["case_number"] == case.number for r in body["results"])
    # Someone else sees none of it.
    other = create_token("approver", actor="test")
    assert (
        client.get("/api/v1/me/data-access", headers={"Authorization": f"Bearer {other}"}).json()["count"]
        == 0
    )


def test_intake_goes_on_when_the_registry_times_out(datasets: Any, personas: Any, registry: Registry):
    registry.mode = "slow"
    case = cs.submit_case(
        actor=personas["clerk"],
        item="330800-SCJG-01-0009",
        applicant=applicant(),
        channel="window",
        form_data={},
        materials=[],
    )
    cs.accept_case(case, actor=personas["clerk"])
    case.refresh_from_db()
    assert case.status == CaseStatus.ACCEPTED
    m = case.materials.get(seq=1)
    assert m.status == MaterialStatus.TO_SUPPLY
    assert "attempts" in m.reason
    assert AccessRecord.objects.filter(case_number=case.number, result="failed").exists()


def test_the_resolver_api(datasets: Any, personas: Any, client: Any):
    token = create_token("clerk", actor="test")
    auth = {"Authorization": f"Bearer {token}"}
    r = client.get("/api/v1/items/330800-SCJG-01-0009/resolve", {"applicant_id": CITIZEN_ID}, headers=auth)
    assert r.status_code == 200
    body = r.json()
    assert [(m["seq"], m["covered"], m["how"]) for m in body["materials"]] == [
        (1, True, "shared_data"),
        (2, True, "shared_data"),
        (3, True, "pledge"),
    ]
    assert body["applicant_id_masked"].startswith("3308") and "*" in body["applicant_id_masked"]
    unknown = client.get(
        "/api/v1/items/330800-SCJG-01-0009/resolve", {"applicant_id": "11010519491231002X"}, headers=auth
    ).json()
    assert unknown["materials"][0]["covered"] is False
    assert unknown["materials"][0]["reason"].startswith("人口库中未查到：请提交经营者身份证明")
    bad = client.get(
        "/api/v1/items/330800-SCJG-01-0009/resolve", {"applicant_id": "330803199005120270"}, headers=auth
    )
    assert bad.status_code == 422
    assert "applicant_id" in bad.json()["error"]["fields"]
    assert "校验" in bad.json()["error"]["message"]
    citizen = {"Authorization": f"Bearer {create_token('citizen', actor='test')}"}
    assert (
        client.get(
            "/api/v1/items/330800-SCJG-01-0009/resolve",
            {"applicant_id": "11010519491231002X"},
            headers=citizen,
        ).status_code
        == 403
    )


def test_data_admin_pages_are_for_data_admins(
    datasets: Any, personas: Any, city: dict[str, Any], client: Any
):
    from onewindow.conftest import make_user
    from onewindow.core.roles import Role

    _fetch(city, ["name"])
    client.force_login(personas["clerk"])
    assert client.get("/data/log/").status_code == 403
    admin = make_user("dataadmin", (Role.DATA_ADMIN, city["regions"]["衢州市"], None))
    client.force_login(admin)
    page = client.get("/data/log/", {"dataset": "population"})
    assert page.status_code == 200
    assert CITIZEN_ID not in page.content.decode()  # masked in lists
    csv = client.get("/data/log/", {"format": "csv"})
    assert csv["Content-Type"].startswith("text/csv")
    assert CITIZEN_ID in csv.content.decode("utf-8-sig")
    xlsx = client.get("/data/log/", {"format": "xlsx"})
    assert xlsx.content[:2] == b"PK"
    assert client.get("/data/anomalies/").status_code == 200
    assert client.get("/data/").status_code == 200
