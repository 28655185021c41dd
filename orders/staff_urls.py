from django.urls import path

from orders import views

app_name = "orders_staff"

urlpatterns = [
    path("exit/", views.exit_check, name="exit_check"),
]
