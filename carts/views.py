"""Shopper pages of carts: the cart page and its edits, its live updates, and the cart pass."""

from collections.abc import Callable
from dataclasses import dataclass, replace

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import get_conditional_response, patch_cache_control
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from carts import live, services, web
from carts.models import Cart
from carts.scan_notices import scan_notice
from carts.selectors import (
    CartSummary,
    cart_edit_block,
    cart_etag,
    cart_suggestions,
    cart_summary,
)
from carts.services.carts import ERROR_QUANTITY
from catalog.models import Product
from shopcart.core.qr import qr_png
from shopcart.core.request_types import ShopperRequest

MESSAGE_EMAILED = "We sent your cart pass to {email}."
MESSAGE_EMAIL_WAIT = "We just sent your cart pass. Please wait a minute before asking again."
MESSAGE_REPLACED = "Here is your new cart pass. The old one stopped working."
ERROR_REPLACE_NOT_CONFIRMED = "Tick the box to confirm that your old pass should stop working."

# One "email it again" per shopper per minute: enough for a lost email, useless for flooding.
PASS_EMAIL_INTERVAL_SECONDS = 60


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


# === The cart page ==========================================================================
#
# Every edit is a small POST view calling one cart service. Without JavaScript it redirects to
# the cart page, where the messages show; with JavaScript (static/js/cart.js) the same form is
# sent by fetch with the FRAGMENT_HEADER, and the answer is the re-rendered cart block.
#
# An edit typed into a field (the coupon code, a quantity box) that is refused answers 400 with
# the page (or the block) showing the error beside that field, what was typed still in it, and
# the field focused (``autofocus`` without JavaScript; cart.js after an in-place answer): on a
# phone the error is where the eye is, not at the top of the page.


@dataclass(frozen=True)
class FieldError:
    """A refused edit's message, for the field it was typed in, with what was typed."""

    field: str  # FIELD_COUPON or FIELD_QUANTITY
    message: str
    value: str
    product_id: int | None = None  # the line of a quantity box


FIELD_COUPON = "coupon"
FIELD_QUANTITY = "quantity"

FRAGMENT_HEADER = "X-Requested-With"
FRAGMENT_HEADER_VALUE = "fetch"

MESSAGE_ADDED = "Added “{product}” to your cart."
CHECKOUT_BLOCKED = "Remove the lines marked unavailable or out of stock to check out."


@require_safe
@never_cache
def cart_detail(request: HttpRequest) -> HttpResponse:
    cart = web.request_cart(request)
    summary = cart_summary(cart=cart) if cart is not None else None
    return render(request, "carts/cart.html", _cart_context(summary))


@require_safe
def cart_fragment(request: HttpRequest) -> HttpResponse:
    """The cart block alone, for the page's live updates; 304 while the cart as shown has not
    changed (``cart_etag``)."""
    cart = web.request_cart(request)
    summary = cart_summary(cart=cart) if cart is not None else None
    context = _cart_context(summary)
    not_modified = get_conditional_response(request, etag=str(context["cart_etag"]))
    if not_modified is not None:
        return _private(not_modified, context)
    return _fragment(request, context)


@require_safe
def cart_events(request: HttpRequest) -> StreamingHttpResponse:
    # A signed-in shopper's stream always watches a cart, so the first scan of a cart made
    # elsewhere (their device) reaches the page; a visitor gets no cart just by looking.
    cart = web.request_cart(request, create=request.user.is_authenticated)
    return live.cart_event_stream(request, cart.pk if cart else None)


@require_POST
def cart_line_add(request: HttpRequest, product_id: int) -> HttpResponse:
    product = _product_or_404(product_id)
    success = MESSAGE_ADDED.format(product=product.name)
    return _cart_edit(
        request, lambda cart: services.cart_add_product(cart=cart, product=product), success
    )


@require_POST
def cart_line_remove(request: HttpRequest, product_id: int) -> HttpResponse:
    product = _product_or_404(product_id)
    return _cart_edit(
        request,
        lambda cart: services.cart_remove_product(cart=cart, product=product),
        create=False,
    )


@require_POST
def cart_line_set(request: HttpRequest, product_id: int) -> HttpResponse:
    product = _product_or_404(product_id)

    typed = request.POST.get("quantity", "")

    def edit(cart: Cart) -> services.CartChange:
        quantity = _quantity(typed)
        return services.cart_set_quantity(cart=cart, product=product, quantity=quantity)

    field = FieldError(FIELD_QUANTITY, "", typed.strip()[:10], product.pk)
    return _cart_edit(request, edit, field=field)


@require_POST
def cart_line_delete(request: HttpRequest, product_id: int) -> HttpResponse:
    return _cart_edit(
        request,
        lambda cart: services.cart_delete_line(cart=cart, product_id=product_id),
        create=False,
    )


@require_POST
def cart_unavailable_line_delete(request: HttpRequest, line_id: int) -> HttpResponse:
    """Delete a line whose product left the catalog; only ever a line of the request's cart."""
    return _cart_edit(
        request,
        lambda cart: services.cart_delete_unavailable_line(cart=cart, line_id=line_id),
        create=False,
    )


@require_POST
def cart_labelled_line_delete(request: HttpRequest, line_id: int) -> HttpResponse:
    """Delete a line of packs scanned by their in-store label; only ever one of the request's
    cart."""
    return _cart_edit(
        request,
        lambda cart: services.cart_delete_labelled_line(cart=cart, line_id=line_id),
        create=False,
    )


@require_POST
def cart_coupon_apply(request: HttpRequest) -> HttpResponse:
    code = request.POST.get("code", "").strip()

    def edit(cart: Cart) -> services.CartChange:
        return services.cart_apply_coupon(cart=cart, code=code)

    return _cart_edit(request, edit, field=FieldError(FIELD_COUPON, "", code[:40]))


@require_POST
def cart_coupon_remove(request: HttpRequest) -> HttpResponse:
    return _cart_edit(request, lambda cart: services.cart_remove_coupon(cart=cart), create=False)


def _cart_edit(
    request: HttpRequest,
    edit: Callable[[Cart], services.CartChange],
    success: str = "",
    *,
    create: bool = True,
    field: FieldError | None = None,
) -> HttpResponse:
    """Run ``edit`` on the request's cart (made first when ``create``); answer as asked.

    A refused edit (``CartError``) answers 400: beside ``field`` when it was typed in one (the
    page itself then, not a redirect, so the typed value stays), else as an error message.
    """
    fragment = _wants_fragment(request)
    cart = web.request_cart(request, create=create)
    refused: FieldError | None = None
    try:
        change = edit(cart) if cart is not None else None
    except services.CartError as exc:
        if field is None:
            messages.error(request, str(exc))
        refused = replace(field, message=str(exc)) if field else None
        status = 400
    else:
        status = 200
        for text in change.messages if change else ():
            messages.warning(request, text)
        if success and not fragment:
            messages.success(request, success)
    if not fragment and refused is None:
        return redirect("carts:detail")
    summary = cart_summary(cart=cart) if cart is not None else None
    if fragment:
        return _fragment(request, _cart_context(summary), status=status, field_error=refused)
    context = {**_cart_context(summary), **_field_errors(refused)}
    return render(request, "carts/cart.html", context, status=status)


def _fragment(
    request: HttpRequest,
    context: dict[str, object],
    status: int = 200,
    field_error: FieldError | None = None,
) -> HttpResponse:
    """The cart block rendered from ``_cart_context``."""
    context = {**context, "fragment": True, **_field_errors(field_error)}
    response = render(request, "carts/_cart_body.html", context, status=status)
    return _private(response, context)


def _cart_context(summary: CartSummary | None) -> dict[str, object]:
    cart = summary.cart if summary else None
    blocked = summary is not None and bool(summary.lines) and not summary.can_check_out
    suggestions = cart_suggestions(summary)
    return {
        "summary": summary,
        "cart_id": cart.pk if cart else "",
        "cart_version": cart.version if cart else 0,
        "cart_scans": cart.scan_count if cart else 0,
        "cart_pairings": cart.pairing_count if cart else 0,
        "cart_etag": cart_etag(summary, suggestions),
        "scan_notice": scan_notice(cart),
        "edit_block": cart_edit_block(cart),
        "cart_units": sum(view.quantity for view in summary.lines) if summary else 0,
        "suggestions": suggestions,
        "checkout_note": CHECKOUT_BLOCKED if blocked else "",
    }


def _field_errors(refused: FieldError | None) -> dict[str, FieldError | None]:
    """The templates' names for a refused field: ``coupon_error``, ``quantity_error``."""
    field = refused.field if refused else None
    return {
        "coupon_error": refused if field == FIELD_COUPON else None,
        "quantity_error": refused if field == FIELD_QUANTITY else None,
    }


def _private(response: HttpResponse, context: dict[str, object]) -> HttpResponse:
    response["ETag"] = str(context["cart_etag"])
    patch_cache_control(response, private=True, no_cache=True)
    return response


def _wants_fragment(request: HttpRequest) -> bool:
    return request.headers.get(FRAGMENT_HEADER) == FRAGMENT_HEADER_VALUE


def _quantity(text: str) -> int:
    """A whole number from the quantity box; the cart service checks its range."""
    try:
        return int(text.strip())
    except ValueError:
        raise services.CartError(ERROR_QUANTITY, code=services.CartErrorCode.QUANTITY) from None


def _product_or_404(product_id: int) -> Product:
    product = web.cart_product_get(product_id=product_id)
    if product is None:
        raise Http404("No such product.")
    return product
