"""Staff product API, mounted at /api/v1/."""

from django.urls import path

from catalog.api import ProductDetailApi, ProductListCreateApi

app_name = "catalog-api"

urlpatterns = [
    path("products/", ProductListCreateApi.as_view(), name="product_list"),
    path("products/<int:id>/", ProductDetailApi.as_view(), name="product_detail"),
]
