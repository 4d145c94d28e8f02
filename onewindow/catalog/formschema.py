"""Validation of form data against an item's (or bundle's) form schema."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError

from onewindow.core.errors import InvalidError
from onewindow.core.i18n import Bi, bi

FIELD_TYPES = {
    "text",
    "textarea",
    "number",
    "decimal",
    "date",
    "boolean",
    "choice",
    "id_number",
    "uscc",
    "phone",
    "email",
    "region",
    "address",
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Control characters (NUL and friends) are refused in every text: PostgreSQL rejects NUL, and
# none of them belongs in a form. Line breaks and tabs are allowed in multi-line fields.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def has_control_chars(text: str, *, multiline: bool = False) -> bool:
    return bool(CONTROL.search(text)) or (not multiline and ("\n" in text or "\r" in text))


def _label(field: dict[str, Any]) -> tuple[str, str]:
    return str(field.get("label_zh") or field["name"]), str(field.get("label_en") or field["name"])


def _check(field: dict[str, Any], value: Any) -> tuple[Any, Bi | None]:
    from onewindow.core.validators import validate_mobile, validate_resident_id, validate_uscc

    kind = field.get("type", "text")
    zh, en = _label(field)
    if isinstance(value, str) and has_control_chars(value, multiline=kind in ("textarea", "address")):
        return None, bi(f"{zh}：包含不允许的控制字符", f"{en}: contains control characters")
    if kind in ("text", "textarea", "address", "region"):
        text = str(value).strip()
        limit = int(field.get("max_length") or (2000 if kind == "textarea" else 200))
        if len(text) > limit:
            return None, bi(f"{zh}：不能超过 {limit} 个字", f"{en}: at most {limit} characters")
        if field.get("pattern") and not re.fullmatch(str(field["pattern"]), text):
            return None, bi(f"{zh}：格式不正确", f"{en}: wrong format")
        if kind == "region" and not (text.isdigit() and len(text) in (6, 9, 12)):
            return None, bi(f"{zh}：应为行政区划代码", f"{en}: must be a region code")
        return text, None
    if kind in ("number", "decimal"):
        try:
            num = Decimal(str(value).strip())
            if not num.is_finite():
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            return None, bi(f"{zh}：应为数字", f"{en}: must be a number")
        if kind == "number" and num != num.to_integral_value():
            return None, bi(f"{zh}：应为整数", f"{en}: must be a whole number")
        if field.get("min") is not None and num < Decimal(str(field["min"])):
            return None, bi(f"{zh}：不能小于 {field['min']}", f"{en}: must be at least {field['min']}")
        if field.get("max") is not None and num > Decimal(str(field["max"])):
            return None, bi(f"{zh}：不能大于 {field['max']}", f"{en}: must be at most {field['max']}")
        return (int(num) if kind == "number" else str(num)), None
    if kind == "date":
        try:
            return date.fromisoformat(str(value).strip()).isoformat(), None
        except ValueError:
            return None, bi(f"{zh}：日期格式应为 YYYY-MM-DD", f"{en}: date must be YYYY-MM-DD")
    if kind == "boolean":
        if isinstance(value, bool):
            return value, None
        text = str(value).strip().lower()
        if text in ("true", "1", "yes", "on", "是"):
            return True, None
        if text in ("false", "0", "no", "off", "否", ""):
            return False, None
        return None, bi(f"{zh}：应为是或否", f"{en}: must be yes or no")
    if kind == "choice":
        allowed = [str(c.get("value")) for c in field.get("choices") or []]
        if str(value) not in allowed:
            return None, bi(f"{zh}：取值不在可选范围内", f"{en}: not one of the choices")
        return str(value), None
    if kind == "email":
        text = str(value).strip()
        if not _EMAIL.match(text) or len(text) > 200:
            return None, bi(f"{zh}：邮箱格式不正确", f"{en}: not a valid e-mail address")
        return text, None
    validators = {
        "id_number": lambda v: validate_resident_id(v).number,
        "uscc": validate_uscc,
        "phone": validate_mobile,
    }
    try:
        return validators[kind](str(value)), None
    except ValidationError as exc:
        msg = exc.messages and exc.error_list[0].message
        detail = msg if isinstance(msg, Bi) else bi(str(msg), str(msg))
        return None, bi(f"{zh}：{detail.zh}", f"{en}: {detail.en}")


def clean_form_data(
    schema: list[dict[str, Any]], data: dict[str, Any] | None, *, prefix: str = "form_data"
) -> dict:
    """The cleaned values of `data` for `schema`, or InvalidError naming every bad field as
    `form_data.<name>`. Unknown keys are refused too, so nothing is silently dropped."""
    data = dict(data or {})
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[Any]] = {}
    names = {f["name"] for f in schema}
    for key in data:
        if key not in names:
            errors[f"{prefix}.{key}"] = [bi("表单中没有这一项", "not a field of this form")]
    for field in schema:
        name = field["name"]
        value = data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if field.get("required"):
                zh, en = _label(field)
                errors[f"{prefix}.{name}"] = [bi(f"{zh}：必填", f"{en}: required")]
            continue
        clean, err = _check(field, value)
        if err is not None:
            errors[f"{prefix}.{name}"] = [err]
        else:
            cleaned[name] = clean
    if errors:
        first = next(iter(errors.values()))[0]
        raise InvalidError(bi(f"表单填写有误：{first.zh}", f"The form has errors: {first.en}"), fields=errors)
    return cleaned


_COND = re.compile(r"^\s*(\w+)\s*(==|!=|in)\s*(.+?)\s*$")


def condition_holds(condition: str, form_data: dict[str, Any]) -> bool:
    """A material's condition on form fields: `field == value`, `field != value`,
    `field in a,b,c`, or a bare `field` (truthy). Empty: always. Unparseable: applies (safe)."""
    condition = (condition or "").strip()
    if not condition:
        return True
    m = _COND.match(condition)
    if not m:
        name = condition.split()[0]
        if name in form_data:
            return bool(form_data.get(name))
        return True
    name, op, raw = m.groups()
    current = form_data.get(name, "")
    value = ("true" if current else "false") if isinstance(current, bool) else str(current).strip()
    raw = raw.strip().strip("'\"")
    if op == "==":
        return value == raw
    if op == "!=":
        return value != raw
    return value in [v.strip().strip("'\"") for v in raw.split(",")]
