"""The cart page's note about the cart device paired with the shopper's cart.

A template tag, so the cart page (carts) can show it without carts importing devices: the
dependency runs devices → carts only.
"""

from django import template

from devices.selectors import pairing_get_for_cart

register = template.Library()


@register.inclusion_tag("devices/_cart_pairing.html")
def cart_pairing(cart_id: int | str) -> dict[str, object]:
    pairing = pairing_get_for_cart(cart_id=int(cart_id)) if cart_id else None
    return {"pairing": pairing}
