"""Catalogue import and export (docs/catalog-format.md)."""

from __future__ import annotations

import copy
import io
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from onewindow.audit.models import AuditEntry
from onewindow.catalog.importexport import (
    CatalogImportError,
    ImportIssue,
    export_catalog,
    export_xlsx,
    export_yaml,
    import_catalog,
    read_xlsx,
    read_yaml,
)
from onewindow.catalog.models import (
    Bundle,
    BundleMember,
    BundleStage,
    FeeLine,
    ItemOutput,
    MaterialRequirement,
    ProcessStep,
    ProcessTemplate,
    ServiceItem,
)
from onewindow.catalog.tests.conftest import FOOD_ITEM, GONGAN_ITEM, SCJG_ITEM

pytestmark = pytest.mark.django_db

_MODELS = (
    ProcessTemplate,
    ProcessStep,
    ServiceItem,
    MaterialRequirement,
    ItemOutput,
    FeeLine,
    Bundle,
    BundleStage,
    BundleMember,
    AuditEntry,
)

# Row numbers in messages are spreadsheet rows (header = 1). For the YAML shape they follow the
# entries' order in the file: items SCJG v1 = 2, SCJG v2 = 3, GONGAN = 4, FOOD = 5; materials
# SCJG v1 = 2, SCJG v2 = 3..6, GONGAN = 7, FOOD = 8; outputs 2, 3; fees (GONGAN) 2, 3; process
# steps 2, 3 (review-decide-5), 4 (immediate); bundle stages 2, 3; bundle members 2, 3.
# The Excel export sorts items by code, so there GONGAN = 2, SCJG v1 = 3, SCJG v2 = 4, FOOD = 5.


def _counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in _MODELS}


def _wipe_catalogue() -> None:
    BundleMember.objects.all().delete()
    Bundle.objects.all().delete()
    ServiceItem.objects.all().delete()
    ProcessTemplate.objects.all().delete()


def _refused(data: dict[str, Any]) -> list[ImportIssue]:
    before = _counts()
    with pytest.raises(CatalogImportError) as exc_info:
        import_catalog(data, actor="tester", source="bad.yaml")
    assert _counts() == before
    return exc_info.value.issues


def _where(issues: list[ImportIssue]) -> set[tuple[str, int, str]]:
    return {(i.sheet, i.row, i.column) for i in issues}


def _items(data: dict[str, Any]) -> list[dict[str, Any]]:
    return data["items"]


def _bundle(data: dict[str, Any]) -> dict[str, Any]:
    return data["bundles"][0]


# -- round trips -----------------------------------------------------------------------------------


def test_it_round_trips_yaml(catalogue: dict[str, Any], tmp_path: Path) -> None:
    import_catalog(catalogue, actor="tester")
    first = export_catalog()
    export_yaml(tmp_path / "catalogue.yaml")
    _wipe_catalogue()

    result = import_catalog(read_yaml(tmp_path / "catalogue.yaml"), actor="tester", source="catalogue.yaml")

    assert export_catalog() == first
    export_yaml(tmp_path / "again.yaml")
    assert (tmp_path / "again.yaml").read_text(encoding="utf-8") == (tmp_path / "catalogue.yaml").read_text(
        encoding="utf-8"
    )
    assert (result.templates, result.items, result.bundles, result.created, result.updated) == (2, 4, 1, 7, 0)


def test_it_round_trips_excel(catalogue: dict[str, Any], tmp_path: Path) -> None:
    import_catalog(catalogue, actor="tester")
    first = export_catalog()
    export_xlsx(tmp_path / "catalogue.xlsx")
    _wipe_catalogue()

    import_catalog(read_xlsx(tmp_path / "catalogue.xlsx"), actor="tester", source="catalogue.xlsx")

    assert export_catalog() == first


def test_it_round_trips_through_streams(catalogue: dict[str, Any]) -> None:
    import_catalog(catalogue, actor="tester")
    first = export_catalog()
    text, binary = io.StringIO(), io.BytesIO()
    export_yaml(text)
    export_xlsx(binary)

    assert read_yaml(io.StringIO(text.getvalue())) == first
    binary.seek(0)
    assert read_xlsx(binary) == first


def test_it_exports_in_a_stable_order_with_plain_numbers(catalogue: dict[str, Any]) -> None:
    import_catalog(catalogue, actor="tester")

    data = export_catalog()

    assert [t["code"] for t in data["process_templates"]] == ["immediate", "review-decide-5"]
    assert [(i["code"], i["version"]) for i in data["items"]] == [
        (GONGAN_ITEM, 1),
        (SCJG_ITEM, 1),
        (SCJG_ITEM, 2),
        (FOOD_ITEM, 1),
    ]
    steps = data["process_templates"][1]["steps"]
    assert [s["limit_workdays"] for s in steps] == [3, 1.5]
    assert isinstance(steps[0]["limit_workdays"], int)
    assert [f["amount"] for f in data["items"][0]["fees"]] == [120, 12.5]
    assert [s["limit_workdays"] for s in data["bundles"][0]["stages"]] == [0.5, None]
    assert steps[1]["departments"] == ["gongan", "scjg"]


def test_it_writes_a_readable_workbook(catalogue: dict[str, Any], tmp_path: Path) -> None:
    import_catalog(catalogue, actor="tester")
    export_xlsx(tmp_path / "c.xlsx")

    wb = load_workbook(tmp_path / "c.xlsx")

    assert wb.sheetnames == [
        "items",
        "materials",
        "outputs",
        "fees",
        "process_templates",
        "process_steps",
        "bundles",
        "bundle_stages",
        "bundle_members",
    ]
    ws = wb["items"]
    header = [c.value for c in ws[1]]
    assert header[:3] == ["code", "version", "name"]
    assert ws["A1"].font.bold is True
    assert ws.freeze_panes == "A2"
    row = {h: c.value for h, c in zip(header, ws[4], strict=True)}
    assert row["code"] == SCJG_ITEM and row["version"] == 2
    assert row["keywords"] == '["开公司", "注册公司", "营业执照"]'
    assert row["item_type"] == "07"
    assert json.loads(row["form_schema"])[0]["name"] == "company_name"
    assert [c.value for c in wb["materials"][1]][:3] == ["item_code", "item_version", "seq"]


# -- success: counts, audit, upsert, versions --------------------------------------------------------


def test_it_writes_one_audit_entry(catalogue: dict[str, Any]) -> None:
    result = import_catalog(catalogue, actor="tester", source="/tmp/quzhou.yaml")

    entries = list(AuditEntry.objects.filter(action="catalog.import"))
    assert len(entries) == 1
    assert AuditEntry.objects.count() == 1
    entry = entries[0]
    assert entry.actor == "tester"
    assert entry.object_id == "quzhou.yaml"
    assert entry.data["source"] == "/tmp/quzhou.yaml"
    assert (entry.data["items"], entry.data["templates"], entry.data["bundles"]) == (4, 2, 1)
    assert (entry.data["created"], entry.data["updated"]) == (result.created, result.updated) == (7, 0)


def test_it_fills_children_and_search_text(catalogue: dict[str, Any]) -> None:
    import_catalog(catalogue, actor="tester")

    item = ServiceItem.objects.get(code=SCJG_ITEM, version=2)
    assert item.department.code == "scjg"
    assert item.process_template.code == "review-decide-5"
    assert [m.source for m in item.materials.order_by("seq")] == [
        "applicant",
        "licence:JMSFZ",
        "data:real_estate.owner,address",
        "pledge",
    ]
    assert "qysldj" in item.search_text
    assert "市场监管" in item.search_text
    step = ProcessStep.objects.get(template__code="review-decide-5", seq=2)
    assert sorted(d.code for d in step.departments.all()) == ["gongan", "scjg"]
    bundle = Bundle.objects.get(code="business-startup")
    assert "qykbyjs" in bundle.search_text
    member = BundleMember.objects.get(item_code=GONGAN_ITEM)
    assert (member.stage.seq, member.depends_on) == (2, [SCJG_ITEM])


def test_it_updates_what_is_in_the_file_and_leaves_the_rest(catalogue: dict[str, Any]) -> None:
    import_catalog(catalogue, actor="tester")
    food_id = ServiceItem.objects.get(code=FOOD_ITEM).pk
    v2_id = ServiceItem.objects.get(code=SCJG_ITEM, version=2).pk
    changed = copy.deepcopy(catalogue)
    changed["items"] = [changed["items"][1]]
    changed["items"][0]["name"] = "企业设立登记（新）"
    changed["items"][0]["materials"] = changed["items"][0]["materials"][:2]
    changed["process_templates"] = []
    changed["bundles"] = []

    result = import_catalog(changed, actor="tester")

    assert (result.items, result.created, result.updated) == (1, 0, 1)
    item = ServiceItem.objects.get(code=SCJG_ITEM, version=2)
    assert item.pk == v2_id
    assert item.name == "企业设立登记（新）"
    assert item.materials.count() == 2
    assert ServiceItem.objects.get(code=FOOD_ITEM).pk == food_id
    assert ServiceItem.objects.count() == 4
    assert Bundle.objects.count() == 1
    assert BundleMember.objects.count() == 2


def test_it_retires_the_active_version_a_new_active_version_replaces(catalogue: dict[str, Any]) -> None:
    v1 = copy.deepcopy(catalogue["items"][0])
    v1["state"] = "active"
    import_catalog({"process_templates": catalogue["process_templates"], "items": [v1]}, actor="tester")
    v2 = copy.deepcopy(catalogue["items"][1])

    import_catalog({"items": [v2]}, actor="tester", source="v2.yaml")

    states = dict(ServiceItem.objects.filter(code=SCJG_ITEM).values_list("version", "state"))
    assert states == {1: "retired", 2: "active"}
    entry = AuditEntry.objects.filter(action="catalog.import").last()
    assert entry.data["retired"] == [f"{SCJG_ITEM}@1"]


def test_it_accepts_bundle_members_already_in_the_catalogue(catalogue: dict[str, Any]) -> None:
    import_catalog(catalogue, actor="tester")
    only_bundle = {"bundles": catalogue["bundles"]}
    _bundle(only_bundle)["name"] = "开办企业一件事"

    result = import_catalog(only_bundle, actor="tester")

    assert (result.bundles, result.updated) == (1, 1)
    assert Bundle.objects.get().name == "开办企业一件事"
    assert BundleStage.objects.count() == 2
    assert BundleMember.objects.count() == 2


# -- refusals ----------------------------------------------------------------------------------------

Mutation = Callable[[dict[str, Any]], None]


def _set(path: list[Any], value: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        target: Any = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def _append_copy(path: list[Any], index: int, **changes: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        target: Any = data
        for key in path:
            target = target[key]
        target.append({**copy.deepcopy(target[index]), **changes})

    return mutate


BAD_INPUTS: list[tuple[str, Mutation, tuple[str, int, str]]] = [
    ("unknown column", _set(["items", 2, "colour"], "red"), ("items", 4, "colour")),
    (
        "unknown column in a child",
        _set(["items", 1, "materials", 0, "colour"], "red"),
        ("materials", 3, "colour"),
    ),
    ("missing name", _set(["items", 0, "name"], ""), ("items", 2, "name")),
    ("missing state", _set(["items", 3, "state"], None), ("items", 5, "state")),
    ("missing material source", _set(["items", 3, "materials", 0, "source"], ""), ("materials", 8, "source")),
    ("missing seq", _set(["items", 2, "fees", 1, "seq"], None), ("fees", 3, "seq")),
    (
        "missing lead department",
        _set(["bundles", 0, "lead_department"], ""),
        ("bundles", 2, "lead_department"),
    ),
    ("unknown department", _set(["items", 3, "department"], "xyz"), ("items", 5, "department")),
    (
        "unknown step department",
        _set(["process_templates", 0, "steps", 1, "departments"], ["nope"]),
        ("process_steps", 3, "departments"),
    ),
    (
        "unknown lead department",
        _set(["bundles", 0, "lead_department"], "nope"),
        ("bundles", 2, "lead_department"),
    ),
    ("unknown template", _set(["items", 1, "process_template"], "nope"), ("items", 3, "process_template")),
    ("unknown item_type", _set(["items", 0, "item_type"], "99"), ("items", 2, "item_type")),
    ("unknown level", _set(["items", 0, "level"], "9"), ("items", 2, "level")),
    ("unknown served_party", _set(["items", 2, "served_party"], ["2", "7"]), ("items", 4, "served_party")),
    ("unknown channel", _set(["items", 1, "channels"], ["window", "fax"]), ("items", 3, "channels")),
    ("unknown case_type", _set(["items", 1, "case_type"], "later"), ("items", 3, "case_type")),
    ("unknown legal unit", _set(["items", 1, "legal_limit_unit"], "week"), ("items", 3, "legal_limit_unit")),
    (
        "unknown promised unit",
        _set(["items", 1, "promised_limit_unit"], "hour"),
        ("items", 3, "promised_limit_unit"),
    ),
    ("unknown handle_scope", _set(["items", 1, "handle_scope"], "world"), ("items", 3, "handle_scope")),
    ("unknown result_type", _set(["items", 1, "result_type"], "cert"), ("items", 3, "result_type")),
    ("unknown state", _set(["items", 1, "state"], "live"), ("items", 3, "state")),
    ("unknown material form", _set(["items", 1, "materials", 0, "form"], "fax"), ("materials", 3, "form")),
    ("unknown output kind", _set(["items", 2, "outputs", 0, "kind"], "stamp"), ("outputs", 3, "kind")),
    ("unknown bundle state", _set(["bundles", 0, "state"], "on"), ("bundles", 2, "state")),
    (
        "unknown step action",
        _set(["process_templates", 1, "steps", 0, "actions"], ["stamp"]),
        ("process_steps", 4, "actions"),
    ),
    (
        "source without kind",
        _set(["items", 1, "materials", 1, "source"], "upload"),
        ("materials", 4, "source"),
    ),
    (
        "licence in lower case",
        _set(["items", 1, "materials", 1, "source"], "licence:yyzz"),
        ("materials", 4, "source"),
    ),
    (
        "data without field",
        _set(["items", 1, "materials", 2, "source"], "data:real_estate"),
        ("materials", 5, "source"),
    ),
    (
        "data of unknown dataset",
        _set(["items", 1, "materials", 2, "source"], "data:nowhere.owner"),
        ("materials", 5, "source"),
    ),
    (
        "data with empty field",
        _set(["items", 1, "materials", 2, "source"], "data:real_estate.owner,"),
        ("materials", 5, "source"),
    ),
    ("duplicate item version", _append_copy(["items"], 3), ("items", 6, "version")),
    (
        "duplicate template",
        _set(["process_templates", 1, "code"], "review-decide-5"),
        ("process_templates", 3, "code"),
    ),
    ("duplicate bundle", _append_copy(["bundles"], 0, stages=[]), ("bundles", 3, "code")),
    ("duplicate material seq", _set(["items", 1, "materials", 1, "seq"], 1), ("materials", 4, "seq")),
    ("duplicate fee seq", _set(["items", 2, "fees", 1, "seq"], 1), ("fees", 3, "seq")),
    ("duplicate step seq", _set(["process_templates", 0, "steps", 1, "seq"], 1), ("process_steps", 3, "seq")),
    ("duplicate stage seq", _set(["bundles", 0, "stages", 1, "seq"], 1), ("bundle_stages", 3, "seq")),
    ("promised over legal", _set(["items", 3, "promised_limit"], 21), ("items", 5, "promised_limit")),
    ("visits without reason", _set(["items", 2, "visits_reason"], ""), ("items", 4, "visits_reason")),
    ("two active versions", _set(["items", 0, "state"], "active"), ("items", 3, "state")),
    (
        "member not in file or db",
        _set(["bundles", 0, "stages", 1, "members", 0, "item"], "330800-SCJG-09-0009"),
        ("bundle_members", 3, "item"),
    ),
    (
        "duplicate member",
        _set(["bundles", 0, "stages", 1, "members", 0, "item"], SCJG_ITEM),
        ("bundle_members", 3, "item"),
    ),
    (
        "depends on a non-member",
        _set(["bundles", 0, "stages", 1, "members", 0, "depends_on"], [FOOD_ITEM]),
        ("bundle_members", 3, "depends_on"),
    ),
    (
        "depends on itself",
        _set(["bundles", 0, "stages", 0, "members", 0, "depends_on"], [SCJG_ITEM]),
        ("bundle_members", 2, "depends_on"),
    ),
    (
        "maps_to a non-member",
        _set(["bundles", 0, "form_schema", 0, "maps_to"], [f"{FOOD_ITEM}.company_name"]),
        ("bundles", 2, "form_schema"),
    ),
    (
        "maps_to an unknown field",
        _set(["bundles", 0, "form_schema", 0, "maps_to"], [f"{GONGAN_ITEM}.capital"]),
        ("bundles", 2, "form_schema"),
    ),
    (
        "form field without label",
        _set(["items", 1, "form_schema", 0, "label_zh"], ""),
        ("items", 3, "form_schema"),
    ),
    (
        "form field without name",
        _set(["items", 2, "form_schema", 0], {"label_zh": "名称", "type": "text"}),
        ("items", 4, "form_schema"),
    ),
    (
        "form field without type",
        _set(["items", 1, "form_schema", 1, "type"], None),
        ("items", 3, "form_schema"),
    ),
    (
        "form field of unknown type",
        _set(["items", 1, "form_schema", 1, "type"], "money"),
        ("items", 3, "form_schema"),
    ),
    (
        "bundle form field without type",
        _set(["bundles", 0, "form_schema", 0, "type"], "colour"),
        ("bundles", 2, "form_schema"),
    ),
    ("lower-case item code", _set(["items", 3, "code"], "330800-scjg-01-0002"), ("items", 5, "code")),
    ("item code of no province", _set(["items", 3, "code"], "990800-SCJG-01-0002"), ("items", 5, "code")),
    ("item code too long", _set(["items", 3, "code"], "330800-" + "A" * 60), ("items", 5, "code")),
    ("bad template code", _set(["process_templates", 1, "code"], "即办"), ("process_templates", 3, "code")),
    ("not a number", _set(["items", 1, "legal_limit"], "three"), ("items", 3, "legal_limit")),
    ("negative number", _set(["items", 1, "max_visits"], -1), ("items", 3, "max_visits")),
    ("three decimals", _set(["items", 2, "fees", 1, "amount"], "12.345"), ("fees", 3, "amount")),
    ("not a boolean", _set(["items", 1, "hand_written"], "perhaps"), ("items", 3, "hand_written")),
    ("not a list", _set(["items", 1, "keywords"], "开公司"), ("items", 3, "keywords")),
    ("unknown top-level key", _set(["departments"], []), ("departments", 0, "")),
    ("wrong format", _set(["format"], "other/2"), ("format", 0, "format")),
]


@pytest.mark.parametrize(("mutate", "where"), [pytest.param(m, w, id=name) for name, m, w in BAD_INPUTS])
def test_it_refuses_bad_input_and_changes_nothing(
    catalogue: dict[str, Any], mutate: Mutation, where: tuple[str, int, str]
) -> None:
    mutate(catalogue)

    issues = _refused(catalogue)

    assert where in _where(issues), [str(i) for i in issues]


@pytest.mark.parametrize(("mutate", "where"), [pytest.param(m, w, id=name) for name, m, w in BAD_INPUTS[:12]])
def test_it_refuses_bad_input_over_an_existing_catalogue(
    catalogue: dict[str, Any], mutate: Mutation, where: tuple[str, int, str]
) -> None:
    import_catalog(catalogue, actor="tester")
    bad = copy.deepcopy(catalogue)
    mutate(bad)

    issues = _refused(bad)

    assert where in _where(issues)


def test_it_names_sheet_row_column_and_reason(catalogue: dict[str, Any]) -> None:
    _items(catalogue)[3]["department"] = "xyz"

    with pytest.raises(CatalogImportError) as exc_info:
        import_catalog(catalogue, actor="tester")

    err = exc_info.value
    assert err.status == 422
    assert 'sheet items, row 5, column department: 未知部门代码 "xyz" / unknown department code "xyz"' in str(
        err
    )
    body = err.as_dict()["error"]
    assert body["code"] == "catalog_import_invalid"
    assert body["fields"]["items[5].department"] == ['未知部门代码 "xyz" / unknown department code "xyz"']


def test_it_collects_every_error(catalogue: dict[str, Any]) -> None:
    _items(catalogue)[0]["department"] = "xyz"
    _items(catalogue)[1]["materials"][0]["source"] = "upload"
    _items(catalogue)[2]["fees"][0]["amount"] = "free"
    _bundle(catalogue)["stages"][1]["members"][0]["depends_on"] = ["330800-NONE-01-0001"]

    issues = _refused(catalogue)

    assert _where(issues) == {
        ("items", 2, "department"),
        ("materials", 3, "source"),
        ("fees", 2, "amount"),
        ("bundle_members", 3, "depends_on"),
    }


def test_a_bad_row_in_the_last_sheet_changes_nothing(catalogue: dict[str, Any]) -> None:
    import_catalog(catalogue, actor="tester")
    before = export_catalog()
    changed = copy.deepcopy(catalogue)
    for item in changed["items"]:
        item["name"] = item["name"] + "（改）"
    changed["items"].append({**copy.deepcopy(changed["items"][3]), "code": "330800-SCJG-01-0099"})
    _bundle(changed)["stages"][1]["members"][0]["depends_on"] = [FOOD_ITEM]

    issues = _refused(changed)

    assert _where(issues) == {("bundle_members", 3, "depends_on")}
    assert export_catalog() == before


# -- Excel-specific checks ---------------------------------------------------------------------------


def _workbook(catalogue: dict[str, Any], tmp_path: Path) -> Path:
    import_catalog(catalogue, actor="tester")
    path = tmp_path / "c.xlsx"
    export_xlsx(path)
    _wipe_catalogue()
    return path


def _column(ws: Any, name: str) -> int:
    return [c.value for c in ws[1]].index(name) + 1


def _read_refused(path: Path) -> list[ImportIssue]:
    with pytest.raises(CatalogImportError) as exc_info:
        read_xlsx(path)
    return exc_info.value.issues


def test_it_names_an_unknown_excel_column(catalogue: dict[str, Any], tmp_path: Path) -> None:
    path = _workbook(catalogue, tmp_path)
    wb = load_workbook(path)
    ws = wb["materials"]
    ws.cell(row=1, column=ws.max_column + 1, value="colour")
    ws.cell(row=2, column=ws.max_column, value="red")
    wb.save(path)

    issues = _read_refused(path)

    assert _where(issues) == {("materials", 1, "colour")}
    assert "unknown column" in str(issues[0])


def test_it_names_a_missing_required_excel_column(catalogue: dict[str, Any], tmp_path: Path) -> None:
    path = _workbook(catalogue, tmp_path)
    wb = load_workbook(path)
    ws = wb["items"]
    ws.delete_cols(_column(ws, "department"))
    wb.save(path)

    assert _where(_read_refused(path)) == {("items", 1, "department")}


def test_it_accepts_a_missing_optional_excel_column(catalogue: dict[str, Any], tmp_path: Path) -> None:
    path = _workbook(catalogue, tmp_path)
    wb = load_workbook(path)
    ws = wb["items"]
    ws.delete_cols(_column(ws, "faq"))
    wb.save(path)

    import_catalog(read_xlsx(path), actor="tester")

    assert ServiceItem.objects.get(code=SCJG_ITEM, version=2).faq == []


def test_it_names_a_bad_json_cell(catalogue: dict[str, Any], tmp_path: Path) -> None:
    path = _workbook(catalogue, tmp_path)
    wb = load_workbook(path)
    ws = wb["items"]
    ws.cell(row=3, column=_column(ws, "keywords"), value='["开公司", ')
    ws = wb["process_steps"]
    ws.cell(row=4, column=_column(ws, "actions"), value="approve")
    wb.save(path)

    assert _where(_read_refused(path)) == {("items", 3, "keywords"), ("process_steps", 4, "actions")}


def test_it_names_an_orphan_excel_row(catalogue: dict[str, Any], tmp_path: Path) -> None:
    path = _workbook(catalogue, tmp_path)
    wb = load_workbook(path)
    ws = wb["materials"]
    ws.cell(row=5, column=_column(ws, "item_version"), value=7)
    ws = wb["bundle_members"]
    ws.cell(row=3, column=_column(ws, "stage"), value=9)
    wb.save(path)

    assert _where(_read_refused(path)) == {("materials", 5, "item_code"), ("bundle_members", 3, "bundle")}


def test_it_refuses_an_unknown_sheet(catalogue: dict[str, Any], tmp_path: Path) -> None:
    path = _workbook(catalogue, tmp_path)
    wb = load_workbook(path)
    wb.create_sheet("materails")
    wb.save(path)

    assert _where(_read_refused(path)) == {("materails", 0, "")}


def test_it_names_excel_rows_in_content_errors(catalogue: dict[str, Any], tmp_path: Path) -> None:
    path = _workbook(catalogue, tmp_path)
    wb = load_workbook(path)
    ws = wb["items"]
    ws.cell(row=5, column=_column(ws, "department"), value="xyz")
    ws = wb["materials"]
    ws.cell(row=7, column=_column(ws, "source"), value="licence:")
    ws.insert_rows(4)  # a blank row is skipped, and later rows keep their real numbers
    wb.save(path)

    issues = _refused(read_xlsx(path))

    assert _where(issues) == {("items", 5, "department"), ("materials", 8, "source")}


# -- scale -------------------------------------------------------------------------------------------


def _big_catalogue(n: int) -> dict[str, Any]:
    items = []
    for k in range(n):
        items.append(
            {
                "code": f"330800-SCJG-{k // 100:02d}-{k:04d}",
                "name": f"市场监管事项{k}号登记",
                "keywords": ["登记", f"事项{k}"],
                "item_type": "01",
                "level": "3",
                "department": "scjg" if k % 2 else "gongan",
                "served_party": ["1", "2"],
                "case_type": "promised",
                "legal_limit": 20,
                "legal_limit_unit": "workday",
                "promised_limit": 5,
                "promised_limit_unit": "workday",
                "channels": ["window", "online"],
                "result_type": "approval_document",
                "state": "active",
                "process_template": "review-decide-5",
                "form_schema": [{"name": "applicant_name", "label_zh": "申请人", "type": "text"}],
                "materials": [
                    {
                        "seq": s,
                        "name": f"材料{s}",
                        "source": [
                            "applicant",
                            "pledge",
                            "licence:YYZZ",
                            "data:enterprise.name,uscc",
                            "exempt",
                        ][s - 1],
                    }
                    for s in range(1, 6)
                ],
                "outputs": [{"seq": 1, "name": "批复", "kind": "approval_document"}],
                "fees": [{"seq": 1, "name": "工本费", "amount": 10}] if k % 3 == 0 else [],
            }
        )
    return {
        "process_templates": [
            {
                "code": "review-decide-5",
                "name": "审查—决定",
                "steps": [
                    {"seq": 1, "name": "审查", "limit_workdays": 3},
                    {"seq": 2, "name": "决定", "limit_workdays": 2},
                ],
            }
        ],
        "items": items,
    }


def test_it_imports_a_large_catalogue_quickly(departments: Any) -> None:
    data = _big_catalogue(1100)

    started = time.perf_counter()
    result = import_catalog(data, actor="tester")
    first = time.perf_counter() - started
    started = time.perf_counter()
    again = import_catalog(data, actor="tester")
    second = time.perf_counter() - started

    assert (result.items, result.created, again.updated) == (1100, 1101, 1101)
    assert MaterialRequirement.objects.count() == 5500
    assert first < 30 and second < 30, (first, second)
