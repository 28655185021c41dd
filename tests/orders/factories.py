"""factory_boy factories for orders. Add new factories; do not rewrite existing ones.

``OrderFactory`` makes a pending order of a fresh shopper with no lines; ``PaidOrderFactory``
one paid a minute ago. Lines come from ``OrderLineFactory(order=...)``; their totals are the
caller's business (an order's totals are whatever the factory call says).
"""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from orders.models import Order, OrderLine, Payment, order_number_new
from tests.factories import UserFactory


class OrderFactory(factory.django.DjangoModelFactory[Order]):
    class Meta:
        model = Order

    number = factory.LazyFunction(order_number_new)
    user = factory.SubFactory(UserFactory)
    email = factory.LazyAttribute(lambda order: order.user.email if order.user else "")
    cart_version = factory.Sequence(lambda n: n + 1)
    status = Order.Status.PENDING
    currency = "EUR"
    subtotal = Decimal("10.00")
    discount = Decimal("0.00")
    total = factory.LazyAttribute(lambda order: order.subtotal - order.discount)
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=30))


class PaidOrderFactory(OrderFactory):
    status = Order.Status.PAID
    paid_at = factory.LazyFunction(lambda: timezone.now() - timedelta(minutes=1))


class OrderLineFactory(factory.django.DjangoModelFactory[OrderLine]):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    product = None
    product_name = factory.Sequence(lambda n: f"Product {n}")
    gtin = "04000000000017"
    unit_price = Decimal("2.50")
    quantity = 1
    subtotal = factory.LazyAttribute(lambda line: line.unit_price * line.quantity)
    discount = Decimal("0.00")
    total = factory.LazyAttribute(lambda line: line.subtotal - line.discount)


class PaymentFactory(factory.django.DjangoModelFactory[Payment]):
    class Meta:
        model = Payment

    order = factory.SubFactory(PaidOrderFactory)
    gateway = Payment.Gateway.TEST
    external_id = factory.Sequence(lambda n: f"pi_test_{n}")
    amount = factory.LazyAttribute(lambda payment: payment.order.total)
    currency = "EUR"
    status = Payment.Status.SUCCEEDED
