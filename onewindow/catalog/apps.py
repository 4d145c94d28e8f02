from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "onewindow.catalog"
    label = "catalog"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("catalog")
