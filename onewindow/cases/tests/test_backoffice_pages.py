"""Back-office pages: worklist, case page, delivery window, supervision board, my cases.

Every state change is a POST through the pages (which call the services); scope is checked with
the personas of conftest: in scope, other department, other region, another applicant, stranger.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from onewindow.cases import services as cs
from onewindow.cases.models import Case, CaseStatus, SlaLevel, WorkItemStatus
from onewindow.cases.tests.conftest import CITIZEN_ID, submit
from onewindow.conftest import make_user
from onewindow.core.validators import make_resident_id, mask_id
from onewindow.org import services as org
from onewindow.org.models import IdType

WORKLIST = reverse("cases_backoffice:worklist")
DELIVERY = reverse("cases_backoffice:delivery")
SUPERVISION = reverse("cases_backoffice:supervision")
CASES = reverse("cases_backoffice:list")


def detail_url(case: Case) -> str:
    return reverse("cases_backoffice:detail", args=[case.number])


def accepted(personas: dict[str, Any], **kw: Any) -> Case:
    case = submit(personas, **kw)
    cs.accept_case(case, actor=personas["clerk"])
    case.refresh_from_db()
    return case


def open_item(case: Case) -> Any:
    return case.work_items.get(status__in=[WorkItemStatus.OPEN, WorkItemStatus.CLAIMED])


def as_user(client: Any, user: Any) -> Any:
    client.logout()
    client.force_login(user)
    return client


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def post_claim(client: Any, wi: Any, **kw: Any) -> Any:
    return client.post(
        reverse("cases_backoffice:claim", args=[wi.public_id]), {"next": WORKLIST}, follow=True, **kw
    )


def post_decide(client: Any, wi: Any, outcome: str = "approve", opinion: str = "同意", **kw: Any) -> Any:
    return client.post(
        reverse("cases_backoffice:decide", args=[wi.public_id]),
        {"outcome": outcome, "opinion": opinion, "next": WORKLIST},
        follow=True,
        **kw,
    )


# ---------------------------------------------------------------------------------------------
# Worklist


def test_worklist_shows_only_the_approvers_department(client: Any, shop: dict, personas: dict[str, Any]):
    case = accepted(personas)
    joint = accepted(personas, item="330800-SCJG-01-0003", form_data={}, materials=cs_paper(1))
    as_user(client, personas["approver"])
    r = client.get(WORKLIST)
    assert r.status_code == 200
    body = r.content.decode()
    assert case.number in body and joint.number in body
    # The other department sees only its own work item of the joint case.
    as_user(client, personas["approver_other"])
    r = client.get(WORKLIST)
    body = r.content.decode()
    assert joint.number in body
    assert case.number not in body
    page_items = list(r.context["page"].object_list)
    assert {wi.department.code for wi in page_items} == {"zrgh"}


def cs_paper(*seqs: int) -> list[cs.MaterialIn]:
    return [cs.MaterialIn(seq=s, satisfied_by="paper") for s in seqs]


def test_worklist_filters(client: Any, shop: dict, personas: dict[str, Any]):
    a = accepted(personas)
    b = accepted(personas)
    as_user(client, personas["approver"])
    post_claim(client, open_item(a))
    body = client.get(WORKLIST, {"mine": "1"}).content.decode()
    assert a.number in body and b.number not in body
    body = client.get(WORKLIST, {"status": "open"}).content.decode()
    assert b.number in body and a.number not in body
    body = client.get(WORKLIST, {"q": b.number}).content.decode()
    assert b.number in body and a.number not in body
    body = client.get(WORKLIST, {"sla": "red"}).content.decode()
    assert a.number not in body and b.number not in body
    # Junk values are ignored, not errors.
    assert client.get(WORKLIST, {"status": "<x>", "sla": "purple", "page": "zz"}).status_code == 200


def test_worklist_is_for_approvers_only(client: Any, shop: dict, personas: dict[str, Any]):
    for name in ("clerk", "citizen", "stranger", "cataloger"):
        assert as_user(client, personas[name]).get(WORKLIST).status_code == 403, name
    client.logout()
    r = client.get(WORKLIST)
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]


def test_claim_and_approve_both_steps_through_the_pages(client: Any, shop: dict, personas: dict[str, Any]):
    case = accepted(personas)
    as_user(client, personas["approver"])
    wi = open_item(case)
    r = post_claim(client, wi)
    assert r.status_code == 200
    assert r.redirect_chain[-1] == (WORKLIST, 303)
    assert any("已认领" in m for m in messages_of(r))
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW
    post_decide(client, wi, opinion="材料齐全")
    step2 = open_item(case)
    assert step2.step_seq == 2
    post_claim(client, step2)
    r = post_decide(client, step2, opinion="准予许可")
    assert r.status_code == 200
    case.refresh_from_db()
    assert case.status == CaseStatus.READY
    # The case page shows the work items by step and the opinions.
    body = client.get(detail_url(case)).content.decode()
    assert "材料齐全" in body and "准予许可" in body


def test_htmx_claim_answers_with_the_partial(client: Any, shop: dict, personas: dict[str, Any]):
    case = accepted(personas)
    as_user(client, personas["approver"])
    r = post_claim(client, open_item(case), headers={"HX-Request": "true"})
    body = r.content.decode()
    assert r.status_code == 200
    assert "<html" not in body
    assert "已认领" in body  # the messages travel with the partial
    assert case.number in body
    r = client.get(WORKLIST, headers={"HX-Request": "true"})
    assert "<html" not in r.content.decode()
    assert "HX-Request" in r["Vary"]


def test_a_stale_claim_shows_a_conflict_not_a_500(client: Any, shop: dict, personas: dict[str, Any]):
    case = accepted(personas)
    wi = open_item(case)
    # approver2 loaded the worklist, then approver claimed first.
    cs.claim_work_item(wi, actor=personas["approver"])
    as_user(client, personas["approver2"])
    r = post_claim(client, wi)
    assert r.status_code == 200
    msgs = messages_of(r)
    assert any("已被认领" in m and "审查中" in m for m in msgs), msgs
    # Deciding someone else's work item is a conflict too; nothing changes.
    r = post_decide(client, wi)
    assert any("他人认领" in m for m in messages_of(r))
    wi.refresh_from_db()
    assert (wi.status, wi.assignee) == (WorkItemStatus.CLAIMED, personas["approver"])


def test_service_errors_name_the_field(client: Any, shop: dict, personas: dict[str, Any]):
    case = accepted(personas)
    wi = open_item(case)
    as_user(client, personas["approver"])
    post_claim(client, wi)
    r = post_decide(client, wi, outcome="refuse", opinion="  ")
    assert any("意见" in m and "必填" in m for m in messages_of(r))
    r = post_decide(client, wi, outcome="bogus")
    assert any("决定" in m for m in messages_of(r))
    r = client.post(reverse("cases_backoffice:special", args=[wi.public_id]), {"reason": ""}, follow=True)
    assert any("理由" in m for m in messages_of(r))
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW


def test_special_procedure_and_resume_through_the_pages(client: Any, shop: dict, personas: dict[str, Any]):
    case = accepted(personas)
    wi = open_item(case)
    as_user(client, personas["approver"])
    post_claim(client, wi)
    r = client.post(
        reverse("cases_backoffice:special", args=[wi.public_id]),
        {"procedure": "inspection", "reason": "现场核查"},
        follow=True,
    )
    case.refresh_from_db()
    assert (case.status, case.suspension) == (CaseStatus.SUSPENDED, "special")
    body = client.get(detail_url(case)).content.decode()
    assert reverse("cases_backoffice:resume", args=[case.number]) in body
    r = client.post(reverse("cases_backoffice:resume", args=[case.number]), {"note": "核查完毕"}, follow=True)
    assert r.redirect_chain[-1][0] == detail_url(case)
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW
    # Extension: bad input names the field; a good one moves the due date.
    due = case.promised_due
    r = client.post(reverse("cases_backoffice:extend", args=[case.number]), {"workdays": "x"}, follow=True)
    assert any("延长工作日" in m for m in messages_of(r))
    r = client.post(reverse("cases_backoffice:extend", args=[case.number]), {"workdays": "3"}, follow=True)
    assert any("理由" in m for m in messages_of(r))
    client.post(reverse("cases_backoffice:extend", args=[case.number]), {"workdays": "3", "reason": "需要"})
    case.refresh_from_db()
    assert case.promised_due > due and case.extended_workdays == 3


# ---------------------------------------------------------------------------------------------
# Delivery and the case page


def _ready(personas: dict[str, Any]) -> Case:
    case = accepted(personas)
    while True:
        items = list(case.work_items.filter(status__in=[WorkItemStatus.OPEN, WorkItemStatus.CLAIMED]))
        if not items:
            break
        for wi in items:
            if wi.status == WorkItemStatus.OPEN:
                cs.claim_work_item(wi, actor=personas["approver"])
            cs.decide_work_item(wi, actor=personas["approver"], outcome="approve", opinion="同意")
    case.refresh_from_db()
    assert case.status == CaseStatus.READY
    return case


def test_delivery_through_the_window_page(client: Any, shop: dict, personas: dict[str, Any]):
    case = _ready(personas)
    other = accepted(personas)  # still in review: not on the delivery page
    as_user(client, personas["delivery"])
    r = client.get(DELIVERY)
    body = r.content.decode()
    assert case.number in body and other.number not in body
    assert CITIZEN_ID not in body and mask_id(CITIZEN_ID) in body
    deliver = reverse("cases_backoffice:deliver", args=[case.number])
    # Window pickup without who received it: a field message, nothing changes.
    r = client.post(deliver, {"method": "window", "received_by": ""}, follow=True)
    assert any("签收人" in m for m in messages_of(r))
    r = client.post(deliver, {"method": "courier", "waybill": ""}, follow=True)
    assert any("运单号" in m for m in messages_of(r))
    case.refresh_from_db()
    assert case.status == CaseStatus.READY
    r = client.post(deliver, {"method": "window", "received_by": "陈晓明", "next": DELIVERY}, follow=True)
    assert r.redirect_chain[-1] == (DELIVERY, 303)
    assert case not in list(r.context["page"].object_list)
    assert any("已送达" in m for m in messages_of(r))
    case.refresh_from_db()
    assert (case.status, case.visits) == (CaseStatus.DELIVERED, 2)
    # A second delivery is a 409, shown with the current status.
    r = client.post(deliver, {"method": "electronic"}, follow=True)
    assert any("已送达" in m for m in messages_of(r)), messages_of(r)
    # The case page: delivered, the visits, the delivery record, the timeline's visit markers.
    body = client.get(detail_url(case)).content.decode()
    assert "ow-status-delivered" in body
    assert "跑动次数 2" in body
    assert "陈晓明" in body and "窗口领取" in body
    assert body.count("到现场 +1") == 2
    # The applicant sees the same.
    body = as_user(client, personas["citizen"]).get(detail_url(case)).content.decode()
    assert "跑动次数 2" in body and "ow-status-delivered" in body


def test_delivery_page_is_for_delivery_clerks(client: Any, shop: dict, personas: dict[str, Any]):
    case = _ready(personas)
    for name in ("approver", "clerk", "citizen", "stranger"):
        as_user(client, personas[name])
        assert client.get(DELIVERY).status_code == 403, name
        r = client.post(reverse("cases_backoffice:deliver", args=[case.number]), {"method": "electronic"})
        assert r.status_code == 403, name
    case.refresh_from_db()
    assert case.status == CaseStatus.READY


def test_the_case_page_is_404_out_of_scope(client: Any, shop: dict, personas: dict[str, Any]):
    case = accepted(personas)
    other_applicant = make_user("neighbour")
    org.set_applicant_identity(
        other_applicant,
        actor="test",
        id_type=IdType.RESIDENT_ID,
        id_number=make_resident_id("330802", date(1985, 3, 3), 11, "F"),
        name="王芳",
    )
    url = detail_url(case)
    for name in ("approver", "approver2", "clerk", "citizen", "admin"):
        r = as_user(client, personas[name]).get(url)
        assert r.status_code == 200, name
        assert CITIZEN_ID in r.content.decode()  # full ID on the case page only
    for user in (personas["approver_other"], personas["county_clerk"], personas["stranger"], other_applicant):
        as_user(client, user)
        assert client.get(url).status_code == 404, user.username
        # ...and for their POSTs too: nothing changes.
        assert client.post(reverse("cases_backoffice:withdraw", args=[case.number])).status_code == 404
    assert client.get(reverse("cases_backoffice:detail", args=["nope"])).status_code == 404
    case.refresh_from_db()
    assert case.status == CaseStatus.ACCEPTED
    client.logout()
    assert client.get(url).status_code == 302


def test_out_of_scope_work_items_are_404(client: Any, shop: dict, personas: dict[str, Any]):
    case = accepted(personas)
    wi = open_item(case)
    as_user(client, personas["approver_other"])
    assert client.post(reverse("cases_backoffice:claim", args=[wi.public_id])).status_code == 404
    assert client.post(reverse("cases_backoffice:decide", args=[wi.public_id])).status_code == 404
    wi.refresh_from_db()
    assert wi.status == WorkItemStatus.OPEN
    assert client.get(f"/work/{wi.public_id}/claim/").status_code == 405


def test_applicant_withdraws_from_the_case_page(client: Any, shop: dict, personas: dict[str, Any]):
    case = accepted(personas)
    as_user(client, personas["citizen"])
    body = client.get(detail_url(case)).content.decode()
    assert reverse("cases_backoffice:withdraw", args=[case.number]) in body
    assert reverse("cases_backoffice:extend", args=[case.number]) not in body
    # An applicant cannot extend.
    assert (
        client.post(reverse("cases_backoffice:extend", args=[case.number]), {"workdays": 1}).status_code
        == 403
    )
    client.post(reverse("cases_backoffice:withdraw", args=[case.number]), {"reason": "<b>不办了</b>"})
    case.refresh_from_db()
    assert case.status == CaseStatus.WITHDRAWN
    body = client.get(detail_url(case)).content.decode()
    assert "&lt;b&gt;不办了&lt;/b&gt;" in body and "<b>不办了</b>" not in body


def test_html_in_an_opinion_is_escaped(client: Any, shop: dict, personas: dict[str, Any]):
    case = accepted(personas)
    wi = open_item(case)
    as_user(client, personas["approver"])
    post_claim(client, wi)
    evil = '<script>alert("x")</script>'
    post_decide(client, wi, outcome="refuse", opinion=evil)
    case.refresh_from_db()
    assert case.status == CaseStatus.REFUSED
    body = client.get(detail_url(case)).content.decode()
    assert evil not in body
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in body


# ---------------------------------------------------------------------------------------------
# Supervision


def test_the_supervisor_board_lists_a_red_case(client: Any, shop: dict, personas: dict[str, Any]):
    red = accepted(personas)
    green = accepted(personas)
    cs.refresh_all_flags(red.promised_due + timedelta(days=1))
    red.refresh_from_db()
    assert red.sla == SlaLevel.RED
    # Keep the second case green: its dues are later.
    Case.objects.filter(pk=green.pk).update(sla=SlaLevel.GREEN)
    as_user(client, personas["supervisor"])
    r = client.get(SUPERVISION)
    assert r.status_code == 200
    body = r.content.decode()
    assert red.number in body and green.number not in body
    assert r.context["counts"]["red"] >= 1
    assert "衢州市市场监督管理局" in body
    assert CITIZEN_ID not in body and mask_id(CITIZEN_ID) in body
    assert red.number in client.get(SUPERVISION, {"level": "red"}).content.decode()
    assert red.number not in client.get(SUPERVISION, {"level": "yellow"}).content.decode()
    for name in ("approver", "clerk", "delivery", "citizen", "stranger"):
        assert as_user(client, personas[name]).get(SUPERVISION).status_code == 403, name
    assert as_user(client, personas["admin"]).get(SUPERVISION).status_code == 200


# ---------------------------------------------------------------------------------------------
# My cases


def test_case_list_is_scoped_and_masks_ids(client: Any, shop: dict, personas: dict[str, Any]):
    case = accepted(personas)
    as_user(client, personas["citizen"])
    body = client.get(CASES).content.decode()
    assert case.number in body
    assert CITIZEN_ID not in body and mask_id(CITIZEN_ID) in body
    assert "跑动次数" in body
    for name in ("stranger", "approver_other", "county_clerk"):
        assert case.number not in as_user(client, personas[name]).get(CASES).content.decode(), name
    as_user(client, personas["clerk"])
    body = client.get(CASES, {"status": "ACCEPTED", "q": case.number}).content.decode()
    assert case.number in body
    assert case.number not in client.get(CASES, {"status": "DELIVERED"}).content.decode()
    body = as_user(client, personas["approver"]).get(WORKLIST).content.decode()
    assert CITIZEN_ID not in body and mask_id(CITIZEN_ID) in body


# ---------------------------------------------------------------------------------------------
# Query counts do not grow with rows


def _count(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("url", [WORKLIST, CASES, DELIVERY, SUPERVISION])
def test_list_query_counts_do_not_grow_with_rows(
    client: Any, shop: dict, personas: dict[str, Any], url: str, django_assert_max_num_queries: Any
):
    def make() -> None:
        case = _ready(personas) if url == DELIVERY else accepted(personas)
        if url == WORKLIST:
            cs.claim_work_item(open_item(case), actor=personas["approver"])
        if url == SUPERVISION:
            cs.refresh_all_flags(case.promised_due + timedelta(days=1))

    user = {WORKLIST: "approver", CASES: "clerk", DELIVERY: "delivery", SUPERVISION: "supervisor"}[url]
    make()
    as_user(client, personas[user])
    one = _count(client, url)
    for _ in range(5):
        make()
    assert len(client.get(url).context["page"].object_list) == 6
    assert _count(client, url) == one
    with django_assert_max_num_queries(10):
        client.get(url)
