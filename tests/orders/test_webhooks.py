"""The webhook endpoints: signatures, replays, out-of-order events, refunds."""

import time
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from carts.models import Cart
from orders.gateways import gateway_get
from orders.gateways.base import ERROR_MALFORMED, ERROR_SIGNATURE, WEBHOOK_TOLERANCE_SECONDS
from orders.models import Order, Payment, Refund, WebhookEvent
from orders.services.payments import REASON_AT_GATEWAY
from orders.services.webhooks import (
    OUTCOME_AMOUNT_MISMATCH,
    OUTCOME_DECLINE_NOTED,
    OUTCOME_DUPLICATE,
    OUTCOME_FAILED_IGNORED,
    OUTCOME_IGNORED,
    OUTCOME_PAID,
    OUTCOME_UNKNOWN_PAYMENT,
)
from tests.orders.payment_support import (
    STRIPE_WEBHOOK_SECRET,
    charge_object,
    event_body,
    order_for,
    session_object,
    signed,
    stripe_payment,
    webhook_post,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _stripe_secret(settings):
    settings.STRIPE_WEBHOOK_SECRET = STRIPE_WEBHOOK_SECRET


@pytest.fixture
def order(alice):
    return order_for(alice)


@pytest.fixture
def payment(order):
    return stripe_payment(order)


def deliver(body: bytes, signature: str | None = "", gateway: str = "stripe"):
    """POST ``body`` to the webhook as the gateway would (signed unless told otherwise)."""
    if signature == "":
        signature = signed(body)
    return webhook_post(Client(), body, signature, gateway)


def paid_event(payment, **changes) -> bytes:
    return event_body("checkout.session.completed", session_object(payment, **changes))


def status_of(order) -> str:
    order.refresh_from_db()
    return order.status


# --- Signatures: nothing unsigned, wrongly signed or stale changes anything --------------------


@pytest.mark.parametrize(
    "signature",
    [
        None,  # no header
        "",  # empty header
        "t=1,v1=deadbeef",
        "nonsense",
    ],
)
def test_unsigned_or_wrongly_signed_event_is_refused_and_changes_nothing(payment, signature):
    body = paid_event(payment)

    response = webhook_post(Client(), body, signature)

    assert response.status_code == 400
    assert response.json() == {"error": ERROR_SIGNATURE}
    assert status_of(payment.order) == Order.Status.PENDING
    assert not WebhookEvent.objects.exists()


def test_event_signed_with_another_secret_is_refused(payment):
    body = paid_event(payment)

    response = deliver(body, signed(body, secret="whsec_someone_else"))

    assert response.status_code == 400
    assert status_of(payment.order) == Order.Status.PENDING


def test_altered_body_is_refused(payment):
    body = paid_event(payment)
    signature = signed(body)

    response = deliver(body.replace(b'"paid"', b'"paid" '), signature)

    assert response.status_code == 400
    assert status_of(payment.order) == Order.Status.PENDING


def test_stale_timestamp_is_refused_even_with_a_genuine_signature(payment):
    body = paid_event(payment)
    old = int(time.time()) - WEBHOOK_TOLERANCE_SECONDS - 5

    response = deliver(body, signed(body, timestamp=old))

    assert response.status_code == 400
    assert status_of(payment.order) == Order.Status.PENDING


@pytest.mark.parametrize("body", [b"not json", b"{}", b'{"id": "evt_1", "type": "x"}', b"\xff"])
def test_malformed_body_is_refused(body):
    signature = "" if body != b"\xff" else "t=1,v1=00"

    response = deliver(body, signature)

    assert response.status_code == 400
    assert response.json()["error"] in (ERROR_MALFORMED, ERROR_SIGNATURE)
    assert not WebhookEvent.objects.exists()


def test_webhook_refuses_get():
    assert Client().get(reverse("payments:webhook_stripe")).status_code == 405


def test_webhook_needs_no_csrf_token(payment):
    client = Client(enforce_csrf_checks=True)
    body = paid_event(payment)

    response = webhook_post(client, body, signed(body))

    assert response.status_code == 200


def test_test_gateway_url_refuses_events_signed_with_stripes_secret(payment):
    body = paid_event(payment)

    response = deliver(body, signed(body), gateway="test")

    assert response.status_code == 400
    assert status_of(payment.order) == Order.Status.PENDING


def test_stripe_url_refuses_events_signed_by_the_test_gateway(payment):
    body = paid_event(payment)

    response = deliver(body, signed(body, secret=gateway_get("test").webhook_secret()))

    assert response.status_code == 400


def test_test_gateway_webhook_is_off_when_stripe_takes_payments(settings, payment):
    settings.PAYMENT_GATEWAY = "stripe"
    body = paid_event(payment)

    response = deliver(body, signed(body, secret=gateway_get("test").webhook_secret()), "test")

    assert response.status_code == 404


# --- Success ----------------------------------------------------------------------------------


def test_paid_session_marks_the_order_paid_and_closes_the_cart(
    payment, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(paid_event(payment))

    assert response.status_code == 200
    assert response.json() == {"received": True, "outcome": OUTCOME_PAID}
    order = payment.order
    order.refresh_from_db()
    payment.refresh_from_db()
    assert (order.status, payment.status) == (Order.Status.PAID, Payment.Status.SUCCEEDED)
    assert order.paid_at is not None
    assert Cart.objects.get(pk=order.cart_id).status == Cart.Status.CLOSED
    assert len(mail.outbox) == 1


def test_replayed_event_changes_nothing_and_answers_200(
    payment, django_capture_on_commit_callbacks
):
    body = paid_event(payment)
    with django_capture_on_commit_callbacks(execute=True):
        deliver(body)
        paid_at = Order.objects.get(pk=payment.order_id).paid_at

        again = deliver(body)

    assert again.status_code == 200
    assert again.json()["outcome"] == OUTCOME_DUPLICATE
    assert Order.objects.get(pk=payment.order_id).paid_at == paid_at
    assert WebhookEvent.objects.count() == 1
    assert len(mail.outbox) == 1


def test_two_success_events_for_one_payment_pay_once(payment, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        deliver(paid_event(payment))
        second = deliver(
            event_body("checkout.session.async_payment_succeeded", session_object(payment))
        )

    assert second.status_code == 200
    assert WebhookEvent.objects.count() == 2
    assert len(mail.outbox) == 1


def test_completed_session_not_yet_paid_leaves_the_order_pending(payment):
    response = deliver(paid_event(payment, payment_status="unpaid"))

    assert response.status_code == 200
    assert status_of(payment.order) == Order.Status.PENDING


def test_async_payment_succeeded_marks_the_order_paid(payment):
    body = event_body("checkout.session.async_payment_succeeded", session_object(payment))

    deliver(body)

    assert status_of(payment.order) == Order.Status.PAID


@pytest.mark.parametrize("changes", [{"amount_total": 1}, {"currency": "usd"}])
def test_success_for_another_amount_or_currency_does_not_pay(payment, changes):
    response = deliver(paid_event(payment, **changes))

    assert response.json()["outcome"] == OUTCOME_AMOUNT_MISMATCH
    assert status_of(payment.order) == Order.Status.PENDING


def test_payment_is_found_by_session_id_without_metadata(payment):
    deliver(paid_event(payment, metadata={}))

    assert status_of(payment.order) == Order.Status.PAID


def test_metadata_naming_another_order_finds_nothing(payment, bob):
    other = order_for(bob)
    crossed = {"payment_id": str(payment.pk), "order_number": other.number}

    response = deliver(paid_event(payment, metadata=crossed))

    assert response.json()["outcome"] == OUTCOME_UNKNOWN_PAYMENT
    assert status_of(payment.order) == Order.Status.PENDING


def test_event_for_an_unknown_payment_is_stored_and_ignored(payment):
    body = event_body(
        "checkout.session.completed", {"id": "cs_elsewhere", "object": "checkout.session"}
    )

    response = deliver(body)

    assert response.json()["outcome"] == OUTCOME_UNKNOWN_PAYMENT
    assert WebhookEvent.objects.get().order is None


def test_event_type_the_store_does_not_handle_is_ignored(payment):
    response = deliver(event_body("customer.created", {"id": "cus_1", "object": "customer"}))

    assert response.status_code == 200
    assert response.json()["outcome"] == OUTCOME_IGNORED


# --- Failure ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "event_type", ["checkout.session.expired", "checkout.session.async_payment_failed"]
)
def test_session_failure_cancels_the_order_and_opens_the_cart(payment, event_type):
    deliver(event_body(event_type, session_object(payment, status="expired")))

    order = payment.order
    assert status_of(order) == Order.Status.CANCELLED
    payment.refresh_from_db()
    assert payment.status == Payment.Status.FAILED
    assert Cart.objects.get(pk=order.cart_id).status == Cart.Status.OPEN


def test_stripe_card_decline_is_noted_but_the_checkout_stays_open(payment):
    declined = {
        "id": "pi_test_1",
        "object": "payment_intent",
        "metadata": {"payment_id": str(payment.pk), "order_number": payment.order.number},
        "last_payment_error": {"message": "Your card was declined."},
    }

    response = deliver(event_body("payment_intent.payment_failed", declined))

    assert response.json()["outcome"] == OUTCOME_DECLINE_NOTED
    assert status_of(payment.order) == Order.Status.PENDING
    payment.refresh_from_db()
    assert (payment.status, payment.failure_message) == (
        Payment.Status.CREATED,
        "Your card was declined.",
    )


def test_failure_after_success_changes_nothing(payment):
    deliver(paid_event(payment))

    response = deliver(event_body("checkout.session.expired", session_object(payment)))

    assert response.json()["outcome"] == OUTCOME_FAILED_IGNORED
    assert status_of(payment.order) == Order.Status.PAID
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED


# --- Refunds ----------------------------------------------------------------------------------


def test_charge_refunded_in_part_then_in_full_counts_each_refund_once(payment):
    deliver(paid_event(payment))  # total 2.30
    order = payment.order

    deliver(event_body("charge.refunded", charge_object(payment, Decimal("1.00"))))
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == (
        Order.Status.PARTIALLY_REFUNDED,
        Decimal("1.00"),
    )

    deliver(event_body("charge.refunded", charge_object(payment, Decimal("2.30"))))
    # An older, smaller total arriving late changes nothing.
    deliver(event_body("charge.refunded", charge_object(payment, Decimal("1.00"))))

    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == (Order.Status.REFUNDED, Decimal("2.30"))
    amounts = sorted(payment.refunds.values_list("amount", flat=True))
    assert amounts == [Decimal("1.00"), Decimal("1.30")]
    assert set(payment.refunds.values_list("reason", flat=True)) == {REASON_AT_GATEWAY}


def test_refund_reported_before_the_success_leaves_the_order_refunded(payment):
    deliver(event_body("charge.refunded", charge_object(payment, Decimal("2.30"))))
    assert status_of(payment.order) == Order.Status.PENDING

    deliver(paid_event(payment))

    order = payment.order
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == (Order.Status.REFUNDED, Decimal("2.30"))
    assert not order.is_paid


def test_refund_event_settles_our_refund_that_got_no_answer(payment):
    deliver(paid_event(payment))
    ours = Refund.objects.create(payment=payment, amount=Decimal("1.00"))
    refund = {
        "id": "re_1",
        "object": "refund",
        "amount": 100,
        "status": "succeeded",
        "metadata": {
            "payment_id": str(payment.pk),
            "order_number": payment.order.number,
            "refund_id": str(ours.pk),
        },
    }

    deliver(event_body("refund.created", refund))
    # The charge's total now includes it: counted once, not twice.
    deliver(event_body("charge.refunded", charge_object(payment, Decimal("1.00"))))

    ours.refresh_from_db()
    assert (ours.status, ours.external_id) == (Refund.Status.SUCCEEDED, "re_1")
    order = Order.objects.get(pk=payment.order_id)
    assert order.refunded_amount == Decimal("1.00")
    assert payment.refunds.count() == 1


def test_refund_event_of_a_refund_not_made_here_is_ignored(payment):
    deliver(paid_event(payment))
    refund = {"id": "re_dashboard", "object": "refund", "amount": 100, "status": "succeeded"}

    response = deliver(event_body("refund.created", refund))

    assert response.json()["outcome"] == OUTCOME_UNKNOWN_PAYMENT
    assert Order.objects.get(pk=payment.order_id).refunded_amount == Decimal("0.00")
