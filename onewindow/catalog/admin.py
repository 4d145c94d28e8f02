from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from onewindow.catalog import services
from onewindow.catalog.models import (
    Bundle,
    BundleMember,
    BundleStage,
    FeeLine,
    ItemOutput,
    MaterialRequirement,
    ProcessStep,
    ProcessTemplate,
    ServiceItem,
)
from onewindow.core.permissions import has_role
from onewindow.core.roles import Role
from onewindow.org.admin import AuditedAdmin


class CatalogAdminMixin:
    """Only catalogue admins (and sysadmins) see and edit the catalogue in the admin."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return has_role(request.user, Role.CATALOG_ADMIN)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return has_role(request.user, Role.CATALOG_ADMIN)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return has_role(request.user, Role.CATALOG_ADMIN)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return has_role(request.user, Role.CATALOG_ADMIN)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return has_role(request.user, Role.CATALOG_ADMIN)


class MaterialInline(CatalogAdminMixin, admin.TabularInline):
    model = MaterialRequirement
    extra = 0


class OutputInline(CatalogAdminMixin, admin.TabularInline):
    model = ItemOutput
    extra = 0


class FeeInline(CatalogAdminMixin, admin.TabularInline):
    model = FeeLine
    extra = 0


@admin.register(ServiceItem)
class ServiceItemAdmin(CatalogAdminMixin, AuditedAdmin):
    list_display = [
        "code",
        "version",
        "name",
        "department",
        "item_type",
        "case_type",
        "promised_limit",
        "promised_limit_unit",
        "max_visits",
        "state",
    ]
    list_filter = ["state", "item_type", "case_type", "handle_scope", "hand_written", "department"]
    search_fields = ["code", "name", "short_name", "search_text"]
    raw_id_fields = ["department", "process_template"]
    inlines = [MaterialInline, OutputInline, FeeInline]
    list_select_related = ["department"]
    actions = ["activate", "retire"]

    def save_model(self, request: HttpRequest, obj: ServiceItem, form: Any, change: bool) -> None:
        services.save_item(
            obj, actor=request.user, action="catalog.item.update" if change else "catalog.item.create"
        )

    @admin.action(description="启用所选版本 / Activate selected versions")
    def activate(self, request: HttpRequest, queryset: Any) -> None:
        for item in queryset:
            services.set_item_state(item, "active", actor=request.user)

    @admin.action(description="停用所选版本 / Retire selected versions")
    def retire(self, request: HttpRequest, queryset: Any) -> None:
        for item in queryset:
            services.set_item_state(item, "retired", actor=request.user)


class StepInline(CatalogAdminMixin, admin.TabularInline):
    model = ProcessStep
    extra = 0
    filter_horizontal = ["departments"]


@admin.register(ProcessTemplate)
class ProcessTemplateAdmin(CatalogAdminMixin, AuditedAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]
    inlines = [StepInline]


class StageInline(CatalogAdminMixin, admin.TabularInline):
    model = BundleStage
    extra = 0


class MemberInline(CatalogAdminMixin, admin.TabularInline):
    model = BundleMember
    extra = 0


@admin.register(Bundle)
class BundleAdmin(CatalogAdminMixin, AuditedAdmin):
    list_display = ["code", "name", "lead_department", "promised_limit", "promised_limit_unit", "state"]
    search_fields = ["code", "name"]
    raw_id_fields = ["lead_department"]
    inlines = [StageInline, MemberInline]

    def save_model(self, request: HttpRequest, obj: Bundle, form: Any, change: bool) -> None:
        services.save_bundle(obj, actor=request.user)
