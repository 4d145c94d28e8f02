"""Catalogue import and export in the YAML and Excel formats of `docs/catalog-format.md`.

Both formats are read into the same dict (the YAML shape); `import_catalog()` validates the
whole dict first and collects every problem as an `ImportIssue` naming the Excel sheet, the
1-based spreadsheet row (header = row 1) and the column, so that a YAML file and the same data
in Excel give the same messages. For YAML the row is the entry's position in the sheet the
entity would have in Excel plus one (materials of all items counted together, in file order).

An import adds and updates, never deletes: templates, items (by code and version) and bundles
in the file are created or replaced, together with their child rows (steps, materials, outputs,
fees, stages, members); whatever is in the database but not in the file is left alone, except
that an active version in the file retires the version of the same code that was active.
"""

from __future__ import annotations

import copy
import io
import json
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any, Literal

import yaml
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import FieldDoesNotExist
from django.db import models, transaction
from django.db.models import Prefetch
from django.utils import timezone

from onewindow.audit.services import record
from onewindow.catalog import codelists
from onewindow.catalog.models import (
    Bundle,
    BundleMember,
    BundleStage,
    FeeLine,
    ItemOutput,
    ItemState,
    MaterialRequirement,
    ProcessAction,
    ProcessStep,
    ProcessTemplate,
    ServiceItem,
)
from onewindow.catalog.services import bundle_search_text, item_search_text
from onewindow.core.errors import InvalidError
from onewindow.core.i18n import Bi, bi
from onewindow.org.models import Department

__all__ = [
    "FORMAT",
    "SHEETS",
    "CatalogImportError",
    "ImportIssue",
    "ImportResult",
    "export_catalog",
    "export_xlsx",
    "export_yaml",
    "import_catalog",
    "read_xlsx",
    "dump_yaml",
    "read_yaml",
    "validate_item_code",
]

FORMAT = "onewindow-catalog/1"

PathOrStream = str | os.PathLike[str] | IO[Any]

# GB/T 2260 province codes (first two digits of a region code).
PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 "
    "61 62 63 64 65 71 81 82".split()
)
ITEM_CODE_RE = re.compile(r"^[0-9]{6}(-[A-Z0-9]+)+$")
SLUG_RE = re.compile(r"^[-a-zA-Z0-9_]+$")
LICENCE_TYPE_RE = re.compile(r"^[A-Z][A-Z0-9]*$")
# Shared-data datasets a material may be fetched from (docs/catalog-format.md, DESIGN §6).
DATASETS = frozenset(
    "population household birth marriage death enterprise real_estate social_security "
    "provident_fund qualification disability vehicle tax_clearance".split()
)
_DATA_SOURCE_RE = re.compile(r"^data:([a-z_]+)\.([a-z][a-z0-9_]*(?:,[a-z][a-z0-9_]*)*)$")
FORM_FIELD_TYPES = frozenset(
    "text textarea number decimal date boolean choice id_number uscc phone email region address".split()
)


def validate_item_code(code: str) -> Bi | None:
    """The reason an item code is not acceptable, or None."""
    if len(code) > 64:
        return bi(f'事项编码 "{code}" 超过 64 个字符', f'item code "{code}" is longer than 64 characters')
    if not ITEM_CODE_RE.match(code):
        return bi(
            f'事项编码 "{code}" 格式错误（应为 6 位区划代码加 -大写字母或数字 段）',
            f'item code "{code}" is malformed (6-digit region code, then -[A-Z0-9] parts)',
        )
    if code[:2] not in PROVINCES:
        return bi(
            f'事项编码 "{code}" 的前两位不是省级区划代码',
            f'item code "{code}" does not start with a province code',
        )
    return None


# ---------------------------------------------------------------------------------------------
# Errors and results
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportIssue:
    """One problem in an import file. `row` is the spreadsheet row (header = 1); 0 = the sheet
    or file as a whole. `column` is empty when the problem is not about one column."""

    sheet: str
    row: int
    column: str
    reason: Bi

    def __str__(self) -> str:
        where = [f"sheet {self.sheet}"]
        if self.row:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.reason.zh} / {self.reason.en}"


class CatalogImportError(InvalidError):
    """The file was refused; nothing was changed. `issues` lists every problem found."""

    code = "catalog_import_invalid"

    def __init__(self, issues: list[ImportIssue]) -> None:
        self.issues = list(issues)
        fields: dict[str, list[Any]] = defaultdict(list)
        for issue in self.issues:
            key = (
                issue.sheet
                + (f"[{issue.row}]" if issue.row else "")
                + (f".{issue.column}" if issue.column else "")
            )
            fields[key].append(issue.reason)
        n = len(self.issues)
        super().__init__(
            bi(
                f"目录文件有 {n} 处错误，未导入任何内容",
                f"The catalogue file has {n} error(s); nothing was imported",
            ),
            fields=dict(fields),
        )

    def __str__(self) -> str:
        head = f"{self.message.zh} / {self.message.en}" if isinstance(self.message, Bi) else str(self.message)
        return "\n".join([head, *(f"  {issue}" for issue in self.issues)])


@dataclass(frozen=True)
class ImportResult:
    templates: int
    items: int
    bundles: int
    created: int
    updated: int


# ---------------------------------------------------------------------------------------------
# The format: sheets and columns
# ---------------------------------------------------------------------------------------------

Kind = Literal["str", "int", "dec", "bool", "list", "json"]


@dataclass(frozen=True)
class _Col:
    name: str
    kind: Kind = "str"
    required: bool = False
    default: Any = ""
    codes: str | None = None  # code list the value (or each list element) must be in
    max_digits: int = 0  # decimals: digits in all, two of them after the point


@dataclass(frozen=True)
class _Sheet:
    name: str
    model: type[models.Model]
    cols: tuple[_Col, ...]
    parent: tuple[str, ...] = ()  # Excel-only columns naming the parent row
    children: tuple[str, ...] = ()  # YAML keys holding nested child lists

    @property
    def columns(self) -> list[str]:
        return [*self.parent, *(c.name for c in self.cols)]

    @property
    def required_columns(self) -> list[str]:
        return [*self.parent, *(c.name for c in self.cols if c.required)]


def _c(
    name: str,
    kind: Kind = "str",
    *,
    req: bool = False,
    default: Any = None,
    codes: str | None = None,
    digits: int = 0,
) -> _Col:
    if default is None:
        default = {"str": "", "list": [], "json": []}.get(kind)
    return _Col(name, kind, req, default, codes, digits)


_TEMPLATES = _Sheet(
    "process_templates", ProcessTemplate, (_c("code", req=True), _c("name", req=True)), children=("steps",)
)
_STEPS = _Sheet(
    "process_steps",
    ProcessStep,
    (
        _c("seq", "int", req=True),
        _c("name", req=True),
        _c("departments", "list"),
        _c("limit_workdays", "dec", req=True, digits=5),
        _c("actions", "list", codes="action"),
    ),
    parent=("template",),
)
_ITEMS = _Sheet(
    "items",
    ServiceItem,
    (
        _c("code", req=True),
        _c("version", "int", default=1),
        _c("name", req=True),
        _c("name_en"),
        _c("short_name"),
        _c("keywords", "list"),
        _c("item_type", req=True, codes="item_type"),
        _c("level", req=True, codes="level"),
        _c("department", req=True),
        _c("legal_basis"),
        _c("served_party", "list", codes="served_party"),
        _c("case_type", req=True, codes="case_type"),
        _c("legal_limit", "int", req=True),
        _c("legal_limit_unit", req=True, codes="limit_unit"),
        _c("promised_limit", "int", req=True),
        _c("promised_limit_unit", req=True, codes="limit_unit"),
        _c("special_procedures"),
        _c("channels", "list", codes="channel"),
        _c("max_visits", "int", default=0),
        _c("visits_reason"),
        _c("handle_scope", default="city", codes="handle_scope"),
        _c("undifferentiated", "bool", default=True),
        _c("result_type", req=True, codes="result_type"),
        _c("licence_type"),
        _c("conditions"),
        _c("consult_phone"),
        _c("state", req=True, codes="state"),
        _c("hand_written", "bool", default=False),
        _c("process_template"),
        _c("form_schema", "json"),
        _c("faq", "json"),
    ),
    children=("materials", "outputs", "fees"),
)
_MATERIALS = _Sheet(
    "materials",
    MaterialRequirement,
    (
        _c("seq", "int", req=True),
        _c("name", req=True),
        _c("required", "bool", default=True),
        _c("condition"),
        _c("form", default="either", codes="material_form"),
        _c("originals", "int", default=0),
        _c("copies", "int", default=0),
        _c("accept_standard"),
        _c("source", req=True),
        _c("note"),
    ),
    parent=("item_code", "item_version"),
)
_OUTPUTS = _Sheet(
    "outputs",
    ItemOutput,
    (
        _c("seq", "int", req=True),
        _c("name", req=True),
        _c("kind", req=True, codes="result_type"),
        _c("licence_type"),
    ),
    parent=("item_code", "item_version"),
)
_FEES = _Sheet(
    "fees",
    FeeLine,
    (
        _c("seq", "int", req=True),
        _c("name", req=True),
        _c("amount", "dec", req=True, digits=12),
        _c("unit"),
        _c("basis"),
    ),
    parent=("item_code", "item_version"),
)
_BUNDLES = _Sheet(
    "bundles",
    Bundle,
    (
        _c("code", req=True),
        _c("name", req=True),
        _c("name_en"),
        _c("description"),
        _c("keywords", "list"),
        _c("lead_department", req=True),
        _c("promised_limit", "int", req=True),
        _c("promised_limit_unit", default="workday", codes="limit_unit"),
        _c("max_visits", "int", default=0),
        _c("state", default="draft", codes="state"),
        _c("form_schema", "json"),
    ),
    children=("stages",),
)
_STAGES = _Sheet(
    "bundle_stages",
    BundleStage,
    (
        _c("seq", "int", req=True),
        _c("name", req=True),
        _c("limit_workdays", "dec", digits=5),
    ),
    parent=("bundle",),
    children=("members",),
)
_MEMBERS = _Sheet(
    "bundle_members",
    BundleMember,
    (
        _c("item", req=True),
        _c("optional", "bool", default=False),
        _c("depends_on", "list"),
    ),
    parent=("bundle", "stage"),
)

# Excel sheets in the documented order.
SHEETS: tuple[_Sheet, ...] = (
    _ITEMS,
    _MATERIALS,
    _OUTPUTS,
    _FEES,
    _TEMPLATES,
    _STEPS,
    _BUNDLES,
    _STAGES,
    _MEMBERS,
)
_BY_NAME = {s.name: s for s in SHEETS}
# Nested YAML key -> the sheet of its entries.
_CHILD_SHEET = {
    "steps": _STEPS,
    "materials": _MATERIALS,
    "outputs": _OUTPUTS,
    "fees": _FEES,
    "stages": _STAGES,
    "members": _MEMBERS,
}
_TOP = {"process_templates": _TEMPLATES, "items": _ITEMS, "bundles": _BUNDLES}
# Model field names where the column name differs.
_MODEL_FIELD = {("bundle_members", "item"): "item_code"}

# Text columns whose empty value is null rather than "".
_NULLABLE = frozenset({"process_template"})
_CENT = Decimal("0.01")
_EXTRA_CODES: dict[str, list[str]] = {"state": list(ItemState.values), "action": list(ProcessAction.values)}


def _codes(name: str) -> list[str]:
    return _EXTRA_CODES[name] if name in _EXTRA_CODES else codelists.codes(name)


# ---------------------------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------------------------


def _num(value: Decimal | None) -> int | float | None:
    """A decimal as an int when integral, else a float (YAML and Excel numbers; 2 places at most,
    so the float prints back as the same decimal)."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def export_catalog() -> dict[str, Any]:
    """The whole catalogue (every item version of every state, templates, bundles) as the YAML dict."""
    templates = ProcessTemplate.objects.order_by("code").prefetch_related(
        Prefetch(
            "steps",
            ProcessStep.objects.order_by("seq").prefetch_related(
                Prefetch("departments", Department.objects.order_by("code"))
            ),
        )
    )
    items = (
        ServiceItem.objects.order_by("code", "version")
        .select_related("department", "process_template")
        .prefetch_related(
            Prefetch("materials", MaterialRequirement.objects.order_by("seq")),
            Prefetch("outputs", ItemOutput.objects.order_by("seq")),
            Prefetch("fees", FeeLine.objects.order_by("seq")),
        )
    )
    bundles = (
        Bundle.objects.order_by("code")
        .select_related("lead_department")
        .prefetch_related(
            Prefetch(
                "stages",
                BundleStage.objects.order_by("seq").prefetch_related(
                    Prefetch("members", BundleMember.objects.order_by("id"))
                ),
            )
        )
    )
    return {
        "format": FORMAT,
        "process_templates": [
            {
                "code": t.code,
                "name": t.name,
                "steps": [
                    {
                        "seq": s.seq,
                        "name": s.name,
                        "departments": [d.code for d in s.departments.all()],
                        "limit_workdays": _num(s.limit_workdays),
                        "actions": list(s.actions),
                    }
                    for s in t.steps.all()
                ],
            }
            for t in templates
        ],
        "items": [_export_item(i) for i in items],
        "bundles": [
            {
                "code": b.code,
                "name": b.name,
                "name_en": b.name_en,
                "description": b.description,
                "keywords": list(b.keywords),
                "lead_department": b.lead_department.code,
                "promised_limit": b.promised_limit,
                "promised_limit_unit": b.promised_limit_unit,
                "max_visits": b.max_visits,
                "state": b.state,
                "form_schema": b.form_schema,
                "stages": [
                    {
                        "seq": st.seq,
                        "name": st.name,
                        "limit_workdays": _num(st.limit_workdays),
                        "members": [
                            {"item": m.item_code, "optional": m.optional, "depends_on": list(m.depends_on)}
                            for m in st.members.all()
                        ],
                    }
                    for st in b.stages.all()
                ],
            }
            for b in bundles
        ],
    }


def _export_item(i: ServiceItem) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for col in _ITEMS.cols:
        if col.name == "department":
            out["department"] = i.department.code
        elif col.name == "process_template":
            out["process_template"] = i.process_template.code if i.process_template else None
        else:
            value = getattr(i, col.name)
            out[col.name] = list(value) if isinstance(value, list) and col.kind == "list" else value
    out["materials"] = [{c.name: getattr(m, c.name) for c in _MATERIALS.cols} for m in i.materials.all()]
    out["outputs"] = [{c.name: getattr(o, c.name) for c in _OUTPUTS.cols} for o in i.outputs.all()]
    out["fees"] = [
        {"seq": f.seq, "name": f.name, "amount": _num(f.amount), "unit": f.unit, "basis": f.basis}
        for f in i.fees.all()
    ]
    return out


# libyaml's C emitter and parser are ten times faster than PyYAML's own on a 1,000-item file.
_SafeDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Dumper(_SafeDumper):  # type: ignore[valid-type,misc]
    """Safe dumper that also writes the row-tagged dicts `read_xlsx` returns."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.Node:
    # Short lists of plain values read best inline: `channels: [window, online]`.
    flow = all(isinstance(x, str | int | float | bool) and "\n" not in str(x) for x in value)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flow)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(list, _represent_list)


def dump_yaml(data: dict[str, Any]) -> str:
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=120)


def export_yaml(path_or_stream: PathOrStream, data: dict[str, Any] | None = None) -> None:
    """Write the catalogue (or `data`, a catalogue dict) as YAML, UTF-8."""
    text = dump_yaml(export_catalog() if data is None else data)
    if isinstance(path_or_stream, str | os.PathLike):
        Path(path_or_stream).write_text(text, encoding="utf-8")
    elif isinstance(path_or_stream, io.TextIOBase):
        path_or_stream.write(text)
    else:
        path_or_stream.write(text.encode("utf-8"))


def _flatten(data: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The catalogue dict as the rows of each Excel sheet."""
    rows: dict[str, list[dict[str, Any]]] = {s.name: [] for s in SHEETS}

    def plain(entry: dict[str, Any], sheet: _Sheet, parent: dict[str, Any]) -> dict[str, Any]:
        return {**parent, **{c.name: entry.get(c.name, c.default) for c in sheet.cols}}

    for t in data.get("process_templates") or []:
        rows["process_templates"].append(plain(t, _TEMPLATES, {}))
        for s in t.get("steps") or []:
            rows["process_steps"].append(plain(s, _STEPS, {"template": t.get("code")}))
    for i in data.get("items") or []:
        rows["items"].append(plain(i, _ITEMS, {}))
        key = {"item_code": i.get("code"), "item_version": i.get("version", 1)}
        for child, sheet in (("materials", _MATERIALS), ("outputs", _OUTPUTS), ("fees", _FEES)):
            rows[sheet.name].extend(plain(e, sheet, key) for e in i.get(child) or [])
    for b in data.get("bundles") or []:
        rows["bundles"].append(plain(b, _BUNDLES, {}))
        for st in b.get("stages") or []:
            rows["bundle_stages"].append(plain(st, _STAGES, {"bundle": b.get("code")}))
            for m in st.get("members") or []:
                rows["bundle_members"].append(
                    plain(m, _MEMBERS, {"bundle": b.get("code"), "stage": st.get("seq")})
                )
    return rows


def _cell_value(col: _Col | None, value: Any) -> Any:
    if col is not None and col.kind in ("list", "json"):
        return json.dumps(value if value is not None else [], ensure_ascii=False)
    if isinstance(value, Decimal):
        return _num(value)
    if value == "":
        return None
    return value


def _display_width(value: Any) -> int:
    text = "" if value is None else str(value)
    line = max(text.splitlines() or [""], key=len)
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in line)


def export_xlsx(path_or_stream: PathOrStream, data: dict[str, Any] | None = None) -> None:
    """Write the catalogue (or `data`) as an Excel workbook, one sheet per entity."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    rows = _flatten(export_catalog() if data is None else data)
    wb = Workbook()
    wb.remove(wb.active)
    bold = Font(bold=True)
    for sheet in SHEETS:
        ws = wb.create_sheet(sheet.name)
        columns = sheet.columns
        cols = {c.name: c for c in sheet.cols}
        ws.append(columns)
        for cell in ws[1]:
            cell.font = bold
        widths = [_display_width(c) for c in columns]
        for r, row in enumerate(rows[sheet.name], start=2):
            for c, name in enumerate(columns, start=1):
                value = _cell_value(cols.get(name), row.get(name))
                cell = ws.cell(row=r, column=c, value=value)
                if isinstance(value, str) and value.startswith("="):
                    cell.data_type = "s"  # text, not a formula
                widths[c - 1] = max(widths[c - 1], _display_width(value))
        ws.freeze_panes = "A2"
        for c, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(c)].width = min(max(width + 2, 8), 60)
    wb.save(path_or_stream)


# ---------------------------------------------------------------------------------------------
# Reading files
# ---------------------------------------------------------------------------------------------


class _Row(dict):  # type: ignore[type-arg]
    """A dict read from a spreadsheet row, remembering the row number for messages."""

    __slots__ = ("row",)

    def __init__(self, row: int, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.row = row


_Dumper.add_representer(_Row, yaml.SafeDumper.represent_dict)


def read_yaml(path_or_stream: PathOrStream) -> dict[str, Any]:
    """Parse a YAML catalogue file into the catalogue dict."""
    try:
        if isinstance(path_or_stream, str | os.PathLike):
            with open(path_or_stream, encoding="utf-8") as f:
                data = yaml.load(f, Loader=_SafeLoader)
        else:
            data = yaml.load(path_or_stream, Loader=_SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise CatalogImportError(
            [
                ImportIssue(
                    "yaml",
                    mark.line + 1 if mark else 0,
                    "",
                    bi(f"YAML 格式错误：{exc}", f"YAML syntax error: {exc}"),
                )
            ]
        ) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise CatalogImportError(
            [
                ImportIssue(
                    "yaml",
                    0,
                    "",
                    bi("文件顶层应为映射（format, items, ...）", "the file's top level must be a mapping"),
                )
            ]
        )
    return data


def _parse_key(value: Any, default: int | None = None) -> Any:
    """A key cell as written, with integral numbers as int (so 1, 1.0 and "1" match)."""
    if value is None or value == "":
        return default
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return value.strip() if isinstance(value, str) else value


def read_xlsx(path_or_stream: PathOrStream) -> dict[str, Any]:
    """Parse an Excel catalogue workbook into the catalogue dict.

    Checks each sheet's header (unknown, duplicate or missing required columns), parses the JSON
    cells and attaches child rows to their parents; problems are collected and raised together
    as `CatalogImportError`. Rows that are entirely blank are skipped."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path_or_stream, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds (zipfile, KeyError, InvalidFileException)
        raise CatalogImportError(
            [
                ImportIssue(
                    "xlsx",
                    0,
                    "",
                    bi(f"无法读取 Excel 文件：{exc}", f"cannot read the Excel file: {exc}"),
                )
            ]
        ) from exc
    issues: list[ImportIssue] = []
    sheets: dict[str, list[_Row]] = {s.name: [] for s in SHEETS}
    try:
        for ws in wb.worksheets:
            sheet = _BY_NAME.get(ws.title)
            if sheet is None:
                issues.append(
                    ImportIssue(
                        ws.title,
                        0,
                        "",
                        bi(
                            f'未知工作表 "{ws.title}"（应为 {", ".join(_BY_NAME)}）',
                            f'unknown sheet "{ws.title}" (expected {", ".join(_BY_NAME)})',
                        ),
                    )
                )
                continue
            sheets[sheet.name] = _read_sheet(ws, sheet, issues)
    finally:
        wb.close()
    if issues:
        raise CatalogImportError(issues)
    return _nest(sheets, issues)


def _read_sheet(ws: Any, sheet: _Sheet, issues: list[ImportIssue]) -> list[_Row]:
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None) or ()
    allowed = set(sheet.columns)
    names: dict[int, str] = {}
    seen: set[str] = set()
    before = len(issues)
    for idx, raw in enumerate(header):
        name = str(raw).strip() if raw is not None else ""
        if not name:
            continue
        if name not in allowed:
            issues.append(
                ImportIssue(sheet.name, 1, name, bi(f'未知列 "{name}"', f'unknown column "{name}"'))
            )
        elif name in seen:
            issues.append(
                ImportIssue(sheet.name, 1, name, bi(f'列 "{name}" 重复', f'column "{name}" appears twice'))
            )
        else:
            names[idx] = name
            seen.add(name)
    for name in sheet.required_columns:
        if name not in seen:
            issues.append(
                ImportIssue(
                    sheet.name, 1, name, bi(f'缺少必填列 "{name}"', f'required column "{name}" is missing')
                )
            )
    if len(issues) > before:
        return []
    cols = {c.name: c for c in sheet.cols}
    kinds = {c.name: c.kind for c in sheet.cols}
    out: list[_Row] = []
    for r, values in enumerate(rows, start=2):
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        entry = _Row(r)
        for idx, value in enumerate(values):
            name = names.get(idx)
            if name is None:
                if value is not None and str(value).strip():
                    issues.append(
                        ImportIssue(
                            sheet.name,
                            r,
                            f"#{idx + 1}",
                            bi("无列名的列中有数据", "a value in a column without a name"),
                        )
                    )
                continue
            if value is None or (isinstance(value, str) and not value.strip()):
                # A blank cell reads as the column's empty value, as the YAML export writes it.
                col = cols.get(name)
                blank_is_empty = col is not None and col.kind in ("str", "list", "json")
                entry[name] = copy.copy(col.default) if blank_is_empty and name not in _NULLABLE else None
                continue
            if kinds.get(name) in ("list", "json"):
                if not isinstance(value, str):
                    value = str(value)
                try:
                    value = json.loads(value)
                except ValueError as exc:
                    issues.append(
                        ImportIssue(
                            sheet.name, r, name, bi(f"不是有效的 JSON：{exc}", f"not valid JSON: {exc}")
                        )
                    )
                    continue
            entry[name] = value
        out.append(entry)
    return out


def _nest(sheets: dict[str, list[_Row]], issues: list[ImportIssue]) -> dict[str, Any]:
    """Rows of the sheets back into the nested YAML shape; orphan child rows are issues."""

    def attach(child: _Sheet, parents: dict[Any, dict[str, Any]], list_key: str, what: Bi) -> None:
        for row in sheets[child.name]:
            key = tuple(_parse_key(row.get(k), 1 if k == "item_version" else None) for k in child.parent)
            parent = parents.get(key)
            if parent is None:
                shown = " ".join(str(k) for k in key)
                issues.append(
                    ImportIssue(
                        child.name,
                        row.row,
                        child.parent[0],
                        bi(f"找不到所属的{what.zh} {shown}", f"no {what.en} {shown} for this row"),
                    )
                )
                continue
            for k in child.parent:
                row.pop(k, None)
            parent[list_key].append(row)

    for sheet in SHEETS:
        for row in sheets[sheet.name]:
            for key in sheet.children:
                row[key] = []
    items = sheets["items"]
    item_keys: dict[Any, dict[str, Any]] = {}
    for i in items:
        item_keys.setdefault((_parse_key(i.get("code")), _parse_key(i.get("version"), 1)), i)
    for child, key in ((_MATERIALS, "materials"), (_OUTPUTS, "outputs"), (_FEES, "fees")):
        attach(child, item_keys, key, bi("事项", "item"))
    templates = sheets["process_templates"]
    attach(
        _STEPS,
        {(_parse_key(t.get("code")),): t for t in reversed(templates)},
        "steps",
        bi("审批流程", "template"),
    )
    bundles = sheets["bundles"]
    attach(
        _STAGES,
        {(_parse_key(b.get("code")),): b for b in reversed(bundles)},
        "stages",
        bi("一件事", "bundle"),
    )
    stage_keys: dict[Any, dict[str, Any]] = {}
    for b in bundles:
        for st in b["stages"]:
            stage_keys.setdefault((_parse_key(b.get("code")), _parse_key(st.get("seq"))), st)
    attach(_MEMBERS, stage_keys, "members", bi("阶段", "stage"))
    if issues:
        raise CatalogImportError(issues)
    return {"format": FORMAT, "process_templates": templates, "items": items, "bundles": bundles}


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------


@dataclass
class _Rec:
    """A cleaned entry: its values, where it came from, and its cleaned children."""

    sheet: str
    row: int
    v: dict[str, Any]
    children: dict[str, list[_Rec]] = field(default_factory=dict)


def _int_bound(model: type[models.Model], name: str) -> int:
    f = model._meta.get_field(name)
    if isinstance(f, models.PositiveSmallIntegerField | models.SmallIntegerField):
        return 32767
    return 2147483647


class _Validator:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.issues: list[ImportIssue] = []
        self.departments = {d.code: d for d in Department.objects.all()}
        self.db_templates = {t.code: t for t in ProcessTemplate.objects.all()}
        self.counters: dict[str, int] = defaultdict(lambda: 1)

    def add(self, sheet: str, row: int, column: str, zh: str, en: str) -> None:
        self.issues.append(ImportIssue(sheet, row, column, bi(zh, en)))

    # -- generic cleaning -------------------------------------------------------------------

    def entries(
        self, raw: Any, sheet: _Sheet, owner: tuple[str, int, str] | None
    ) -> Iterator[tuple[int, dict]]:
        if raw is None:
            return
        if not isinstance(raw, list):
            if owner:
                self.add(owner[0], owner[1], owner[2], "应为列表", "must be a list")
            else:
                self.add(sheet.name, 0, "", "应为列表", "must be a list")
            return
        for entry in raw:
            self.counters[sheet.name] += 1
            row = getattr(entry, "row", None) or self.counters[sheet.name]
            if not isinstance(entry, dict):
                self.add(sheet.name, row, "", "应为映射（键: 值）", "must be a mapping (key: value)")
                continue
            yield row, entry

    def clean(self, sheet: _Sheet, row: int, entry: dict[str, Any]) -> dict[str, Any]:
        allowed = {c.name for c in sheet.cols} | set(sheet.children)
        for key in entry:
            if key not in allowed:
                self.add(sheet.name, row, str(key), f'未知列 "{key}"', f'unknown column "{key}"')
        out: dict[str, Any] = {}
        for col in sheet.cols:
            out[col.name] = self.value(sheet, row, col, entry.get(col.name))
        return out

    def value(self, sheet: _Sheet, row: int, col: _Col, raw: Any) -> Any:
        blank = raw is None or (isinstance(raw, str) and not raw.strip())
        if blank:
            if col.required:
                self.add(sheet.name, row, col.name, "必填项为空", "a required value is missing")
            return col.default

        def err(zh: str, en: str) -> None:
            self.add(sheet.name, row, col.name, zh, en)

        if col.kind == "str":
            if isinstance(raw, bool) or not isinstance(raw, str | int | float | Decimal):
                err(f"应为文本：{raw!r}", f"must be text: {raw!r}")
                return col.default
            if isinstance(raw, float) and raw.is_integer():
                raw = int(raw)
            value = str(raw).strip()
            if col.codes == "item_type" and isinstance(raw, int):
                value = value.zfill(2)  # `item_type: 07` unquoted is the integer 7 in YAML
            if col.codes:
                self.check_code(sheet, row, col, value)
            fname = _MODEL_FIELD.get((sheet.name, col.name), col.name)
            try:
                mf = sheet.model._meta.get_field(fname)
            except FieldDoesNotExist:
                mf = None
            max_length = getattr(mf, "max_length", None) if isinstance(mf, models.CharField) else None
            if max_length and len(value) > max_length:
                err(f"超过 {max_length} 个字符", f"longer than {max_length} characters")
            return value
        if col.kind == "int":
            value = _parse_key(raw)
            upper = _int_bound(sheet.model, col.name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= upper:
                err(
                    f"应为 0 到 {upper} 之间的整数：{raw!r}",
                    f"must be a whole number from 0 to {upper}: {raw!r}",
                )
                return col.default
            if col.name in ("seq", "version") and value < 1:
                err("应从 1 开始", "must be 1 or more")
            return value
        if col.kind == "dec":
            try:
                if isinstance(raw, bool):
                    raise InvalidOperation
                value = Decimal(str(raw).strip())
                if not value.is_finite():
                    raise InvalidOperation
            except (InvalidOperation, ValueError):
                err(f"应为数字：{raw!r}", f"must be a number: {raw!r}")
                return None
            try:
                cents = value.quantize(_CENT)
            except InvalidOperation:
                cents = None
            if cents is None or value < 0 or value != cents or len(cents.as_tuple().digits) > col.max_digits:
                err(
                    f"应为不小于 0、最多两位小数、最多 {col.max_digits} 位数字的数：{raw!r}",
                    f"must be ≥ 0 with at most 2 decimals and {col.max_digits} digits: {raw!r}",
                )
                return None
            return cents
        if col.kind == "bool":
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("true", "yes", "1", "是", "y"):
                return True
            if text in ("false", "no", "0", "否", "n"):
                return False
            err(f"应为 true 或 false：{raw!r}", f"must be true or false: {raw!r}")
            return col.default
        if col.kind == "list":
            if not isinstance(raw, list) or not all(
                isinstance(x, str | int) and not isinstance(x, bool) for x in raw
            ):
                err(f"应为文本列表：{raw!r}", f"must be a list of strings: {raw!r}")
                return []
            value = [str(x).strip() for x in raw]
            if col.codes:
                for x in value:
                    self.check_code(sheet, row, col, x)
            return value
        # json
        if not isinstance(raw, list) or not all(isinstance(x, dict) for x in raw):
            err("应为由映射组成的列表", "must be a list of mappings")
            return []
        return raw

    def check_code(self, sheet: _Sheet, row: int, col: _Col, value: str) -> None:
        assert col.codes
        allowed = _codes(col.codes)
        if value not in allowed:
            self.add(
                sheet.name,
                row,
                col.name,
                f'"{value}" 不在代码表 {col.codes} 中（可用：{", ".join(allowed)}）',
                f'"{value}" is not in code list {col.codes} (one of: {", ".join(allowed)})',
            )

    def department(self, sheet: str, row: int, column: str, code: str) -> None:
        if code and code not in self.departments:
            self.add(sheet, row, column, f'未知部门代码 "{code}"', f'unknown department code "{code}"')

    def slug(self, sheet: str, row: int, code: str) -> None:
        if code and not SLUG_RE.match(code):
            self.add(
                sheet,
                row,
                "code",
                f'代码 "{code}" 只能含字母、数字、- 和 _',
                f'code "{code}" may hold only letters, digits, - and _',
            )

    def duplicate(self, seen: dict[Any, int], key: Any, sheet: str, row: int, column: str, what: Bi) -> bool:
        if key in seen:
            self.add(
                sheet,
                row,
                column,
                f"{what.zh}重复（与第 {seen[key]} 行）",
                f"duplicate {what.en} (as row {seen[key]})",
            )
            return True
        seen[key] = row
        return False

    def children(self, parent: _Rec, raw: dict[str, Any], key: str, column_of_seq: str = "seq") -> list[_Rec]:
        sheet = _CHILD_SHEET[key]
        recs: list[_Rec] = []
        seqs: dict[Any, int] = {}
        for row, entry in self.entries(raw.get(key), sheet, (parent.sheet, parent.row, key)):
            rec = _Rec(sheet.name, row, self.clean(sheet, row, entry))
            seq = rec.v.get(column_of_seq)
            if seq is not None:
                self.duplicate(seqs, seq, sheet.name, row, column_of_seq, bi(f"序号 {seq} ", f"seq {seq}"))
            recs.append(rec)
        return recs

    # -- form schemas ------------------------------------------------------------------------

    def form_schema(self, sheet: str, row: int, schema: list[dict[str, Any]]) -> set[str]:
        names: set[str] = set()
        for n, fld in enumerate(schema, start=1):
            label = f"form_schema[{n}]"
            for key in ("name", "label_zh", "type"):
                if not isinstance(fld.get(key), str) or not fld.get(key, "").strip():
                    self.add(sheet, row, "form_schema", f"第 {n} 个字段缺少 {key}", f"{label} lacks {key}")
            name, ftype = fld.get("name"), fld.get("type")
            if isinstance(ftype, str) and ftype and ftype not in FORM_FIELD_TYPES:
                self.add(
                    sheet,
                    row,
                    "form_schema",
                    f'第 {n} 个字段的类型 "{ftype}" 未知',
                    f'{label} has unknown type "{ftype}"',
                )
            if ftype == "choice":
                choices = fld.get("choices")
                if (
                    not isinstance(choices, list)
                    or not choices
                    or not all(isinstance(c, dict) and "value" in c for c in choices)
                ):
                    self.add(
                        sheet,
                        row,
                        "form_schema",
                        f"第 {n} 个字段（选择）须有 choices 列表，每项含 value",
                        f"{label} (choice) needs choices with a value each",
                    )
            if isinstance(name, str) and name:
                if name in names:
                    self.add(
                        sheet,
                        row,
                        "form_schema",
                        f'字段名 "{name}" 重复',
                        f'field name "{name}" appears twice',
                    )
                names.add(name)
        return names

    # -- entities ----------------------------------------------------------------------------

    def run(self) -> tuple[list[_Rec], list[_Rec], list[_Rec]]:
        data = self.data
        for key in data:
            if key not in ("format", *_TOP):
                self.add(str(key), 0, "", f'未知的顶层键 "{key}"', f'unknown top-level key "{key}"')
        fmt = data.get("format")
        if fmt is not None and fmt != FORMAT:
            self.add(
                "format",
                0,
                "format",
                f'不支持的格式 "{fmt}"（应为 {FORMAT}）',
                f'unsupported format "{fmt}" (expected {FORMAT})',
            )
        templates = self.templates(data.get("process_templates"))
        template_codes = {t.v["code"] for t in templates} | set(self.db_templates)
        items = self.items(data.get("items"), template_codes)
        bundles = self.bundles(data.get("bundles"), items)
        return templates, items, bundles

    def templates(self, raw: Any) -> list[_Rec]:
        recs: list[_Rec] = []
        seen: dict[Any, int] = {}
        for row, entry in self.entries(raw, _TEMPLATES, None):
            rec = _Rec("process_templates", row, self.clean(_TEMPLATES, row, entry))
            code = rec.v["code"]
            self.slug(rec.sheet, row, code)
            if code:
                self.duplicate(
                    seen, code, rec.sheet, row, "code", bi(f"审批流程 {code} ", f"template {code}")
                )
            rec.children["steps"] = self.children(rec, entry, "steps")
            for step in rec.children["steps"]:
                for dep in step.v["departments"]:
                    self.department(step.sheet, step.row, "departments", dep)
            recs.append(rec)
        return recs

    def items(self, raw: Any, template_codes: set[str]) -> list[_Rec]:
        recs: list[_Rec] = []
        seen: dict[Any, int] = {}
        active: dict[str, _Rec] = {}
        for row, entry in self.entries(raw, _ITEMS, None):
            rec = _Rec("items", row, self.clean(_ITEMS, row, entry))
            v, sheet = rec.v, rec.sheet
            code = v["code"]
            if code:
                reason = validate_item_code(code)
                if reason:
                    self.issues.append(ImportIssue(sheet, row, "code", reason))
                self.duplicate(
                    seen,
                    (code, v["version"]),
                    sheet,
                    row,
                    "version",
                    bi(f"事项 {code} 版本 {v['version']} ", f"item {code} version {v['version']}"),
                )
                if v["state"] == ItemState.ACTIVE:
                    if code in active:
                        first = active[code]
                        self.add(
                            sheet,
                            row,
                            "state",
                            f"事项 {code} 有多个在用版本（第 {first.row} 行版本 {first.v['version']}）",
                            f"item {code} has more than one active version (row {first.row}, "
                            f"version {first.v['version']})",
                        )
                    else:
                        active[code] = rec
            self.department(sheet, row, "department", v["department"])
            if v["process_template"] and v["process_template"] not in template_codes:
                self.add(
                    sheet,
                    row,
                    "process_template",
                    f'未知审批流程 "{v["process_template"]}"',
                    f'unknown process template "{v["process_template"]}"',
                )
            if (
                v["legal_limit_unit"] == v["promised_limit_unit"]
                and isinstance(v["promised_limit"], int)
                and isinstance(v["legal_limit"], int)
                and v["promised_limit"] > v["legal_limit"]
            ):
                self.add(
                    sheet,
                    row,
                    "promised_limit",
                    f"承诺时限 {v['promised_limit']} 超过法定时限 {v['legal_limit']}",
                    f"promised limit {v['promised_limit']} exceeds the legal limit {v['legal_limit']}",
                )
            if v["max_visits"] > 1 and not v["visits_reason"]:
                self.add(
                    sheet,
                    row,
                    "visits_reason",
                    "到现场超过一次须说明原因",
                    "more than one visit needs a reason",
                )
            if v["licence_type"] and not LICENCE_TYPE_RE.match(v["licence_type"]):
                self.add(
                    sheet,
                    row,
                    "licence_type",
                    f'证照类型代码 "{v["licence_type"]}" 应为大写字母',
                    f'licence type "{v["licence_type"]}" must be upper-case letters',
                )
            self.form_schema(sheet, row, v["form_schema"])
            for n, qa in enumerate(v["faq"], start=1):
                if not isinstance(qa.get("q"), str) or not isinstance(qa.get("a"), str):
                    self.add(sheet, row, "faq", f"第 {n} 条问答须有 q 和 a", f"faq[{n}] needs q and a")
            for key in ("materials", "outputs", "fees"):
                rec.children[key] = self.children(rec, entry, key)
            for m in rec.children["materials"]:
                reason = _source_problem(m.v["source"])
                if reason:
                    self.issues.append(ImportIssue(m.sheet, m.row, "source", reason))
            for o in rec.children["outputs"]:
                if o.v["licence_type"] and not LICENCE_TYPE_RE.match(o.v["licence_type"]):
                    self.add(
                        o.sheet,
                        o.row,
                        "licence_type",
                        f'证照类型代码 "{o.v["licence_type"]}" 应为大写字母',
                        f'licence type "{o.v["licence_type"]}" must be upper-case letters',
                    )
            recs.append(rec)
        return recs

    def bundles(self, raw: Any, items: list[_Rec]) -> list[_Rec]:
        recs: list[_Rec] = []
        seen: dict[Any, int] = {}
        file_fields: dict[str, set[str]] = defaultdict(set)
        for i in items:
            file_fields[i.v["code"]] |= {
                f["name"] for f in i.v["form_schema"] if isinstance(f.get("name"), str)
            }
        entries = list(self.entries(raw, _BUNDLES, None))
        # Member codes not in the file are looked up in the database, all in one query.
        wanted: set[str] = set()
        for _row, entry in entries:
            for st in _dicts(entry.get("stages")):
                wanted.update(
                    m["item"].strip() for m in _dicts(st.get("members")) if isinstance(m.get("item"), str)
                )
        db_fields: dict[str, set[str]] = defaultdict(set)
        for code, schema in ServiceItem.objects.filter(code__in=wanted - set(file_fields)).values_list(
            "code", "form_schema"
        ):
            db_fields[code] |= {f.get("name") for f in schema or [] if isinstance(f, dict)}
        for row, entry in entries:
            rec = _Rec("bundles", row, self.clean(_BUNDLES, row, entry))
            v, sheet = rec.v, rec.sheet
            self.slug(sheet, row, v["code"])
            if v["code"]:
                self.duplicate(
                    seen, v["code"], sheet, row, "code", bi(f"一件事 {v['code']} ", f"bundle {v['code']}")
                )
            self.department(sheet, row, "lead_department", v["lead_department"])
            self.form_schema(sheet, row, v["form_schema"])
            rec.children["stages"] = self.children(rec, entry, "stages")
            raw_stages = _dicts(entry.get("stages"))
            members: dict[str, _Rec] = {}
            for stage, raw_stage in zip(rec.children["stages"], raw_stages, strict=True):
                stage.children["members"] = []
                for mrow, m in self.entries(
                    raw_stage.get("members"), _MEMBERS, (stage.sheet, stage.row, "members")
                ):
                    mrec = _Rec("bundle_members", mrow, self.clean(_MEMBERS, mrow, m))
                    stage.children["members"].append(mrec)
                    code = mrec.v["item"]
                    if not code:
                        continue
                    if code not in file_fields and code not in db_fields:
                        self.add(
                            mrec.sheet,
                            mrow,
                            "item",
                            f'事项编码 "{code}" 在文件和目录中都不存在',
                            f'item code "{code}" is neither in the file nor in the catalogue',
                        )
                    if code in members:
                        self.add(
                            mrec.sheet,
                            mrow,
                            "item",
                            f"成员事项 {code} 重复（与第 {members[code].row} 行）",
                            f"member {code} appears twice (as row {members[code].row})",
                        )
                    else:
                        members[code] = mrec
            for mrec in members.values():
                for dep in mrec.v["depends_on"]:
                    if dep not in members or dep == mrec.v["item"]:
                        self.add(
                            mrec.sheet,
                            mrec.row,
                            "depends_on",
                            f'依赖事项 "{dep}" 不是本一件事的其他成员',
                            f'depends_on "{dep}" is not another member of this bundle',
                        )
            for n, fld in enumerate(v["form_schema"], start=1):
                maps_to = fld.get("maps_to", [])
                if not isinstance(maps_to, list):
                    self.add(
                        sheet,
                        row,
                        "form_schema",
                        f"第 {n} 个字段的 maps_to 应为列表",
                        f"form_schema[{n}].maps_to must be a list",
                    )
                    continue
                for target in maps_to:
                    item_code, _, fname = str(target).rpartition(".")
                    if item_code not in members:
                        self.add(
                            sheet,
                            row,
                            "form_schema",
                            f'第 {n} 个字段的 maps_to "{target}" 指向的事项不是成员',
                            f'form_schema[{n}].maps_to "{target}" names an item that is not a member',
                        )
                    elif fname not in (file_fields.get(item_code) or db_fields.get(item_code) or set()):
                        self.add(
                            sheet,
                            row,
                            "form_schema",
                            f'第 {n} 个字段的 maps_to "{target}"：事项 {item_code} 没有字段 "{fname}"',
                            f'form_schema[{n}].maps_to "{target}": item {item_code} has no field "{fname}"',
                        )
            recs.append(rec)
        return recs


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [e for e in value if isinstance(e, dict)] if isinstance(value, list) else []


def _source_problem(source: str) -> Bi | None:
    if not source or source in ("applicant", "pledge", "exempt"):
        return None
    if source.startswith("licence:"):
        if LICENCE_TYPE_RE.match(source[len("licence:") :]):
            return None
    elif source.startswith("data:"):
        m = _DATA_SOURCE_RE.match(source)
        if m and m.group(1) in DATASETS:
            return None
        if m:
            return bi(f'未知数据集 "{m.group(1)}"', f'unknown dataset "{m.group(1)}"')
    syntax = "applicant | pledge | exempt | licence:<TYPE> | data:<dataset>.<field>[,<field>]"
    return bi(f'材料来源 "{source}" 格式错误（{syntax}）', f'bad material source "{source}" ({syntax})')


# ---------------------------------------------------------------------------------------------
# Import
# ---------------------------------------------------------------------------------------------

_BATCH = 500


def _chunks(values: list[Any], size: int = _BATCH) -> Iterable[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def import_catalog(
    data: dict[str, Any], *, actor: AbstractBaseUser | str | None, source: str = ""
) -> ImportResult:
    """Validate the whole catalogue dict, then create or update everything in it in one
    transaction, or raise `CatalogImportError` listing every problem and change nothing.

    Adds and updates only: rows in the database that the file does not mention stay as they are.
    An item version imported as active retires the other active version of its code."""
    if not isinstance(data, dict):
        raise CatalogImportError(
            [ImportIssue("format", 0, "", bi("目录数据应为映射", "catalogue data must be a mapping"))]
        )
    validator = _Validator(data)
    templates, items, bundles = validator.run()
    if validator.issues:
        raise CatalogImportError(validator.issues)
    with transaction.atomic():
        counts = _Counts()
        template_objs = _write_templates(templates, validator, counts)
        retired = _write_items(items, validator, template_objs, counts)
        _write_bundles(bundles, validator, counts)
        result = ImportResult(len(templates), len(items), len(bundles), counts.created, counts.updated)
        record(
            "catalog.import",
            actor=actor,
            object_type="catalog",
            object_id=Path(source).name[:100] if source else "",
            data={
                "source": source,
                "templates": result.templates,
                "items": result.items,
                "bundles": result.bundles,
                "created": result.created,
                "updated": result.updated,
                "retired": retired,
            },
        )
    return result


@dataclass
class _Counts:
    created: int = 0
    updated: int = 0


def _upsert(
    model: type[models.Model],
    recs: list[_Rec],
    key: Callable[[dict[str, Any]], Any],
    unique_fields: list[str],
    existing: set[Any],
    fill: Callable[[models.Model, dict[str, Any]], None],
    fields: list[str],
    counts: _Counts,
) -> dict[Any, models.Model]:
    """Create or update one row per record by its natural key; returns key -> saved object.

    One INSERT ... ON CONFLICT (natural key) DO UPDATE per batch: existing rows keep their id
    and created_at, and every object gets its pk back. Django's bulk_update() builds a CASE per
    field and row, which was ten times slower for a thousand items."""
    objs: dict[Any, models.Model] = {}
    for rec in recs:
        obj = model()
        fill(obj, rec.v)
        objs[key(rec.v)] = obj
    model.objects.bulk_create(
        list(objs.values()),
        batch_size=_BATCH,
        update_conflicts=True,
        unique_fields=unique_fields,
        update_fields=[*fields, "updated_at"],
    )
    updated = sum(1 for k in objs if k in existing)
    counts.created += len(objs) - updated
    counts.updated += updated
    return objs


def _delete_children(model: type[models.Model], parent_field: str, parent_ids: list[int]) -> None:
    for batch in _chunks(parent_ids):
        model.objects.filter(**{f"{parent_field}__in": batch}).delete()


def _write_templates(recs: list[_Rec], validator: _Validator, counts: _Counts) -> dict[str, ProcessTemplate]:
    def fill(obj: models.Model, v: dict[str, Any]) -> None:
        obj.code, obj.name = v["code"], v["name"]  # type: ignore[attr-defined]

    objs = _upsert(
        ProcessTemplate,
        recs,
        lambda v: v["code"],
        ["code"],
        set(validator.db_templates),
        fill,
        ["name"],
        counts,
    )
    ids = [o.pk for k, o in objs.items() if k in validator.db_templates]
    through = ProcessStep.departments.through
    step_ids = list(ProcessStep.objects.filter(template_id__in=ids).values_list("id", flat=True))
    _delete_children(through, "processstep_id", step_ids)
    _delete_children(ProcessStep, "template_id", ids)
    steps: list[ProcessStep] = []
    step_deps: list[list[str]] = []
    for rec in recs:
        template = objs[rec.v["code"]]
        for s in rec.children["steps"]:
            v = s.v
            steps.append(
                ProcessStep(
                    template=template,
                    seq=v["seq"],
                    name=v["name"],
                    limit_workdays=v["limit_workdays"],
                    actions=v["actions"],
                )
            )
            step_deps.append(v["departments"])
    ProcessStep.objects.bulk_create(steps, batch_size=_BATCH)
    links = [
        through(processstep_id=step.pk, department_id=validator.departments[code].pk)
        for step, codes in zip(steps, step_deps, strict=True)
        for code in dict.fromkeys(codes)
    ]
    through.objects.bulk_create(links, batch_size=_BATCH)
    templates = dict(validator.db_templates)
    templates.update(objs)  # type: ignore[arg-type]
    return templates


_ITEM_FIELDS = [c.name for c in _ITEMS.cols if c.name not in ("code", "version")] + ["search_text"]


def _write_items(
    recs: list[_Rec], validator: _Validator, templates: dict[str, ProcessTemplate], counts: _Counts
) -> list[str]:
    codes = sorted({r.v["code"] for r in recs})
    existing: dict[tuple[str, int], tuple[int, str]] = {}  # (code, version) -> (pk, state)
    for batch in _chunks(codes):
        for pk, code, version, state in ServiceItem.objects.filter(code__in=batch).values_list(
            "pk", "code", "version", "state"
        ):
            existing[(code, version)] = (pk, state)
    # One active version per code: the file's active version retires the one active before it,
    # first, so that no statement below ever sees two active rows of a code.
    file_active = {r.v["code"]: r.v["version"] for r in recs if r.v["state"] == ItemState.ACTIVE}
    to_retire = sorted(
        (code, version, pk)
        for (code, version), (pk, state) in existing.items()
        if state == ItemState.ACTIVE and code in file_active and version != file_active[code]
    )
    for batch in _chunks([pk for _c, _v, pk in to_retire]):
        ServiceItem.objects.filter(pk__in=batch).update(state=ItemState.RETIRED, updated_at=timezone.now())
    retired = [f"{code}@{version}" for code, version, _pk in to_retire]

    def fill(obj: models.Model, v: dict[str, Any]) -> None:
        assert isinstance(obj, ServiceItem)
        for name, value in v.items():
            if name == "department":
                obj.department = validator.departments[value]
            elif name == "process_template":
                obj.process_template = templates[value] if value else None
            else:
                setattr(obj, name, value)
        obj.search_text = item_search_text(obj)

    objs = _upsert(
        ServiceItem,
        recs,
        lambda v: (v["code"], v["version"]),
        ["code", "version"],
        set(existing),
        fill,
        _ITEM_FIELDS,
        counts,
    )
    old_ids = [o.pk for k, o in objs.items() if k in existing]
    for model in (MaterialRequirement, ItemOutput, FeeLine):
        _delete_children(model, "item_id", old_ids)
    materials: list[MaterialRequirement] = []
    outputs: list[ItemOutput] = []
    fees: list[FeeLine] = []
    for rec in recs:
        item = objs[(rec.v["code"], rec.v["version"])]
        materials += [MaterialRequirement(item=item, **m.v) for m in rec.children["materials"]]
        outputs += [ItemOutput(item=item, **o.v) for o in rec.children["outputs"]]
        fees += [FeeLine(item=item, **f.v) for f in rec.children["fees"]]
    MaterialRequirement.objects.bulk_create(materials, batch_size=_BATCH)
    ItemOutput.objects.bulk_create(outputs, batch_size=_BATCH)
    FeeLine.objects.bulk_create(fees, batch_size=_BATCH)
    return retired


_BUNDLE_FIELDS = [c.name for c in _BUNDLES.cols if c.name != "code"] + ["search_text"]


def _write_bundles(recs: list[_Rec], validator: _Validator, counts: _Counts) -> None:
    codes = [r.v["code"] for r in recs]
    existing = set(Bundle.objects.filter(code__in=codes).values_list("code", flat=True))

    def fill(obj: models.Model, v: dict[str, Any]) -> None:
        assert isinstance(obj, Bundle)
        for name, value in v.items():
            if name == "lead_department":
                obj.lead_department = validator.departments[value]
            else:
                setattr(obj, name, value)
        obj.search_text = bundle_search_text(obj)

    objs = _upsert(Bundle, recs, lambda v: v["code"], ["code"], existing, fill, _BUNDLE_FIELDS, counts)
    old_ids = [o.pk for k, o in objs.items() if k in existing]
    _delete_children(BundleMember, "bundle_id", old_ids)
    _delete_children(BundleStage, "bundle_id", old_ids)
    stages: list[BundleStage] = []
    for rec in recs:
        bundle = objs[rec.v["code"]]
        stages += [
            BundleStage(bundle=bundle, seq=s.v["seq"], name=s.v["name"], limit_workdays=s.v["limit_workdays"])
            for s in rec.children["stages"]
        ]
    BundleStage.objects.bulk_create(stages, batch_size=_BATCH)
    members: list[BundleMember] = []
    n = 0
    for rec in recs:
        bundle = objs[rec.v["code"]]
        for s in rec.children["stages"]:
            stage = stages[n]
            n += 1
            members += [
                BundleMember(
                    bundle=bundle,
                    stage=stage,
                    item_code=m.v["item"],
                    optional=m.v["optional"],
                    depends_on=m.v["depends_on"],
                )
                for m in s.children["members"]
            ]
    BundleMember.objects.bulk_create(members, batch_size=_BATCH)
