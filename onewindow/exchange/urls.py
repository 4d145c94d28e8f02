from django.urls import path

from onewindow.exchange import views

app_name = "exchange"
urlpatterns = [
    path("me/data-access/", views.my_data, name="my_data"),
    path("data/", views.datasets, name="datasets"),
    path("data/log/", views.access_log, name="log"),
    path("data/anomalies/", views.anomaly_report, name="anomalies"),
]
