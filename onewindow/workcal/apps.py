from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkcalConfig(AppConfig):
    name = "onewindow.workcal"
    label = "workcal"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("工作日历")
