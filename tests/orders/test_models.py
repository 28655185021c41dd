"""Order status changes: only the legal ones, through the model's methods."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError
from django.utils import timezone

from orders.models import (
    NUMBER_ALPHABET,
    Order,
    OrderStateError,
    exit_nonce_new,
    order_number_new,
)

NOW = timezone.now()


def make_order(status: str = Order.Status.PENDING, total: str = "10.00") -> Order:
    return Order(
        number="ABCD-EFGH",
        cart_version=1,
        status=status,
        currency="EUR",
        subtotal=Decimal(total),
        total=Decimal(total),
        expires_at=NOW + timedelta(minutes=30),
    )


def test_order_numbers_use_only_unambiguous_characters():
    number = order_number_new()

    assert len(number) == 9 and number[4] == "-"
    assert set(number.replace("-", "")) <= set(NUMBER_ALPHABET)
    assert not set(number) & set("01ILOU")


def test_exit_nonce_is_upper_case_base32():
    nonce = exit_nonce_new()

    assert len(nonce) == 16 and nonce.isupper() and nonce.isalnum()
    assert nonce != exit_nonce_new()


def test_pending_order_can_be_paid():
    order = make_order()

    order.mark_paid(NOW)

    assert order.status == Order.Status.PAID and order.paid_at == NOW
    assert order.is_paid and order.refundable_amount == Decimal("10.00")


@pytest.mark.parametrize(
    "status", [Order.Status.PAID, Order.Status.CANCELLED, Order.Status.EXPIRED]
)
def test_only_a_pending_order_can_be_paid(status):
    order = make_order(status)

    with pytest.raises(OrderStateError, match="cannot be paid"):
        order.mark_paid(NOW)

    assert order.status == status


@pytest.mark.parametrize("method", ["mark_cancelled", "mark_expired"])
def test_pending_order_can_be_closed_unpaid(method):
    order = make_order()

    getattr(order, method)(NOW)

    assert order.closed_at == NOW and not order.is_paid


@pytest.mark.parametrize("method", ["mark_cancelled", "mark_expired"])
def test_a_paid_order_is_never_cancelled_or_expired(method):
    order = make_order(Order.Status.PAID)

    with pytest.raises(OrderStateError):
        getattr(order, method)(NOW)

    assert order.status == Order.Status.PAID


def test_refunds_go_partial_then_full():
    order = make_order(Order.Status.PAID)

    order.record_refund(Decimal("4.00"))
    assert order.status == Order.Status.PARTIALLY_REFUNDED
    assert order.refundable_amount == Decimal("6.00") and order.is_paid

    order.record_refund(Decimal("6.00"))
    assert order.status == Order.Status.REFUNDED
    assert order.refundable_amount == Decimal("0.00") and not order.is_paid


@pytest.mark.parametrize("amount", ["0.00", "-1.00", "10.01"])
def test_a_refund_must_be_positive_and_within_what_is_left(amount):
    order = make_order(Order.Status.PAID)

    with pytest.raises(OrderStateError):
        order.record_refund(Decimal(amount))

    assert order.refunded_amount == Decimal("0.00") and order.status == Order.Status.PAID


def test_an_unpaid_order_cannot_be_refunded():
    with pytest.raises(OrderStateError, match="cannot be refunded"):
        make_order().record_refund(Decimal("1.00"))


def test_a_paid_order_leaves_once():
    order = make_order(Order.Status.PAID)

    order.mark_exited(NOW)
    assert order.exited_at == NOW

    with pytest.raises(OrderStateError, match="already left"):
        order.mark_exited(NOW + timedelta(minutes=1))
    assert order.exited_at == NOW


@pytest.mark.parametrize(
    "status", [Order.Status.PENDING, Order.Status.REFUNDED, Order.Status.CANCELLED]
)
def test_only_a_paid_order_may_leave(status):
    with pytest.raises(OrderStateError):
        make_order(status).mark_exited(NOW)


@pytest.mark.django_db
def test_the_database_refuses_refunding_more_than_the_total():
    order = make_order(Order.Status.PAID)
    order.save()

    with pytest.raises(IntegrityError):
        Order.objects.filter(pk=order.pk).update(refunded_amount=Decimal("10.01"))
