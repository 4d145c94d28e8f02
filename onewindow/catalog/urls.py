from django.urls import path

from onewindow.catalog import views

app_name = "catalog"
urlpatterns = [
    path("", views.item_list, name="items"),
    path("items/<str:code>/", views.item_guide, name="item"),
    path("bundles/<slug:code>/", views.bundle_guide, name="bundle"),
]
