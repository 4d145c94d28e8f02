from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "onewindow.org"
    label = "org"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("org")
