"""Payment services on the test gateway: starting, marking paid, failing, refunding, and the
payment confirmation email."""

import io
from decimal import Decimal
from email import message_from_bytes

import pytest
import zxingcpp
from django.core import mail
from PIL import Image

from carts.models import Cart
from orders.emails import EMAIL_KIND_ORDER_CONFIRMATION, order_confirmation_email
from orders.errors import OrderError
from orders.exit_codes import exit_code_for
from orders.models import Order, Payment, Refund
from orders.services import (
    order_mark_paid,
    order_payment_fail,
    order_payment_start,
    order_refund,
)
from orders.services.payments import (
    ERROR_NOT_PENDING,
    ERROR_REFUND_NOT_PAID,
    ERROR_REFUND_NOT_POSITIVE,
    ERROR_REFUND_TOO_MUCH,
    ERROR_TOO_LATE,
)
from orders.tasks import order_confirmation_send
from shopcart.models import OutboundEmail
from tests.orders.payment_support import order_for

pytestmark = pytest.mark.django_db

SUCCESS = "http://testserver/orders/X/payment/done/"
CANCEL = "http://testserver/orders/X/payment/cancelled/"


@pytest.fixture
def order(alice):
    return order_for(alice, price="1.15", quantity=2)  # 2.30


def start(order) -> Payment:
    return order_payment_start(order=order, success_url=SUCCESS, cancel_url=CANCEL)


def paid(order, captured) -> Order:
    """Pay ``order`` through the test gateway, with after-commit work run."""
    with captured(execute=True):
        order_mark_paid(order=order, payment=start(order))
    order.refresh_from_db()
    return order


# --- Starting ----------------------------------------------------------------------------------


def test_start_opens_a_test_gateway_session_once(order):
    first = start(order)
    second = start(order)

    assert first == second
    assert str(first.external_id).startswith("cs_test_")
    assert (first.gateway, first.amount, first.currency) == ("test", Decimal("2.30"), "EUR")
    assert first.redirect_url.startswith(f"/payments/test/{first.external_id}/?")


@pytest.mark.parametrize("status", [Order.Status.PAID, Order.Status.CANCELLED])
def test_start_refuses_an_order_not_waiting_for_payment(order, status):
    Order.objects.filter(pk=order.pk).update(status=status)

    with pytest.raises(OrderError) as raised:
        start(order)

    label = Order.Status(status).label
    assert str(raised.value) == ERROR_NOT_PENDING.format(number=order.number, status=label)
    assert not order.payments.exists()


def test_start_refuses_an_order_past_its_expiry(order):
    Order.objects.filter(pk=order.pk).update(expires_at=order.created_at)

    with pytest.raises(OrderError) as raised:
        start(order)

    assert str(raised.value) == ERROR_TOO_LATE.format(number=order.number)


def test_order_of_zero_is_paid_without_a_gateway(alice, django_capture_on_commit_callbacks):
    order = order_for(alice, price="1.15", quantity=1)
    Order.objects.filter(pk=order.pk).update(total=Decimal("0.00"), discount=Decimal("1.15"))
    order.refresh_from_db()

    with django_capture_on_commit_callbacks(execute=True):
        payment = start(order)

    order.refresh_from_db()
    assert (order.status, payment.status, payment.external_id) == (
        Order.Status.PAID,
        Payment.Status.SUCCEEDED,
        None,
    )
    assert payment.redirect_url == SUCCESS


# --- Paid ---------------------------------------------------------------------------------------


def test_mark_paid_pays_closes_the_cart_flags_the_first_order_and_emails_once(
    order, django_capture_on_commit_callbacks
):
    payment = start(order)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert order_mark_paid(order=order, payment=payment) is True
        assert mail.outbox == []  # nothing before the commit
        assert order_mark_paid(order=order, payment=payment) is False

    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert order.flagged_for_audit  # a shopper's first paid order always is
    assert Cart.objects.get(pk=order.cart_id).status == Cart.Status.CLOSED
    assert len(callbacks) >= 1
    assert len(mail.outbox) == 1


def test_failure_cancels_the_order_and_opens_the_cart(order):
    payment = start(order)

    assert order_payment_fail(order=order, payment=payment, message="Declined.") is True
    assert order_payment_fail(order=order, payment=payment, message="Declined.") is False

    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert Cart.objects.get(pk=order.cart_id).status == Cart.Status.OPEN


def test_success_after_the_order_was_cancelled_refunds_the_payment(
    order, django_capture_on_commit_callbacks
):
    payment = start(order)
    order_payment_fail(order=order, payment=payment, message="Declined.")
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.CREATED)

    with django_capture_on_commit_callbacks(execute=True):
        assert order_mark_paid(order=order, payment=payment) is False

    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    refund = payment.refunds.get()
    assert (refund.amount, refund.status) == (Decimal("2.30"), Refund.Status.SUCCEEDED)


# --- Refunds ----------------------------------------------------------------------------------


def test_partial_then_full_refund(order, staff, django_capture_on_commit_callbacks):
    order = paid(order, django_capture_on_commit_callbacks)

    first = order_refund(order=order, amount=Decimal("1.00"), requested_by=staff, reason="dented")
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == (
        Order.Status.PARTIALLY_REFUNDED,
        Decimal("1.00"),
    )
    order_refund(order=order, amount=Decimal("1.30"), requested_by=staff)

    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == (Order.Status.REFUNDED, Decimal("2.30"))
    assert (first.status, first.requested_by, first.reason) == (
        Refund.Status.SUCCEEDED,
        staff,
        "dented",
    )
    assert str(first.external_id).startswith("re_test_")


@pytest.mark.parametrize(
    ("amount", "error"),
    [
        ("0", ERROR_REFUND_NOT_POSITIVE),
        ("-1", ERROR_REFUND_NOT_POSITIVE),
        ("2.31", ERROR_REFUND_TOO_MUCH.format(number="{number}", left="€2.30")),
    ],
)
def test_refund_refuses_bad_amounts(
    order, staff, amount, error, django_capture_on_commit_callbacks
):
    order = paid(order, django_capture_on_commit_callbacks)

    with pytest.raises(OrderError) as raised:
        order_refund(order=order, amount=Decimal(amount), requested_by=staff)

    assert str(raised.value) == error.format(number=order.number)
    assert not Refund.objects.exists()


def test_refund_of_an_unpaid_order_is_refused(order, staff):
    with pytest.raises(OrderError) as raised:
        order_refund(order=order, amount=Decimal("1.00"), requested_by=staff)

    expected = ERROR_REFUND_NOT_PAID.format(number=order.number, status="awaiting payment")
    assert str(raised.value) == expected


# --- The confirmation email ----------------------------------------------------------------------


def test_confirmation_email_has_the_receipt_the_exit_qr_and_a_link(
    order, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://shop.example.com"
    order = paid(order, django_capture_on_commit_callbacks)

    [email] = mail.outbox
    assert email.to == [order.email]
    assert order.number in email.subject
    text = email.body
    assert "2 x " in text and "€1.15 each" in text and "Total paid: €2.30" in text
    assert f"{settings.SITE_URL}/orders/{order.number}/" in text
    assert exit_code_for(order) in text
    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html"
    assert "€2.30" in html and 'src="cid:exit-code.' in html
    assert f'href="https://shop.example.com/orders/{order.number}/"' in html
    parsed = message_from_bytes(email.message().as_bytes())
    [image] = [part for part in parsed.walk() if part.get_content_type() == "image/png"]
    assert image["Content-ID"].strip("<>") in html
    [decoded] = zxingcpp.read_barcodes(Image.open(io.BytesIO(image.get_payload(decode=True))))
    assert decoded.text == exit_code_for(order)
    outbound = OutboundEmail.objects.get()
    assert (outbound.kind, outbound.user) == (EMAIL_KIND_ORDER_CONFIRMATION, order.user)


def test_confirmation_task_run_twice_sends_one_email(order, django_capture_on_commit_callbacks):
    order = paid(order, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        assert order_confirmation_send.delay(order.pk).get() is False

    assert len(mail.outbox) == 1
    assert OutboundEmail.objects.count() == 1
    assert order.confirmation_emailed_at is not None


def test_no_confirmation_for_an_order_not_paid(order):
    assert order_confirmation_email(order_id=order.pk) is False
    assert order_confirmation_email(order_id=0) is False
    assert not OutboundEmail.objects.exists()
