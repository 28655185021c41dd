"""One cart state, pushed, on a 375 px phone: pairing, paying, paid and pairing again each reach
the open cart page by themselves, without a reload, and the page disables what cannot be done
with the reason beside it.

Changes are made from the test's thread through the services (as the device API and the
payment webhook would make them); the live server runs in this process, so the in-process
broker carries each event to the page's stream.
"""

from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from carts.models import Cart, CartLine
from carts.selectors import EDIT_BLOCK_PAYING
from carts.services import cart_add_product, cart_get_for_user, cart_pass_issue
from devices.services import device_pair, device_unpair
from orders.services import order_mark_paid, order_place
from orders.services.payments import order_payment_start
from tests.browser.support import NO_HORIZONTAL_SCROLL, sign_in
from tests.factories import ProductFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

WITHIN_MS = 2000
PAIRING = ".cart-pairing"


def open_cart_page(page, live_server, user, *, polling: bool = False) -> None:
    sign_in(page, live_server, user)
    if polling:
        page.route("**/cart/events/", lambda route: route.fulfill(status=503, body="down"))
    page.goto(live_server.url + reverse("carts:detail"))
    state = "polling" if polling else "live"
    expect(page.locator("[data-cart-live]")).to_have_attribute("data-state", state)
    page.evaluate("window.cartPageMarker = 'not reloaded'")


def test_pairing_paying_paid_and_pairing_again_reach_the_phone_by_themselves(
    live_server, phone_page, alice, device, tmp_path
):
    milk = ProductFactory(name="Oat milk", price=Decimal("2.00"), stock=10)
    cart = cart_get_for_user(user=alice)
    cart_add_product(cart=cart, product=milk)
    line = CartLine.objects.get(cart=cart)
    page = phone_page
    open_cart_page(page, live_server, alice)
    expect(page.locator(PAIRING)).to_have_count(0)

    # The shopper shows their pass to the cart: the page says it scans, and offers to end it.
    device_pair(device=device, cart_pass=cart_pass_issue(user=alice))
    pairing = page.locator(PAIRING)
    expect(pairing).to_contain_text(f"Scanning with {device.name}", timeout=WITHIN_MS)
    expect(pairing.get_by_role("button", name="End pairing")).to_be_visible()
    page.screenshot(path=tmp_path / "state-paired.png", full_page=True)

    # Paying on another tab: every edit is disabled here, and the page says why.
    order = order_place(cart=cart, user=alice)
    reason = page.locator("[data-cart-edit-block]")
    expect(reason).to_have_text(EDIT_BLOCK_PAYING, timeout=WITHIN_MS)
    expect(reason).to_be_in_viewport()
    for control in ("more", "less", "delete", "quantity"):
        expect(page.locator(f"#line-{line.pk}-{control}")).to_be_disabled()
    expect(page.locator("#coupon-apply")).to_be_disabled()
    expect(page.locator(f"#line-{line.pk}-more")).to_have_attribute(
        "aria-describedby", "cart-edit-block"
    )
    expect(page.locator("[data-checkout-pending]")).to_be_visible()
    assert page.evaluate(NO_HORIZONTAL_SCROLL)
    page.screenshot(path=tmp_path / "state-paying.png", full_page=True)

    # Paid: the cart closes; the page says so, links the order, and no longer says it scans.
    payment = order_payment_start(order=order, success_url="/ok/", cancel_url="/back/")
    order_mark_paid(order=order, payment=payment)
    paid = page.locator("[data-cart-paid]")
    expect(paid).to_contain_text("your last cart is closed", timeout=WITHIN_MS)
    order_link = paid.get_by_role("link", name=f"See order {order.number}")
    expect(order_link).to_have_attribute("href", reverse("orders:detail", args=[order.number]))
    expect(page.locator(PAIRING)).to_have_count(0)
    expect(page.locator("[data-cart-edit-block]")).to_have_count(0)
    assert page.evaluate(NO_HORIZONTAL_SCROLL)
    page.screenshot(path=tmp_path / "state-paid.png", full_page=True)

    # The pass shown to the cart again: the shopper's next cart is the one scanning.
    expect(page.locator("[data-cart-body]")).not_to_have_attribute(
        "data-cart-id", str(cart.pk), timeout=WITHIN_MS
    )
    next_cart = device_pair(device=device, cart_pass=cart_pass_issue(user=alice)).cart
    assert next_cart.pk != cart.pk
    expect(page.locator(PAIRING)).to_contain_text(f"Scanning with {device.name}", timeout=WITHIN_MS)
    expect(page.locator("[data-cart-body]")).to_have_attribute("data-cart-id", str(next_cart.pk))
    assert Cart.objects.get(pk=next_cart.pk).is_open
    assert page.evaluate("window.cartPageMarker") == "not reloaded"
    page.screenshot(path=tmp_path / "state-paired-again.png", full_page=True)


def test_a_polling_page_hears_a_pairing_begin_and_end_too(live_server, phone_page, alice, device):
    cart_add_product(cart=cart_get_for_user(user=alice), product=ProductFactory(stock=5))
    page = phone_page
    open_cart_page(page, live_server, alice, polling=True)
    page.wait_for_timeout(2500)  # at least one poll of the unchanged cart

    device_pair(device=device, cart_pass=cart_pass_issue(user=alice))
    expect(page.locator(PAIRING)).to_contain_text(f"Scanning with {device.name}", timeout=4000)

    device_unpair(device=device)
    expect(page.locator(PAIRING)).to_have_count(0, timeout=4000)
    assert page.evaluate("window.cartPageMarker") == "not reloaded"
