"""Shopper cart API, mounted at /api/v1/cart/. No URL names a cart: it is always the caller's."""

from django.urls import path

from carts.api import CartCouponApi, CartDetailApi, CartLineUpdateApi

app_name = "carts-api"

urlpatterns = [
    path("", CartDetailApi.as_view(), name="detail"),
    path("lines/", CartLineUpdateApi.as_view(), name="lines"),
    path("coupon/", CartCouponApi.as_view(), name="coupon"),
]
