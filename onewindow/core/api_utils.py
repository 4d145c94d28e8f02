"""Helpers shared by every app's API: paging in the shape {"count", "results"}, the caller."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from onewindow.core.errors import InvalidError
from onewindow.core.i18n import bi

MAX_PAGE_SIZE = 200
MAX_PAGE = 1_000_000  # beyond this an offset overflows SQLite's integer: a 422, never a 500


def page_params(page: int, page_size: int) -> tuple[int, int]:
    fields: dict[str, list[Any]] = {}
    if not 1 <= page <= MAX_PAGE:
        fields["page"] = [bi(f"页码须在 1 到 {MAX_PAGE} 之间", f"page must be between 1 and {MAX_PAGE}")]
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        fields["page_size"] = [
            bi(f"每页条数须在 1 到 {MAX_PAGE_SIZE} 之间", f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        ]
    if fields:
        raise InvalidError(bi("分页参数有误", "Invalid paging parameters"), fields=fields)
    return page, page_size


def paginate(qs: QuerySet[Any], page: int, size: int, render: Callable[[Any], Any]) -> dict[str, Any]:
    count = qs.count()
    start = (page - 1) * size
    return {"count": count, "results": [render(o) for o in qs[start : start + size]]}


def optional_user(request: HttpRequest) -> Any:
    """The caller on a public endpoint: a Bearer token user, else the session user, else None."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        from onewindow.core.services import user_for_token

        return user_for_token(header[7:].strip())
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>` for systems and scripts."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        from onewindow.core.services import user_for_token

        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


class PageSession(SessionAuth):
    """The pages' session cookie; the CSRF token is checked on writes, but only for a logged-in
    session, so a caller with neither a token nor a session gets 401, not a CSRF 403."""

    def __call__(self, request: HttpRequest) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return super().__call__(request)


# Endpoints that need a caller use `auth=AUTH`: a Bearer token, or the pages' session cookie.
AUTH = [BearerToken(), PageSession()]
