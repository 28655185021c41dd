"""Background work of orders. Each task takes ids (or nothing), loads, and calls one service."""

import logging
from collections.abc import Callable

from celery import Task, shared_task
from django.utils import timezone

from orders import emails
from orders.errors import OrderError
from orders.models import Payment
from orders.services import payments, placement, sweeps

# Refunding a payment that came too late: retries wait 2, 4, 8 ... 64 minutes (about two
# hours in all) for the gateway to answer.
LATE_REFUND_MAX_RETRIES = 6
LATE_REFUND_RETRY_BASE_SECONDS = 120

logger = logging.getLogger(__name__)


@shared_task
def recommendations_rebuild() -> int:
    """Learn "often bought with" from the paid orders again; run by beat. Idempotent.

    Returns the id of the ``RecommendationBuild`` row that records the run.
    """
    # Imported here: web nodes import this module to queue tasks, and only the worker that
    # trains needs numpy and scipy in memory.
    from orders.recommendations.rebuild import recommendations_rebuild as rebuild

    return rebuild().pk


@shared_task
def orders_expire_pending() -> int:
    """Expire overdue pending orders (Celery beat, every minute: ``CELERY_BEAT_SCHEDULE``).

    Safe to run twice at once or again after a crash: each order is expired once, under its lock.
    """
    return placement.orders_expire_pending()


@shared_task(acks_late=True)
def order_confirmation_send(order_id: int) -> bool:
    """Queue the payment confirmation email of a paid order (queued after ``order_mark_paid``
    commits). Safe to run any number of times: one email per order."""
    return emails.order_confirmation_email(order_id=order_id)


@shared_task(bind=True, acks_late=True, max_retries=LATE_REFUND_MAX_RETRIES)
def payment_late_refund(self: Task, payment_id: int) -> bool:
    """Refund a payment that succeeded after its order was closed; retried while the gateway
    does not answer. Idempotent: the refund goes out once. Returns whether one was sent."""
    payment = Payment.objects.filter(pk=payment_id).first()
    if payment is None:
        return False
    try:
        return payments.payment_late_refund(payment=payment) is not None
    except OrderError as exc:
        countdown = LATE_REFUND_RETRY_BASE_SECONDS * 2**self.request.retries
        raise self.retry(exc=exc, countdown=countdown) from None


@shared_task
def orders_after_payment_sweep() -> int:
    """Queue again the confirmation emails and late-payment refunds that a broker outage kept
    from being queued (``orders.services.sweeps``); returns how many. Run by celery beat
    (``CELERY_BEAT_SCHEDULE``); both tasks are idempotent, so a sweep racing them is harmless."""
    now = timezone.now()
    order_ids = sweeps.orders_confirmation_unsent(now=now)
    payment_ids = sweeps.payments_late_unrefunded(now=now)
    for order_id in order_ids:
        _queue_or_skip(order_confirmation_send.delay, "order", order_id)
    for payment_id in payment_ids:
        _queue_or_skip(payment_late_refund.delay, "payment", payment_id)
    return len(order_ids) + len(payment_ids)


def _queue_or_skip(send: Callable[[int], object], kind: str, row_id: int) -> None:
    """Queue one row's work; a failure (where tasks run in the sweep's process, the work's
    own) is logged by the row's id and the error's class, and the sweep goes on."""
    try:
        send(row_id)
    except Exception as exc:
        logger.error(
            "%s %s: after-payment work not queued, skipped (%s)", kind, row_id, type(exc).__name__
        )
