"""Checkout pages, the test gateway's payment page, and the cart page's checkout block."""

import re
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.test import Client
from django.urls import reverse

from carts.models import Cart
from carts.services import cart_add_product, cart_get_for_user
from orders.checkout_views import (
    ERROR_CART_CHANGED,
    ERROR_NOT_PAID,
    MESSAGE_BACK_TO_CART,
    MESSAGE_EMPTY,
)
from orders.gateways.test import (
    DECLINE_GENERIC,
    DECLINE_INSUFFICIENT_FUNDS,
    ERROR_CARD_NOT_ACCEPTED,
    ERROR_CARD_NUMBER,
    ERROR_CVC,
    ERROR_EXPIRY_FORMAT,
    ERROR_EXPIRY_PAST,
    CardForm,
    luhn_valid,
)
from orders.models import Order, Payment, WebhookEvent
from orders.services import order_place
from orders.services.placement import ERROR_OUT_OF_STOCK
from shopcart.core.money import money_format
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

CHECKOUT = reverse("orders:checkout")
BACK = reverse("orders:checkout_back")
CART = reverse("carts:detail")
GOOD_CARD = {"number": "4242 4242 4242 4242", "expiry": "12 / 39", "cvc": "123"}


@pytest.fixture
def milk(db):
    return ProductFactory(name="Milk", price=Decimal("1.15"), stock=5)


@pytest.fixture
def alice_cart(alice, milk):
    cart = cart_get_for_user(user=alice)
    cart_add_product(cart=cart, product=milk, quantity=2)
    return cart


def version(cart: Cart) -> int:
    return Cart.objects.get(pk=cart.pk).version


def pay_click(client: Client, cart: Cart):
    return client.post(CHECKOUT, {"version": version(cart)})


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def placed(alice_client, alice_cart) -> tuple[Order, Payment, str]:
    """Alice pressed "Pay": her order, its test payment, and the payment page's address."""
    response = pay_click(alice_client, alice_cart)
    order = Order.objects.get(cart=alice_cart)
    return order, order.payments.get(), response["Location"]


# --- The checkout page ---------------------------------------------------------------------------


def test_checkout_shows_the_lines_totals_and_a_pay_button(alice_client, alice_cart):
    response = alice_client.get(CHECKOUT)

    assert response.status_code == 200
    page = response.text
    assert "Milk" in page
    assert f"2 \N{MULTIPLICATION SIGN} {money_format(Decimal('1.15'))}" in page
    assert f"Pay {money_format(Decimal('2.30'))}</button>" in page
    assert f'name="version" value="{version(alice_cart)}"' in page


def test_checkout_needs_signing_in(client, alice_cart):
    response = client.get(CHECKOUT)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_checkout_with_an_empty_cart_goes_back_to_the_cart(alice_client, alice):
    response = alice_client.get(CHECKOUT)

    assert response["Location"] == CART
    assert messages_of(response) == [MESSAGE_EMPTY]


def test_checkout_refuses_other_methods(alice_client, alice_cart):
    assert alice_client.put(CHECKOUT).status_code == 405
    assert alice_client.get(BACK).status_code == 405


def test_paying_places_the_order_and_opens_the_test_payment_page(alice_client, alice_cart):
    response = pay_click(alice_client, alice_cart)

    order = Order.objects.get(cart=alice_cart)
    payment = order.payments.get()
    assert (order.status, order.total) == (Order.Status.PENDING, Decimal("2.30"))
    assert payment.gateway == Payment.Gateway.TEST
    assert response.status_code == 302
    assert response["Location"] == payment.redirect_url
    assert response["Location"].startswith(
        reverse("payments:test_page", kwargs={"session_id": payment.external_id})
    )
    assert Cart.objects.get(pk=alice_cart.pk).status == Cart.Status.CHECKING_OUT


def test_pressing_pay_twice_gives_one_order_and_one_payment(alice_client, alice_cart):
    first = pay_click(alice_client, alice_cart)
    second = pay_click(alice_client, alice_cart)

    assert first["Location"] == second["Location"]
    assert Order.objects.count() == 1
    assert Payment.objects.count() == 1


def test_a_double_click_posts_the_same_version_twice_and_lands_on_the_same_checkout(
    alice_client, alice_cart
):
    shown = {"version": version(alice_cart)}

    first = alice_client.post(CHECKOUT, shown)
    second = alice_client.post(CHECKOUT, shown)  # the cart is checking out by now

    assert second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Order.objects.count() == 1 and Payment.objects.count() == 1


def test_paying_for_a_cart_that_changed_since_the_page_was_shown_is_refused(
    alice_client, alice_cart, milk
):
    shown = version(alice_cart)
    cart_add_product(cart=alice_cart, product=milk)  # a scan in the store meanwhile

    response = alice_client.post(CHECKOUT, {"version": shown})

    assert response.status_code == 409
    assert ERROR_CART_CHANGED in response.text
    assert not Order.objects.exists()


@pytest.mark.parametrize("data", [{}, {"version": "x"}, {"version": "-1"}])
def test_paying_without_a_valid_version_is_refused(alice_client, alice_cart, data):
    response = alice_client.post(CHECKOUT, data)

    assert response.status_code == 409
    assert not Order.objects.exists()


def test_order_refused_by_placement_shows_why_on_the_page(alice_client, alice_cart, milk):
    milk.stock = 0  # sold out in the store meanwhile
    milk.save()

    response = pay_click(alice_client, alice_cart)

    assert response.status_code == 400
    expected = ERROR_OUT_OF_STOCK.format(product="Milk")
    assert f"data-checkout-error>{expected}</p>" in response.text.replace("&quot;", '"')
    assert not Order.objects.exists()


def test_checkout_post_needs_a_csrf_token(alice, alice_cart):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)

    assert client.post(CHECKOUT, {"version": version(alice_cart)}).status_code == 403


# --- The test gateway's payment page -------------------------------------------------------------


def test_payment_page_shows_the_amount_and_the_card_form(alice_client, alice_cart):
    order, _, url = placed(alice_client, alice_cart)

    page = alice_client.get(url).text

    assert f"Pay {money_format(Decimal('2.30'))}</button>" in page
    assert 'autocomplete="cc-number"' in page and 'inputmode="numeric"' in page
    assert "csrfmiddlewaretoken" in page
    assert order.number in page


def test_payment_page_is_only_for_the_orders_shopper(alice_client, bob_client, client, alice_cart):
    _, _, url = placed(alice_client, alice_cart)

    assert bob_client.get(url).status_code == 404
    assert bob_client.post(url, GOOD_CARD).status_code == 404
    assert client.get(url).status_code == 302  # to the sign-in page
    unknown = reverse("payments:test_page", kwargs={"session_id": "cs_test_nothing"})
    assert alice_client.get(unknown).status_code == 404
    assert Order.objects.get().status == Order.Status.PENDING


def test_payment_page_refuses_other_methods(alice_client, alice_cart):
    _, _, url = placed(alice_client, alice_cart)

    assert alice_client.put(url).status_code == 405


def test_paying_with_4242_pays_through_the_webhook_and_shows_success(
    alice_client, alice_cart, django_capture_on_commit_callbacks
):
    order, _, url = placed(alice_client, alice_cart)

    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(url, GOOD_CARD)

    success = reverse("orders:payment_success", kwargs={"number": order.number})
    assert response.status_code == 302
    assert response["Location"] == f"http://testserver{success}"
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    event = WebhookEvent.objects.get()
    assert (event.gateway, event.event_type, event.order) == (
        "test",
        "checkout.session.completed",
        order,
    )
    assert Cart.objects.get(pk=alice_cart.pk).status == Cart.Status.CLOSED
    assert len(mail.outbox) == 1
    page = alice_client.get(success).text
    assert 'data-payment-state="paid"' in page
    assert reverse("orders:exit_qr", kwargs={"number": order.number}) in page


@pytest.mark.parametrize(
    ("number", "message"),
    [("4000 0000 0000 0002", DECLINE_GENERIC), ("4000000000009995", DECLINE_INSUFFICIENT_FUNDS)],
)
def test_declined_card_cancels_the_order_and_the_checkout_says_why(
    alice_client, alice_cart, milk, number, message
):
    order, payment, url = placed(alice_client, alice_cart)

    response = alice_client.post(url, {**GOOD_CARD, "number": number}, follow=True)

    order.refresh_from_db()
    payment.refresh_from_db()
    assert (order.status, payment.status) == (Order.Status.CANCELLED, Payment.Status.FAILED)
    assert payment.failure_message == message
    assert response.redirect_chain[-1][0] == CHECKOUT
    closed = ERROR_NOT_PAID.format(number=order.number)
    assert f"{message} {closed}" in response.text
    # The cart can be changed again, and paid again as a new order.
    assert Cart.objects.get(pk=alice_cart.pk).status == Cart.Status.OPEN
    cart_add_product(cart=alice_cart, product=milk)
    pay_click(alice_client, alice_cart)
    assert Order.objects.filter(status=Order.Status.PENDING).count() == 1


@pytest.mark.parametrize(
    ("card", "field", "error"),
    [
        ({"number": "4242 4242 4242 4241"}, "number", ERROR_CARD_NUMBER),
        ({"number": "4242"}, "number", ERROR_CARD_NUMBER),
        ({"number": "abcd efgh"}, "number", ERROR_CARD_NUMBER),
        ({"number": "5555 5555 5555 4444"}, "number", ERROR_CARD_NOT_ACCEPTED),
        ({"expiry": "13/30"}, "expiry", ERROR_EXPIRY_FORMAT),
        ({"expiry": "soon"}, "expiry", ERROR_EXPIRY_FORMAT),
        ({"expiry": "01/20"}, "expiry", ERROR_EXPIRY_PAST),
        ({"cvc": "12"}, "cvc", ERROR_CVC),
        ({"cvc": ""}, "cvc", "This field is required."),
    ],
)
def test_bad_card_details_are_form_errors_and_change_nothing(
    alice_client, alice_cart, card, field, error
):
    order, _, url = placed(alice_client, alice_cart)

    response = alice_client.post(url, {**GOOD_CARD, **card})

    assert response.status_code == 400
    assert error.replace("'", "&#x27;") in response.text
    assert CardForm({**GOOD_CARD, **card}).errors[field] == [error]
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert not WebhookEvent.objects.exists()


def test_luhn_check():
    assert luhn_valid("4242424242424242")
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398710")


def test_paid_session_page_says_already_paid_and_takes_no_second_payment(alice_client, alice_cart):
    _, _, url = placed(alice_client, alice_cart)
    alice_client.post(url, GOOD_CARD)

    page = alice_client.get(url)
    again = alice_client.post(url, GOOD_CARD)

    assert page.status_code == 200
    assert 'data-test-pay-state="paid"' in page.text
    assert again.status_code == 200
    assert WebhookEvent.objects.count() == 1


def test_session_of_a_cancelled_order_has_ended(alice_client, alice_cart):
    order, _, url = placed(alice_client, alice_cart)
    alice_client.post(BACK)

    response = alice_client.post(url, GOOD_CARD)

    assert response.status_code == 410
    assert 'data-test-pay-state="ended"' in response.text
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED


def test_test_payment_page_is_off_when_stripe_takes_payments(settings, alice_client, alice_cart):
    _, _, url = placed(alice_client, alice_cart)
    settings.PAYMENT_GATEWAY = "stripe"

    assert alice_client.get(url).status_code == 404
    assert alice_client.post(url, GOOD_CARD).status_code == 404


def test_card_form_posted_over_http_as_a_signed_event_works_too(alice_client, alice_cart):
    """The test gateway's events are real signed webhooks: posting one to its URL pays."""
    from orders.gateways.test import CARD_OUTCOMES, CARD_SUCCEEDS, card_event_build

    order, payment, _ = placed(alice_client, alice_cart)
    body, signature = card_event_build(payment, CARD_OUTCOMES[CARD_SUCCEEDS])

    response = Client().post(
        reverse("payments:webhook_test"),
        data=body,
        content_type="application/json",
        headers={"Stripe-Signature": signature},
    )

    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


# --- Return pages and the way back ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["orders:payment_success", "orders:payment_cancelled"])
def test_return_pages_are_only_for_the_orders_shopper(
    alice_client, bob_client, client, alice_cart, name
):
    order, _, _ = placed(alice_client, alice_cart)
    url = reverse(name, kwargs={"number": order.number})

    assert alice_client.get(url).status_code == 200
    assert bob_client.get(url).status_code == 404
    assert client.get(url).status_code == 302
    assert alice_client.post(url).status_code == 405


def test_success_page_waits_for_the_webhook_and_reloads_itself(alice_client, alice_cart):
    order, _, _ = placed(alice_client, alice_cart)

    page = alice_client.get(reverse("orders:payment_success", kwargs={"number": order.number}))

    assert 'data-payment-state="pending"' in page.text
    assert '<meta http-equiv="refresh" content="3">' in page.text


def test_cancelled_page_offers_to_continue_or_go_back(alice_client, alice_cart):
    order, _, _ = placed(alice_client, alice_cart)

    page = alice_client.get(reverse("orders:payment_cancelled", kwargs={"number": order.number}))

    assert f'action="{CHECKOUT}"' in page.text
    assert f'action="{BACK}"' in page.text


def test_back_to_cart_cancels_the_order_and_opens_the_cart(alice_client, alice_cart, milk):
    order, payment, _ = placed(alice_client, alice_cart)
    stock_while_pending = type(milk).objects.get(pk=milk.pk).stock

    response = alice_client.post(BACK)

    assert response["Location"] == CART
    assert messages_of(response) == [MESSAGE_BACK_TO_CART.format(number=order.number)]
    order.refresh_from_db()
    payment.refresh_from_db()
    assert (order.status, payment.status) == (Order.Status.CANCELLED, Payment.Status.CANCELLED)
    assert Cart.objects.get(pk=alice_cart.pk).status == Cart.Status.OPEN
    assert type(milk).objects.get(pk=milk.pk).stock == stock_while_pending + 2


def test_back_to_cart_touches_only_the_shoppers_own_order(alice_client, bob_client, alice_cart):
    order, _, _ = placed(alice_client, alice_cart)

    response = bob_client.post(BACK)

    assert response["Location"] == CART
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


def test_continue_to_payment_returns_to_the_same_payment(alice_client, alice_cart):
    _, payment, url = placed(alice_client, alice_cart)

    response = pay_click(alice_client, alice_cart)

    assert response["Location"] == url
    assert Payment.objects.get() == payment


# --- The cart page's checkout block ------------------------------------------------------------


def test_cart_page_links_to_checkout_with_the_total(alice_client, alice_cart):
    page = alice_client.get(CART).text

    total = money_format(Decimal("2.30"))
    assert f'href="{CHECKOUT}" data-checkout-link>Check out · {total}' in page


def test_cart_page_while_paying_offers_continue_and_back(alice_client, alice_cart):
    placed(alice_client, alice_cart)

    page = alice_client.get(CART).text

    assert "data-checkout-pending" in page
    continue_form = rf'action="{CHECKOUT}">\s*<input type="hidden" name="csrfmiddlewaretoken"'
    assert re.search(continue_form, page)
    assert f'name="version" value="{version(alice_cart)}"' in page
    assert f'action="{BACK}"' in page


def test_order_place_on_a_checking_out_cart_is_the_same_order(alice, alice_cart):
    # The "continue to payment" button relies on placement being idempotent per cart version.
    first = order_place(cart=alice_cart, user=alice)

    assert order_place(cart=Cart.objects.get(pk=alice_cart.pk), user=alice) == first
