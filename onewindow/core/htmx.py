"""One view, two renderings: a full page, or only its partial for an htmx request."""

from __future__ import annotations

from django.http import HttpRequest


def is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False)) and not getattr(request.htmx, "boosted", False)


def template_for(request: HttpRequest, page: str, partial: str) -> str:
    return partial if is_htmx(request) else page
