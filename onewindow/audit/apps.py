from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "onewindow.audit"
    label = "audit"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("audit")
