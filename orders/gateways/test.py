"""The built-in test gateway: a local hosted payment page that takes Stripe's test cards.

It is the default when no Stripe key is set, so the whole flow, webhook included, runs
offline. Its "session" is our Payment row (external id ``cs_test_...``); its page lives at
``/payments/test/<session id>/`` and only the order's shopper can open it. When the shopper
submits a card, the gateway builds a Stripe-shaped event, signs it exactly as Stripe would
(with a secret derived from ``SECRET_KEY``) and hands it to the same webhook processing the
HTTP endpoint ``/payments/webhooks/test/`` uses, signature check included.

Unlike Stripe's page, a declined card ends this checkout: the order is cancelled, the cart
opens again and the shopper sees why.
"""

import json
import re
import secrets
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from django import forms
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac

from orders.gateways.base import (
    CheckoutSession,
    Gateway,
    RefundResult,
    amount_to_minor_units,
    event_sign,
    payment_metadata,
)
from orders.models import Order, Payment, Refund

HMAC_SALT = "smartcart.orders.test-gateway.v1"

CARD_SUCCEEDS = "4242424242424242"
CARD_DECLINED = "4000000000000002"
CARD_INSUFFICIENT_FUNDS = "4000000000009995"

DECLINE_GENERIC = "Your card was declined."
DECLINE_INSUFFICIENT_FUNDS = "Your card has insufficient funds."
ERROR_CARD_NUMBER = "Your card number is incorrect."
ERROR_CARD_NOT_ACCEPTED = (
    "This card is not accepted by the test gateway. Use 4242 4242 4242 4242 to pay."
)
ERROR_EXPIRY_FORMAT = "Enter the expiry date as MM / YY."
ERROR_EXPIRY_PAST = "Your card's expiry date is in the past."
ERROR_CVC = "Enter the 3 or 4 digit security code."


@dataclass(frozen=True)
class CardOutcome:
    paid: bool
    decline_code: str = ""
    message: str = ""


CARD_OUTCOMES = {
    CARD_SUCCEEDS: CardOutcome(paid=True),
    CARD_DECLINED: CardOutcome(paid=False, decline_code="generic_decline", message=DECLINE_GENERIC),
    CARD_INSUFFICIENT_FUNDS: CardOutcome(
        paid=False, decline_code="insufficient_funds", message=DECLINE_INSUFFICIENT_FUNDS
    ),
}


def luhn_valid(digits: str) -> bool:
    """Whether ``digits`` passes the Luhn (mod 10) check every card number carries."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


class CardForm(forms.Form):
    """A card as a hosted payment page asks for it; only Stripe's test numbers are accepted."""

    number = forms.CharField(label="Card number", max_length=30)
    expiry = forms.CharField(label="Expiry (MM / YY)", max_length=9)
    cvc = forms.CharField(label="Security code", max_length=4)

    def clean_number(self) -> str:
        digits = re.sub(r"[\s-]", "", self.cleaned_data["number"])
        if not (digits.isdigit() and 12 <= len(digits) <= 19 and luhn_valid(digits)):
            raise forms.ValidationError(ERROR_CARD_NUMBER)
        if digits not in CARD_OUTCOMES:
            raise forms.ValidationError(ERROR_CARD_NOT_ACCEPTED)
        return digits

    def clean_expiry(self) -> str:
        match = re.fullmatch(r"\s*(\d{1,2})\s*/?\s*(\d{2})\s*", self.cleaned_data["expiry"])
        if match is None or not 1 <= int(match[1]) <= 12:
            raise forms.ValidationError(ERROR_EXPIRY_FORMAT)
        month, year = int(match[1]), 2000 + int(match[2])
        today = timezone.localdate()
        if (year, month) < (today.year, today.month):
            raise forms.ValidationError(ERROR_EXPIRY_PAST)
        return f"{month:02d}/{year % 100:02d}"

    def clean_cvc(self) -> str:
        cvc = self.cleaned_data["cvc"].strip()
        if not re.fullmatch(r"\d{3,4}", cvc):
            raise forms.ValidationError(ERROR_CVC)
        return cvc

    @property
    def outcome(self) -> CardOutcome:
        return CARD_OUTCOMES[self.cleaned_data["number"]]


class TestGateway(Gateway):
    __test__ = False  # a gateway, not a pytest test class
    name = Payment.Gateway.TEST
    declines_end_session = True

    def checkout_start(
        self,
        *,
        order: Order,
        payment: Payment,
        success_url: str,
        cancel_url: str,
        idempotency_key: str,
    ) -> CheckoutSession:
        # Derived from the key, so a retry with the same key opens the same session.
        digest = salted_hmac(HMAC_SALT, f"session:{idempotency_key}", algorithm="sha256")
        session_id = f"cs_test_{digest.hexdigest()[:32]}"
        page = reverse("payments:test_page", kwargs={"session_id": session_id})
        # The return addresses travel with the session, as they do at Stripe.
        query = urlencode({"success": success_url, "cancel": cancel_url})
        return CheckoutSession(external_id=session_id, redirect_url=f"{page}?{query}")

    def checkout_cancel(self, *, payment: Payment) -> bool:
        # Nothing to tell anyone: the page refuses to take money once the order is not pending.
        return payment.status != Payment.Status.SUCCEEDED

    def refund(
        self, *, payment: Payment, refund: Refund, amount: Decimal, idempotency_key: str
    ) -> RefundResult:
        digest = salted_hmac(HMAC_SALT, f"refund:{idempotency_key}", algorithm="sha256")
        return RefundResult(
            external_id=f"re_test_{digest.hexdigest()[:24]}", status=Refund.Status.SUCCEEDED
        )

    def webhook_secret(self) -> str:
        digest = salted_hmac(HMAC_SALT, "webhook-signing-secret", algorithm="sha256")
        return f"whsec_{digest.hexdigest()}"


def session_return_urls(payment: Payment) -> tuple[str, str]:
    """The (success, cancel) addresses stored with a test session when it was started."""
    query = parse_qs(urlsplit(payment.redirect_url).query)
    return query.get("success", [""])[0], query.get("cancel", [""])[0]


def card_event_build(payment: Payment, outcome: CardOutcome) -> tuple[bytes, str]:
    """The signed webhook (body, ``Stripe-Signature``) for ``outcome`` of a card on ``payment``.

    Paid: ``checkout.session.completed``; declined: ``payment_intent.payment_failed`` with
    Stripe's ``last_payment_error``.
    """
    if outcome.paid:
        event_type, data_object = "checkout.session.completed", _session_object(payment)
    else:
        event_type, data_object = "payment_intent.payment_failed", _intent_object(payment, outcome)
    body = json.dumps(
        {
            "id": f"evt_test_{secrets.token_hex(12)}",
            "object": "event",
            "type": event_type,
            "created": int(time.time()),
            "livemode": False,
            "data": {"object": data_object},
        }
    ).encode()
    return body, event_sign(body, TestGateway().webhook_secret())


def _session_object(payment: Payment) -> dict[str, Any]:
    return {
        "id": payment.external_id,
        "object": "checkout.session",
        "status": "complete",
        "payment_status": "paid",
        "amount_total": amount_to_minor_units(payment.amount, payment.currency),
        "currency": payment.currency.lower(),
        "client_reference_id": payment.order.number,
        "payment_intent": f"pi_test_{payment.pk}",
        "metadata": payment_metadata(payment),
    }


def _intent_object(payment: Payment, outcome: CardOutcome) -> dict[str, Any]:
    return {
        "id": f"pi_test_{payment.pk}",
        "object": "payment_intent",
        "status": "requires_payment_method",
        "amount": amount_to_minor_units(payment.amount, payment.currency),
        "currency": payment.currency.lower(),
        "metadata": payment_metadata(payment),
        "last_payment_error": {
            "type": "card_error",
            "code": "card_declined",
            "decline_code": outcome.decline_code,
            "message": outcome.message,
        },
    }


def card_expiry_example() -> str:
    """A valid expiry for the page's hint: December of next year."""
    return f"12 / {(timezone.localdate().year + 1) % 100:02d}"
