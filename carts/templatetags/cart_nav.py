"""``{% load cart_nav %}``: what the header's cart link shows."""

from django import template

from carts import web

register = template.Library()


@register.simple_tag(takes_context=True)
def cart_units(context: template.Context) -> int:
    """How many things the visitor's cart holds (one query; none for a visitor without a cart)."""
    request = context.get("request")
    return web.request_cart_units(request) if request is not None else 0
