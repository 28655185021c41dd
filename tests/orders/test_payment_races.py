"""Payments under concurrency, on MariaDB/MySQL (real row locks, concurrent writers).

SQLite's in-memory test database serialises whole transactions, so these are skipped there
with the reason printed; CI runs them in its MariaDB pass.
"""

import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.db import connection

from orders.errors import OrderError
from orders.gateways import gateway_get
from orders.models import Order, Refund, WebhookEvent
from orders.services import order_mark_paid, order_refund, webhook_process
from orders.services.webhooks import OUTCOME_DUPLICATE, OUTCOME_PAID
from shopcart.models import OutboundEmail
from tests.orders.payment_support import (
    STRIPE_WEBHOOK_SECRET,
    charge_object,
    event_body,
    order_for,
    session_object,
    signed,
    stripe_payment,
)

pytestmark = [pytest.mark.mysql, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _stripe_secret(settings):
    settings.STRIPE_WEBHOOK_SECRET = STRIPE_WEBHOOK_SECRET


def at_once(works: list[Callable[[], Any]]) -> list[Any]:
    """Run ``works`` in threads released together; each one's result or exception."""
    barrier = threading.Barrier(len(works))
    outcomes: list[Any] = [None] * len(works)

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes[index] = works[index]()
        except Exception as exc:
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(works))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def delivery(body: bytes) -> Callable[[], str]:
    signature = signed(body)
    return lambda: webhook_process(
        gateway=gateway_get("stripe"), payload=body, signature_header=signature
    )


def test_same_event_delivered_three_times_at_once_pays_once_and_emails_once(alice):
    payment = stripe_payment(order_for(alice))
    body = event_body("checkout.session.completed", session_object(payment))

    outcomes = at_once([delivery(body)] * 3)

    assert sorted(outcomes) == sorted([OUTCOME_PAID, OUTCOME_DUPLICATE, OUTCOME_DUPLICATE])
    order = Order.objects.get(pk=payment.order_id)
    assert order.status == Order.Status.PAID
    assert WebhookEvent.objects.count() == 1
    assert OutboundEmail.objects.count() == 1
    assert len(mail.outbox) == 1


def test_paying_twice_at_once_marks_paid_once(alice):
    payment = stripe_payment(order_for(alice))

    outcomes = at_once([lambda: order_mark_paid(order=payment.order, payment=payment)] * 4)

    assert sorted(outcomes) == [False, False, False, True]
    assert OutboundEmail.objects.count() == 1


@pytest.mark.parametrize("round_", range(4))
def test_refund_and_success_arriving_together_never_leave_the_order_paid(alice, round_):
    payment = stripe_payment(order_for(alice))
    refunded = event_body("charge.refunded", charge_object(payment, payment.amount))
    succeeded = event_body("checkout.session.completed", session_object(payment))
    # Either may win the order's lock; the later one sees the earlier one's commit.
    works = [delivery(refunded), delivery(succeeded)]
    if round_ % 2:
        works.reverse()

    outcomes = at_once(works)

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    order = Order.objects.get(pk=payment.order_id)
    assert (order.status, order.refunded_amount) == (Order.Status.REFUNDED, payment.amount)


def test_two_staff_refunding_the_whole_order_at_once_refund_it_once(alice, staff):
    order = order_for(alice)
    payment = stripe_payment(order)
    order_mark_paid(order=order, payment=payment)
    payment.gateway = "test"  # refunds answered at once, without a network
    payment.save(update_fields=["gateway"])

    outcomes = at_once(
        [lambda: order_refund(order=order, amount=order.total, requested_by=staff)] * 2
    )

    assert sum(isinstance(o, Refund) for o in outcomes) == 1
    assert sum(isinstance(o, OrderError) for o in outcomes) == 1
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == (Order.Status.REFUNDED, Decimal("2.30"))
