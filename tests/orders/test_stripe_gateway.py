"""The Stripe gateway against a local fake of Stripe's API (tests/orders/fake_stripe.py)."""

from decimal import Decimal

import pytest
from django.urls import reverse

from orders.errors import OrderError
from orders.gateways import amount_from_minor_units, amount_to_minor_units
from orders.models import Order, Payment, Refund
from orders.services import (
    order_payment_abandon,
    order_payment_start,
    order_refund,
    payment_late_refund,
)
from orders.services.payments import (
    ERROR_GATEWAY,
    ERROR_PAID_MEANWHILE,
    ERROR_REFUND_UNKNOWN,
    REASON_LATE_PAYMENT,
)
from orders.services.webhooks import OUTCOME_LATE_PAYMENT
from tests.orders.fake_stripe import FakeStripe
from tests.orders.payment_support import (
    STRIPE_WEBHOOK_SECRET,
    event_body,
    order_for,
    session_object,
    signed,
    webhook_post,
)

pytestmark = pytest.mark.django_db

SUCCESS = "https://shop.example.com/orders/X/payment/done/"
CANCEL = "https://shop.example.com/orders/X/payment/cancelled/"
SESSIONS = "/v1/checkout/sessions"


@pytest.fixture
def stripe_api(settings):
    with FakeStripe() as fake:
        settings.PAYMENT_GATEWAY = "stripe"
        settings.STRIPE_SECRET_KEY = "sk_test_fake"
        settings.STRIPE_WEBHOOK_SECRET = STRIPE_WEBHOOK_SECRET
        settings.STRIPE_API_BASE = fake.base_url
        yield fake


@pytest.fixture
def order(alice):
    return order_for(alice, price="1.15", quantity=2)  # 2.30


def start(order) -> Payment:
    return order_payment_start(order=order, success_url=SUCCESS, cancel_url=CANCEL)


def pay(fake: FakeStripe, payment: Payment, client) -> None:
    """The shopper pays on Stripe's page; Stripe's webhook reaches the store."""
    session = fake.session_pay(payment.external_id)
    body = event_body("checkout.session.completed", session_object(payment, **session))
    assert webhook_post(client, body, signed(body)).status_code == 200


# --- Minor units --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "units"),
    [("12.34", "EUR", 1234), ("0.05", "usd", 5), ("7", "EUR", 700), ("500", "JPY", 500)],
)
def test_amounts_convert_to_minor_units_and_back(amount, currency, units):
    assert amount_to_minor_units(Decimal(amount), currency) == units
    assert amount_from_minor_units(units, currency) == Decimal(amount)


def test_amount_with_fractions_of_a_minor_unit_is_refused():
    with pytest.raises(ValueError):
        amount_to_minor_units(Decimal("1.005"), "EUR")
    with pytest.raises(ValueError):
        amount_to_minor_units(Decimal("1.50"), "JPY")


# --- Starting a checkout -----------------------------------------------------------------------


def test_start_creates_a_checkout_session_with_the_total_in_cents(stripe_api, order, alice):
    payment = start(order)

    [request] = stripe_api.posted(SESSIONS)
    form = request.form
    assert form["mode"] == "payment"
    assert form["line_items[0][price_data][unit_amount]"] == "230"
    assert form["line_items[0][price_data][currency]"] == "eur"
    assert form["line_items[0][quantity]"] == "1"
    assert (form["success_url"], form["cancel_url"]) == (SUCCESS, CANCEL)
    assert form["client_reference_id"] == order.number
    assert form["customer_email"] == alice.email
    assert form["metadata[payment_id]"] == str(payment.pk)
    assert form["payment_intent_data[metadata][order_number]"] == order.number
    assert int(form["expires_at"]) >= int(order.expires_at.timestamp())
    assert request.headers["authorization"] == "Bearer sk_test_fake"
    assert request.idempotency_key == f"smartcart-{order.number}-payment-{payment.pk}"
    assert payment.external_id in stripe_api.sessions
    assert payment.redirect_url == stripe_api.sessions[payment.external_id]["url"]
    assert (payment.gateway, payment.amount, payment.status) == (
        Payment.Gateway.STRIPE,
        Decimal("2.30"),
        Payment.Status.CREATED,
    )


def test_starting_again_returns_the_same_session_without_asking_stripe(stripe_api, order):
    first = start(order)
    second = start(order)

    assert second == first
    assert len(stripe_api.posted(SESSIONS)) == 1
    assert order.payments.count() == 1


def test_unreachable_stripe_is_an_order_error_and_a_retry_reuses_the_idempotency_key(
    stripe_api, order
):
    for _ in range(3):  # the first try and the client's two retries
        stripe_api.fail_next(0)

    with pytest.raises(OrderError) as raised:
        start(order)

    assert str(raised.value) == ERROR_GATEWAY
    payment = order.payments.get()
    assert (payment.external_id, payment.redirect_url) == (None, "")

    retried = start(order)

    keys = {request.idempotency_key for request in stripe_api.posted(SESSIONS)}
    assert keys == {f"smartcart-{order.number}-payment-{payment.pk}"}
    assert retried.pk == payment.pk
    assert retried.external_id in stripe_api.sessions
    assert len(stripe_api.sessions) == 1


def test_stripe_refusing_the_session_is_an_order_error(stripe_api, order):
    stripe_api.fail_next(400, "Amount must be at least €0.50 eur")

    with pytest.raises(OrderError) as raised:
        start(order)

    assert raised.value.code == "gateway"


# --- Refunds ----------------------------------------------------------------------------------


def test_refund_goes_to_stripe_in_cents_with_its_own_idempotency_key(
    stripe_api, order, staff, client
):
    payment = start(order)
    pay(stripe_api, payment, client)

    refund = order_refund(order=order, amount=Decimal("1.05"), requested_by=staff, reason="dented")

    [request] = stripe_api.posted("/v1/refunds")
    intent = stripe_api.sessions[payment.external_id]["payment_intent"]
    assert request.form["payment_intent"] == intent
    assert request.form["amount"] == "105"
    assert request.form["metadata[refund_id]"] == str(refund.pk)
    assert request.idempotency_key == f"smartcart-{order.number}-refund-{refund.pk}"
    assert refund.status == Refund.Status.SUCCEEDED
    assert refund.external_id in stripe_api.refunds
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == (
        Order.Status.PARTIALLY_REFUNDED,
        Decimal("1.05"),
    )


def test_refund_and_stripes_webhook_about_it_count_once(stripe_api, order, staff, client):
    payment = start(order)
    pay(stripe_api, payment, client)
    order_refund(order=order, amount=Decimal("2.30"), requested_by=staff)

    charge = {
        "id": "ch_1",
        "object": "charge",
        "amount_refunded": 230,
        "currency": "eur",
        "metadata": {"payment_id": str(payment.pk), "order_number": order.number},
    }
    body = event_body("charge.refunded", charge)
    webhook_post(client, body, signed(body))

    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == (Order.Status.REFUNDED, Decimal("2.30"))
    assert payment.refunds.count() == 1


def test_refund_stripe_refuses_is_failed_and_counts_nothing(stripe_api, order, staff, client):
    payment = start(order)
    pay(stripe_api, payment, client)
    stripe_api.fail_next(400, "Charge has been disputed.")

    with pytest.raises(OrderError) as raised:
        order_refund(order=order, amount=Decimal("1.00"), requested_by=staff)

    assert raised.value.code == "refund_refused"
    assert payment.refunds.get().status == Refund.Status.FAILED
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == (Order.Status.PAID, Decimal("0.00"))


def test_refund_without_an_answer_stays_requested_and_blocks_refunding_it_again(
    stripe_api, order, staff, client
):
    payment = start(order)
    pay(stripe_api, payment, client)
    for _ in range(3):
        stripe_api.fail_next(0)

    with pytest.raises(OrderError) as raised:
        order_refund(order=order, amount=Decimal("2.00"), requested_by=staff)

    assert str(raised.value) == ERROR_REFUND_UNKNOWN
    assert payment.refunds.get().status == Refund.Status.REQUESTED
    with pytest.raises(OrderError) as again:
        order_refund(order=order, amount=Decimal("1.00"), requested_by=staff)
    assert again.value.code == "refund_too_much"


# --- Abandoning and paying late ----------------------------------------------------------------


def test_going_back_to_the_cart_expires_the_session_and_cancels_the_order(stripe_api, order):
    payment = start(order)

    order_payment_abandon(order=order)

    assert stripe_api.posted(f"{SESSIONS}/{payment.external_id}/expire")
    assert stripe_api.sessions[payment.external_id]["status"] == "expired"
    order.refresh_from_db()
    payment.refresh_from_db()
    assert (order.status, payment.status) == (Order.Status.CANCELLED, Payment.Status.CANCELLED)


def test_going_back_after_paying_at_stripe_keeps_the_order(stripe_api, order):
    payment = start(order)
    stripe_api.session_pay(payment.external_id)  # paid; the webhook is not in yet

    with pytest.raises(OrderError) as raised:
        order_payment_abandon(order=order)

    assert str(raised.value) == ERROR_PAID_MEANWHILE.format(number=order.number)
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


def test_payment_arriving_after_the_order_was_cancelled_is_refunded_in_full(
    stripe_api, order, client, django_capture_on_commit_callbacks
):
    payment = start(order)
    session = stripe_api.session_pay(payment.external_id)
    Order.objects.filter(pk=order.pk).update(status=Order.Status.EXPIRED)
    body = event_body("checkout.session.completed", session_object(payment, **session))

    with django_capture_on_commit_callbacks(execute=True):
        response = webhook_post(client, body, signed(body))

    assert response.json()["outcome"] == OUTCOME_LATE_PAYMENT
    [request] = stripe_api.posted("/v1/refunds")
    assert request.form["amount"] == "230"
    refund = payment.refunds.get()
    assert (refund.status, refund.reason) == (Refund.Status.SUCCEEDED, REASON_LATE_PAYMENT)
    order.refresh_from_db()
    assert order.status == Order.Status.EXPIRED

    assert payment_late_refund(payment=payment) is None  # a second run sends nothing
    assert len(stripe_api.posted("/v1/refunds")) == 1


def test_going_back_while_stripe_is_unreachable_keeps_the_order_pending(stripe_api, order):
    start(order)
    for _ in range(3):
        stripe_api.fail_next(0)

    with pytest.raises(OrderError) as raised:
        order_payment_abandon(order=order)

    assert str(raised.value) == ERROR_GATEWAY
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


# --- Through the pages ------------------------------------------------------------------------


def test_pay_button_sends_the_shopper_to_stripes_page(stripe_api, alice, alice_client):
    cart = order_for(alice).cart  # placed: the cart is now being checked out
    assert cart is not None
    cart.refresh_from_db()

    response = alice_client.post(reverse("orders:checkout"), {"version": cart.version})

    [session] = stripe_api.sessions.values()
    assert response.status_code == 302
    assert response["Location"] == session["url"]
    number = Order.objects.get().number
    [request] = stripe_api.posted(SESSIONS)
    assert request.form["success_url"] == (
        f"http://testserver{reverse('orders:payment_success', kwargs={'number': number})}"
    )
    assert request.form["cancel_url"].endswith(f"/orders/{number}/payment/cancelled/")


def test_back_to_cart_after_paying_at_stripe_shows_the_success_page(
    stripe_api, order, alice_client
):
    payment = start(order)
    stripe_api.session_pay(payment.external_id)

    response = alice_client.post(reverse("orders:checkout_back"))

    assert response["Location"] == reverse(
        "orders:payment_success", kwargs={"number": order.number}
    )
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
