from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from onewindow import __version__


def onewindow(request: HttpRequest) -> dict[str, Any]:
    return {"ONEWINDOW_VERSION": __version__, "ONEWINDOW_DEMO": settings.DEMO}
