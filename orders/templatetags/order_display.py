"""Template filters of the order pages: ``{% load order_display %}``."""

from decimal import Decimal

from django import template

from shopcart.money import money_format

register = template.Library()


@register.filter
def money_in(amount: Decimal | int | None, currency: str) -> str:
    """``{{ order.total|money_in:order.currency }}`` → "€12.50": an order keeps its currency."""
    if amount is None or amount == "":
        return ""
    return money_format(amount, currency)
