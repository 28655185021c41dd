"""Gateway endpoints: the webhooks, and the test gateway's hosted payment page.

Webhooks. One URL per gateway, ``/payments/webhooks/stripe/`` and ``/payments/webhooks/test/``,
both answered by ``webhook_process``. The URL says which gateway sent the event, and so which
secret must have signed it and under which gateway its id is stored: a Stripe event can never
pass as a test gateway event, nor the reverse, and nothing has to guess by trying secrets.
They are CSRF-exempt (the signature is the authentication) and answer 400 when the signature is
missing, wrong or stale or the body is not an event (nothing changes), 200 otherwise.

The test gateway (its page and its webhook) only works while it is the store's gateway: once a
Stripe key is set, a test session left open can no longer be "paid" with a test card.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from orders.gateways import Gateway, WebhookError, gateway_get
from orders.gateways.test import (
    CardForm,
    card_event_build,
    card_expiry_example,
    session_return_urls,
)
from orders.models import Order, Payment
from orders.selectors import payment_get_for_user
from orders.services import webhook_process
from shopcart.core.request_types import ShopperRequest


@csrf_exempt
@require_POST
def webhook_stripe(request: HttpRequest) -> HttpResponse:
    return _webhook(request, gateway_get(Payment.Gateway.STRIPE))


@csrf_exempt
@require_POST
def webhook_test(request: HttpRequest) -> HttpResponse:
    _test_gateway_required()
    return _webhook(request, gateway_get(Payment.Gateway.TEST))


def _webhook(request: HttpRequest, gateway: Gateway) -> HttpResponse:
    signature = request.headers.get("Stripe-Signature", "")
    try:
        outcome = webhook_process(gateway=gateway, payload=request.body, signature_header=signature)
    except WebhookError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse({"received": True, "outcome": outcome})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
def test_payment_page(request: ShopperRequest, session_id: str) -> HttpResponse:
    """The test gateway's card form for the shopper's own payment ``session_id``."""
    _test_gateway_required()
    payment = payment_get_for_user(
        user=request.user, gateway=Payment.Gateway.TEST, external_id=session_id
    )
    if payment is None:
        raise Http404("No such payment.")
    if payment.status != Payment.Status.CREATED or payment.order.status != Order.Status.PENDING:
        # Paid already (a reload, the back button), or nothing left to pay.
        ended = 200 if payment.status == Payment.Status.SUCCEEDED else 410
        return _test_page(request, payment, CardForm(), status=ended)
    if request.method != "POST":
        return _test_page(request, payment, CardForm())
    form = CardForm(request.POST)
    if not form.is_valid():
        return _test_page(request, payment, form, status=400)
    # Delivered exactly as the HTTP webhook would be: signed, verified, stored once.
    body, signature = card_event_build(payment, form.outcome)
    gateway = gateway_get(Payment.Gateway.TEST)
    webhook_process(gateway=gateway, payload=body, signature_header=signature)
    payment.refresh_from_db()
    return redirect(_return_url(request, payment, paid=payment.status == Payment.Status.SUCCEEDED))


def _return_url(request: HttpRequest, payment: Payment, *, paid: bool) -> str:
    """Where the session said to send the shopper back; only ever to this site."""
    success_url, cancel_url = session_return_urls(payment)
    url = success_url if paid else cancel_url
    if url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}):
        return url
    return payment.order.get_absolute_url()


def _test_page(
    request: HttpRequest, payment: Payment, form: CardForm, *, status: int = 200
) -> HttpResponse:
    context = {
        "payment": payment,
        "order": payment.order,
        "form": form,
        "expiry_example": card_expiry_example(),
        "cancel_url": _return_url(request, payment, paid=False),
    }
    return render(request, "orders/test_payment_page.html", context, status=status)


def _test_gateway_required() -> None:
    if settings.PAYMENT_GATEWAY != Payment.Gateway.TEST:
        raise Http404("The test gateway is off: this store takes payments through Stripe.")
