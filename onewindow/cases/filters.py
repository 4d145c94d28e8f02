"""List filters for case and work-item pages (and, later, the API).

One form-based filter: it reads a plain mapping (``request.GET`` or API query parameters),
validates it, and narrows a queryset that is ALREADY scoped (``visible_cases`` /
``visible_work_items``). It never widens a scope; invalid values are ignored, not errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from onewindow.cases.models import Case, CaseStatus, SlaLevel, WorkItem, WorkItemStatus

# Work-item status choices: "active" (open or claimed) is the default of the worklist.
WORK_STATUS_CHOICES = [
    ("active", _("待办（待认领和办理中）")),
    (WorkItemStatus.OPEN, WorkItemStatus.OPEN.label),
    (WorkItemStatus.CLAIMED, WorkItemStatus.CLAIMED.label),
    (WorkItemStatus.DONE, WorkItemStatus.DONE.label),
    ("all", _("全部")),
]

SLA_CHOICES = [
    ("", _("全部预警")),
    (SlaLevel.YELLOW, SlaLevel.YELLOW.label),
    (SlaLevel.RED, SlaLevel.RED.label),
    ("breach", _("超法定时限")),
]

MAX_Q = 100


class CaseListFilter(forms.Form):
    """Filters shared by the worklist (work items) and the case lists (cases).

    ``status``: for cases a ``CaseStatus`` value; for work items ``active``/``open``/``claimed``/
    ``done``/``all``. ``sla``: ``yellow`` / ``red`` / ``breach``. ``q``: case number, item name or
    code, or applicant name. ``mine``: work items claimed by the user.
    """

    status = forms.CharField(required=False, max_length=20)
    sla = forms.ChoiceField(required=False, choices=SLA_CHOICES, label=_("预警"))
    q = forms.CharField(required=False, max_length=MAX_Q, strip=True, label=_("搜索"))
    mine = forms.BooleanField(required=False, label=_("只看我认领的"))

    def __init__(self, data: Mapping[str, Any] | None = None, *, kind: str = "case") -> None:
        if kind not in ("case", "work_item"):
            raise ValueError(kind)
        self.kind = kind
        super().__init__(data={k: data.get(k) for k in ("status", "sla", "q", "mine")} if data else {})

    # -- values -------------------------------------------------------------------------------

    def value(self, name: str) -> Any:
        """The cleaned value of a field, or its empty value when the field is invalid."""
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        default: Any = False if name == "mine" else ""
        return self.cleaned_data.get(name, default) if name not in self.errors else default

    def status_value(self) -> str:
        status = self.value("status") or ""
        valid = (
            {c for c, _label in WORK_STATUS_CHOICES}
            if self.kind == "work_item"
            else set(CaseStatus.values) | {"open"}
        )
        if status not in valid:
            return "active" if self.kind == "work_item" else ""
        return status

    @property
    def status_choices(self) -> list[tuple[str, Any]]:
        if self.kind == "work_item":
            return WORK_STATUS_CHOICES
        return [("", _("全部状态")), ("open", _("办理中（未办结）")), *CaseStatus.choices]

    def params(self) -> dict[str, str]:
        """The effective filter values, for links (pagination) and the API echo."""
        return {
            "status": self.status_value(),
            "sla": self.value("sla") or "",
            "q": self.value("q") or "",
            "mine": "1" if self.value("mine") else "",
        }

    # -- narrowing ----------------------------------------------------------------------------

    @staticmethod
    def _sla_q(prefix: str, sla: str) -> Q | None:
        if sla == "breach":
            return Q(**{f"{prefix}legal_breach": True})
        if sla in (SlaLevel.YELLOW, SlaLevel.RED):
            return Q(**{f"{prefix}sla": sla})
        return None

    @staticmethod
    def _text_q(prefix: str, q: str) -> Q:
        return (
            Q(**{f"{prefix}number__icontains": q})
            | Q(**{f"{prefix}item__name__icontains": q})
            | Q(**{f"{prefix}item__code__icontains": q})
            | Q(**{f"{prefix}applicant_name__icontains": q})
        )

    def filter_cases(self, qs: QuerySet[Case]) -> QuerySet[Case]:
        status = self.status_value()
        if status == "open":
            from onewindow.cases.models import OPEN_STATUSES

            qs = qs.filter(status__in=OPEN_STATUSES)
        elif status:
            qs = qs.filter(status=status)
        if (cond := self._sla_q("", self.value("sla"))) is not None:
            qs = qs.filter(cond)
        if q := self.value("q"):
            qs = qs.filter(self._text_q("", q))
        return qs

    def filter_work_items(self, qs: QuerySet[WorkItem], user: Any = None) -> QuerySet[WorkItem]:
        status = self.status_value()
        if status == "active":
            qs = qs.filter(status__in=[WorkItemStatus.OPEN, WorkItemStatus.CLAIMED])
        elif status != "all":
            qs = qs.filter(status=status)
        if (cond := self._sla_q("case__", self.value("sla"))) is not None:
            qs = qs.filter(cond)
        if q := self.value("q"):
            qs = qs.filter(self._text_q("case__", q) | Q(step_name__icontains=q))
        if self.value("mine") and user is not None and user.is_authenticated:
            qs = qs.filter(assignee=user)
        return qs

    def apply(self, qs: QuerySet[Any], user: Any = None) -> QuerySet[Any]:
        return self.filter_work_items(qs, user) if self.kind == "work_item" else self.filter_cases(qs)
