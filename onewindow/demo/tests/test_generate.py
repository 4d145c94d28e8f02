"""The generated demo catalogue and the demo region data (plain pytest, no database)."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from onewindow.demo import generate

LEVEL_DIGITS = {1: 2, 2: 4, 3: 6, 4: 9, 5: 12}


@pytest.fixture(scope="module")
def catalog() -> dict:
    return generate.generate_catalog(seed=2026)


@pytest.fixture(scope="module")
def items(catalog: dict) -> list[dict]:
    return catalog["items"]


def test_it_is_deterministic_for_a_seed(catalog: dict) -> None:
    assert generate.generate_catalog(seed=2026) == catalog
    assert generate.generate_catalog(seed=7) != catalog


def test_it_uses_the_catalogue_format(catalog: dict) -> None:
    assert catalog["format"] == "onewindow-catalog/1"
    assert set(catalog) == {"format", "items"}


def test_it_generates_about_a_thousand_items(items: list[dict]) -> None:
    assert 980 <= len(items) <= 1050


def test_codes_are_unique_and_well_formed(items: list[dict]) -> None:
    codes = [i["code"] for i in items]
    assert len(codes) == len(set(codes))
    for item in items:
        code = item["code"]
        assert len(code) <= 64
        assert re.fullmatch(r"330800-[A-Z0-9]+-\d{2}-\d{4}", code), code
        assert code.split("-")[1] == item["department"].upper()
        assert code.split("-")[2] == item["item_type"]
        assert int(code.split("-")[3]) >= 1000


def test_every_department_has_at_least_eight_items(items: list[dict]) -> None:
    counts = Counter(i["department"] for i in items)
    for dept in generate.load_departments():
        assert counts[dept["code"]] >= 8, dept["code"]
    assert set(counts) <= {d["code"] for d in generate.load_departments()}


def test_names_are_unique_per_department_and_real_sounding(items: list[dict]) -> None:
    seen = Counter((i["department"], i["name"]) for i in items)
    assert [k for k, n in seen.items() if n > 1] == []
    for item in items:
        assert not re.search(r"\d+$", item["name"]), item["name"]
        assert not re.fullmatch(r"(事项|Item)\s*\d*", item["name"])


def test_every_item_has_an_english_name(items: list[dict]) -> None:
    """English pages show the English name: each template name, subject and verb is translated
    (data/item_names_en.yaml), and every verb template takes its subject."""
    from onewindow.demo.generate import english_names

    missing = [i["name"] for i in items if not i["name_en"].strip()]
    assert not missing, missing[:10]
    assert all(i["name_en"][0].isupper() and "{" not in i["name_en"] for i in items)
    assert all("{s}" in v for v in english_names()["verbs"].values())


def test_limits_are_consistent(items: list[dict]) -> None:
    for item in items:
        assert item["legal_limit"] > 0 and item["promised_limit"] >= 1
        if item["legal_limit_unit"] == item["promised_limit_unit"] == "workday":
            assert item["promised_limit"] <= item["legal_limit"], item["code"]
        if item["case_type"] == "immediate":
            assert item["process_template"] == "immediate"
            assert item["promised_limit_unit"] == "minute"


def test_process_templates_exist_and_fit(items: list[dict]) -> None:
    templates = {t["code"]: t for t in generate.generic_process_templates()}
    for item in items:
        template = templates[item["process_template"]]
        if item["promised_limit_unit"] == "workday":
            total = sum(s["limit_workdays"] for s in template["steps"])
            assert total <= item["promised_limit"], item["code"]


def test_generic_templates_add_up() -> None:
    templates = generate.generic_process_templates()
    codes = [t["code"] for t in templates]
    assert len(codes) == len(set(codes))
    for t in templates:
        total = sum(s["limit_workdays"] for s in t["steps"])
        if t["code"] == "immediate":
            assert total == pytest.approx(0.1)
        else:
            assert total == pytest.approx(int(t["code"].rsplit("-", 1)[1]))
        assert [s["seq"] for s in t["steps"]] == list(range(1, len(t["steps"]) + 1))
        assert t["steps"][-1]["actions"] == ["approve", "refuse"]


def test_items_have_materials_forms_and_outputs(items: list[dict]) -> None:
    codelists = {"01", "05", "06", "07", "08", "10", "20"}
    for item in items:
        assert item["item_type"] in codelists
        assert item["state"] == "active" and item["hand_written"] is False
        assert 2 <= len(item["materials"]) <= 6
        assert len({m["name"] for m in item["materials"]}) == len(item["materials"])
        assert 3 <= len(item["form_schema"]) <= 5
        assert item["legal_basis"].startswith("《")
        assert item["max_visits"] in (0, 1)
        for m in item["materials"]:
            assert re.fullmatch(r"applicant|pledge|exempt|licence:[A-Z0-9]+|data:\w+\.[\w,]+", m["source"])
        if item["result_type"] == "licence":
            assert re.fullmatch(r"[A-Z]+", item["licence_type"])
            assert item["outputs"][0]["licence_type"] == item["licence_type"]
        else:
            assert item["licence_type"] == ""


def test_licence_type_code_is_pinyin_initials() -> None:
    assert generate.licence_type_code("营业执照") == "YYZZ"
    assert generate.licence_type_code("食品生产许可证") == "SPSCXKZ"


def test_item_types_follow_the_verbs() -> None:
    assert generate.infer_item_type("社会团体成立登记") == "07"
    assert generate.infer_item_type("取水许可") == "01"
    assert generate.infer_item_type("临时救助") == "05"
    assert generate.infer_item_type("诊所备案") == "10"
    assert generate.infer_item_type("政府质量奖表彰") == "08"


def test_hand_written_names_are_skipped() -> None:
    first = generate.generate_catalog(seed=2026)["items"][0]
    again = generate.generate_catalog(seed=2026, exclude={(first["department"], first["name"])})
    assert (first["department"], first["name"]) not in {(i["department"], i["name"]) for i in again["items"]}


def test_region_parents_exist() -> None:
    regions = generate.load_regions()
    codes = {r["code"] for r in regions}
    assert len(codes) == len(regions)
    for r in regions:
        assert re.fullmatch(r"\d{12}", r["code"])
        digits = LEVEL_DIGITS[r["level"]]
        assert r["code"][digits:] == "0" * (12 - digits), r
        if r["level"] > 1:
            parent = r["code"][: LEVEL_DIGITS[r["level"] - 1]].ljust(12, "0")
            assert parent in codes, r


def test_demo_regions_are_there() -> None:
    by_name = {r["name"]: r for r in generate.load_regions()}
    assert by_name["廿里镇"]["code"].startswith("330803")
    assert by_name["球川镇"]["code"].startswith("330822")
    assert by_name["黄泥畈村"]["code"].startswith(by_name["廿里镇"]["code"][:9])
    levels = Counter(r["level"] for r in generate.load_regions())
    assert levels[3] == 6
    townships = Counter(r["code"][:6] for r in generate.load_regions() if r["level"] == 4)
    assert min(townships.values()) >= 8


def test_synthetic_villages_are_unique_per_township() -> None:
    regions = generate.load_regions()
    townships = [r for r in regions if r["level"] == 4][:3]
    villages = generate.synthetic_villages(townships, per_township=500, seed=1, existing=regions)
    assert len(villages) == 1500
    assert generate.synthetic_villages(townships, per_township=500, seed=1, existing=regions) == villages
    codes = {r["code"] for r in regions}
    for town in townships:
        mine = [v for v in villages if v["code"][:9] == town["code"][:9]]
        assert len({v["name"] for v in mine}) == 500
        assert all(v["level"] == 5 and v["code"] not in codes for v in mine)
    assert len({v["code"] for v in villages}) == 1500


def test_synthetic_villages_refuse_more_than_the_codes_hold() -> None:
    town = {"code": "330803112000", "name": "廿里镇"}
    with pytest.raises(ValueError):
        generate.synthetic_villages([town], per_township=1000, seed=1)
