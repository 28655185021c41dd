"""Helpers shared by the order tests: a cart holding products, a product stock read again, a
sales history (paid orders made directly, for the recommendations)."""

import itertools
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from carts.models import Cart
from carts.services import (
    cart_add_product,
    cart_apply_coupon,
    cart_get_for_user,
)
from catalog.models import Product
from orders.models import Order, OrderLine


def cart_with(user, *items, coupon: str = "") -> Cart:
    """``user``'s cart holding ``(product, web_quantity)`` items, with ``coupon`` applied."""
    cart = cart_get_for_user(user=user)
    for product, quantity in items:
        cart_add_product(cart=cart, product=product, quantity=quantity)
    if coupon:
        cart_apply_coupon(cart=cart, code=coupon)
    cart.refresh_from_db()
    return cart


def stock_of(product: Product) -> int:
    return Product.objects.values_list("stock", flat=True).get(pk=product.pk)


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
