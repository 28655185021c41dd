"""Paying for an order and giving money back, through the store's payment gateway.

Transactions and locks. Every change to an order's payments and refunds happens under the
order's row lock, taken first; a gateway is never called inside a transaction. Starting a
payment and refunding therefore run in three steps: a short transaction writes the intent
(a ``Payment`` or ``Refund`` row), the gateway is called with an idempotency key made from that
row, and a second short transaction records the answer. A retry after a lost answer reuses the
row and so the key: the gateway never charges or refunds twice.

Idempotency. ``order_mark_paid`` and ``order_payment_fail`` are safe to call any number of
times and in any order: a success marks a pending order paid once; a failure after a success
changes nothing. A success that arrives for an order no longer waiting for it (cancelled or
expired meanwhile, or paid through another payment) keeps the money nowhere: the payment is
refunded in full by a task.

Refunds are counted in one place, ``_order_refunds_apply``: the order's ``refunded_amount``
catches up with the sum of its paying payment's succeeded refunds. A refund the gateway reports
before the payment's success is recorded on the payment and counted as soon as the order is
paid, so the order ends refunded, never simply paid.
"""

import logging
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from carts.services import cart_close
from orders.errors import OrderError, OrderErrorCode, OrderPaidMeanwhile
from orders.gateways import Gateway, GatewayError, gateway_get
from orders.models import Order, Payment, Refund
from orders.services.exits import order_audit_flag_decide
from orders.services.placement import order_cancel
from shopcart.core.money import money_format
from shopcart.core.queueing import task_enqueue_on_commit

logger = logging.getLogger(__name__)

ZERO = Decimal("0.00")

ERROR_NOT_PENDING = "Order {number} is {status}: there is nothing to pay."
ERROR_TOO_LATE = "Order {number} waited too long for payment. Go back to your cart to order again."
ERROR_GATEWAY = "We could not reach the payment provider. Please try again in a moment."
ERROR_PAID_MEANWHILE = "Your payment for order {number} has just gone through."
ERROR_REFUND_NOT_POSITIVE = "A refund must be more than zero."
ERROR_REFUND_NOT_PAID = "Order {number} is {status}: it has no payment to refund."
ERROR_REFUND_TOO_MUCH = "Order {number} has only {left} left to refund."
ERROR_REFUND_REFUSED = "The payment provider refused the refund: {reason}"
ERROR_REFUND_UNKNOWN = (
    "The payment provider did not answer, so the refund may or may not have gone through. "
    "It is recorded as requested; the provider's notification will settle it."
)

REASON_LATE_PAYMENT = "Paid after the order was closed: refunded automatically."
REASON_AT_GATEWAY = "Refunded at the payment provider."


# --- Starting and abandoning a payment ------------------------------------------------------


def order_payment_start(*, order: Order, success_url: str, cancel_url: str) -> Payment:
    """Open the gateway's hosted checkout for pending ``order``; redirect to ``redirect_url``.

    Idempotent: while the order waits, every call returns the same payment and checkout (the
    gateway is asked again, with the same idempotency key, only if it never answered). The
    gateway is called outside any transaction. An order of zero is paid on the spot. Raises
    ``OrderError``: the order is not pending or waited too long, the gateway is unreachable.
    """
    gateway = gateway_get()
    payment = _payment_for_checkout(order, gateway)
    if payment.redirect_url:
        return payment
    if payment.amount == ZERO:
        order_mark_paid(order=payment.order, payment=payment)
        Payment.objects.filter(pk=payment.pk).update(redirect_url=success_url)
    else:
        _checkout_open(gateway, payment, success_url, cancel_url)
    payment.refresh_from_db()
    return payment


def _checkout_open(gateway: Gateway, payment: Payment, success_url: str, cancel_url: str) -> None:
    """Ask the gateway for ``payment``'s checkout (no transaction here) and store it."""
    try:
        session = gateway.checkout_start(
            order=payment.order,
            payment=payment,
            success_url=success_url,
            cancel_url=cancel_url,
            idempotency_key=f"smartcart-{payment.order.number}-payment-{payment.pk}",
        )
    except GatewayError as exc:
        logger.warning("payment %s: checkout not started (%s)", payment.pk, exc)
        raise OrderError(ERROR_GATEWAY, code=OrderErrorCode.GATEWAY) from None
    # Two racing starts got the same session (same key); whichever stores it first is right.
    Payment.objects.filter(pk=payment.pk, external_id__isnull=True).update(
        external_id=session.external_id, redirect_url=session.redirect_url
    )


def _payment_for_checkout(order: Order, gateway: Gateway) -> Payment:
    """The order's open payment through ``gateway``, created when there is none."""
    with transaction.atomic(durable=True):
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status != Order.Status.PENDING:
            status = order.get_status_display()
            raise OrderError(
                ERROR_NOT_PENDING.format(number=order.number, status=status),
                code=OrderErrorCode.NOT_PENDING,
            )
        if order.expires_at <= timezone.now():
            raise OrderError(
                ERROR_TOO_LATE.format(number=order.number), code=OrderErrorCode.EXPIRED
            )
        open_payments = order.payments.filter(gateway=gateway.name, status=Payment.Status.CREATED)
        payment = open_payments.order_by("pk").first()
        if payment is None:
            payment = Payment.objects.create(
                order=order, gateway=gateway.name, amount=order.total, currency=order.currency
            )
        payment.order = order
        return payment


def order_payment_abandon(*, order: Order) -> Order:
    """The shopper went back to the cart: close the gateway's checkout, cancel the order.

    The checkout is closed at the gateway first (outside any transaction), so the shopper
    cannot pay an order that was cancelled. Raises ``OrderError`` when the gateway cannot be
    reached or says the checkout was just paid (the order is then left to the webhook).
    Returns the order as it ends: cancelled, or unchanged when it was no longer pending.
    """
    for payment in order.payments.filter(status=Payment.Status.CREATED, external_id__isnull=False):
        try:
            still_unpaid = gateway_get(payment.gateway).checkout_cancel(payment=payment)
        except GatewayError as exc:
            logger.warning("payment %s: checkout not closed (%s)", payment.pk, exc)
            raise OrderError(ERROR_GATEWAY, code=OrderErrorCode.GATEWAY) from None
        if not still_unpaid:
            raise OrderPaidMeanwhile(ERROR_PAID_MEANWHILE.format(number=order.number))
    with transaction.atomic(durable=True):
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.status == Order.Status.PENDING:
            locked.payments.filter(status=Payment.Status.CREATED).update(
                status=Payment.Status.CANCELLED
            )
        return order_cancel(order=locked)


# --- Outcomes of a payment ------------------------------------------------------------------


def order_mark_paid(*, order: Order, payment: Payment) -> bool:
    """Record that ``payment`` succeeded; mark its pending order paid. Idempotent.

    Locks the order. Paid: audit flag decided, cart closed, refunds the gateway reported
    early counted, and after commit the confirmation email queued. Returns whether this call
    marked the order paid; False when it was done before, or when the order was not waiting
    (cancelled, expired, paid otherwise): that payment is refunded in full after commit.
    Not durable, so that webhook processing can record its event in the same transaction.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        payment = Payment.objects.get(pk=payment.pk, order=order)
        if payment.status == Payment.Status.SUCCEEDED:
            return False
        payment.status = Payment.Status.SUCCEEDED
        payment.save(update_fields=["status", "updated_at"])
        if order.status != Order.Status.PENDING:
            logger.warning(
                "order %s is %s: payment %s refunded", order.pk, order.status, payment.pk
            )
            _late_payment_refund_on_commit(payment.pk)
            return False
        _order_paid(order, payment)
    return True


def _order_paid(order: Order, payment: Payment) -> None:
    order.flagged_for_audit = order_audit_flag_decide(order)
    order.mark_paid(timezone.now())
    order.save(update_fields=["status", "paid_at", "flagged_for_audit"])
    others = order.payments.filter(status=Payment.Status.CREATED).exclude(pk=payment.pk)
    others.update(status=Payment.Status.CANCELLED)
    if order.cart is not None:
        cart_close(cart=order.cart)
    _order_refunds_apply(order)
    _confirmation_send_on_commit(order.pk)


def order_payment_fail(*, order: Order, payment: Payment, message: str) -> bool:
    """Record that ``payment`` failed for good; cancel its pending order (cart open again).

    Locks the order. Idempotent, and a failure reported after a success changes nothing.
    Returns whether this call recorded the failure. Not durable (see ``order_mark_paid``).
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        payment = Payment.objects.get(pk=payment.pk, order=order)
        if payment.status != Payment.Status.CREATED:
            return False
        payment.status = Payment.Status.FAILED
        payment.failure_message = message[:255]
        payment.save(update_fields=["status", "failure_message", "updated_at"])
        others = order.payments.exclude(pk=payment.pk)
        if not others.filter(status__in=[Payment.Status.CREATED, Payment.Status.SUCCEEDED]):
            order_cancel(order=order)
    return True


def payment_decline_note(*, payment: Payment, message: str) -> None:
    """Keep the gateway's reason for a declined attempt that did not end the checkout."""
    Payment.objects.filter(pk=payment.pk, status=Payment.Status.CREATED).update(
        failure_message=message[:255], updated_at=timezone.now()
    )


# Queued after commit; with the broker down they are not queued, and the orders sweep
# (``orders.tasks.orders_paid_sweep``) finds the work in the database and queues it again.


def _confirmation_send_on_commit(order_id: int) -> None:
    from orders.tasks import order_confirmation_send  # the task module imports services

    task_enqueue_on_commit(order_confirmation_send, order_id)


def _late_payment_refund_on_commit(payment_id: int) -> None:
    from orders.tasks import payment_late_refund

    task_enqueue_on_commit(payment_late_refund, payment_id)


# --- Refunds --------------------------------------------------------------------------------


def order_refund(
    *, order: Order, amount: Decimal, requested_by: User | None, reason: str = ""
) -> Refund:
    """Give ``amount`` of a paid order back through its gateway (staff action).

    The refund is written as requested under the order's lock (refunds in flight count against
    what is left), sent with an idempotency key made from its row, and counted on the order
    when the gateway confirms it. Raises ``OrderError``: amount not positive or more than is
    left, order not paid, gateway refused (the refund is then failed) or gave no answer (it
    stays requested, to be settled by the gateway's webhook).
    """
    if amount <= ZERO:
        raise OrderError(ERROR_REFUND_NOT_POSITIVE, code=OrderErrorCode.REFUND_AMOUNT)
    refund = _refund_request(order, amount, requested_by, reason)
    return _refund_send(refund)


def _refund_request(
    order: Order, amount: Decimal, requested_by: User | None, reason: str
) -> Refund:
    with transaction.atomic(durable=True):
        order = Order.objects.select_for_update().get(pk=order.pk)
        payment = _paying_payment(order)
        if not order.is_paid or payment is None:
            status = order.get_status_display()
            raise OrderError(
                ERROR_REFUND_NOT_PAID.format(number=order.number, status=status),
                code=OrderErrorCode.NOT_PAID,
            )
        in_flight = _refunds_total(payment, [Refund.Status.REQUESTED])
        left = order.refundable_amount - in_flight
        if amount > left:
            left_text = money_format(left, order.currency)
            raise OrderError(
                ERROR_REFUND_TOO_MUCH.format(number=order.number, left=left_text),
                code=OrderErrorCode.REFUND_TOO_MUCH,
            )
        return Refund.objects.create(
            payment=payment, amount=amount, reason=reason[:255], requested_by=requested_by
        )


def _refund_send(refund: Refund) -> Refund:
    payment = refund.payment
    key = f"smartcart-{payment.order.number}-refund-{refund.pk}"
    try:
        result = gateway_get(payment.gateway).refund(
            payment=payment, refund=refund, amount=refund.amount, idempotency_key=key
        )
    except GatewayError as exc:
        logger.warning("refund %s not confirmed (%s)", refund.pk, exc)
        if not exc.definite:
            raise OrderError(ERROR_REFUND_UNKNOWN, code=OrderErrorCode.GATEWAY) from None
        Refund.objects.filter(pk=refund.pk, status=Refund.Status.REQUESTED).update(
            status=Refund.Status.FAILED
        )
        raise OrderError(
            ERROR_REFUND_REFUSED.format(reason=exc), code=OrderErrorCode.REFUND_REFUSED
        ) from None
    return refund_settle(refund=refund, external_id=result.external_id, status=result.status)


def refund_settle(*, refund: Refund, external_id: str, status: str) -> Refund:
    """Record the gateway's word on our ``refund`` (its id and status) and count it if done.

    Locks the order. Idempotent: the gateway's answer and its webhook may both report it.
    A refund that succeeded stays counted even if reported failed later (staff see it).
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=refund.payment.order_id)
        refund = Refund.objects.select_related("payment").get(pk=refund.pk)
        if not refund.external_id:
            refund.external_id = external_id
        if refund.status != Refund.Status.SUCCEEDED:
            refund.status = status
        elif status == Refund.Status.FAILED:
            logger.error("refund %s failed after it had succeeded", refund.pk)
        refund.save(update_fields=["external_id", "status"])
        _order_refunds_apply(order)
    return refund


def payment_refunded_at_gateway(*, payment: Payment, total_refunded: Decimal) -> Decimal:
    """The gateway says ``total_refunded`` of ``payment`` has been refunded in all.

    Records what our refunds (succeeded or in flight) do not already account for, as one
    refund made at the gateway, and counts it on the order when the order is paid (or as soon
    as it is). Returns the amount recorded now. Locks the order; idempotent, and an older,
    smaller total arriving late changes nothing.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=payment.order_id)
        known = _refunds_total(payment, [Refund.Status.REQUESTED, Refund.Status.SUCCEEDED])
        missing = min(total_refunded, payment.amount) - known
        if missing <= ZERO:
            return ZERO
        Refund.objects.create(
            payment=payment,
            amount=missing,
            status=Refund.Status.SUCCEEDED,
            reason=REASON_AT_GATEWAY,
        )
        _order_refunds_apply(order)
    return missing


def payment_late_refund(*, payment: Payment) -> Refund | None:
    """Refund in full a payment that succeeded for an order no longer waiting for it.

    Idempotent: a refund already requested for it is sent again with the same key, and
    nothing is done once the payment is wholly refunded. Raises ``OrderError`` as
    ``order_refund`` does (the task retries).
    """
    with transaction.atomic(durable=True):
        order = Order.objects.select_for_update().get(pk=payment.order_id)
        payment = Payment.objects.get(pk=payment.pk)
        if payment.status != Payment.Status.SUCCEEDED or _pays_for(order, payment):
            return None
        refund = payment.refunds.filter(status=Refund.Status.REQUESTED).first()
        if refund is None:
            known = _refunds_total(payment, [Refund.Status.SUCCEEDED])
            if payment.amount - known <= ZERO:
                return None
            refund = Refund.objects.create(
                payment=payment, amount=payment.amount - known, reason=REASON_LATE_PAYMENT
            )
    return _refund_send(refund)


def _paying_payment(order: Order) -> Payment | None:
    """The payment that paid ``order``: its first that succeeded."""
    return order.payments.filter(status=Payment.Status.SUCCEEDED).order_by("pk").first()


def _pays_for(order: Order, payment: Payment) -> bool:
    if order.paid_at is None:
        return False
    paying = _paying_payment(order)
    return paying is not None and paying.pk == payment.pk


def _refunds_total(payment: Payment, statuses: list[str]) -> Decimal:
    total = payment.refunds.filter(status__in=statuses).aggregate(total=Sum("amount"))["total"]
    return total or ZERO


def _order_refunds_apply(order: Order) -> None:
    """Count on the locked, paid ``order`` what its paying payment's refunds gave back."""
    payment = _paying_payment(order)
    if payment is None or not order.is_paid:
        return
    done = _refunds_total(payment, [Refund.Status.SUCCEEDED])
    missing = min(done - order.refunded_amount, order.refundable_amount)
    if missing > ZERO:
        order.record_refund(missing)
        order.save(update_fields=["refunded_amount", "status"])
