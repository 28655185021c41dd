"""Issue 18: a fault in one order never blocks another shopper.

Finding 1 left an order whose total did not fit its column: loading it raised, and since the
expiry sweep inside placement loaded every overdue order in one go, every shopper's checkout
failed once it was overdue. Here such an order is planted (``unreadable``) and the expiry sweep
(in placement and ``orders_expire``), the webhooks and the after-payment sweep go on with the
others, logging the one they skip by its id, without the shopper's address.
"""

import io
import logging
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from orders.management.commands.orders_expire import MESSAGE_EXPIRED
from orders.models import Order, WebhookEvent
from orders.services.webhooks import OUTCOME_DUPLICATE, OUTCOME_FAULT, OUTCOME_PAID
from orders.tasks import orders_after_payment_sweep
from tests.factories import UserFactory
from tests.orders.factories import PaidOrderFactory
from tests.orders.payment_support import (
    STRIPE_WEBHOOK_SECRET,
    event_body,
    order_for,
    session_object,
    signed,
    stripe_payment,
    webhook_post,
)

pytestmark = pytest.mark.django_db

# What finding 1 wrote: twice the largest price a column holds, more than the column holds.
OUT_OF_RANGE = "199999999.98"


def unreadable(order: Order) -> Order:
    """Make ``order`` a row the store cannot load or change, as finding 1 left one: amounts out
    of range, written behind the check constraints' back (as before they existed).

    SQLite keeps the amount as it is and loading it raises ``decimal.InvalidOperation``.
    MariaDB's column cannot hold it, so it gets the column's largest value, which loads; saving
    the row then breaks its check constraints (MariaDB checks the whole row on UPDATE).
    """
    table = Order._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA ignore_check_constraints = ON")
            amount = OUT_OF_RANGE
        else:
            cursor.execute("SET SESSION check_constraint_checks = 0")  # MariaDB's switch
            amount = "99999999.99"
        cursor.execute(
            f"UPDATE {table} SET subtotal = %s, total = %s WHERE id = %s",  # noqa: S608
            [amount, amount, order.pk],
        )
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA ignore_check_constraints = OFF")
        else:
            cursor.execute("SET SESSION check_constraint_checks = 1")
    return order


def overdue(order: Order, minutes: int = 1) -> Order:
    past = timezone.now() - timedelta(minutes=minutes)
    Order.objects.filter(pk=order.pk).update(expires_at=past)
    return order


def status_of(order: Order) -> str:
    return Order.objects.values_list("status", flat=True).get(pk=order.pk)


def skipped(caplog, logger: str, order: Order) -> list[str]:
    """The ERROR messages ``logger`` wrote about ``order``, checked to name no shopper."""
    found = [
        record.getMessage()
        for record in caplog.records
        if record.name == logger and record.levelno == logging.ERROR
    ]
    assert not any("@" in message for message in found), found  # no address in the log
    return [message for message in found if str(order.pk) in message.split(":")[0]]


def test_an_unreadable_overdue_order_never_stops_another_shoppers_checkout(alice, bob, caplog):
    broken = unreadable(overdue(order_for(alice)))

    order = order_for(bob)  # placement expires overdue orders first

    assert order.status == Order.Status.PENDING and order.user == bob
    assert skipped(caplog, "orders.services.placement", broken)
    assert status_of(broken) == Order.Status.PENDING  # left as it is, for staff to mend


def test_orders_expire_expires_every_other_order_and_skips_the_unreadable_one(alice, bob, caplog):
    broken, *others = [order_for(user) for user in (alice, bob, UserFactory())]
    unreadable(overdue(broken, minutes=10))  # the oldest: tried first
    others = [overdue(order) for order in others]
    output = io.StringIO()

    call_command("orders_expire", stdout=output)

    assert output.getvalue().strip() == MESSAGE_EXPIRED.format(count=2)
    assert [status_of(order) for order in others] == [Order.Status.EXPIRED] * 2
    assert status_of(broken) == Order.Status.PENDING
    assert skipped(caplog, "orders.services.placement", broken)


@pytest.fixture
def _stripe_secret(settings):
    settings.STRIPE_WEBHOOK_SECRET = STRIPE_WEBHOOK_SECRET


def deliver_paid(payment) -> str:
    body = event_body("checkout.session.completed", session_object(payment))
    response = webhook_post(Client(), body, signed(body), "stripe")
    assert response.status_code == 200, response.content
    return response.json()["outcome"]


@pytest.mark.usefixtures("_stripe_secret")
def test_a_webhook_about_an_unreadable_order_is_stored_as_failed_and_the_next_one_pays(
    alice, bob, caplog
):
    broken_payment = stripe_payment(order_for(alice), external_id="cs_test_broken")
    unreadable(broken_payment.order)
    payment = stripe_payment(order_for(bob), external_id="cs_test_fine")

    outcome = deliver_paid(broken_payment)

    error = "InvalidOperation" if connection.vendor == "sqlite" else "IntegrityError"
    assert outcome == OUTCOME_FAULT.format(order_id=broken_payment.order_id, error=error)
    assert WebhookEvent.objects.get(event_type="checkout.session.completed").outcome == outcome
    assert [message for message in caplog.messages if outcome in message]  # logged for staff
    assert "@" not in caplog.text  # without the shopper's address
    assert deliver_paid(payment) == OUTCOME_PAID
    assert status_of(payment.order) == Order.Status.PAID


@pytest.mark.usefixtures("_stripe_secret")
def test_the_same_failed_event_again_is_a_duplicate(alice):
    broken_payment = stripe_payment(order_for(alice), external_id="cs_test_broken")
    unreadable(broken_payment.order)
    body = event_body("checkout.session.completed", session_object(broken_payment))
    webhook_post(Client(), body, signed(body), "stripe")

    again = webhook_post(Client(), body, signed(body), "stripe")

    assert again.json()["outcome"] == OUTCOME_DUPLICATE


def test_the_after_payment_sweep_sends_the_other_confirmations(
    alice, bob, caplog, django_capture_on_commit_callbacks
):
    paid_at = timezone.now() - timedelta(minutes=30)
    broken = unreadable(PaidOrderFactory(user=alice, paid_at=paid_at))  # the first id: tried first
    PaidOrderFactory(user=bob, paid_at=paid_at)

    with django_capture_on_commit_callbacks(execute=True):
        assert orders_after_payment_sweep() == 2

    assert [message.to for message in mail.outbox] == [[bob.email]]
    assert skipped(caplog, "orders.tasks", broken)
