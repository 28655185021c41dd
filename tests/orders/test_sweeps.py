"""The after-payment sweep: confirmation emails and late refunds that a broker outage dropped
are queued again, once, and only when they are still to do."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone
from kombu.exceptions import OperationalError

from orders.models import Order, Payment, Refund
from orders.services import order_mark_paid, order_payment_fail, order_payment_start
from orders.services.sweeps import (
    SWEEP_AFTER,
    SWEEP_WINDOW,
    orders_confirmation_unsent,
    payments_late_unrefunded,
)
from orders.tasks import order_confirmation_send, orders_after_payment_sweep, payment_late_refund
from tests.orders.payment_support import order_for

pytestmark = pytest.mark.django_db

URL = "http://testserver/orders/X/payment/"


@pytest.fixture
def order(alice):
    return order_for(alice, price="1.15", quantity=2)  # 2.30


@pytest.fixture
def broker_down(monkeypatch):
    """Queueing after commit fails as with Redis down (the broker is outside this test)."""

    def refuse(*args: object) -> None:
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(order_confirmation_send, "delay", refuse)
    monkeypatch.setattr(payment_late_refund, "delay", refuse)


def pay(order, captured) -> Payment:
    payment = order_payment_start(order=order, success_url=URL, cancel_url=URL)
    with captured(execute=True):
        order_mark_paid(order=order, payment=payment)
    return payment


def age(order: Order, by: timedelta) -> None:
    Order.objects.filter(pk=order.pk, paid_at__isnull=False).update(paid_at=timezone.now() - by)
    Payment.objects.filter(order=order).update(updated_at=timezone.now() - by)


def test_the_sweep_runs_every_five_minutes():
    entry = settings.CELERY_BEAT_SCHEDULE["orders-after-payment-sweep"]
    assert entry == {"task": "orders.tasks.orders_after_payment_sweep", "schedule": 300}


def test_dropped_confirmation_is_swept_once_and_sent_once(
    order, broker_down, monkeypatch, django_capture_on_commit_callbacks
):
    pay(order, django_capture_on_commit_callbacks)
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and order.confirmation_emailed_at is None
    monkeypatch.undo()  # the broker is back
    age(order, SWEEP_AFTER + timedelta(minutes=1))

    with django_capture_on_commit_callbacks(execute=True):
        assert orders_after_payment_sweep() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert orders_after_payment_sweep() == 0

    assert len(mail.outbox) == 1


def test_confirmations_too_young_too_old_or_sent_are_left_alone(
    order, broker_down, django_capture_on_commit_callbacks
):
    pay(order, django_capture_on_commit_callbacks)
    now = timezone.now()
    assert orders_confirmation_unsent(now=now) == []  # still on its way through the broker
    age(order, SWEEP_WINDOW + timedelta(minutes=1))
    assert orders_confirmation_unsent(now=now) == []  # left for staff
    age(order, SWEEP_AFTER + timedelta(minutes=1))
    assert orders_confirmation_unsent(now=now) == [order.pk]
    Order.objects.filter(pk=order.pk).update(confirmation_emailed_at=now)
    assert orders_confirmation_unsent(now=now) == []


def test_dropped_late_refund_is_swept_and_refunded_once(
    order, broker_down, monkeypatch, django_capture_on_commit_callbacks
):
    payment = order_payment_start(order=order, success_url=URL, cancel_url=URL)
    order_payment_fail(order=order, payment=payment, message="Declined.")
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.CREATED)
    with django_capture_on_commit_callbacks(execute=True):
        assert order_mark_paid(order=order, payment=payment) is False  # order cancelled: refund
    assert not payment.refunds.exists()  # the refund task was not queued
    monkeypatch.undo()
    age(order, SWEEP_AFTER + timedelta(minutes=1))

    assert payments_late_unrefunded(now=timezone.now()) == [payment.pk]
    orders_after_payment_sweep()
    assert orders_after_payment_sweep() == 0

    refund = payment.refunds.get()
    assert (refund.amount, refund.status) == (Decimal("2.30"), Refund.Status.SUCCEEDED)


def test_the_payment_that_paid_its_order_is_not_a_late_one(
    order, broker_down, django_capture_on_commit_callbacks
):
    pay(order, django_capture_on_commit_callbacks)
    age(order, SWEEP_AFTER + timedelta(minutes=1))

    assert payments_late_unrefunded(now=timezone.now()) == []
