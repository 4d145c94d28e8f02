"""Template filters for catalogue pages: code-list labels, limits, visits, material sources.

Everything here returns plain text (auto-escaped by the template) or builds HTML with
`format_html`, so catalogue data is never marked safe."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext, ngettext

from onewindow.catalog import codelists
from onewindow.core.roles import Role

register = template.Library()


def _is_en() -> bool:
    return (get_language() or "zh-hans").startswith("en")


@register.filter
def codelabel(code: Any, list_name: str) -> str:
    """`{{ d.item_type|codelabel:"item_type" }}` → 行政许可 / Administrative licensing."""
    if code in (None, ""):
        return ""
    return codelists.label(list_name, str(code))


@register.filter
def codelabels(codes: Iterable[Any] | None, list_name: str) -> list[str]:
    """Labels of a list of codes, e.g. channels or served parties."""
    return [codelists.label(list_name, str(c)) for c in (codes or [])]


@register.filter
def listing(values: Iterable[Any] | None) -> str:
    """Joins labels with the list separator of the active language (、 in Chinese, ", " in English)."""
    return gettext("、").join(str(v) for v in (values or []))


@register.filter
def limit(amount: Any, unit: str) -> str:
    """A time limit with its unit: `{{ d.promised_limit|limit:d.promised_limit_unit }}`."""
    if amount in (None, ""):
        return ""
    try:
        n = int(amount)
    except (TypeError, ValueError):
        n = 2
    if unit == "workday":
        text = ngettext("%(n)s 个工作日", "%(n)s 个工作日", n)
    elif unit == "day":
        text = ngettext("%(n)s 个自然日", "%(n)s 个自然日", n)
    elif unit == "minute":
        text = ngettext("%(n)s 分钟", "%(n)s 分钟", n)
    else:
        return f"{amount} {codelists.label('limit_unit', unit)}".strip()
    return text % {"n": amount}


@register.filter
def workdays(amount: Any) -> str:
    """A step or stage limit in working days (a Decimal like 1.50 shows as 1.5)."""
    if amount in (None, ""):
        return ""
    shown = f"{amount:f}".rstrip("0").rstrip(".") if hasattr(amount, "as_tuple") else str(amount)
    return limit(shown, "workday")


@register.filter
def visits(n: Any) -> str:
    """到现场次数: 0 → 跑零次, 1 → 最多跑一次, more → 最多跑 n 次."""
    try:
        n = int(n)
    except (TypeError, ValueError):
        return ""
    if n == 0:
        return gettext("跑零次")
    if n == 1:
        return gettext("最多跑一次")
    return gettext("最多跑 %(n)s 次") % {"n": n}


_SOURCE_LABELS = {
    "applicant": lambda: gettext("申请人提交"),
    "licence": lambda: gettext("电子证照"),
    "data": lambda: gettext("数据共享"),
    "pledge": lambda: gettext("告知承诺"),
    "exempt": lambda: gettext("免于提交"),
}


@register.filter
def source_kind(source: str | None) -> str:
    return (source or "applicant").split(":", 1)[0]


@register.simple_tag
def material_source(source: str | None) -> SafeString:
    """A badge for a material's source: 申请人提交 / 电子证照 <type> / 数据共享 / 告知承诺 / 免于提交."""
    source = source or "applicant"
    kind, _, detail = source.partition(":")
    label = _SOURCE_LABELS.get(kind)
    if label is None:
        return format_html('<span class="ow-badge">{}</span>', source)
    title = codelists.label("material_source", kind)
    if detail:
        return format_html(
            '<span class="ow-badge ow-badge-{}" title="{}">{} <code>{}</code></span>',
            kind,
            title,
            label(),
            detail,
        )
    return format_html('<span class="ow-badge ow-badge-{}" title="{}">{}</span>', kind, title, label())


@register.filter
def localized(obj: Any, field: str = "name") -> str:
    """`{{ d.department|localized }}`: the English name on English pages when there is one."""
    if obj is None:
        return ""
    if isinstance(obj, str):
        return obj
    get = obj.get if isinstance(obj, Mapping) else (lambda k, default="": getattr(obj, k, default))
    zh = get(field, "") or ""
    if _is_en():
        return get(field + "_en", "") or zh
    return zh


@register.filter
def other_name(obj: Any, field: str = "name") -> str:
    """The name in the other language (shown under the title), or "" when there is none."""
    get = obj.get if isinstance(obj, Mapping) else (lambda k, default="": getattr(obj, k, default))
    zh, en = get(field, "") or "", get(field + "_en", "") or ""
    if not en:
        return ""
    return zh if _is_en() else en


@register.filter
def lookup(mapping: Mapping[str, Any] | None, key: Any) -> Any:
    """`{{ departments|lookup:code }}`; the key itself when it is not in the mapping."""
    if not mapping:
        return key
    return mapping.get(key, key)


@register.filter
def role_label(code: str) -> str:
    try:
        return str(Role(code).label)
    except ValueError:
        return code


@register.filter
def faq_entry(entry: Any) -> dict[str, str]:
    """An FAQ entry as {"q", "a"}, accepting {"q","a"}, {"question","answer"} (with `_en`
    variants on English pages) or a plain string."""
    if isinstance(entry, str):
        return {"q": entry, "a": ""}
    if not isinstance(entry, Mapping):
        return {"q": str(entry), "a": ""}
    en = _is_en()

    def pick(*keys: str) -> str:
        for k in keys:
            if en and entry.get(k + "_en"):
                return str(entry[k + "_en"])
        for k in keys:
            if entry.get(k):
                return str(entry[k])
        return ""

    return {"q": pick("q", "question"), "a": pick("a", "answer")}


@register.filter
def yuan(amount: Any) -> str:
    """An amount in yuan: 50.00 → ¥50.00."""
    if amount in (None, ""):
        return ""
    return gettext("%(amount)s 元") % {"amount": amount}
