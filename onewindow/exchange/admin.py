from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from onewindow.core.permissions import has_role, region_q
from onewindow.core.roles import Role
from onewindow.core.validators import mask_id
from onewindow.exchange.models import AccessRecord, Consent, Dataset, Grant
from onewindow.org.admin import AuditedAdmin


class DataAdminMixin:
    """Only data admins (and sysadmins) manage datasets and grants; every edit is audited."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return has_role(request.user, Role.DATA_ADMIN)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return has_role(request.user, Role.DATA_ADMIN)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return has_role(request.user, Role.DATA_ADMIN)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return has_role(request.user, Role.DATA_ADMIN)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # grants are ended (valid_until / active), never deleted: the log refers to them


class RegionScopedMixin:
    """A data admin sees the rows of departments in their region subtree (sysadmins: all)."""

    region_field = "department__region__code"

    def get_queryset(self, request: HttpRequest) -> Any:
        qs = super().get_queryset(request)  # type: ignore[misc]
        return qs.filter(region_q(request.user, Role.DATA_ADMIN, self.region_field))


@admin.register(Dataset)
class DatasetAdmin(DataAdminMixin, AuditedAdmin):
    list_display = ["code", "name", "owner", "subject_kind", "connector", "needs_consent", "active"]
    list_filter = ["connector", "needs_consent", "active"]
    search_fields = ["code", "name"]
    raw_id_fields = ["owner"]


@admin.register(Grant)
class GrantAdmin(RegionScopedMixin, DataAdminMixin, AuditedAdmin):
    region_field = "consumer__region__code"
    list_display = ["consumer", "dataset", "valid_from", "valid_until", "active"]
    list_filter = ["active", "dataset"]
    search_fields = ["consumer__name", "dataset__code", "legal_basis"]
    raw_id_fields = ["consumer", "dataset"]


class ReadOnlyMixin(DataAdminMixin):
    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AccessRecord)
class AccessRecordAdmin(RegionScopedMixin, ReadOnlyMixin, admin.ModelAdmin):
    # The subject's number stays masked on the detail page too.
    exclude = ["subject"]
    readonly_fields = ["masked_subject"]
    list_display = ["at", "official_name", "department", "case_number", "dataset", "masked_subject", "result"]
    list_filter = ["result", "dataset"]
    search_fields = ["=subject", "=case_number", "official_name"]
    date_hierarchy = "at"
    show_full_result_count = False

    @admin.display(description="数据主体")
    def masked_subject(self, obj: AccessRecord) -> str:
        return mask_id(obj.subject)


@admin.register(Consent)
class ConsentAdmin(ReadOnlyMixin, admin.ModelAdmin):
    exclude = ["subject"]
    readonly_fields = ["masked_subject"]
    list_display = ["case_number", "dataset", "masked_subject", "mode", "created_at", "revoked_at"]
    search_fields = ["=case_number", "=subject"]

    @admin.display(description="数据主体")
    def masked_subject(self, obj: Consent) -> str:
        return mask_id(obj.subject)
