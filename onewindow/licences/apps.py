from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LicencesConfig(AppConfig):
    name = "onewindow.licences"
    label = "licences"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("电子证照")

    def ready(self) -> None:
        from onewindow.cases import services as cases
        from onewindow.exchange import resolver
        from onewindow.licences.services import check_coverage, fill_material, issue_for_case

        # Licences are issued inside the approve transaction (APPROVED → READY) ...
        if issue_for_case not in cases.output_producers:
            cases.output_producers.append(issue_for_case)
        # ... and used at intake for materials whose source is `licence:<type>`.
        if check_coverage not in resolver.licence_checkers:
            resolver.licence_checkers.append(check_coverage)
        if fill_material not in resolver.licence_fillers:
            resolver.licence_fillers.append(fill_material)
