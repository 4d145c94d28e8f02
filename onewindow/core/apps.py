from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "onewindow.core"
    label = "core"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("core")
