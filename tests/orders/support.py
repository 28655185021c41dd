"""Helpers shared by the order tests: a cart holding products, a product stock read again."""

from carts.models import Cart
from carts.services import (
    cart_add_product,
    cart_apply_coupon,
    cart_get_for_user,
)
from catalog.models import Product


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
