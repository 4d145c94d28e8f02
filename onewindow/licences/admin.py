from django.contrib import admin

from onewindow.licences.models import Licence, LicenceType, LicenceUsage, SigningKey


@admin.register(LicenceType)
class LicenceTypeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "department_code", "holder_kind", "validity_months", "active"]
    search_fields = ["code", "name"]


@admin.register(Licence)
class LicenceAdmin(admin.ModelAdmin):
    """Read-only: licences change only through the services (signed, audited)."""

    list_display = ["licence_id", "type", "holder_name", "issuer_name", "issue_date", "valid_to", "status"]
    list_filter = ["status", "type"]
    search_fields = ["licence_id", "holder_name"]

    def has_add_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False

    def has_change_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False

    def has_delete_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False


@admin.register(SigningKey)
class SigningKeyAdmin(admin.ModelAdmin):
    list_display = ["kid", "department", "algorithm", "generation", "active", "created_at", "retired_at"]
    exclude = ["private_sealed"]

    def has_add_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False

    def has_change_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False

    def has_delete_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False


@admin.register(LicenceUsage)
class LicenceUsageAdmin(admin.ModelAdmin):
    list_display = ["at", "licence", "department", "official_name", "case_number", "result"]

    def has_add_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False

    def has_change_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False

    def has_delete_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False
