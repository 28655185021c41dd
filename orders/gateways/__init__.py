"""Payment gateways behind one small interface (``base.Gateway``): Stripe and the test gateway.

``gateway_get()`` is the store's gateway (``settings.PAYMENT_GATEWAY``: Stripe when a secret key
is set, else the built-in test gateway); ``gateway_get(payment.gateway)`` is the one a payment
was made through, for refunds and webhooks.
"""

from django.conf import settings

from orders.gateways.base import (
    CheckoutSession,
    Gateway,
    GatewayError,
    GatewayEvent,
    RefundResult,
    WebhookError,
    amount_from_minor_units,
    amount_to_minor_units,
)
from orders.gateways.stripe import StripeGateway
from orders.gateways.test import TestGateway

_GATEWAYS: dict[str, type[Gateway]] = {"stripe": StripeGateway, "test": TestGateway}


def gateway_get(name: str | None = None) -> Gateway:
    """The gateway called ``name`` (default: the store's). Raises ``KeyError`` for others."""
    return _GATEWAYS[name or settings.PAYMENT_GATEWAY]()


__all__ = [
    "CheckoutSession",
    "Gateway",
    "GatewayError",
    "GatewayEvent",
    "RefundResult",
    "StripeGateway",
    "TestGateway",
    "WebhookError",
    "amount_from_minor_units",
    "amount_to_minor_units",
    "gateway_get",
]
