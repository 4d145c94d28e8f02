"""Back-office pages: worklist, case page, delivery window, supervision board, my cases."""

from django.urls import path

from onewindow.cases.views import backoffice as views

app_name = "cases_backoffice"
urlpatterns = [
    path("work/", views.worklist, name="worklist"),
    path("work/<uuid:public_id>/claim/", views.claim, name="claim"),
    path("work/<uuid:public_id>/decide/", views.decide, name="decide"),
    path("work/<uuid:public_id>/special/", views.special, name="special"),
    path("cases/", views.case_list, name="list"),
    path("cases/<str:number>/", views.detail, name="detail"),
    path("cases/<str:number>/resume/", views.resume, name="resume"),
    path("cases/<str:number>/extend/", views.extend, name="extend"),
    path("cases/<str:number>/withdraw/", views.withdraw, name="withdraw"),
    path("cases/<str:number>/deliver/", views.deliver, name="deliver"),
    path("delivery/", views.delivery, name="delivery"),
    path("supervision/", views.supervision, name="supervision"),
]
