"""Stripe, through Checkout Sessions: Stripe's hosted payment page.

Why Checkout and not a PaymentIntent with our own card form: card numbers never reach our
server or our pages (the store stays out of most of PCI DSS), Stripe's page handles Strong
Customer Authentication / 3-D Secure and wallets itself, and it works without any JavaScript
of ours. The shopper is sent to ``session.url`` and comes back to our success or cancel page;
the payment itself is only believed when Stripe's signed webhook says so.

Every session and refund carries ``metadata`` naming our payment (and refund) and order, on
the session and on its PaymentIntent: Stripe copies a PaymentIntent's metadata to its charge,
so ``charge.refunded`` events name our payment too, even for refunds made in Stripe's dashboard.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import stripe
from django.conf import settings

from orders.gateways.base import (
    CheckoutSession,
    Gateway,
    GatewayError,
    RefundResult,
    amount_to_minor_units,
    payment_metadata,
    refund_status,
)
from orders.models import Order, Payment, Refund

# Stripe keeps a Checkout Session open for 30 minutes at least (and 24 hours at most).
SESSION_MIN_SECONDS = 31 * 60
MAX_NETWORK_RETRIES = 2

ERROR_UNREACHABLE = "The payment provider could not be reached."
ERROR_REFUSED = "The payment provider refused the request: {message}"


class StripeGateway(Gateway):
    name = Payment.Gateway.STRIPE
    declines_end_session = False

    def checkout_start(
        self,
        *,
        order: Order,
        payment: Payment,
        success_url: str,
        cancel_url: str,
        idempotency_key: str,
    ) -> CheckoutSession:
        params = _session_params(order, payment, success_url, cancel_url)
        with _stripe_errors():
            session = _client().v1.checkout.sessions.create(
                params,  # type: ignore[arg-type]  # a plain dict of Stripe's form fields
                options={"idempotency_key": idempotency_key},
            )
        return CheckoutSession(external_id=session.id, redirect_url=session.url or "")

    def checkout_cancel(self, *, payment: Payment) -> bool:
        assert payment.external_id is not None
        client = _client()
        try:
            with _stripe_errors():
                client.v1.checkout.sessions.expire(payment.external_id)
            return True
        except GatewayError as exc:
            if not exc.definite:
                raise
        # Refused: the session is not open any more. Paid, or expired already?
        with _stripe_errors():
            session = client.v1.checkout.sessions.retrieve(payment.external_id)
        return session.status != "complete"

    def refund(
        self, *, payment: Payment, refund: Refund, amount: Decimal, idempotency_key: str
    ) -> RefundResult:
        assert payment.external_id is not None
        client = _client()
        with _stripe_errors():
            session = client.v1.checkout.sessions.retrieve(payment.external_id)
            created = client.v1.refunds.create(
                {
                    "payment_intent": _payment_intent_id(session),
                    "amount": amount_to_minor_units(amount, payment.currency),
                    "metadata": {**payment_metadata(payment), "refund_id": str(refund.pk)},
                },
                options={"idempotency_key": idempotency_key},
            )
        return RefundResult(external_id=created.id, status=refund_status(created.status))

    def webhook_secret(self) -> str:
        return settings.STRIPE_WEBHOOK_SECRET


def _client() -> stripe.StripeClient:
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": settings.STRIPE_API_BASE},
        # Retries reuse the request's idempotency key, so a lost answer never pays twice.
        max_network_retries=MAX_NETWORK_RETRIES,
    )


def _session_params(
    order: Order, payment: Payment, success_url: str, cancel_url: str
) -> dict[str, Any]:
    metadata = payment_metadata(payment)
    # The order's total as one line: the coupon is already in it, and Stripe shows the
    # shopper exactly the amount our receipt will say.
    line = {
        "quantity": 1,
        "price_data": {
            "currency": payment.currency.lower(),
            "unit_amount": amount_to_minor_units(payment.amount, payment.currency),
            "product_data": {"name": f"{settings.STORE_NAME} order {order.number}"},
        },
    }
    expires_at = max(int(order.expires_at.timestamp()), int(time.time()) + SESSION_MIN_SECONDS)
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [line],
        "success_url": success_url,
        "cancel_url": cancel_url,
        "client_reference_id": order.number,
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
        "expires_at": expires_at,
    }
    if order.email:
        params["customer_email"] = order.email
    return params


def _payment_intent_id(session: Any) -> str:
    intent = session.payment_intent
    if not intent:
        raise GatewayError(ERROR_REFUSED.format(message="nothing was paid"), definite=True)
    return intent if isinstance(intent, str) else intent.id


@contextmanager
def _stripe_errors() -> Iterator[None]:
    """Turn the stripe library's errors into ``GatewayError`` (definite unless no answer)."""
    try:
        yield
    except stripe.StripeError as exc:
        if isinstance(exc, stripe.APIConnectionError) or (exc.http_status or 0) >= 500:
            raise GatewayError(ERROR_UNREACHABLE, definite=False) from None
        message = exc.user_message or "request refused"
        raise GatewayError(ERROR_REFUSED.format(message=message), definite=True) from None
