"""Rate limits of the public, unauthenticated endpoints (licence verification): per client IP,
counted in the shared cache (Redis when REDIS_URL is set, else a file cache under
$ONEWINDOW_HOME) by django-ratelimit. Behind a reverse proxy set RATELIMIT_IP_META_KEY (e.g.
HTTP_X_REAL_IP) so that the client's address, not the proxy's, is counted."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import is_ratelimited

from onewindow.core.errors import RateLimitedError


def check(request: HttpRequest, group: str, rate: str | None = None) -> None:
    """Count this request against `group` for its client IP; RateLimitedError (429) over the
    rate (default `settings.ONEWINDOW_PUBLIC_RATE`, e.g. "60/m")."""
    rate = rate or settings.ONEWINDOW_PUBLIC_RATE
    if is_ratelimited(request, group=group, key="ip", rate=rate, increment=True):
        raise RateLimitedError(extra={"rate": rate})
