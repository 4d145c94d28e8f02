"""Catalogue pages: home, search (full page and htmx partial), item and bundle guides, i18n, escaping."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from onewindow.catalog.models import (
    Bundle,
    BundleMember,
    BundleStage,
    FeeLine,
    ItemOutput,
    ItemState,
    MaterialRequirement,
    ProcessStep,
    ProcessTemplate,
    ServiceItem,
)
from onewindow.catalog.services import bundle_search_text, item_search_text
from onewindow.org.models import Department, Region, RegionLevel

EVIL = "<script>alert('x')</script>"


def make_item(dept: Department, code: str, name: str, **kw) -> ServiceItem:
    fields = {
        "name_en": "",
        "item_type": "01",
        "level": "3",
        "served_party": ["2"],
        "case_type": "promised",
        "legal_limit": 20,
        "legal_limit_unit": "workday",
        "promised_limit": 3,
        "promised_limit_unit": "workday",
        "channels": ["window", "online"],
        "max_visits": 0,
        "result_type": "licence",
        "state": ItemState.ACTIVE,
    }
    fields.update(kw)
    item = ServiceItem(code=code, name=name, department=dept, **fields)
    item.search_text = item_search_text(item)
    item.save()
    return item


@pytest.fixture
def pages_catalog(db) -> dict:
    city = Region.objects.create(code="330800000000", name="衢州市", name_en="Quzhou", level=RegionLevel.CITY)
    dept = Department.objects.create(
        code="qz-scjg",
        name="衢州市市场监督管理局",
        name_en="Quzhou Market Regulation Bureau",
        short_name="市场监管",
        uscc="11330800MB0000001X",
        region=city,
    )
    tpl = ProcessTemplate.objects.create(code="review-decide", name="审查—决定")
    step = ProcessStep.objects.create(
        template=tpl, seq=1, name="审查", limit_workdays=Decimal("1.5"), actions=["approve", "return"]
    )
    step.departments.add(dept)
    ProcessStep.objects.create(
        template=tpl, seq=2, name="决定", limit_workdays=Decimal("1"), actions=["approve"]
    )
    item = make_item(
        dept,
        "330800-SCJG-001",
        "食品经营许可",
        name_en="Food business licence",
        keywords=["开饭店"],
        conditions="申请人应当具有与经营的食品品种相适应的经营场所。",
        legal_basis="《中华人民共和国食品安全法》第三十五条",
        consult_phone="0570-12345",
        process_template=tpl,
        faq=[{"q": "网上可以办吗？", "a": "可以。"}],
    )
    MaterialRequirement.objects.create(
        item=item,
        seq=1,
        name="食品经营许可申请书",
        source="applicant",
        originals=1,
        accept_standard="内容完整、签字齐全",
    )
    MaterialRequirement.objects.create(
        item=item, seq=2, name="营业执照", source="licence:BL01", required=False, condition="已办理营业执照的"
    )
    MaterialRequirement.objects.create(item=item, seq=3, name=EVIL, source="data:population.name")
    MaterialRequirement.objects.create(item=item, seq=4, name="健康证明承诺书", source="pledge")
    ItemOutput.objects.create(item=item, seq=1, name="食品经营许可证", kind="licence", licence_type="FBL")
    paid = make_item(dept, "330800-SCJG-002", "特种设备检验", item_type="20", max_visits=1)
    FeeLine.objects.create(
        item=paid, seq=1, name="检验费", amount=Decimal("120.00"), unit="台", basis="省物价局文件"
    )
    make_item(dept, "330800-SCJG-003", "停用的事项", state=ItemState.RETIRED)

    bundle = Bundle(
        code="open-restaurant",
        name="开餐馆一件事",
        name_en="Opening a restaurant",
        lead_department=dept,
        promised_limit=5,
        promised_limit_unit="workday",
        state=ItemState.ACTIVE,
    )
    bundle.search_text = bundle_search_text(bundle)
    bundle.save()
    st1 = BundleStage.objects.create(bundle=bundle, seq=1, name="准入", limit_workdays=Decimal("3"))
    st2 = BundleStage.objects.create(bundle=bundle, seq=2, name="准营")
    BundleMember.objects.create(bundle=bundle, stage=st1, item_code=item.code)
    BundleMember.objects.create(
        bundle=bundle, stage=st2, item_code=paid.code, optional=True, depends_on=[item.code]
    )
    return {"dept": dept, "item": item, "paid": paid, "bundle": bundle}


@pytest.mark.django_db
def test_home_renders(client, pages_catalog) -> None:
    r = client.get(reverse("home"))
    assert r.status_code == 200
    text = r.content.decode()
    assert "一窗" in text
    assert "开餐馆一件事" in text
    assert reverse("catalog:bundle", args=["open-restaurant"]) in text
    assert 'name="csrfmiddlewaretoken"' in text  # the language switch posts with a token
    assert "core/htmx.min.js" in text


@pytest.mark.django_db
def test_home_shows_roles_of_a_logged_in_user(client, pages_catalog, django_user_model) -> None:
    user = django_user_model.objects.create_user("root", password="pw", is_superuser=True, is_staff=True)
    client.force_login(user)
    text = client.get(reverse("home")).content.decode()
    assert "系统管理员" in text
    assert reverse("admin:index") in text
    assert reverse("logout") in text


@pytest.mark.django_db
def test_it_finds_an_item_by_chinese_name(client, pages_catalog) -> None:
    r = client.get(reverse("catalog:items"), {"q": "食品经营"})
    assert r.status_code == 200
    text = r.content.decode()
    assert "<html" in text
    assert reverse("catalog:item", args=["330800-SCJG-001"]) in text
    assert "特种设备检验" not in text


@pytest.mark.django_db
def test_it_finds_an_item_by_pinyin_initials(client, pages_catalog) -> None:
    r = client.get(reverse("catalog:items"), {"q": "spjyxk"})
    assert "食品经营许可" in r.content.decode()


@pytest.mark.django_db
def test_htmx_search_returns_only_the_partial(client, pages_catalog) -> None:
    r = client.get(reverse("catalog:items"), {"q": "食品"}, HTTP_HX_REQUEST="true")
    text = r.content.decode()
    assert r.status_code == 200
    assert "<html" not in text
    assert "食品经营许可" in text
    assert "HX-Request" in r.headers["Vary"]


@pytest.mark.django_db
def test_catalogue_lists_active_items_with_filters(client, pages_catalog) -> None:
    text = client.get(reverse("catalog:items"), {"department": "qz-scjg"}).content.decode()
    assert "食品经营许可" in text
    assert "特种设备检验" in text
    assert "停用的事项" not in text
    assert "跑零次" in text
    assert "最多跑一次" in text
    assert "窗口办理、网上办理" in text
    assert "开餐馆一件事" in text


@pytest.mark.django_db
def test_item_guide_shows_materials_limits_and_fees(client, pages_catalog) -> None:
    r = client.get(reverse("catalog:item", args=["330800-SCJG-001"]))
    assert r.status_code == 200
    text = r.content.decode()
    for expected in (
        "食品经营许可申请书",
        "营业执照",
        "健康证明承诺书",
        "内容完整、签字齐全",
        "已办理营业执照的",
        "3 个工作日",
        "20 个工作日",
        "不收费",
        "跑零次",
        "申请人提交",
        "电子证照",
        "BL01",
        "数据共享",
        "告知承诺",
        "受理条件",
        "食品安全法",
        "食品经营许可证",
        "网上可以办吗？",
        "0570-12345",
        "审查",
        "衢州市市场监督管理局",
        "1.5 个工作日",
    ):
        assert expected in text, expected

    paid = client.get(reverse("catalog:item", args=["330800-SCJG-002"])).content.decode()
    assert "检验费" in paid
    assert "120.00 元" in paid
    assert "不收费" not in paid


@pytest.mark.django_db
def test_unknown_or_retired_item_is_404(client, pages_catalog) -> None:
    assert client.get(reverse("catalog:item", args=["NO-SUCH-ITEM"])).status_code == 404
    assert client.get(reverse("catalog:item", args=["330800-SCJG-003"])).status_code == 404
    assert client.get(reverse("catalog:bundle", args=["no-such-bundle"])).status_code == 404


@pytest.mark.django_db
def test_bundle_guide_shows_stages_and_members(client, pages_catalog) -> None:
    r = client.get(reverse("catalog:bundle", args=["open-restaurant"]))
    assert r.status_code == 200
    text = r.content.decode()
    assert "准入" in text and "准营" in text
    assert reverse("catalog:item", args=["330800-SCJG-002"]) in text
    assert "5 个工作日" in text
    assert "按需办理" in text


@pytest.mark.django_db
def test_english_page_shows_english_labels(client, pages_catalog) -> None:
    client.cookies["django_language"] = "en"
    text = client.get(reverse("catalog:item", args=["330800-SCJG-001"])).content.decode()
    assert 'lang="en"' in text
    assert "Food business licence" in text
    assert "Quzhou Market Regulation Bureau" in text
    assert "Application materials" in text
    assert "Administrative licensing" in text
    assert "Free of charge" in text
    assert "3 working days" in text
    assert "Zero visits" in text
    assert "不收费" not in text

    home = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Service guides" in home


@pytest.mark.django_db
def test_html_in_catalogue_data_is_escaped(client, pages_catalog) -> None:
    text = client.get(reverse("catalog:item", args=["330800-SCJG-001"])).content.decode()
    assert EVIL not in text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in text


@pytest.mark.django_db
def test_language_switch_sets_the_language(client, pages_catalog) -> None:
    r = client.post(reverse("set_language"), {"language": "en", "next": "/catalog/"})
    assert r.status_code == 302
    assert r.cookies["django_language"].value == "en"
