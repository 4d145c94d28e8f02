"""Catalogue reads: item and bundle search with ranking, scoped to what a user may see."""

from __future__ import annotations

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from onewindow.catalog.models import Bundle, ItemState, ServiceItem
from onewindow.catalog.search import query_terms


def _term_filter(terms: list[str], any_: bool) -> Q:
    q = Q()
    for t in terms:
        part = Q(search_text__icontains=t) | Q(code__iexact=t)
        q = (q | part) if any_ else (q & part)
    return q


def search_items(
    q: str = "",
    *,
    department: str | None = None,
    item_type: str | None = None,
    case_type: str | None = None,
    channel: str | None = None,
    served_party: str | None = None,
    state: str | None = ItemState.ACTIVE,
) -> QuerySet[ServiceItem]:
    """Items matching the filters; with `q`, ranked: exact name, name prefix, name contains,
    short name or keyword, then the rest. Every term must match; if none does, any term may."""
    qs = ServiceItem.objects.select_related("department")
    if state:
        qs = qs.filter(state=state)
    if department:
        qs = qs.filter(department__code=department)
    if item_type:
        qs = qs.filter(item_type=item_type)
    if case_type:
        qs = qs.filter(case_type=case_type)
    if channel:
        qs = qs.filter(channels__icontains=f'"{channel}"')
    if served_party:
        qs = qs.filter(served_party__icontains=f'"{served_party}"')
    q = (q or "").strip()
    if not q:
        return qs.order_by("department__code", "code", "-version")
    terms = query_terms(q)
    matched = qs.filter(_term_filter(terms, any_=False))
    if not matched.exists():
        matched = qs.filter(_term_filter(terms, any_=True))
    return matched.annotate(
        rank=Case(
            When(name=q, then=Value(0)),
            When(code__iexact=q, then=Value(0)),
            When(name__startswith=q, then=Value(1)),
            When(name__contains=q, then=Value(2)),
            When(short_name__contains=q, then=Value(3)),
            default=Value(5),
            output_field=IntegerField(),
        )
    ).order_by("rank", "code", "-version")


def search_bundles(q: str = "", *, state: str | None = ItemState.ACTIVE) -> QuerySet[Bundle]:
    qs = Bundle.objects.select_related("lead_department")
    if state:
        qs = qs.filter(state=state)
    q = (q or "").strip()
    if not q:
        return qs.order_by("code")
    terms = query_terms(q)
    matched = qs.filter(_term_filter(terms, any_=False))
    if not matched.exists():
        matched = qs.filter(_term_filter(terms, any_=True))
    return matched.order_by("code")


def current_item(code: str, version: int | None = None) -> ServiceItem | None:
    """The active version of `code` (or the given version, whatever its state)."""
    qs = ServiceItem.objects.select_related("department", "process_template").filter(code=code)
    if version is not None:
        return qs.filter(version=version).first()
    return qs.filter(state=ItemState.ACTIVE).first() or qs.order_by("-version").first()
