from django.urls import path, register_converter

from orders import checkout_views, views


class OrderNumberConverter:
    """An order number as ``exit_codes`` reads it: upper case, digits and ``-``.

    Lower-case words such as ``checkout/`` therefore never look like an order number.
    """

    regex = "[A-Z0-9-]{4,16}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(OrderNumberConverter, "order_number")

app_name = "orders"

urlpatterns = [
    # Shopper pages (orders/views.py).
    path("", views.order_list, name="list"),
    path("<order_number:number>/", views.order_detail, name="detail"),
    path("<order_number:number>/exit-qr.png", views.order_exit_qr, name="exit_qr"),
    path("<order_number:number>/receipt/", views.order_receipt, name="receipt"),
    # Checkout and the gateway's return pages (orders/checkout_views.py).
    path("checkout/", checkout_views.checkout, name="checkout"),
    path("checkout/back/", checkout_views.checkout_back, name="checkout_back"),
    path(
        "<order_number:number>/payment/done/",
        checkout_views.payment_success,
        name="payment_success",
    ),
    path(
        "<order_number:number>/payment/cancelled/",
        checkout_views.payment_cancelled,
        name="payment_cancelled",
    ),
]
