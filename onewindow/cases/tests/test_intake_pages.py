"""The comprehensive-window intake pages (综合受理): search, the intake form and its three
decisions, the one-time notice, the receipt PDF, scope and escaping."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from onewindow.cases import receipts
from onewindow.cases.models import Case, CaseMaterial, CaseStatus
from onewindow.cases.tests.conftest import CITIZEN_ID

pytestmark = pytest.mark.django_db

ITEM = "330800-SCJG-01-0001"  # 食品经营许可: city-wide, form schema, materials 1–3 applicant, 4 pledge
HALL_ITEM = "330800-SCJG-01-0003"  # 联合审查事项: accepted only at the handling hall
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def item_url(code: str = ITEM) -> str:
    return reverse("cases_intake:item", args=[code])


def post_data(action: str = "accept", **over: Any) -> dict[str, Any]:
    data = {
        "a-id_type": "resident_id",
        "a-id_number": CITIZEN_ID,
        "a-name": "陈晓明",
        "a-phone": "13905701234",
        "f-shop_name": "衢州小吃店",
        "f-area": "35.5",
        "m-1_how": "paper",
        "m-2_how": "paper",
        "d-delivery_method": "window",
        "x-action": action,
    }
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def clerk_client(client: Any, shop: dict[str, Any], personas: dict[str, Any]) -> Any:
    client.force_login(personas["clerk"])
    return client


# ---------------------------------------------------------------------------------------------
# Access


def test_start_page_renders_for_a_clerk(clerk_client: Any) -> None:
    r = clerk_client.get(reverse("cases_intake:start"))
    assert r.status_code == 200
    assert "综合受理" in r.content.decode()
    assert "衢州市民中心" in r.content.decode()  # the clerk's hall


def test_other_roles_get_403_and_anonymous_the_login(
    client: Any, shop: dict[str, Any], personas: dict[str, Any]
) -> None:
    r = client.get(reverse("cases_intake:start"))
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]
    client.force_login(personas["approver"])
    assert client.get(reverse("cases_intake:start")).status_code == 403
    assert client.get(item_url()).status_code == 403
    assert client.post(item_url(), post_data()).status_code == 403
    assert Case.objects.count() == 0


def test_unknown_item_is_404(clerk_client: Any) -> None:
    assert clerk_client.get(item_url("NO-SUCH-ITEM")).status_code == 404


# ---------------------------------------------------------------------------------------------
# Search


def test_search_finds_items_by_pinyin_initials(clerk_client: Any) -> None:
    r = clerk_client.get(reverse("cases_intake:start"), {"q": "spjyxk"})
    body = r.content.decode()
    assert r.status_code == 200
    assert "食品经营许可" in body and item_url() in body
    assert "衢州市市场监督管理局" in body  # the department is shown
    # htmx: only the results partial
    r = clerk_client.get(reverse("cases_intake:start"), {"q": "spjyxk"}, headers={"HX-Request": "true"})
    assert "食品经营许可" in r.content.decode() and "<html" not in r.content.decode()


def test_search_only_lists_items_whose_scope_covers_the_hall(
    client: Any, shop: dict[str, Any], personas: dict[str, Any]
) -> None:
    client.force_login(personas["clerk"])
    assert HALL_ITEM in client.get(reverse("cases_intake:start"), {"q": "联合审查"}).content.decode()
    client.force_login(personas["clerk2"])
    body = client.get(reverse("cases_intake:start"), {"q": "联合审查"}).content.decode()
    assert HALL_ITEM not in body
    assert client.get(item_url(HALL_ITEM)).status_code == 403
    assert ITEM in client.get(reverse("cases_intake:start"), {"q": "spjy"}).content.decode()


# ---------------------------------------------------------------------------------------------
# The form


def test_item_page_shows_form_materials_and_sources(clerk_client: Any) -> None:
    body = clerk_client.get(item_url()).content.decode()
    assert "店铺名称" in body and 'name="f-area"' in body
    assert "食品经营许可申请书" in body and "冷链设施说明" in body
    assert 'name="m-1_how"' in body and 'name="m-1_file"' in body
    assert "ow-badge-pledge" in body and 'name="m-4_how"' not in body  # the pledge needs nothing
    for action in ("accept", "notice", "not_accept"):
        assert f'value="{action}"' in body


def test_english_labels(clerk_client: Any) -> None:
    clerk_client.cookies["django_language"] = "en"
    body = clerk_client.get(item_url()).content.decode()
    assert "Shop name" in body


def test_accept_through_the_page(clerk_client: Any) -> None:
    r = clerk_client.post(item_url(), post_data())
    case = Case.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("cases_intake:done", args=[case.number])
    assert case.status == CaseStatus.ACCEPTED
    assert case.visits == 1 and case.events.filter(visit=True).count() == 1
    assert case.form_data == {"shop_name": "衢州小吃店", "area": "35.5", "has_cold_chain": False}
    assert case.promised_due and case.legal_due
    assert case.delivery_method == "window" and case.deliver_hall.code == "city-hall"
    body = clerk_client.get(r["Location"]).content.decode()
    assert case.number in body
    assert reverse("cases_intake:receipt", args=[case.number]) in body
    assert receipts.tracking_path(case.number) in body
    assert case.promised_due.isoformat() in body


def test_upload_of_a_real_pdf(clerk_client: Any) -> None:
    f = SimpleUploadedFile("申请书.pdf", PDF, content_type="application/pdf")
    r = clerk_client.post(item_url(), post_data(**{"m-1_how": "upload", "m-1_file": f}))
    assert r.status_code == 302
    m = CaseMaterial.objects.get(seq=1)
    assert m.satisfied_by == "upload" and m.content_type == "application/pdf" and m.file_hash
    assert m.case.status == CaseStatus.ACCEPTED


def test_an_exe_renamed_pdf_is_refused_and_nothing_saved(clerk_client: Any) -> None:
    f = SimpleUploadedFile("申请书.pdf", b"MZ\x90\x00" + b"\x00" * 200, content_type="application/pdf")
    r = clerk_client.post(item_url(), post_data(**{"m-1_how": "upload", "m-1_file": f}))
    assert r.status_code == 422
    assert "文件类型不允许" in r.content.decode()
    assert Case.objects.count() == 0 and CaseMaterial.objects.count() == 0
    assert 'value="衢州小吃店"' in r.content.decode()  # entered values kept


def test_an_over_limit_file_is_refused(clerk_client: Any, settings: Any) -> None:
    settings.ONEWINDOW_UPLOAD_MAX_BYTES = 20
    f = SimpleUploadedFile("big.pdf", PDF, content_type="application/pdf")
    r = clerk_client.post(item_url(), post_data(**{"m-2_how": "upload", "m-2_file": f}))
    assert r.status_code == 422
    assert "文件过大" in r.content.decode()
    assert Case.objects.count() == 0


def test_upload_without_a_file_is_a_field_error(clerk_client: Any) -> None:
    r = clerk_client.post(item_url(), post_data(**{"m-1_how": "upload"}))
    assert r.status_code == 422 and "请选择要上传的文件" in r.content.decode()
    assert Case.objects.count() == 0


def test_invalid_id_number_is_a_field_error(clerk_client: Any) -> None:
    bad = CITIZEN_ID[:-1] + ("0" if CITIZEN_ID[-1] != "0" else "1")
    r = clerk_client.post(item_url(), post_data(**{"a-id_number": bad}))
    body = r.content.decode()
    assert r.status_code == 422
    assert "a-id_number_error" in body and "校验" in body
    assert f'value="{bad}"' in body and 'value="陈晓明"' in body
    assert Case.objects.count() == 0


def test_id_check_endpoint(clerk_client: Any) -> None:
    url = reverse("cases_intake:check_id")
    ok = clerk_client.get(url, {"a-id_type": "resident_id", "a-id_number": CITIZEN_ID})
    assert "校验通过" in ok.content.decode()
    bad = clerk_client.get(url, {"a-id_type": "uscc", "a-id_number": "91330800ABCDEFGHIJ"})
    assert "✗" in bad.content.decode()


def test_form_data_errors_land_on_the_field(clerk_client: Any) -> None:
    r = clerk_client.post(item_url(), post_data(**{"f-area": "0", "f-shop_name": "x" * 60}))
    body = r.content.decode()
    assert r.status_code == 422
    assert "f-area_error" in body and "f-shop_name_error" in body
    assert Case.objects.count() == 0


def test_accept_with_missing_materials_is_refused_and_keeps_the_data(clerk_client: Any) -> None:
    r = clerk_client.post(item_url(), post_data(**{"m-2_how": "missing"}))
    body = r.content.decode()
    assert r.status_code == 409
    assert "经营场所平面图" in body and "一次性告知" in body
    assert 'value="衢州小吃店"' in body
    assert Case.objects.count() == 0


def test_conditional_material_is_needed_only_when_it_applies(clerk_client: Any) -> None:
    r = clerk_client.post(item_url(), post_data(**{"f-has_cold_chain": "on"}))
    assert r.status_code == 409 and "冷链设施说明" in r.content.decode()
    r = clerk_client.post(item_url(), post_data(**{"f-has_cold_chain": "on", "m-3_how": "paper"}))
    assert r.status_code == 302


def test_one_time_notice_lists_every_problem(clerk_client: Any) -> None:
    data = post_data(
        "notice",
        **{
            "m-1_how": "missing",
            "m-2_how": "defective",
            "m-2_reason": "平面图未标注面积",
            "f-has_cold_chain": "on",
            "m-3_how": None,
            "x-note": "请携带原件",
        },
    )
    r = clerk_client.post(item_url(), data)
    case = Case.objects.get()
    assert r.status_code == 302
    assert case.status == CaseStatus.AWAITING_CORRECTION
    ev = case.events.get(kind="correction_notice")
    assert {m["seq"] for m in ev.payload["materials"]} == {1, 2, 3}
    body = clerk_client.get(reverse("cases_intake:notice", args=[case.number])).content.decode()
    for text in ("食品经营许可申请书", "经营场所平面图", "冷链设施说明", "平面图未标注面积", "请携带原件"):
        assert text in body
    assert CITIZEN_ID not in body and CITIZEN_ID[-4:] in body  # the ID is masked
    assert "衢州市民中心" in body and "clerk" in body
    pdf = clerk_client.get(reverse("cases_intake:notice_pdf", args=[case.number]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_notice_with_complete_materials_is_refused(clerk_client: Any) -> None:
    r = clerk_client.post(item_url(), post_data("notice"))
    assert r.status_code == 409 and "无需一次性告知" in r.content.decode()
    assert Case.objects.count() == 0


def test_not_accept_needs_a_reason(clerk_client: Any) -> None:
    r = clerk_client.post(item_url(), post_data("not_accept"))
    assert r.status_code == 422 and "x-reason_error" in r.content.decode()
    assert Case.objects.count() == 0
    r = clerk_client.post(item_url(), post_data("not_accept", **{"x-reason": "不属于本机关职权范围"}))
    case = Case.objects.get()
    assert r.status_code == 302 and case.status == CaseStatus.NOT_ACCEPTED
    assert case.decision_reason == "不属于本机关职权范围"


def test_courier_needs_an_address(clerk_client: Any) -> None:
    r = clerk_client.post(item_url(), post_data(**{"d-delivery_method": "courier"}))
    assert r.status_code == 422 and "d-delivery_address_error" in r.content.decode()
    r = clerk_client.post(
        item_url(),
        post_data(**{"d-delivery_method": "courier", "d-delivery_address": "衢州市柯城区上街 1 号"}),
    )
    assert r.status_code == 302
    assert Case.objects.get().delivery_method == "courier"


# ---------------------------------------------------------------------------------------------
# Receipt


def test_receipt_pdf(clerk_client: Any, personas: dict[str, Any], client: Any) -> None:
    clerk_client.post(item_url(), post_data())
    case = Case.objects.get()
    r = clerk_client.get(reverse("cases_intake:receipt", args=[case.number]))
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert r.content.startswith(b"%PDF") and len(r.content) > 1024
    try:  # the CID font's text is only readable with a PDF parser
        import io

        import pypdf
    except ImportError:
        pass
    else:
        text = pypdf.PdfReader(io.BytesIO(r.content)).pages[0].extract_text()
        assert case.number in text and "食品经营许可" in text
    url = receipts.tracking_url(r.wsgi_request, case.number)
    payload = receipts.receipt_payload(case, url)
    assert payload["qr"] == url and url.endswith(receipts.tracking_path(case.number))
    assert case.number in url and url.startswith("http")
    assert payload["number"] == case.number and payload["visits"] == 1
    assert payload["applicant_id"] != CITIZEN_ID and payload["applicant_id"].endswith(CITIZEN_ID[-4:])
    assert payload["promised_due"] == case.promised_due.isoformat()
    assert [m["name"] for m in payload["materials"]][:2] == ["食品经营许可申请书", "经营场所平面图"]
    # Out of scope: 404, for the receipt and the notice alike.
    clerk_client.force_login(personas["approver_other"])
    assert clerk_client.get(reverse("cases_intake:receipt", args=[case.number])).status_code == 404
    assert clerk_client.get(reverse("cases_intake:notice", args=[case.number])).status_code == 404
    clerk_client.logout()
    assert clerk_client.get(reverse("cases_intake:receipt", args=[case.number])).status_code == 302


def test_no_receipt_before_acceptance(clerk_client: Any) -> None:
    clerk_client.post(item_url(), post_data("notice", **{"m-1_how": "missing"}))
    case = Case.objects.get()
    assert clerk_client.get(reverse("cases_intake:receipt", args=[case.number])).status_code == 409


# ---------------------------------------------------------------------------------------------
# 全市通办 and escaping


def test_township_clerk_accepts_a_city_wide_item(
    client: Any, shop: dict[str, Any], personas: dict[str, Any]
) -> None:
    client.force_login(personas["clerk2"])
    r = client.post(item_url(), post_data())
    assert r.status_code == 302
    case = Case.objects.get()
    assert case.status == CaseStatus.ACCEPTED
    assert case.accept_hall == shop["township_hall"] and case.accept_region.name == "廿里镇"
    assert case.handling_region.name == "衢州市" and case.handling_department.code == "scjg"
    assert case.deliver_hall == shop["township_hall"]
    r = client.get(reverse("cases_intake:receipt", args=[case.number]))
    assert r.status_code == 200


def test_html_in_values_is_escaped(clerk_client: Any) -> None:
    evil = "<script>alert(1)</script>"
    bad = CITIZEN_ID[:-1] + ("0" if CITIZEN_ID[-1] != "0" else "1")
    r = clerk_client.post(item_url(), post_data(**{"f-shop_name": evil, "a-id_number": bad}))
    body = r.content.decode()
    assert r.status_code == 422 and evil not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    r = clerk_client.post(
        item_url(),
        post_data(
            "notice", **{"a-name": "<b>陈</b>", "m-1_how": "defective", "m-1_reason": evil, "x-note": evil}
        ),
    )
    case = Case.objects.get()
    for url in (reverse("cases_intake:notice", args=[case.number]), r["Location"]):
        body = clerk_client.get(url).content.decode()
        assert evil not in body and "<b>陈</b>" not in body
        assert "&lt;b&gt;陈&lt;/b&gt;" in body
    pdf = clerk_client.get(reverse("cases_intake:notice_pdf", args=[case.number]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_the_id_check_shows_what_the_platform_can_obtain(clerk_client: Any) -> None:
    r = clerk_client.get(
        reverse("cases_intake:check_id"),
        {"a-id_type": "resident_id", "a-id_number": CITIZEN_ID, "item": "330800-SCJG-01-0001"},
        HTTP_HX_REQUEST="true",
    )
    body = r.content.decode()
    assert r.status_code == 200
    assert 'id="coverage" hx-swap-oob="true"' in body
    assert "食品安全承诺书" in body  # the pledge is covered without the applicant supplying it
    bad = clerk_client.get(
        reverse("cases_intake:check_id"),
        {"a-id_type": "resident_id", "a-id_number": "330803199005120270", "item": "330800-SCJG-01-0001"},
    )
    assert "hx-swap-oob" not in bad.content.decode()
