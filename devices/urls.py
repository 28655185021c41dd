from django.urls import path

from devices import views

app_name = "devices"

urlpatterns = [
    path("end/", views.pairing_end, name="pairing_end"),
]
