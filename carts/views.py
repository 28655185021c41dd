"""Shopper pages of carts: the cart pass (show it, email it again, replace it)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from carts import services
from shopcart.qr import qr_png

MESSAGE_EMAILED = "We sent your cart pass to {email}."
MESSAGE_EMAIL_WAIT = "We just sent your cart pass. Please wait a minute before asking again."
MESSAGE_REPLACED = "Here is your new cart pass. The old one stopped working."
ERROR_REPLACE_NOT_CONFIRMED = "Tick the box to confirm that your old pass should stop working."

# One "email it again" per shopper per minute: enough for a lost email, useless for flooding.
PASS_EMAIL_INTERVAL_SECONDS = 60


class ShopperRequest(HttpRequest):
    """A request that ``login_required`` let through: its user is signed in."""

    user: User


class CartPassReplaceForm(forms.Form):
    confirm = forms.BooleanField(
        label="Yes, make my old pass stop working",
        error_messages={"required": ERROR_REPLACE_NOT_CONFIRMED},
    )


def _pass_page(
    request: ShopperRequest, form: CartPassReplaceForm, status: int = 200
) -> HttpResponse:
    cart_pass = services.cart_pass_issue(user=request.user)
    context = {"cart_pass": cart_pass, "replace_form": form}
    return render(request, "carts/pass.html", context, status=status)


@login_required
@require_safe
@never_cache
def cart_pass_detail(request: ShopperRequest) -> HttpResponse:
    return _pass_page(request, CartPassReplaceForm())


@login_required
@require_safe
@never_cache
def cart_pass_qr(request: ShopperRequest) -> HttpResponse:
    """The signed-in shopper's own pass as a PNG; never stored by browsers or proxies."""
    cart_pass = services.cart_pass_issue(user=request.user)
    return HttpResponse(qr_png(cart_pass.text), content_type="image/png")


@login_required
@require_POST
def cart_pass_email(request: ShopperRequest) -> HttpResponse:
    if not cache.add(f"carts:pass-email:{request.user.pk}", 1, PASS_EMAIL_INTERVAL_SECONDS):
        messages.warning(request, MESSAGE_EMAIL_WAIT)
        return redirect("carts:pass")
    try:
        services.cart_pass_email(user=request.user)
    except services.CartPassError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, MESSAGE_EMAILED.format(email=request.user.email))
    return redirect("carts:pass")


@login_required
@require_POST
def cart_pass_replace(request: ShopperRequest) -> HttpResponse:
    form = CartPassReplaceForm(request.POST)
    if not form.is_valid():
        return _pass_page(request, form, status=400)
    services.cart_pass_replace(user=request.user)
    messages.success(request, MESSAGE_REPLACED)
    return redirect("carts:pass")
