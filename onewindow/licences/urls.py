from django.urls import path

from onewindow.licences import views

app_name = "licences"
urlpatterns = [
    path("wallet/", views.wallet, name="wallet"),
    path("wallet/<str:licence_id>.pdf", views.wallet_pdf, name="pdf"),
    path("verify/", views.verify_page, name="verify"),
]
