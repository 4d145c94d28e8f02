"""Rate limits of the public, unauthenticated endpoints (licence verification): per client IP,
counted in the shared cache (Redis when REDIS_URL is set, else a file cache under
$ONEWINDOW_HOME) by django-ratelimit.

Behind a reverse proxy set RATELIMIT_IP_META_KEY to the header your proxy sets to the client's
address (e.g. HTTP_X_REAL_IP); for HTTP_X_FORWARDED_FOR the last address is taken (the one the
proxy added: the ones before it are whatever the client sent). Without the header the peer
address is counted. When the cache is unreachable the request is let through (and logged):
public verification stays available."""

from __future__ import annotations

import logging
import re

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import is_ratelimited

from onewindow.core.errors import RateLimitedError

log = logging.getLogger(__name__)
_PERIOD = re.compile(r"^\d+/(\d*)([smhd])")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def client_ip(group: str, request: HttpRequest) -> str:
    """The address counted for a request (django-ratelimit key callable)."""
    header = getattr(settings, "RATELIMIT_IP_META_KEY", None)
    if header and request.META.get(header):
        parts = [p.strip() for p in request.META[header].split(",") if p.strip()]
        if parts:
            return parts[-1][:64]
    return str(request.META.get("REMOTE_ADDR", ""))[:64] or "unknown"


def retry_after(rate: str) -> int:
    """Seconds of the rate's window ("120/m" → 60, "5/10s" → 10)."""
    m = _PERIOD.match(rate)
    if not m:
        return 60
    return (int(m.group(1)) if m.group(1) else 1) * _SECONDS[m.group(2)]


def check(request: HttpRequest, group: str, rate: str | None = None) -> None:
    """Count this request against `group` for its client; RateLimitedError (429, with the
    window in `retry_after`) over the rate (default `settings.ONEWINDOW_PUBLIC_RATE`)."""
    rate = rate or settings.ONEWINDOW_PUBLIC_RATE
    try:
        limited = is_ratelimited(request, group=group, key=client_ip, rate=rate, increment=True)
    except Exception:  # noqa: BLE001 - a cache outage must not take the public page down
        log.warning("rate limit cache unavailable; %s not limited", group, exc_info=True)
        return
    if limited:
        exc = RateLimitedError(extra={"rate": rate})
        exc.retry_after = retry_after(rate)
        raise exc
