"""Template filters of the order pages, and the cart page's note about a cart just paid:
``{% load order_display %}``."""

from datetime import timedelta
from decimal import Decimal

from django import template
from django.utils import timezone

from orders.selectors import order_recently_paid_for_user
from shopcart.core.money import money_format

register = template.Library()

# How long the cart page names the order a cart just became: long enough to walk to the exit.
PAID_NOTE_MINUTES = 30


@register.inclusion_tag("orders/_cart_paid.html", takes_context=True)
def cart_paid_note(context: template.Context) -> dict[str, object]:
    """On the cart page (carts cannot import orders): the order the shopper's last cart was
    paid as, while it is recent."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None:
        return {"order": None}
    since = timezone.now() - timedelta(minutes=PAID_NOTE_MINUTES)
    return {"order": order_recently_paid_for_user(user=user, since=since)}


@register.filter
def money_in(amount: Decimal | int | None, currency: str) -> str:
    """``{{ order.total|money_in:order.currency }}`` → "€12.50": an order keeps its currency."""
    if amount is None or amount == "":
        return ""
    return money_format(amount, currency)
