from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from onewindow import __version__


def onewindow(request: HttpRequest) -> dict[str, Any]:
    from django.utils.functional import SimpleLazyObject

    from onewindow.core.permissions import roles

    user = getattr(request, "user", None)
    return {
        "ONEWINDOW_VERSION": __version__,
        "ONEWINDOW_DEMO": settings.DEMO,
        # The navigation shows what the user's roles allow (computed once, only when used).
        "my_roles": SimpleLazyObject(lambda: sorted(roles(user))),
    }
