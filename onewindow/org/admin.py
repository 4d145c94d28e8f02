from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from onewindow.audit.services import record
from onewindow.org.models import ApplicantProfile, Department, Hall, Region, StaffGrant, Window


class AuditedAdmin(admin.ModelAdmin):
    """Admin edits are recorded in the audit log like every other change."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        record(
            f"admin.{obj._meta.model_name}.{'update' if change else 'create'}",
            obj,
            actor=request.user,
            data={"fields": sorted(form.changed_data)},
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        record(f"admin.{obj._meta.model_name}.delete", obj, actor=request.user)
        super().delete_model(request, obj)


@admin.register(Region)
class RegionAdmin(AuditedAdmin):
    # Never list or choose from the whole tree in one page: 100,000+ villages.
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["=code", "name"]
    raw_id_fields = ["parent"]
    show_full_result_count = False
    list_per_page = 50


@admin.register(Department)
class DepartmentAdmin(AuditedAdmin):
    list_display = ["code", "name", "short_name", "uscc", "kind", "region", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["code", "name", "uscc"]
    raw_id_fields = ["region", "parent"]


class WindowInline(admin.TabularInline):
    model = Window
    extra = 0
    raw_id_fields = ["department"]


@admin.register(Hall)
class HallAdmin(AuditedAdmin):
    list_display = ["code", "name", "region", "phone"]
    search_fields = ["code", "name"]
    raw_id_fields = ["region"]
    inlines = [WindowInline]


@admin.register(StaffGrant)
class StaffGrantAdmin(AuditedAdmin):
    list_display = ["user", "role", "region", "department", "hall", "valid_until"]
    list_filter = ["role"]
    search_fields = ["user__username", "region__name", "department__name"]
    raw_id_fields = ["user", "region", "department", "hall", "window"]


@admin.register(ApplicantProfile)
class ApplicantProfileAdmin(AuditedAdmin):
    list_display = ["user", "id_type", "masked_id", "name"]
    search_fields = ["user__username", "name"]
    raw_id_fields = ["user"]

    @admin.display(description="证件号码")
    def masked_id(self, obj: ApplicantProfile) -> str:
        from onewindow.core.validators import mask_id

        return mask_id(obj.id_number)
