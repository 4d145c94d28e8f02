"""One view, two renderings: a full page, or only its partial for an htmx request."""

from __future__ import annotations

from django.http import HttpRequest


def is_htmx(request: HttpRequest) -> bool:
    """An htmx request that wants a partial: not a boosted navigation, and not a history
    restore (the back button after a pushed URL needs the whole page)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def template_for(request: HttpRequest, page: str, partial: str) -> str:
    return partial if is_htmx(request) else page
