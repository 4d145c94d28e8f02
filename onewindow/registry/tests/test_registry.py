"""The demo registries: generation, loading and lookup."""

from __future__ import annotations

import datetime
import re
import time
from collections import Counter
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from onewindow.core.models import SystemFlag
from onewindow.core.validators import validate_mobile, validate_resident_id, validate_uscc
from onewindow.demo import personas as P
from onewindow.registry import lookup as L
from onewindow.registry.generate import generate
from onewindow.registry.load import FLAG_KEY, load_registries, registry_counts
from onewindow.registry.models import Enterprise, Person, RealEstateOwner

SMALL = {"people": 800, "enterprises": 150}

# Fields the catalogue's material sources ask for (data:<dataset>.<fields>) and the brief's extras.
REQUIRED_FIELDS = {
    "population": "name id_number sex birth_date ethnicity address region_code household_number phone",
    "household": "household_number members member_name member_id head_id address",
    "birth": "child_name child_id birth_date hospital mother_id father_id certificate_number",
    "marriage": "status spouse_id spouse_name registered_on certificate_number",
    "death": "deceased_id death_date place",
    "enterprise": "uscc name status licence_void_notice legal_rep_id legal_rep_name enterprise_type "
    "registered_capital address established_on business_scope",
    "real_estate": "unit_number owner_id owner address area use price deed_tax_paid certificate_number",
    "social_security": "insured_status unit_name employer_uscc arrears active_insured payment_history "
    "person_id",
    "provident_fund": "account_number balance employer_uscc arrears active_accounts person_id status",
    "qualification": "certificate_number category holder_id qualification_type register_unit valid_to",
    "disability": "certificate_no holder_id category grade",
    "vehicle": "plate_number vehicle_type owner_id",
    "tax_clearance": "uscc status receipt_no",
}
OWNERS = {
    "population": "gongan",
    "household": "gongan",
    "birth": "weijian",
    "marriage": "minzheng",
    "death": "minzheng",
    "disability": "minzheng",
    "enterprise": "scjg",
    "real_estate": "bdc",
    "social_security": "renshe",
    "qualification": "renshe",
    "provident_fund": "gjj",
    "tax_clearance": "shuiwu",
    "vehicle": "gongan",
}
TODAY = datetime.date(2026, 12, 31)


@pytest.fixture(scope="module")
def data() -> dict[str, list[dict[str, Any]]]:
    return generate()


# ------------------------------------------------------------------------------ generation


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data():
    a, b, c = generate(7, **SMALL), generate(7, **SMALL), generate(8, **SMALL)
    assert a == b
    assert a["population"] != c["population"]
    assert a["enterprise"] != c["enterprise"]


def test_sizes(data):
    assert len(data["population"]) >= 5000
    assert len(data["enterprise"]) >= 1000
    for code, rows in data.items():
        assert rows, code


def test_every_id_number_uscc_and_phone_is_valid_and_unique(data):
    ids = [p["id_number"] for p in data["population"]]
    assert len(ids) == len(set(ids))
    for number in ids:
        rid = validate_resident_id(number, today=TODAY)
        assert rid.region_code in {"330802", "330803", "330822", "330824", "330825", "330881"}
        assert datetime.date(1940, 1, 1) <= rid.birth_date <= datetime.date(2025, 12, 31)
    people = {p["id_number"]: p for p in data["population"]}
    assert all(validate_resident_id(n).sex == p["sex"] for n, p in people.items())
    usccs = [e["uscc"] for e in data["enterprise"]]
    assert len(usccs) == len(set(usccs))
    for code in usccs:
        assert validate_uscc(code) == code and code.startswith("91")
    phones = [p["phone"] for p in data["population"] if p["phone"]]
    assert len(phones) == len(set(phones))
    for phone in phones:
        validate_mobile(phone)


def test_every_reference_to_a_person_or_enterprise_resolves(data):
    people = {p["id_number"]: p for p in data["population"]}
    usccs = {e["uscc"] for e in data["enterprise"]}
    for e in data["enterprise"]:
        rep = people[e["legal_rep_id"]]
        assert rep["name"] == e["legal_rep_name"]
        assert rep["birth_date"] <= datetime.date(2026, 10, 31).replace(year=2026 - 18)
    refs = [
        ("household", "head_id"),
        ("birth", "child_id"),
        ("marriage", "husband_id"),
        ("marriage", "wife_id"),
        ("death", "deceased_id"),
        ("social_security", "person_id"),
        ("provident_fund", "person_id"),
        ("qualification", "holder_id"),
        ("disability", "holder_id"),
    ]
    for dataset, key in refs:
        for row in data[dataset]:
            assert row[key] in people, (dataset, key, row[key])
    for row in data["birth"]:
        for parent in (row["mother_id"], row["father_id"]):
            assert not parent or parent in people
    for row in data["social_security"] + data["provident_fund"]:
        assert not row["employer_uscc"] or row["employer_uscc"] in usccs
    for unit in data["real_estate"]:
        assert unit["owners"]
        assert all(o["owner_id"] in people or o["owner_id"] in usccs for o in unit["owners"])
    for v in data["vehicle"]:
        assert v["owner_id"] in people or v["owner_id"] in usccs


def test_the_data_is_plausible(data):
    people = {p["id_number"]: p for p in data["population"]}
    names = Counter(p["name"] for p in data["population"])
    assert len(names) > 0.7 * len(people)
    assert not any(re.search(r"\d", n) for n in names)
    assert all(2 <= len(n) <= 4 for n in names)
    sizes = Counter(p["household_number"] for p in data["population"] if p["household_number"])
    assert set(sizes.values()) == {2, 3, 4, 5}
    assert {h["household_number"] for h in data["household"]} == set(sizes)
    for m in data["marriage"]:
        h, w = people[m["husband_id"]], people[m["wife_id"]]
        assert (h["sex"], w["sex"]) == ("M", "F")
        assert m["registered_on"] >= h["birth_date"].replace(year=h["birth_date"].year + 22, day=1)
    dead = {d["deceased_id"] for d in data["death"]}
    assert all((people[n]["status"] == "死亡注销") == (n in dead) for n in people)
    statuses = Counter(e["status"] for e in data["enterprise"])
    assert statuses["存续"] > 0.8 * len(data["enterprise"]) and statuses["注销"] and statuses["吊销"]
    for unit in data["real_estate"]:
        assert re.fullmatch(r"\d{12}(GB|JC)\d{5}F\d{8}", unit["unit_number"]), unit["unit_number"]
    assert all(re.fullmatch(r"浙H[0-9A-Z]{5,6}", v["plate_number"]) for v in data["vehicle"])
    for d in data["disability"]:
        assert d["certificate_no"][:18] == d["holder_id"] and len(d["certificate_no"]) == 20
    for row in data["social_security"]:
        assert re.fullmatch(r"[01]{12}", row["payment_history"]), row


def test_the_personas_are_in_every_registry_they_need(data):
    people = {p["id_number"]: p for p in data["population"]}
    citizen = people[P.CITIZEN_ID]
    assert (citizen["name"], citizen["phone"], citizen["sex"]) == (P.CITIZEN_NAME, P.CITIZEN_PHONE, "M")
    assert citizen["household_number"]
    rep = people[P.COMPANY_REP_ID]
    assert rep["name"] == P.COMPANY_REP_NAME
    assert [m for m in data["marriage"] if m["husband_id"] == P.CITIZEN_ID]
    assert [s for s in data["social_security"] if s["person_id"] == P.CITIZEN_ID]
    assert [f for f in data["provident_fund"] if f["person_id"] == P.CITIZEN_ID]
    assert [q for q in data["qualification"] if q["holder_id"] == P.CITIZEN_ID]
    assert [u for u in data["real_estate"] if P.CITIZEN_ID in {o["owner_id"] for o in u["owners"]}]
    (company,) = [e for e in data["enterprise"] if e["uscc"] == P.COMPANY_USCC]
    assert (company["name"], company["legal_rep_id"], company["legal_rep_name"], company["status"]) == (
        P.COMPANY_NAME,
        P.COMPANY_REP_ID,
        P.COMPANY_REP_NAME,
        "存续",
    )
    employees = [s for s in data["social_security"] if s["employer_uscc"] == P.COMPANY_USCC]
    assert len(employees) >= 3
    assert [t for t in data["tax_clearance"] if t["uscc"] == P.COMPANY_USCC][0]["status"] == "已清税"


# ------------------------------------------------------------------------------ datasets.yaml


def test_the_dataset_catalogue_names_every_field_and_a_real_owner():
    import yaml

    from onewindow.demo.load import DATA

    departments = {d["code"] for d in yaml.safe_load((DATA / "departments.yaml").read_text(encoding="utf-8"))}
    specs = L.dataset_specs()
    assert set(specs) == set(REQUIRED_FIELDS)
    for code, spec in specs.items():
        assert spec["owner"] == OWNERS[code] and spec["owner"] in departments
        assert spec["subject"] in {"id_number", "uscc", "unit_number", "household_number"}
        assert set(REQUIRED_FIELDS[code].split()) <= set(spec["fields"]), code
        assert spec["name"]["zh"] and spec["name"]["en"]
        for name, field in spec["fields"].items():
            assert field["zh"] and field["en"] and field["sensitivity"] in (1, 2, 3, 4), (code, name)
        consent_fields = [f for f, v in spec["fields"].items() if v.get("consent")]
        assert bool(consent_fields) == spec["needs_consent"], code
    assert L.needs_consent("marriage", ["status"])
    assert L.needs_consent("provident_fund", ["balance"])
    assert not L.needs_consent("provident_fund", ["employer_uscc", "arrears", "active_accounts"])
    assert L.needs_consent("social_security", ["payment_history"])
    assert L.needs_consent("real_estate", ["price"]) and not L.needs_consent("real_estate", ["unit_number"])


def test_every_material_source_of_the_demo_catalogue_names_a_known_dataset_and_field():
    from onewindow.demo.load import demo_catalog

    specs = L.dataset_specs()
    sources = set()
    for item in demo_catalog()["items"]:
        for material in item.get("materials") or []:
            source = material.get("source") or ""
            if source.startswith("data:"):
                sources.add(source)
    assert sources
    for source in sorted(sources):
        dataset, _, fields = source.removeprefix("data:").partition(".")
        assert dataset in specs, source
        for f in filter(None, (f.strip() for f in fields.split(","))):
            assert f in specs[dataset]["fields"], source


# ------------------------------------------------------------------------------ load


@pytest.mark.django_db
def test_load_is_idempotent_and_a_new_seed_replaces_the_data():
    first = load_registries(seed=11, **SMALL)
    assert first == registry_counts()
    assert first["population"] >= 800 and first["enterprise"] == 150
    flag = SystemFlag.objects.get(key=FLAG_KEY).value
    ids = list(Person.objects.order_by("id").values_list("id", flat=True)[:5])
    assert load_registries(seed=11, **SMALL) == first
    assert registry_counts() == first
    assert SystemFlag.objects.get(key=FLAG_KEY).value == flag
    assert list(Person.objects.order_by("id").values_list("id", flat=True)[:5]) == ids
    other = load_registries(seed=12, **SMALL)
    assert other == registry_counts()
    assert Enterprise.objects.count() == 150
    assert SystemFlag.objects.get(key=FLAG_KEY).value != flag


@pytest.mark.django_db
def test_the_default_load_is_fast_and_complete():
    started = time.perf_counter()
    counts = load_registries()
    elapsed = time.perf_counter() - started
    assert elapsed < 20, elapsed
    assert counts["population"] >= 5000 and counts["enterprise"] >= 1000
    assert counts == registry_counts()
    assert RealEstateOwner.objects.filter(owner_id=P.CITIZEN_ID).exists()
    # Legal representatives are people of the population register.
    reps = set(Enterprise.objects.values_list("legal_rep_id", flat=True))
    assert reps <= set(Person.objects.values_list("id_number", flat=True))
    started = time.perf_counter()
    assert load_registries() == counts
    assert time.perf_counter() - started < 1


# ------------------------------------------------------------------------------ lookup


@pytest.fixture
def loaded(db: Any) -> dict[str, int]:
    return load_registries(seed=2026, **SMALL)


def _subject(dataset: str) -> str:
    return {
        "population": P.CITIZEN_ID,
        "household": P.CITIZEN_ID,
        "birth": Person.objects.get(name="陈梓轩").id_number,
        "marriage": P.CITIZEN_ID,
        "death": _first("death", "deceased_id"),
        "enterprise": P.COMPANY_USCC,
        "real_estate": P.CITIZEN_ID,
        "social_security": P.CITIZEN_ID,
        "provident_fund": P.CITIZEN_ID,
        "qualification": P.CITIZEN_ID,
        "disability": _first("disability", "holder_id"),
        "vehicle": P.CITIZEN_ID,
        "tax_clearance": P.COMPANY_USCC,
    }[dataset]


def _first(dataset: str, key: str) -> str:
    from onewindow.registry.models import REGISTRY_MODELS

    return REGISTRY_MODELS[dataset].objects.order_by("id").values_list(key, flat=True).first()


def test_lookup_returns_exactly_the_requested_fields_of_every_dataset(loaded):
    for dataset, spec in L.dataset_specs().items():
        subject = _subject(dataset)
        everything = list(spec["fields"])
        with CaptureQueriesContext(connection) as queries:
            result = L.lookup(dataset, subject, everything)
        assert result is not None, dataset
        assert list(result) == everything
        assert 1 <= len(queries) <= 3, (dataset, len(queries))
        for name in everything:
            one = L.lookup(dataset, subject, [name])
            if name == "records":  # alone, each record shows only its key
                key = spec["record_key"]
                assert one == {name: [{key: r[key]} for r in result[name]]}
            else:
                assert one == {name: result[name]}, (dataset, name)


def test_lookup_of_the_personas(loaded):
    assert L.lookup("population", P.CITIZEN_ID, ["name", "id_number"]) == {
        "name": P.CITIZEN_NAME,
        "id_number": P.CITIZEN_ID,
    }
    household = L.lookup("household", P.CITIZEN_ID, ["household_number", "members", "member_id", "relation"])
    assert household is not None
    assert {"name": P.CITIZEN_NAME, "id_number": P.CITIZEN_ID} in household["members"]
    assert len(household["members"]) == 3 and household["member_id"] == P.CITIZEN_ID
    assert household["relation"] == "户主"
    assert L.lookup("household", household["household_number"], ["member_id"]) == {"member_id": P.CITIZEN_ID}
    marriage = L.lookup("marriage", P.CITIZEN_ID, ["status", "spouse_id", "spouse_name"])
    assert marriage == {"status": "已婚", "spouse_id": marriage["spouse_id"], "spouse_name": "徐婷"}
    assert L.lookup("marriage", marriage["spouse_id"], ["spouse_id"]) == {"spouse_id": P.CITIZEN_ID}
    company = L.lookup("enterprise", P.COMPANY_USCC, ["name", "status", "legal_rep_id", "legal_rep_name"])
    assert company == {
        "name": P.COMPANY_NAME,
        "status": "存续",
        "legal_rep_id": P.COMPANY_REP_ID,
        "legal_rep_name": P.COMPANY_REP_NAME,
    }
    employer = L.lookup("social_security", P.COMPANY_USCC, ["employer_uscc", "arrears", "active_insured"])
    assert employer["employer_uscc"] == P.COMPANY_USCC and employer["active_insured"] >= 3
    assert employer["arrears"] == "0.00"
    insured = L.lookup("social_security", P.CITIZEN_ID, ["insured_status", "unit_name", "payment_history"])
    assert insured["insured_status"] == "参保缴费" and insured["unit_name"] == P.COMPANY_NAME
    assert insured["payment_history"]["months_paid"] == 12
    fund = L.lookup("provident_fund", P.CITIZEN_ID, ["account_number", "balance", "status"])
    assert fund["status"] == "正常" and float(fund["balance"]) > 0
    home = L.lookup("real_estate", P.CITIZEN_ID, ["unit_number", "owner_id", "address", "price", "records"])
    assert home["owner_id"] == P.CITIZEN_ID and len(home["unit_number"]) == 28
    assert home["records"][0] == {k: home[k] for k in ("unit_number", "owner_id", "address", "price")}
    by_unit = L.lookup("real_estate", home["unit_number"], ["owner", "co_owners"])
    assert by_unit["owner"].startswith(P.CITIZEN_NAME)
    assert L.lookup("real_estate", home["unit_number"], ["records"])["records"] == [
        {"unit_number": home["unit_number"]}
    ]
    qual = L.lookup("qualification", P.CITIZEN_ID, ["holder_id", "qualification_type", "register_unit"])
    assert qual["holder_id"] == P.CITIZEN_ID and qual["register_unit"] == P.COMPANY_NAME
    assert L.lookup("tax_clearance", P.COMPANY_USCC, ["uscc", "status"]) == {
        "uscc": P.COMPANY_USCC,
        "status": "已清税",
    }
    car = L.lookup("vehicle", P.CITIZEN_ID, ["plate_number", "vehicle_type"])
    assert car["plate_number"].startswith("浙H")
    assert L.lookup("vehicle", car["plate_number"], ["owner_id"]) == {"owner_id": P.CITIZEN_ID}


def test_lookup_of_an_unknown_subject_is_none(loaded):
    stranger = "110101199003074514"  # valid, but not a resident of the demo city
    for dataset, spec in L.dataset_specs().items():
        key = "uscc" if spec["subject"] == "uscc" else "id_number"
        subject = "91110000MA0000000X" if key == "uscc" else stranger
        assert L.lookup(dataset, subject, list(spec["fields"])[:1]) is None, dataset
        assert L.lookup(dataset, "", list(spec["fields"])[:1]) is None
    # A person the marriage registry has no record of is unmarried (the population register knows him).
    single = Person.objects.filter(birth_date__year__gte=2010).values_list("id_number", flat=True).first()
    assert L.lookup("marriage", single, ["status", "spouse_id"]) == {"status": "未婚", "spouse_id": None}


def test_lookup_rejects_an_unknown_dataset_or_field(loaded):
    with pytest.raises(ValueError, match="unknown dataset"):
        L.lookup("nowhere", P.CITIZEN_ID, ["owner"])
    with pytest.raises(ValueError, match="unknown field"):
        L.lookup("population", P.CITIZEN_ID, ["name", "salary"])
    with pytest.raises(ValueError, match="unknown field"):
        L.needs_consent("marriage", ["status", "salary"])
    with pytest.raises(TypeError):
        L.lookup("population", P.CITIZEN_ID, "name")  # type: ignore[arg-type]


def test_lookup_values_are_json_ready(loaded):
    import json

    for dataset, spec in L.dataset_specs().items():
        result = L.lookup(dataset, _subject(dataset), list(spec["fields"]))
        json.dumps(result, ensure_ascii=False)
    assert L.lookup("population", P.CITIZEN_ID, ["birth_date"]) == {"birth_date": "1990-05-12"}


# ------------------------------------------------------------------------------ admin


def test_the_admin_is_read_only_and_masks_id_numbers_and_phones(loaded, admin_client):
    from django.urls import reverse

    from onewindow.core.validators import mask_id, mask_phone
    from onewindow.registry.models import REGISTRY_MODELS

    for code, model in REGISTRY_MODELS.items():
        if code == "real_estate_owner":
            continue
        changelist = reverse(f"admin:registry_{model._meta.model_name}_changelist")
        response = admin_client.get(changelist)
        assert response.status_code == 200, code
        obj = model.objects.order_by("id").first()
        response = admin_client.get(reverse(f"admin:registry_{model._meta.model_name}_change", args=[obj.pk]))
        assert response.status_code == 200, code
        assert admin_client.get(reverse(f"admin:registry_{model._meta.model_name}_add")).status_code == 403
    citizen = Person.objects.get(id_number=P.CITIZEN_ID)
    page = admin_client.get(reverse("admin:registry_person_change", args=[citizen.pk])).content.decode()
    assert P.CITIZEN_ID not in page and P.CITIZEN_PHONE not in page
    assert mask_id(P.CITIZEN_ID) in page and mask_phone(P.CITIZEN_PHONE) in page
    found = admin_client.get(
        reverse("admin:registry_person_changelist"), {"q": P.CITIZEN_ID}
    ).content.decode()
    assert P.CITIZEN_NAME in found and mask_id(P.CITIZEN_ID) in found
    # The number only appears where the page echoes the query (search box, links keeping the query).
    assert P.CITIZEN_ID not in re.sub(r'(q=|q%3D|value=")' + P.CITIZEN_ID, "", found)
    response = admin_client.post(
        reverse("admin:registry_person_change", args=[citizen.pk]), {"name": "someone else"}
    )
    assert response.status_code == 403
    citizen.refresh_from_db()
    assert citizen.name == P.CITIZEN_NAME


def test_exists_agrees_with_lookup_for_known_and_unknown_subjects(loaded):
    unit = L.lookup("real_estate", P.CITIZEN_ID, ["unit_number"])["unit_number"]
    for dataset, spec in L.dataset_specs().items():
        key = next(iter(spec["fields"]))
        for subject in (_subject(dataset), "11010519491231002X", "91350100M000100Y43"):
            assert L.exists(dataset, subject) is (L.lookup(dataset, subject, [key]) is not None), (
                dataset,
                subject,
            )
    assert L.exists("real_estate", unit) is True
    assert L.exists("population", "") is False
    with pytest.raises(ValueError):
        L.exists("nope", P.CITIZEN_ID)
