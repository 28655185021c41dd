"""Checkout pages: the summary with its pay button, the way back to the cart, and the pages a
payment gateway sends the shopper back to.

Paying is one POST: place the order (``order_place``, idempotent per cart version), open the
gateway's checkout (``order_payment_start``, idempotent per order) and redirect there. Pressing
the button twice, or "continue to payment" later, therefore lands on the same checkout.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from carts.models import Cart
from carts.selectors import cart_get_current, cart_summary
from orders.errors import OrderError, OrderPaidMeanwhile
from orders.models import Order
from orders.selectors import order_get_for_user, order_get_pending_for_cart
from orders.services import order_payment_abandon, order_payment_start, order_place
from shopcart.core.request_types import ShopperRequest

ERROR_CART_CHANGED = "Your cart changed since this page was shown. Check the total and pay again."
ERROR_NOT_PAID = "Order {number} was not paid and is closed. Your cart is open again."
MESSAGE_EMPTY = "Your cart is empty: add something before checking out."
MESSAGE_BACK_TO_CART = "Payment stopped: order {number} is cancelled and your cart can be changed."
MESSAGE_ALREADY_PAID = "Order {number} is already paid."


class CheckoutForm(forms.Form):
    # The cart version the shopper saw: a scan or an edit in another tab since then means
    # the total on the page is not what would be charged.
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
def checkout(request: ShopperRequest) -> HttpResponse:
    cart = cart_get_current(user=request.user)
    if cart is None or not cart.lines.exists():
        messages.info(request, MESSAGE_EMPTY)
        return redirect("carts:detail")
    if request.method != "POST":
        return _checkout_page(request, cart)
    form = CheckoutForm(request.POST)
    if not form.is_valid() or form.cleaned_data["version"] not in _versions_payable(request, cart):
        return _checkout_page(request, cart, error=ERROR_CART_CHANGED, status=409)
    try:
        order = order_place(cart=cart, user=request.user)
        payment = order_payment_start(
            order=order,
            success_url=_absolute(request, "orders:payment_success", order),
            cancel_url=_absolute(request, "orders:payment_cancelled", order),
        )
    except OrderError as exc:
        return _checkout_page(request, cart, error=str(exc), status=400)
    return redirect(payment.redirect_url)


def _versions_payable(request: ShopperRequest, cart: Cart) -> set[int]:
    """The cart versions a pay button may carry: the cart's own ("continue to payment") and,
    once an order is placed, the version it was placed at (a double click's second post)."""
    versions = {cart.version}
    if cart.status == Cart.Status.CHECKING_OUT:
        pending = order_get_pending_for_cart(user=request.user, cart_id=cart.pk)
        if pending is not None:
            versions.add(pending.cart_version)
    return versions


def _checkout_page(
    request: ShopperRequest, cart: Cart, *, error: str = "", status: int = 200
) -> HttpResponse:
    summary = cart_summary(cart=cart)
    context = {"summary": summary, "price": summary.price, "form_error": error}
    return render(request, "orders/checkout.html", context, status=status)


def _absolute(request: HttpRequest, name: str, order: Order) -> str:
    return request.build_absolute_uri(reverse(name, kwargs={"number": order.number}))


@login_required
@require_POST
def checkout_back(request: ShopperRequest) -> HttpResponse:
    """Stop paying and edit the cart again: the pending order is cancelled."""
    cart = cart_get_current(user=request.user)
    order = order_get_pending_for_cart(user=request.user, cart_id=cart.pk) if cart else None
    if order is None:
        return redirect("carts:detail")
    try:
        order = order_payment_abandon(order=order)
    except OrderPaidMeanwhile as exc:  # at the gateway, just now: the webhook is on its way
        messages.error(request, str(exc))
        return redirect("orders:payment_success", number=order.number)
    except OrderError as exc:
        messages.error(request, str(exc))
        return redirect("carts:detail")
    if order.is_paid:
        messages.info(request, MESSAGE_ALREADY_PAID.format(number=order.number))
        return redirect("orders:payment_success", number=order.number)
    messages.info(request, MESSAGE_BACK_TO_CART.format(number=order.number))
    return redirect("carts:detail")


@login_required
@require_safe
@never_cache
def payment_success(request: ShopperRequest, number: str) -> HttpResponse:
    """Where the gateway sends the shopper after paying; the webhook may not be in yet, so a
    pending order shows "confirming" and the page reloads itself until it is."""
    order = _order_or_404(request, number)
    return render(request, "orders/payment_success.html", {"order": order})


@login_required
@require_safe
@never_cache
def payment_cancelled(request: ShopperRequest, number: str) -> HttpResponse:
    """Where the gateway sends the shopper who did not pay: try again, or back to the cart.

    An order that was closed meanwhile (a declined card ends the test gateway's checkout)
    sends the shopper to the checkout, which says why.
    """
    order = _order_or_404(request, number)
    if order.paid_at is not None:
        return redirect("orders:payment_success", number=order.number)
    if order.status != Order.Status.PENDING:
        messages.error(request, _closed_message(order))
        return redirect("orders:checkout")
    return render(request, "orders/payment_cancelled.html", {"order": order})


def _closed_message(order: Order) -> str:
    failed = [payment.failure_message for payment in order.payments.all()]
    reason = next((message for message in failed if message), "")
    closed = ERROR_NOT_PAID.format(number=order.number)
    return f"{reason} {closed}" if reason else closed


def _order_or_404(request: ShopperRequest, number: str) -> Order:
    order = order_get_for_user(user=request.user, number=number)
    if order is None:
        raise Http404("No such order.")
    return order
