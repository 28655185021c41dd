"""Helpers for the payment tests: real orders placed from real carts, and signed gateway events
shaped like Stripe's."""

import itertools
import json
import time
from decimal import Decimal
from typing import Any

from django.test import Client
from django.urls import reverse

from carts.services import cart_add_product, cart_get_for_user
from orders.gateways.base import amount_to_minor_units, event_sign
from orders.models import Order, Payment
from orders.services import order_place
from tests.factories import ProductFactory

STRIPE_WEBHOOK_SECRET = "whsec_test_secret_for_the_fake"
_event_ids = itertools.count(1)


def order_for(user, *, price: str = "1.15", quantity: int = 2, stock: int = 5) -> Order:
    """A pending order of ``user``, placed from their cart holding one product."""
    product = ProductFactory(price=Decimal(price), stock=stock)
    cart = cart_get_for_user(user=user)
    cart_add_product(cart=cart, product=product, quantity=quantity)
    return order_place(cart=cart, user=user)


def stripe_payment(order: Order, external_id: str = "cs_test_a1") -> Payment:
    """A Stripe payment of ``order`` as ``order_payment_start`` leaves it."""
    return Payment.objects.create(
        order=order,
        gateway=Payment.Gateway.STRIPE,
        external_id=external_id,
        amount=order.total,
        currency=order.currency,
        redirect_url=f"https://checkout.stripe.test/c/pay/{external_id}",
    )


def metadata(payment: Payment) -> dict[str, str]:
    return {"payment_id": str(payment.pk), "order_number": payment.order.number}


def session_object(payment: Payment, **changes: Any) -> dict[str, Any]:
    """A completed, paid Checkout Session of ``payment`` (change fields with keywords)."""
    session = {
        "id": payment.external_id,
        "object": "checkout.session",
        "status": "complete",
        "payment_status": "paid",
        "amount_total": amount_to_minor_units(payment.amount, payment.currency),
        "currency": payment.currency.lower(),
        "payment_intent": "pi_test_1",
        "metadata": metadata(payment),
    }
    return {**session, **changes}


def charge_object(payment: Payment, refunded: Decimal) -> dict[str, Any]:
    """A charge of ``payment`` with ``refunded`` refunded so far (metadata copied from its
    PaymentIntent, as Stripe does)."""
    return {
        "id": "ch_test_1",
        "object": "charge",
        "amount": amount_to_minor_units(payment.amount, payment.currency),
        "amount_refunded": amount_to_minor_units(refunded, payment.currency),
        "currency": payment.currency.lower(),
        "payment_intent": "pi_test_1",
        "metadata": metadata(payment),
    }


def event_body(event_type: str, data_object: dict[str, Any], event_id: str = "") -> bytes:
    return json.dumps(
        {
            "id": event_id or f"evt_test_{next(_event_ids)}",
            "object": "event",
            "type": event_type,
            "created": int(time.time()),
            "data": {"object": data_object},
        }
    ).encode()


def signed(body: bytes, secret: str = STRIPE_WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    return event_sign(body, secret, timestamp=timestamp)


def webhook_post(client: Client, body: bytes, signature: str | None, gateway: str = "stripe"):
    headers = {} if signature is None else {"Stripe-Signature": signature}
    url = reverse(f"payments:webhook_{gateway}")
    return client.post(url, data=body, content_type="application/json", headers=headers)
