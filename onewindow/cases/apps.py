from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "onewindow.cases"
    label = "cases"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("办件")

    def ready(self) -> None:
        from onewindow.cases import clock
        from onewindow.workcal import services as workcal

        # Open due dates follow calendar changes (DESIGN §5).
        if clock.recompute_open_due_dates not in workcal.on_change:
            workcal.on_change.append(clock.recompute_open_due_dates)
        # 一件事: start dependent children, cancel the dependents of a refused one, aggregate
        # the parent, deliver the children with it; a new enterprise's identity (企业开办).
        from onewindow.cases import bundles

        bundles.install()
