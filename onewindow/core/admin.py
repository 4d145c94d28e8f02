from django.contrib import admin
from django.http import HttpRequest

from onewindow.core.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "prefix", "label", "created_at", "last_used_at", "revoked_at"]
    search_fields = ["user__username", "prefix"]
    readonly_fields = ["prefix", "key_hash", "last_used_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # tokens are made with `onewindow token USERNAME`, which shows the secret once
