"""Finding after-payment work that was never queued (the broker was down after the commit).

``order_mark_paid`` queues the confirmation email, or a refund of a payment that came too late,
once its transaction commits (``shopcart.core.queueing``). With Redis down that queueing fails and
is only logged; these reads find the work still to do from the database, for
``orders.tasks.orders_after_payment_sweep`` to queue again. The tasks they feed are idempotent,
so finding work that is merely slow (still in the broker) costs a no-op, never a second email
or refund.
"""

from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Q

from orders.models import Order, Payment

# Younger than this, the work is probably still on its way through the broker: leave it.
SWEEP_AFTER = timedelta(minutes=5)
# Older than this, it is left for staff: an order without an address is not retried forever.
SWEEP_WINDOW = timedelta(days=2)


def orders_confirmation_unsent(*, now: datetime) -> list[int]:
    """Ids of paid orders whose confirmation email was never put in the outbox."""
    return list(
        Order.objects.filter(
            status__in=[Order.Status.PAID, Order.Status.PARTIALLY_REFUNDED],
            confirmation_emailed_at__isnull=True,
            paid_at__lt=now - SWEEP_AFTER,
            paid_at__gte=now - SWEEP_WINDOW,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def payments_late_unrefunded(*, now: datetime) -> list[int]:
    """Ids of succeeded payments that did not pay for their order and have no refund yet."""
    earlier_success = Payment.objects.filter(
        order=OuterRef("order"), status=Payment.Status.SUCCEEDED, pk__lt=OuterRef("pk")
    )
    # A payment pays for its order when the order was paid and no payment succeeded before it.
    pays_for_order = Q(order__paid_at__isnull=False) & ~Exists(earlier_success)
    return list(
        Payment.objects.filter(
            status=Payment.Status.SUCCEEDED,
            refunds__isnull=True,
            updated_at__lt=now - SWEEP_AFTER,
            updated_at__gte=now - SWEEP_WINDOW,
        )
        .exclude(pays_for_order)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
