"""Gateway webhook events: verified, stored once, applied to the order they name.

``webhook_process`` is all the webhook view does, and what the test gateway's page calls with
the event it signed. One durable transaction per event: lock the order the event names, insert
the event's id (unique per gateway), apply it. A replay, or the same event delivered several
times at once, waits for the order's lock and then fails to insert its id: it changes nothing
and is answered like a success, so the gateway stops sending it.

Which events change what (all Stripe's names; the test gateway sends the same shapes):

* ``checkout.session.completed`` (when ``payment_status`` is ``paid``) and
  ``checkout.session.async_payment_succeeded``: the payment succeeded, the order is paid.
* ``checkout.session.expired`` and ``checkout.session.async_payment_failed``: the payment
  failed for good; the pending order is cancelled and its cart opens again.
* ``payment_intent.payment_failed``: a card was declined. Stripe's page lets the shopper try
  another card, so the reason is only noted; the test gateway's decline ends its checkout.
* ``charge.refunded`` (the charge's total refunded so far) and ``refund.created``,
  ``refund.updated``, ``refund.failed``, ``charge.refund.updated`` (one refund): refunds.

Every other event type, and events naming no payment of ours, are stored and ignored.

A fault in one order never stops the others. An event whose order cannot be read or changed
(a row the database cannot give back, or refuses to store: ``ORDER_FAULTS``) is stored with the
outcome ``OUTCOME_FAULT``, naming the order's id, logged, and answered like any other: the
gateway, which would otherwise retry it for days and then switch the store's webhook off for
every shopper, stops sending it. Staff find it among the webhook events in the admin; once the
order is mended, deleting that event lets the gateway's "resend" apply it. Errors that may pass
(the database busy or away) still answer 500, so the gateway retries.
"""

import logging
from collections.abc import Callable
from typing import Any

from django.db import DataError, IntegrityError, transaction

from orders.gateways import Gateway, GatewayEvent, amount_from_minor_units, amount_to_minor_units
from orders.gateways.base import refund_status
from orders.models import Order, Payment, WebhookEvent
from orders.services.payments import (
    order_mark_paid,
    order_payment_fail,
    payment_decline_note,
    payment_refunded_at_gateway,
    refund_settle,
)

logger = logging.getLogger(__name__)

OUTCOME_DUPLICATE = "duplicate: already processed"
OUTCOME_IGNORED = "ignored: not an event this store acts on"
OUTCOME_UNKNOWN_PAYMENT = "ignored: names no payment of this store"
OUTCOME_PAID = "order paid"
OUTCOME_ALREADY_PAID = "payment already recorded"
OUTCOME_LATE_PAYMENT = "order no longer pending: payment to be refunded"
OUTCOME_NOT_SETTLED = "checkout complete, payment not settled yet"
OUTCOME_AMOUNT_MISMATCH = "refused: amount or currency differs from the payment's"
OUTCOME_FAILED = "payment failed"
OUTCOME_FAILED_IGNORED = "payment no longer open: failure ignored"
OUTCOME_DECLINE_NOTED = "declined attempt noted; checkout still open"
OUTCOME_REFUND_RECORDED = "refund of {amount} recorded"
OUTCOME_REFUND_KNOWN = "refunds already recorded"
OUTCOME_REFUND_SETTLED = "refund {status}"
OUTCOME_REFUND_UNKNOWN = "ignored: not a refund made here (charge.refunded counts it)"
OUTCOME_FAULT = "failed: order id {order_id} could not be read or changed ({error})"

# What a row that will never read or save right raises: decimal.InvalidOperation (an amount
# that does not fit its column) is an ArithmeticError; a value or a check the database
# refuses is a DataError or an IntegrityError; a model refusing a value, a ValueError.
ORDER_FAULTS: tuple[type[Exception], ...] = (ArithmeticError, DataError, IntegrityError, ValueError)

EventHandler = Callable[[Gateway, GatewayEvent, Payment], str]


def webhook_process(*, gateway: Gateway, payload: bytes, signature_header: str) -> str:
    """Verify one webhook request of ``gateway`` and apply its event once; returns the outcome.

    Raises ``WebhookError`` (bad or stale signature, malformed body): nothing was changed.
    An order that cannot be read or changed (``ORDER_FAULTS``) leaves the event stored as
    failed (``OUTCOME_FAULT``), changing nothing else. Any other exception means the event was
    not stored, so the gateway's retry will apply it.
    """
    event = gateway.webhook_event(payload=payload, signature_header=signature_header)
    if WebhookEvent.objects.filter(gateway=gateway.name, event_id=event.id).exists():
        return OUTCOME_DUPLICATE
    handler = _HANDLERS.get(event.type)
    payment = None
    try:
        payment = _event_payment(gateway, event) if handler else None
        with transaction.atomic(durable=True):
            outcome = _event_apply(gateway, event, handler, payment)
    except ORDER_FAULTS as exc:
        return _event_fault_record(gateway, event, payment, exc)
    logger.info("%s event %s (%s): %s", gateway.name, event.id, event.type, outcome)
    return outcome


def _event_fault_record(
    gateway: Gateway, event: GatewayEvent, payment: Payment | None, error: Exception
) -> str:
    """Store ``event`` as failed (in a transaction of its own: nothing the event did was kept)
    and log it. Both name the order by its id only: the event is not linked to the row, which
    would break the admin's list of events wherever it cannot be read; and the error by its
    class, not its message, which might quote a shopper's data."""
    order_id = payment.order_id if payment is not None else None
    outcome = OUTCOME_FAULT.format(order_id=order_id, error=type(error).__name__)
    logger.error("%s event %s (%s): %s", gateway.name, event.id, event.type, outcome)
    try:
        with transaction.atomic(durable=True):
            WebhookEvent.objects.create(
                gateway=gateway.name, event_id=event.id, event_type=event.type, outcome=outcome
            )
    except IntegrityError:
        return OUTCOME_DUPLICATE  # the same event, delivered twice at once, got there first
    return outcome


def _event_apply(
    gateway: Gateway, event: GatewayEvent, handler: EventHandler | None, payment: Payment | None
) -> str:
    """Inside the event's transaction: lock, record the event once, apply it."""
    order = None
    if payment is not None:
        # The order first, as every payment change does: duplicates queue up here.
        order = Order.objects.select_for_update().get(pk=payment.order_id)
    try:
        with transaction.atomic():  # a savepoint: a duplicate id undoes only this insert
            record = WebhookEvent.objects.create(
                gateway=gateway.name, event_id=event.id, event_type=event.type, order=order
            )
    except IntegrityError:
        return OUTCOME_DUPLICATE
    if handler is None:
        outcome = OUTCOME_IGNORED
    elif payment is None:
        outcome = OUTCOME_UNKNOWN_PAYMENT
    else:
        outcome = handler(gateway, event, Payment.objects.get(pk=payment.pk))
    record.outcome = outcome[:255]
    record.save(update_fields=["outcome"])
    return outcome


def _event_payment(gateway: Gateway, event: GatewayEvent) -> Payment | None:
    """The payment of ours an event is about: by the metadata we gave the gateway, else by
    the session's or refund's id."""
    payments = Payment.objects.filter(gateway=gateway.name)
    metadata = event.metadata
    payment_id, number = str(metadata.get("payment_id", "")), metadata.get("order_number")
    if payment_id.isdigit() and isinstance(number, str):
        return payments.filter(pk=int(payment_id), order__number=number).first()
    object_id = event.object.get("id")
    if not isinstance(object_id, str) or not object_id:
        return None
    if event.object.get("object") == "checkout.session":
        return payments.filter(external_id=object_id).first()
    if event.object.get("object") == "refund":
        return payments.filter(refunds__external_id=object_id).first()
    return None


# --- Handlers (the order is locked; each returns the outcome to store) ---------------------


def _on_session_paid(gateway: Gateway, event: GatewayEvent, payment: Payment) -> str:
    session = event.object
    if session.get("payment_status") not in ("paid", "no_payment_required"):
        return OUTCOME_NOT_SETTLED
    if not _amount_matches(session, "amount_total", payment):
        logger.error(
            "%s event %s: amount differs from payment %s", gateway.name, event.id, payment.pk
        )
        return OUTCOME_AMOUNT_MISMATCH
    if payment.status == Payment.Status.SUCCEEDED:
        return OUTCOME_ALREADY_PAID
    if order_mark_paid(order=payment.order, payment=payment):
        return OUTCOME_PAID
    return OUTCOME_LATE_PAYMENT


def _on_session_failed(gateway: Gateway, event: GatewayEvent, payment: Payment) -> str:
    message = _decline_message(event.object) or "The payment was not completed."
    if order_payment_fail(order=payment.order, payment=payment, message=message):
        return OUTCOME_FAILED
    return OUTCOME_FAILED_IGNORED


def _on_payment_declined(gateway: Gateway, event: GatewayEvent, payment: Payment) -> str:
    message = _decline_message(event.object) or "Your card was declined."
    if gateway.declines_end_session:
        return _on_session_failed(gateway, event, payment)
    payment_decline_note(payment=payment, message=message)
    return OUTCOME_DECLINE_NOTED


def _on_charge_refunded(gateway: Gateway, event: GatewayEvent, payment: Payment) -> str:
    charge = event.object
    refunded = charge.get("amount_refunded")
    same_currency = str(charge.get("currency", "")).upper() == payment.currency.upper()
    if not isinstance(refunded, int) or not same_currency:
        return OUTCOME_AMOUNT_MISMATCH
    total = amount_from_minor_units(refunded, payment.currency)
    recorded = payment_refunded_at_gateway(payment=payment, total_refunded=total)
    return OUTCOME_REFUND_RECORDED.format(amount=recorded) if recorded else OUTCOME_REFUND_KNOWN


def _on_refund(gateway: Gateway, event: GatewayEvent, payment: Payment) -> str:
    data = event.object
    ours = payment.refunds.filter(external_id=data.get("id")).first()
    refund_id = str(event.metadata.get("refund_id", ""))
    if ours is None and refund_id.isdigit():
        ours = payment.refunds.filter(pk=int(refund_id)).first()
    if ours is None:
        return OUTCOME_REFUND_UNKNOWN
    settled = refund_settle(
        refund=ours, external_id=str(data.get("id", "")), status=refund_status(data.get("status"))
    )
    return OUTCOME_REFUND_SETTLED.format(status=settled.status)


def _amount_matches(data: dict[str, Any], field: str, payment: Payment) -> bool:
    expected = amount_to_minor_units(payment.amount, payment.currency)
    same_currency = str(data.get("currency", "")).upper() == payment.currency.upper()
    return same_currency and data.get(field) == expected


def _decline_message(data: dict[str, Any]) -> str:
    error = data.get("last_payment_error")
    message = error.get("message") if isinstance(error, dict) else None
    return message if isinstance(message, str) else ""


_HANDLERS: dict[str, EventHandler] = {
    "checkout.session.completed": _on_session_paid,
    "checkout.session.async_payment_succeeded": _on_session_paid,
    "checkout.session.expired": _on_session_failed,
    "checkout.session.async_payment_failed": _on_session_failed,
    "payment_intent.payment_failed": _on_payment_declined,
    "charge.refunded": _on_charge_refunded,
    "refund.created": _on_refund,
    "refund.updated": _on_refund,
    "refund.failed": _on_refund,
    "charge.refund.updated": _on_refund,
}

# Stripe's dashboard asks which events to send: exactly these (docs/development.md, "Payments").
WEBHOOK_EVENT_TYPES = tuple(_HANDLERS)
