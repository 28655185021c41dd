from django.urls import path

app_name = "carts"

urlpatterns: list = []
