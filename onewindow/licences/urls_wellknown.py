"""Mounted at /.well-known/onewindow/ (kept apart so the path stays stable)."""

from django.urls import path

from onewindow.licences import views

urlpatterns = [
    path("issuer-keys.json", views.issuer_keys, name="issuer-keys"),
]
