from django.urls import path

from carts import views

app_name = "carts"

# No cart id anywhere: every view works on the request's own cart (carts/web.py).
urlpatterns = [
    path("", views.cart_detail, name="detail"),
    path("fragment/", views.cart_fragment, name="fragment"),
    path("events/", views.cart_events, name="events"),
    path("lines/<int:product_id>/add/", views.cart_line_add, name="line_add"),
    path("lines/<int:product_id>/remove/", views.cart_line_remove, name="line_remove"),
    path("lines/<int:product_id>/set/", views.cart_line_set, name="line_set"),
    path("lines/<int:product_id>/delete/", views.cart_line_delete, name="line_delete"),
    path(
        "unavailable/<int:line_id>/delete/",
        views.cart_unavailable_line_delete,
        name="unavailable_line_delete",
    ),
    path(
        "labelled/<int:line_id>/delete/",
        views.cart_labelled_line_delete,
        name="labelled_line_delete",
    ),
    path("coupon/", views.cart_coupon_apply, name="coupon_apply"),
    path("coupon/remove/", views.cart_coupon_remove, name="coupon_remove"),
    path("pass/", views.cart_pass_detail, name="pass"),
    path("pass/qr.png", views.cart_pass_qr, name="pass_qr"),
    path("pass/email/", views.cart_pass_email, name="pass_email"),
    path("pass/replace/", views.cart_pass_replace, name="pass_replace"),
]
