"""Paid orders made directly, for tests that need a sales history (recommendations)."""

import itertools
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from catalog.models import Product
from orders.models import Order, OrderLine

_numbers = itertools.count(1)


def paid_order(*products: Product, status: str = Order.Status.PAID, days_ago: float = 1) -> Order:
    """An order of one of each of ``products``, paid ``days_ago`` days ago, in ``status``."""
    paid_at = timezone.now() - timedelta(days=days_ago)
    order = Order.objects.create(
        number=f"TEST-{next(_numbers):05d}",
        cart_version=1,
        status=status,
        currency="EUR",
        subtotal=Decimal("0.00"),
        total=Decimal("0.00"),
        expires_at=paid_at,
        paid_at=paid_at,
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            product=product,
            product_name=product.name,
            unit_price=product.price,
            quantity=1,
            subtotal=product.price,
            total=product.price,
        )
        for product in products
    )
    return order
