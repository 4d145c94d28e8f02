from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    name = "onewindow.exchange"
    label = "exchange"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("数据共享")

    def ready(self) -> None:
        from onewindow.cases import services as cases
        from onewindow.exchange.resolver import fill_case_materials

        # On acceptance, materials covered by shared data are fetched with the case as purpose.
        if fill_case_materials not in cases.material_resolvers:
            cases.material_resolvers.append(fill_case_materials)
