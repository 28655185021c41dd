"""shopcart.core.api_errors: every API answers a service's refusal with its own status and code."""

from django.db import InterfaceError
from rest_framework.exceptions import NotFound

from carts.services import CartClosed, CartError
from orders.errors import OrderPaidMeanwhile
from shopcart.core.api_errors import api_exception_handler


def test_a_refusal_is_answered_with_its_status_and_code():
    closed = api_exception_handler(CartClosed("This cart is being paid for."), {})
    refused = api_exception_handler(CartError("Out of stock.", code="out_of_stock"), {})
    paid = api_exception_handler(OrderPaidMeanwhile("Paid meanwhile."), {})

    assert closed is not None and refused is not None and paid is not None
    assert (closed.status_code, closed.data) == (
        409,
        {"detail": "This cart is being paid for.", "code": "cart_closed"},
    )
    assert (refused.status_code, refused.data["code"]) == (400, "out_of_stock")
    assert (paid.status_code, paid.data["code"]) == (400, "paid")


def test_other_exceptions_are_answered_as_drf_and_a_database_outage_as_503():
    not_found = api_exception_handler(NotFound(), {})
    outage = api_exception_handler(InterfaceError("connection already closed"), {})

    assert not_found is not None and not_found.status_code == 404
    assert outage is not None and outage.status_code == 503
    assert api_exception_handler(RuntimeError("a bug"), {}) is None  # a 500, logged by Django
