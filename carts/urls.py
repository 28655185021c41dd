from django.urls import path

from carts import views

app_name = "carts"

urlpatterns = [
    path("pass/", views.cart_pass_detail, name="pass"),
    path("pass/qr.png", views.cart_pass_qr, name="pass_qr"),
    path("pass/email/", views.cart_pass_email, name="pass_email"),
    path("pass/replace/", views.cart_pass_replace, name="pass_replace"),
]
