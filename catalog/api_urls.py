from django.urls import path

app_name = "catalog-api"

urlpatterns: list = []
