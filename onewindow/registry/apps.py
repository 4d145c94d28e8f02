from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    """The demo city's synthetic departmental registries, read by the `local` data connector."""

    name = "onewindow.registry"
    label = "registry"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("共享数据登记库")
