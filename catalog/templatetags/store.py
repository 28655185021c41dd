"""Template filters of the shop: ``{% load store %}``."""

from decimal import Decimal

from django import template

from shopcart.core.money import money_format

register = template.Library()


@register.filter
def money(amount: Decimal | int | None) -> str:
    """``{{ product.price|money }}`` → "€2.50"; an empty value stays empty."""
    if amount is None or amount == "":
        return ""
    return money_format(amount)
