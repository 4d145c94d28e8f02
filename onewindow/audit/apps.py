import hashlib
from typing import Any

from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _


def _sha256_hex(text: str | None) -> str | None:
    return None if text is None else hashlib.sha256(text.encode("utf-8")).hexdigest()


def register_sqlite_functions(sender: Any, connection: Any, **kwargs: Any) -> None:
    """SQLite: `ow_sha256(text)` (hex SHA-256 of the UTF-8 text), so that an audit append hashes
    the chain head inside its one INSERT, as PostgreSQL's sha256() does (see services._append)."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("ow_sha256", 1, _sha256_hex, deterministic=True)


class AuditConfig(AppConfig):
    name = "onewindow.audit"
    label = "audit"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("audit")

    def ready(self) -> None:
        connection_created.connect(register_sqlite_functions, dispatch_uid="onewindow.audit.sqlite_functions")
