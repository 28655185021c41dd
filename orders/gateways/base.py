"""What every payment gateway offers the order services, and the pieces they share.

A gateway starts a hosted checkout for a payment, cancels one that the shopper walked away
from, refunds, and turns a signed webhook request into a ``GatewayEvent``. Both gateways speak
Stripe's dialect: events are shaped like Stripe's and signed with Stripe's ``Stripe-Signature``
scheme (``t=<unix time>,v1=<HMAC-SHA256 of "t.body">``), so one processing function serves both.

Amounts cross to a gateway in minor units (cents) through ``amount_to_minor_units`` and come
back through ``amount_from_minor_units``: the only two places that convert.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import stripe

from orders.models import Order, Payment, Refund
from shopcart.core.json_input import json_loads

# Seconds an event's signed timestamp may lag behind our clock: a captured request replayed
# later is refused, even though its signature is genuine. Stripe's recommended value.
WEBHOOK_TOLERANCE_SECONDS = 300

# Currencies Stripe counts in whole units (no cents). The store's prices have two decimal
# places, so an amount in one of these must be whole.
ZERO_DECIMAL_CURRENCIES = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV"}
    | {"XAF", "XOF", "XPF"}
)

# Stripe's refund statuses; "pending" and "requires_action" leave ours requested.
REFUND_STATUSES = {
    "succeeded": Refund.Status.SUCCEEDED,
    "failed": Refund.Status.FAILED,
    "canceled": Refund.Status.FAILED,
}

ERROR_NOT_WHOLE = "{amount} {currency} is not a whole number of minor units."
ERROR_SIGNATURE = "The webhook signature is missing, wrong or too old."
ERROR_MALFORMED = "The webhook body is not a gateway event."


class GatewayError(Exception):
    """The gateway refused a request or could not be reached.

    ``definite`` is True when the gateway answered with a refusal (nothing happened there);
    False when the outcome is unknown (no answer), so the request may or may not have taken
    effect and must be retried with the same idempotency key, never with a new one.
    """

    def __init__(self, message: str, *, definite: bool) -> None:
        super().__init__(message)
        self.definite = definite


class WebhookError(ValueError):
    """A webhook request that must change nothing: bad signature, stale or malformed."""


@dataclass(frozen=True)
class CheckoutSession:
    external_id: str
    redirect_url: str


@dataclass(frozen=True)
class RefundResult:
    external_id: str
    status: str  # a Refund.Status value


@dataclass(frozen=True)
class GatewayEvent:
    """One verified webhook event: Stripe's ``id``, ``type`` and ``data.object``."""

    id: str
    type: str
    object: dict[str, Any]

    @property
    def metadata(self) -> dict[str, Any]:
        metadata = self.object.get("metadata")
        return metadata if isinstance(metadata, dict) else {}


def payment_metadata(payment: Payment) -> dict[str, str]:
    """What every gateway object made for ``payment`` carries, to find our rows again."""
    return {"payment_id": str(payment.pk), "order_number": payment.order.number}


def refund_status(gateway_status: object) -> str:
    """Our ``Refund.Status`` for a refund status in a gateway's answer or event."""
    return REFUND_STATUSES.get(str(gateway_status), Refund.Status.REQUESTED)


def amount_to_minor_units(amount: Decimal, currency: str) -> int:
    """``Decimal("12.34")`` EUR → ``1234``. Raises ``ValueError`` when it is not whole."""
    exponent = 0 if currency.upper() in ZERO_DECIMAL_CURRENCIES else 2
    units = amount.scaleb(exponent)
    if units != units.to_integral_value():
        raise ValueError(ERROR_NOT_WHOLE.format(amount=amount, currency=currency))
    return int(units)


def amount_from_minor_units(units: int, currency: str) -> Decimal:
    """``1234`` EUR → ``Decimal("12.34")``: the inverse of ``amount_to_minor_units``."""
    exponent = 0 if currency.upper() in ZERO_DECIMAL_CURRENCIES else 2
    return Decimal(units).scaleb(-exponent).quantize(Decimal("0.01"))


def event_parse(payload: bytes) -> GatewayEvent:
    """The event in a webhook body already verified. Raises ``WebhookError`` when malformed,
    nested too deep or holding text that cannot be stored (``shopcart.core.json_input``)."""
    try:
        body = json_loads(payload)
        data_object = body["data"]["object"]
        event = GatewayEvent(id=body["id"], type=body["type"], object=data_object)
    except (ValueError, TypeError, KeyError):
        raise WebhookError(ERROR_MALFORMED) from None
    valid = isinstance(event.id, str) and isinstance(event.type, str) and event.id
    if not valid or not isinstance(event.object, dict):
        raise WebhookError(ERROR_MALFORMED)
    return event


def event_sign(payload: bytes, secret: str, *, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header for ``payload``: what a gateway sends with an event."""
    return stripe.WebhookSignature.generate_signature_header(
        payload.decode("utf-8"), secret, timestamp=timestamp
    )


class Gateway(ABC):
    """One payment provider. Methods do network I/O: never call them inside a transaction."""

    name: str  # a Payment.Gateway value
    # Whether a declined card ends the checkout (the test gateway), or the hosted page lets
    # the shopper try another card and only the session's expiry ends it (Stripe Checkout).
    declines_end_session: bool = False

    @abstractmethod
    def checkout_start(
        self,
        *,
        order: Order,
        payment: Payment,
        success_url: str,
        cancel_url: str,
        idempotency_key: str,
    ) -> CheckoutSession:
        """Open a hosted checkout for ``payment``; the same key gives the same session."""

    @abstractmethod
    def checkout_cancel(self, *, payment: Payment) -> bool:
        """Make ``payment``'s checkout unpayable. False when it was paid already."""

    @abstractmethod
    def refund(
        self, *, payment: Payment, refund: Refund, amount: Decimal, idempotency_key: str
    ) -> RefundResult:
        """Give ``amount`` of ``payment`` back; the same key never refunds twice."""

    @abstractmethod
    def webhook_secret(self) -> str:
        """The secret the gateway signs its webhook events with."""

    def webhook_event(self, *, payload: bytes, signature_header: str) -> GatewayEvent:
        """The event in a webhook request, after checking its signature and timestamp.

        Raises ``WebhookError`` for a missing, wrong or stale signature and for a body that is
        not an event: the caller answers 400 and changes nothing.
        """
        try:
            stripe.WebhookSignature.verify_header(
                payload, signature_header, self.webhook_secret(), WEBHOOK_TOLERANCE_SECONDS
            )
        except stripe.SignatureVerificationError:
            raise WebhookError(ERROR_SIGNATURE) from None
        except UnicodeDecodeError:
            raise WebhookError(ERROR_MALFORMED) from None
        return event_parse(payload)
