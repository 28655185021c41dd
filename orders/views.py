"""Shopper pages of orders (history, detail, exit QR, receipt) and the staff exit check.

A shopper only ever reaches their own orders: every view goes through a selector scoped to the
signed-in user, and another shopper's order number is a 404, exactly like one that does not
exist. The exit check is for staff holding ``orders.check_exit``, behind the staff two-factor
gate (``shopcart.core.staff_mfa``).
"""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from orders.exit_codes import exit_code_for
from orders.forms import ExitCheckForm
from orders.models import Order
from orders.selectors import order_get_for_user, order_list_for_user
from orders.services import order_exit_check
from orders.services.exits import MESSAGE_AUDIT
from shopcart.core.qr import qr_png
from shopcart.core.request_types import ShopperRequest
from shopcart.core.staff_mfa import staff_page_required

ORDERS_PER_PAGE = 20
EXIT_CHECK_PERMISSION = "orders.check_exit"


def _order_or_404(request: ShopperRequest, number: str) -> Order:
    order = order_get_for_user(user=request.user, number=number)
    if order is None:
        raise Http404("No such order.")
    return order


@login_required
@require_safe
def order_list(request: ShopperRequest) -> HttpResponse:
    orders = order_list_for_user(user=request.user)
    page = Paginator(orders, ORDERS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "orders/order_list.html", {"page": page, "orders": page.object_list})


@login_required
@require_safe
@never_cache
def order_detail(request: ShopperRequest, number: str) -> HttpResponse:
    order = _order_or_404(request, number)
    context = {"order": order, "show_exit_qr": order.is_paid and order.exited_at is None}
    return render(request, "orders/order_detail.html", context)


@login_required
@require_safe
@never_cache
def order_exit_qr(request: ShopperRequest, number: str) -> HttpResponse:
    """The exit QR of the shopper's own paid order; never stored by browsers or proxies."""
    order = _order_or_404(request, number)
    if not order.is_paid:
        raise Http404("This order has no exit code.")
    return HttpResponse(qr_png(exit_code_for(order)), content_type="image/png")


@login_required
@require_safe
def order_receipt(request: ShopperRequest, number: str) -> HttpResponse:
    order = _order_or_404(request, number)
    if order.paid_at is None:
        raise Http404("An order that was never paid has no receipt.")
    return render(request, "orders/receipt.html", {"order": order})


@staff_page_required(EXIT_CHECK_PERMISSION)
@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
def exit_check(request: ShopperRequest) -> HttpResponse:
    if request.method != "POST":
        return render(request, "orders/exit_check.html", {"form": ExitCheckForm()})
    form = ExitCheckForm(request.POST)
    if not form.is_valid():
        return render(request, "orders/exit_check.html", {"form": form}, status=400)
    result = order_exit_check(code=form.cleaned_data["code"], staff=request.user)
    # A fresh, empty box for the next shopper in the queue.
    context = {"form": ExitCheckForm(), "result": result, "audit_message": MESSAGE_AUDIT}
    return render(request, "orders/exit_check.html", context)
