"""Template helpers shared by every case page: masked personal data, status badges, SLA lights,
visits."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

from onewindow.cases.models import CaseStatus, SlaLevel
from onewindow.core.validators import mask_id as _mask_id
from onewindow.core.validators import mask_phone as _mask_phone

register = template.Library()


@register.filter
def mask_id(value: Any) -> str:
    """3308**********1234: ID numbers and USCCs in lists."""
    return _mask_id(str(value or ""))


@register.filter
def mask_phone(value: Any) -> str:
    return _mask_phone(str(value or ""))


@register.simple_tag
def status_badge(status: str) -> str:
    try:
        label = CaseStatus(status).label
    except ValueError:
        label = status
    return format_html('<span class="ow-status ow-status-{}">{}</span>', str(status).lower(), label)


@register.simple_tag
def sla_light(case: Any) -> str:
    """A coloured light with a text label (colour is never the only signal)."""
    level = getattr(case, "sla", "") or ""
    breach = getattr(case, "legal_breach", False)
    if not level:
        return format_html('<span class="ow-sla ow-sla-none" title="{}">—</span>', _("未计时"))
    label = SlaLevel(level).label
    if breach:
        label = _("超法定时限")
        level = "breach"
    return format_html(
        '<span class="ow-sla ow-sla-{}" role="img" aria-label="{}">● {}</span>', level, label, label
    )


@register.filter
def visits_label(n: Any) -> str:
    n = int(n or 0)
    if n == 0:
        return _("跑零次")
    if n == 1:
        return _("最多跑一次")
    return _("跑动 %(n)d 次") % {"n": n}
