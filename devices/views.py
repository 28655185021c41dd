"""Shopper pages of devices: ending the pairing of the cart device with the shopper's cart."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from carts.selectors import cart_get_current
from devices.services import cart_pairing_end

MESSAGE_PAIRING_ENDED = "The cart device is no longer linked to your cart."
MESSAGE_NOT_PAIRED = "No cart device is linked to your cart."


@login_required
@require_POST
def pairing_end(request: HttpRequest) -> HttpResponse:
    assert isinstance(request.user, User)
    cart = cart_get_current(user=request.user)
    ended = cart is not None and cart_pairing_end(cart=cart)
    messages.info(request, MESSAGE_PAIRING_ENDED if ended else MESSAGE_NOT_PAIRED)
    return redirect("carts:detail")
