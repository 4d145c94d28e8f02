from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path
from django.views.generic import RedirectView

from onewindow.api.api import api


def openapi_json(request: HttpRequest) -> HttpResponse:
    return JsonResponse(
        api.get_openapi_schema(path_prefix="/api/v1"), json_dumps_params={"ensure_ascii": False}
    )


urlpatterns = [
    path("", include("onewindow.core.urls")),
    path("catalog/", include("onewindow.catalog.urls")),
    path("", include("onewindow.cases.urls_intake")),
    path("", include("onewindow.cases.urls_backoffice")),
    path("", include("onewindow.exchange.urls")),
    path("", include("onewindow.licences.urls")),
    path(".well-known/onewindow/", include("onewindow.licences.urls_wellknown")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("api/openapi.json", openapi_json, name="openapi"),
    path("api/docs", RedirectView.as_view(url="/api/v1/docs", permanent=False), name="api-docs"),
]
