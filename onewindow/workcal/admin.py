from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest

from onewindow.core.permissions import has_role
from onewindow.core.roles import Role
from onewindow.workcal import services
from onewindow.workcal.models import CalendarDay, CalendarYear


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    """Regional overrides; saved and deleted through the services so they are audited and
    open due dates are recomputed."""

    list_display = ["date", "region", "is_workday", "name", "source"]
    list_filter = ["source", "is_workday"]
    search_fields = ["name", "region__name", "=region__code"]
    date_hierarchy = "date"
    raw_id_fields = ["region"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return has_role(request.user, Role.SYSADMIN)

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        st = services.status()
        if st.warn:
            self.message_user(request, st.message, level=messages.WARNING)
        return super().changelist_view(request, extra_context)

    def save_model(self, request: HttpRequest, obj: CalendarDay, form: Any, change: bool) -> None:
        services.set_day(obj.date, obj.is_workday, actor=request.user, region=obj.region, name=obj.name)

    def delete_model(self, request: HttpRequest, obj: CalendarDay) -> None:
        services.clear_day(obj.date, actor=request.user, region=obj.region)


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    list_display = ["year", "source", "confirmed_at"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return has_role(request.user, Role.SYSADMIN)
