"""Comprehensive-window intake (综合受理): find the item, take the application, decide; the
one-time notice and the acceptance receipt."""

from django.urls import path

from onewindow.cases.views import intake as views

app_name = "cases_intake"
urlpatterns = [
    path("intake/", views.start, name="start"),
    path("intake/check-id/", views.check_id, name="check_id"),
    path("intake/done/<str:number>/", views.done, name="done"),
    path("intake/bundle/<slug:code>/", views.bundle, name="bundle"),
    path("intake/<str:code>/", views.item, name="item"),
    path("cases/<str:number>/notice/", views.notice, name="notice"),
    path("cases/<str:number>/notice.pdf", views.notice_pdf, name="notice_pdf"),
    path("cases/<str:number>/receipt.pdf", views.receipt, name="receipt"),
]
