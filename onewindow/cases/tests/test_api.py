"""The cases API (DESIGN §14): the lifecycle, idempotent submission, scope (404), roles (403),
state (409) and bad input (400/422, never a 500)."""

from __future__ import annotations

from datetime import date
from typing import Any
from unittest import mock

import pytest
from django.test import Client

from onewindow.audit.services import verify
from onewindow.cases import api as cases_api
from onewindow.cases.models import Case, CaseStatus, IdempotentResponse
from onewindow.cases.tests.conftest import CITIZEN_ID, FORM
from onewindow.conftest import make_user
from onewindow.core.services import create_token
from onewindow.core.validators import make_resident_id, mask_id
from onewindow.org import services as org
from onewindow.org.models import IdType

ITEM = "330800-SCJG-01-0001"


def auth(username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_token(username, actor='test')}"}


def case_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "item": ITEM,
        "applicant": {
            "id_type": "resident_id",
            "id_number": CITIZEN_ID,
            "name": "陈晓明",
            "phone": "13905701234",
        },
        "channel": "window",
        "form_data": dict(FORM),
        "materials": [{"seq": 1, "satisfied_by": "paper"}, {"seq": 2, "satisfied_by": "paper"}],
    }
    return body | overrides


def post(client: Client, url: str, headers: dict[str, str], body: Any = None, **extra: str) -> Any:
    return client.post(
        "/api/v1" + url,
        body if body is not None else {},
        content_type="application/json",
        headers=headers | extra,
    )


def get(client: Client, url: str, headers: dict[str, str] | None = None, **params: Any) -> Any:
    return client.get("/api/v1" + url, params, headers=headers or {})


@pytest.fixture
def number(client: Client, shop: dict[str, Any]) -> str:
    """A case submitted at the city hall window by `clerk`."""
    r = post(client, "/cases", auth("clerk"), case_body())
    assert r.status_code == 201, r.json()
    return r.json()["number"]


@pytest.fixture
def accepted(client: Client, number: str) -> str:
    r = post(client, f"/cases/{number}/accept", auth("clerk"))
    assert r.status_code == 200, r.json()
    return number


def open_work_item(client: Client, headers: dict[str, str], number: str) -> str:
    rows = get(client, "/work-items", headers, status="open").json()["results"]
    return next(row["id"] for row in rows if row["case_number"] == number)


# ---------------------------------------------------------------------------------------------
# The lifecycle


def test_a_case_goes_from_window_intake_to_delivery_through_the_api(
    client: Client, shop: dict[str, Any], personas: dict[str, Any]
):
    clerk, approver, delivery = auth("clerk"), auth("approver"), auth("delivery")

    r = post(client, "/cases", clerk, case_body(), **{"Idempotency-Key": "intake-0001"})
    assert r.status_code == 201
    created = r.json()
    number = created["number"]
    assert created["status"] == "SUBMITTED"
    assert created["item"] == {"code": ITEM, "name": "食品经营许可", "version": 1}
    assert created["applicant"]["id_number"] == CITIZEN_ID
    assert (created["accept_hall"], created["deliver_hall"], created["handling_department"]) == (
        "city-hall",
        "city-hall",
        "scjg",
    )
    assert [m["seq"] for m in created["materials"]] == [1, 2, 4]
    assert created["visits"] == 1
    assert created["children"] == []

    r = post(client, f"/cases/{number}/accept", clerk)
    assert r.status_code == 200
    assert r.json()["status"] == "ACCEPTED"
    assert r.json()["flags"]["sla"] == "green"
    assert r.json()["promised_due"] is not None

    work = get(client, "/work-items", approver, status="open").json()
    assert work["count"] == 1
    row = work["results"][0]
    assert (row["case_number"], row["step_seq"], row["department"], row["status"]) == (
        number,
        1,
        "scjg",
        "open",
    )
    r = post(client, f"/work-items/{row['id']}/claim", approver)
    assert r.status_code == 200
    assert r.json()["status"] == "IN_REVIEW"
    r = post(
        client, f"/work-items/{row['id']}/decide", approver, {"outcome": "approve", "opinion": "材料齐全"}
    )
    assert r.status_code == 200

    step2 = open_work_item(client, approver, number)
    post(client, f"/work-items/{step2}/claim", approver)
    r = post(client, f"/work-items/{step2}/decide", approver, {"outcome": "approve", "opinion": "准予许可"})
    assert r.status_code == 200
    assert r.json()["status"] == "READY"

    r = post(client, f"/cases/{number}/deliver", delivery, {"method": "window", "received_by": "陈晓明"})
    assert r.status_code == 200

    detail = get(client, f"/cases/{number}", clerk).json()
    assert detail["status"] == "DELIVERED"
    assert detail["visits"] == 2
    assert detail["delivered_at"] is not None
    assert [e["kind"] for e in detail["events"]] == [
        "submit",
        "accept",
        "review_start",
        "step_approve",
        "approve",
        "outputs_ready",
        "deliver",
    ]
    assert [e["kind"] for e in detail["events"] if e["visit"]] == ["submit", "deliver"]
    assert [(w["step_seq"], w["status"], w["outcome"]) for w in detail["work_items"]] == [
        (1, "done", "approve"),
        (2, "done", "approve"),
    ]


def test_correction_notice_refuses_an_unknown_material_status(client: Client, number: str):
    body = {"materials": [{"seq": 2, "satisfied_by": "paper", "status": "bogus-status-long"}]}

    r = post(client, f"/cases/{number}/correction-notice", auth("clerk"), body)

    assert r.status_code == 422
    assert "materials.2.status" in r.json()["error"]["fields"]
    assert Case.objects.get(number=number).status == CaseStatus.SUBMITTED


def test_correction_notice_and_corrected_materials(client: Client, number: str):
    clerk = auth("clerk")
    body = {"materials": [{"seq": 2, "status": "defective", "reason": "平面图未标注面积"}], "note": "请补正"}

    r = post(client, f"/cases/{number}/correction-notice", clerk, body)
    assert r.status_code == 200
    assert r.json()["status"] == "AWAITING_CORRECTION"
    assert r.json()["materials"][1]["status"] == "defective"

    r = post(
        client,
        f"/cases/{number}/receive-correction",
        clerk,
        {"materials": [{"seq": 2, "satisfied_by": "paper"}]},
    )
    assert r.status_code == 200
    assert r.json()["status"] == "SUBMITTED"
    assert r.json()["visits"] == 2


def test_not_accept_needs_a_reason(client: Client, number: str):
    clerk = auth("clerk")

    r = post(client, f"/cases/{number}/not-accept", clerk, {"reason": " "})
    assert r.status_code == 422
    assert "reason" in r.json()["error"]["fields"]

    r = post(
        client,
        f"/cases/{number}/not-accept",
        clerk,
        {"reason": "不属于本机关职权范围", "basis": "行政许可法第三十二条"},
    )
    assert r.status_code == 200
    assert r.json()["status"] == "NOT_ACCEPTED"


def test_the_applicant_withdraws_their_own_case(client: Client, number: str, personas: dict[str, Any]):
    r = post(client, f"/cases/{number}/withdraw", auth("citizen"), {"reason": "不再需要"})

    assert r.status_code == 200
    assert r.json()["status"] == "WITHDRAWN"


def test_special_procedure_resume_and_extension(client: Client, accepted: str):
    approver = auth("approver")
    wi = open_work_item(client, approver, accepted)
    post(client, f"/work-items/{wi}/claim", approver)

    r = post(
        client,
        f"/work-items/{wi}/special-procedure",
        approver,
        {"reason": "现场核查", "procedure": "inspection"},
    )
    assert r.status_code == 200
    assert r.json()["status"] == "SUSPENDED"
    assert r.json()["suspension"]["kind"] == "special"

    r = post(client, f"/cases/{accepted}/resume", approver)
    assert r.status_code == 200
    assert r.json()["status"] == "IN_REVIEW"
    assert r.json()["suspension"] is None

    before = r.json()["legal_due"]
    r = post(client, f"/cases/{accepted}/extend", approver, {"workdays": 3, "reason": "需专家评审"})
    assert r.status_code == 200
    assert r.json()["legal_due"] > before

    r = post(client, f"/cases/{accepted}/extend", approver, {"workdays": 30, "reason": "太久"})
    assert r.status_code == 422
    assert "workdays" in r.json()["error"]["fields"]


# ---------------------------------------------------------------------------------------------
# Idempotency


def test_a_retry_with_the_same_key_replays_the_first_answer(client: Client, shop: dict[str, Any]):
    clerk = auth("clerk")
    first = post(client, "/cases", clerk, case_body(), **{"Idempotency-Key": "k-1"})

    again = post(client, "/cases", clerk, case_body(), **{"Idempotency-Key": "k-1"})

    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert Case.objects.count() == 1
    assert IdempotentResponse.objects.count() == 1


def test_the_same_key_with_another_body_is_refused(client: Client, shop: dict[str, Any]):
    clerk = auth("clerk")
    post(client, "/cases", clerk, case_body(), **{"Idempotency-Key": "k-2"})

    r = post(client, "/cases", clerk, case_body(channel="kiosk"), **{"Idempotency-Key": "k-2"})

    assert r.status_code == 422
    assert r.json()["error"]["code"] == "idempotency_key_reused"
    assert Case.objects.count() == 1


def test_keys_belong_to_their_user(client: Client, shop: dict[str, Any]):
    post(client, "/cases", auth("clerk"), case_body(), **{"Idempotency-Key": "shared"})

    r = post(client, "/cases", auth("clerk2"), case_body(), **{"Idempotency-Key": "shared"})

    assert r.status_code == 201
    assert Case.objects.count() == 2


def test_an_overlong_key_is_refused(client: Client, shop: dict[str, Any]):
    r = post(client, "/cases", auth("clerk"), case_body(), **{"Idempotency-Key": "k" * 101})

    assert r.status_code == 422
    assert "Idempotency-Key" in r.json()["error"]["fields"]
    assert Case.objects.count() == 0


def test_two_concurrent_requests_with_one_key_make_one_case(client: Client, shop: dict[str, Any]):
    clerk = auth("clerk")
    first = post(client, "/cases", clerk, case_body(), **{"Idempotency-Key": "race"})
    real = cases_api._stored_response
    calls: list[int] = []

    def not_yet_committed(*args: Any) -> Any:
        """The second request looked before the first one committed, then lost the insert."""
        calls.append(1)
        return None if len(calls) == 1 else real(*args)

    with mock.patch.object(cases_api, "_stored_response", side_effect=not_yet_committed):
        second = post(client, "/cases", clerk, case_body(), **{"Idempotency-Key": "race"})

    assert len(calls) == 2
    assert (second.status_code, second.json()) == (201, first.json())
    assert Case.objects.count() == 1
    assert verify().ok is True


# ---------------------------------------------------------------------------------------------
# State and roles


def test_a_second_accept_is_a_409_with_the_current_status(client: Client, accepted: str):
    r = post(client, f"/cases/{accepted}/accept", auth("clerk"))

    assert r.status_code == 409
    assert r.json()["error"]["code"] == "invalid_transition"
    assert r.json()["error"]["status"] == "ACCEPTED"


def test_deciding_an_unclaimed_work_item_is_a_409(client: Client, accepted: str):
    approver = auth("approver")
    wi = open_work_item(client, approver, accepted)

    r = post(client, f"/work-items/{wi}/decide", approver, {"outcome": "approve", "opinion": "同意"})

    assert r.status_code == 409


@pytest.mark.parametrize("username", ["supervisor", "citizen"])
def test_who_may_see_a_case_but_not_accept_it_gets_a_403(client: Client, number: str, username: str):
    headers = auth(username)
    assert get(client, f"/cases/{number}", headers).status_code == 200

    r = post(client, f"/cases/{number}/accept", headers)

    assert r.status_code == 403
    assert Case.objects.get(number=number).status == CaseStatus.SUBMITTED


# ---------------------------------------------------------------------------------------------
# Scope: out of scope is 404


@pytest.fixture
def other_applicant(personas: dict[str, Any]) -> str:
    user = make_user("other_applicant")
    org.set_applicant_identity(
        user,
        actor="test",
        id_type=IdType.RESIDENT_ID,
        id_number=make_resident_id("330802", date(1985, 3, 3), 11, "F"),
        name="王丽",
    )
    return "other_applicant"


@pytest.mark.parametrize("username", ["approver_other", "other_applicant", "county_clerk", "stranger"])
def test_a_case_out_of_scope_does_not_exist(
    client: Client, accepted: str, other_applicant: str, username: str
):
    headers = auth(username)

    assert get(client, f"/cases/{accepted}", headers).status_code == 404
    assert post(client, f"/cases/{accepted}/withdraw", headers).status_code == 404
    assert post(client, f"/cases/{accepted}/accept", headers).status_code == 404
    assert get(client, "/cases", headers).json()["count"] == 0
    assert Case.objects.get(number=accepted).status == CaseStatus.ACCEPTED


def test_another_departments_approver_cannot_reach_the_work_items(client: Client, accepted: str):
    wi = open_work_item(client, auth("approver"), accepted)
    other = auth("approver_other")

    assert get(client, "/work-items", other).json()["count"] == 0
    r = post(client, f"/work-items/{wi}/claim", other)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "work_item_not_found"
    assert post(client, f"/work-items/{wi}/decide", other, {"outcome": "approve"}).status_code == 404
    assert post(client, f"/work-items/{wi}/special-procedure", other, {"reason": "x"}).status_code == 404


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "123", "00000000-0000-0000-0000-000000000000"])
def test_an_unknown_or_malformed_work_item_id_is_a_404(client: Client, accepted: str, bad_id: str):
    r = post(client, f"/work-items/{bad_id}/claim", auth("approver"))

    assert r.status_code == 404


def test_an_unknown_case_is_a_404(client: Client, shop: dict[str, Any]):
    assert get(client, "/cases/330800-20260101-99999", auth("clerk")).status_code == 404


def test_no_token_or_a_bad_token_is_a_401(client: Client, number: str):
    bad = {"Authorization": "Bearer nope"}

    assert get(client, "/cases").status_code == 401
    assert get(client, f"/cases/{number}").status_code == 401
    assert post(client, "/cases", {}, case_body()).status_code == 401
    assert get(client, "/work-items", bad).status_code == 401
    r = post(client, f"/cases/{number}/accept", bad)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"


# ---------------------------------------------------------------------------------------------
# Lists


def test_lists_mask_id_numbers_and_phones(client: Client, accepted: str):
    cases = get(client, "/cases", auth("clerk"))
    work = get(client, "/work-items", auth("approver"))

    assert cases.json()["count"] == 1
    row = cases.json()["results"][0]
    assert row["applicant"]["id_number"] == mask_id(CITIZEN_ID)
    assert row["applicant"]["phone"] == "139****1234"
    assert CITIZEN_ID not in cases.content.decode()
    assert "13905701234" not in cases.content.decode()
    assert work.json()["results"][0]["applicant_id_number"] == mask_id(CITIZEN_ID)
    assert CITIZEN_ID not in work.content.decode()


def test_case_list_filters_and_paging(client: Client, accepted: str):
    clerk = auth("clerk")
    post(client, "/cases", clerk, case_body())

    assert get(client, "/cases", clerk, status="ACCEPTED").json()["count"] == 1
    assert get(client, "/cases", clerk, sla="green").json()["count"] == 1
    page = get(client, "/cases", clerk, page_size=1, page=2).json()
    assert (page["count"], len(page["results"])) == (2, 1)
    assert get(client, "/cases", clerk, status="NOPE").status_code == 422
    assert get(client, "/cases", clerk, page_size=1000).status_code == 422
    assert get(client, "/cases", clerk, page=10**20).status_code == 422
    assert get(client, "/work-items", auth("approver"), status="nope").status_code == 422


# ---------------------------------------------------------------------------------------------
# Bad input: a field-level 422 (or 400 for unparseable JSON), nothing saved, never a 500


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {"applicant": {"id_type": "resident_id", "id_number": CITIZEN_ID[:-1] + "X", "name": "陈"}},
            "applicant.id_number",
        ),
        ({"form_data": {**FORM, "colour": "red"}}, "form_data.colour"),
        ({"channel": "pigeon"}, "channel"),
        ({"item": "330800-NOPE-01-9999"}, "item"),
        ({"item": None}, "item"),
        ({"bundle": "business-startup"}, "bundle"),
        ({"applicant": {"id_type": "resident_id", "id_number": CITIZEN_ID, "name": 5}}, "applicant.name"),
        ({"materials": "paper"}, "materials"),
        ({"materials": [{"seq": "one", "satisfied_by": "paper"}]}, "materials.0.seq"),
        ({"materials": [{"seq": 1, "satisfied_by": "upload"}]}, "materials.1.content_base64"),
        (
            {"materials": [{"seq": 1, "satisfied_by": "paper"}, {"seq": 1, "satisfied_by": "pledge"}]},
            "materials.1",
        ),
        ({"form_data": ["not", "an", "object"]}, "form_data"),
        ({"delivery_metod": "courier"}, "delivery_metod"),
        (
            {"applicant": {"id_type": "resident_id", "id_number": CITIZEN_ID, "name": "陈\x00"}},
            "applicant.name",
        ),
        ({"form_data": {**FORM, "shop_name": "店\x00"}}, "form_data"),
        ({"materials": [{"seq": 1, "satisfied_by": "paper", "status": "fine-by-me"}]}, "materials.1.status"),
    ],
)
def test_bad_submissions_are_a_422_naming_the_field(
    client: Client, shop: dict[str, Any], change: dict[str, Any], field: str
):
    r = post(client, "/cases", auth("clerk"), case_body(**change))

    assert r.status_code == 422
    error = r.json()["error"]
    assert field in error["fields"]
    assert error["message"] and error["message_en"]
    assert Case.objects.count() == 0


def test_an_unknown_bundle_is_a_422_in_both_languages(client: Client, shop: dict[str, Any]):
    # Bundles are submitted through POST /cases (issue #6); this small city has none.
    r = post(client, "/cases", auth("clerk"), case_body(item=None, bundle="business-startup"))

    assert r.status_code == 422
    assert r.json()["error"]["fields"]["bundle"] == [
        "一件事不存在或未启用：business-startup / No active bundle: business-startup"
    ]


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", '"text"', "null"])
def test_malformed_json_is_refused_without_a_500(client: Client, shop: dict[str, Any], raw: str):
    r = client.post("/api/v1/cases", raw, content_type="application/json", headers=auth("clerk"))

    assert r.status_code in (400, 422)
    assert "error" in r.json()
    assert Case.objects.count() == 0


def test_wrong_types_on_transitions_are_a_422(client: Client, accepted: str):
    approver = auth("approver")
    wi = open_work_item(client, approver, accepted)
    post(client, f"/work-items/{wi}/claim", approver)

    assert (
        post(client, f"/cases/{accepted}/extend", approver, {"workdays": "ten", "reason": "x"}).status_code
        == 422
    )
    r = post(client, f"/work-items/{wi}/decide", approver, {"outcome": "maybe", "opinion": "?"})
    assert r.status_code == 422
    assert "outcome" in r.json()["error"]["fields"]
    r = post(client, f"/work-items/{wi}/decide", approver, {"outcome": "refuse"})
    assert r.status_code == 422
    assert "opinion" in r.json()["error"]["fields"]


def test_html_in_form_values_is_stored_and_returned_as_text(client: Client, shop: dict[str, Any]):
    html = '<script>alert("x")</script>&amp;'
    r = post(client, "/cases", auth("clerk"), case_body(form_data={**FORM, "shop_name": html}))

    assert r.status_code == 201
    assert r.json()["form_data"]["shop_name"] == html
    assert get(client, f"/cases/{r.json()['number']}", auth("clerk")).json()["form_data"]["shop_name"] == html
    assert Case.objects.get().form_data["shop_name"] == html
