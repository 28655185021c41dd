"""The cart page in a real Chromium: changes made elsewhere arrive without a reload, in a second.

The change is made from the test's thread through the cart service, as a device scan would be;
the live server runs in this process, so the in-process broker (or Redis, when REDIS_URL is set)
carries the event to the page's stream.
"""

import time
from decimal import Decimal

import pytest
from django.test import Client
from playwright.sync_api import expect

from carts.models import CartLine
from carts.services import cart_add_product, cart_get_for_user
from catalog.models import Coupon
from shopcart.money import money_format
from tests.browser.conftest import DESKTOP, PHONE, is_png
from tests.factories import ProductFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

LIVE_WITHIN_MS = 1000
NO_HORIZONTAL_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"


def sign_in(page, live_server, user) -> None:
    """Give the page's browser a session of ``user`` (made by Client.force_login)."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])


@pytest.mark.parametrize(("label", "size"), [("phone", PHONE), ("desktop", DESKTOP)])
def test_cart_page_follows_changes_made_elsewhere_and_edits_in_place(
    live_server, new_page, alice, tmp_path, label, size
):
    milk = ProductFactory(name="Oat milk", price=Decimal("2.00"), stock=10)
    bread = ProductFactory(name="Rye bread", price=Decimal("3.00"), stock=10)
    Coupon.objects.create(code="TEN", percent_off=Decimal("10"))
    cart = cart_get_for_user(user=alice)
    cart_add_product(cart=cart, product=milk)
    page = new_page(**size)
    sign_in(page, live_server, alice)

    page.goto(live_server.url + "/cart/")
    expect(page.locator("[data-cart-live]")).to_have_attribute("data-state", "live")
    page.evaluate("window.cartPageMarker = 'not reloaded'")
    page.screenshot(path=tmp_path / f"cart-before-{label}.png", full_page=True)

    # A scan in the store: a new line appears by itself.
    started = time.monotonic()
    cart_add_product(cart=cart, product=bread, scanned=True)
    expect(page.get_by_role("link", name="Rye bread")).to_be_visible(timeout=LIVE_WITHIN_MS)
    assert time.monotonic() - started < LIVE_WITHIN_MS / 1000

    # Another scan of a product already there: its quantity changes by itself.
    milk_line = CartLine.objects.get(cart=cart, product=milk)
    cart_add_product(cart=cart, product=milk, scanned=True)
    quantity = page.locator(f"#line-{milk_line.pk}-quantity")
    expect(quantity).to_have_value("2", timeout=LIVE_WITHIN_MS)
    expect(page.locator("[data-cart-total]")).to_have_text(money_format(Decimal("7.00")))
    expect(page.locator("[data-cart-count]")).to_have_text("3")
    page.screenshot(path=tmp_path / f"cart-live-{label}.png", full_page=True)

    # The shopper's own edits happen in place too.
    page.get_by_role("button", name="One more Oat milk").click()
    expect(quantity).to_have_value("3")
    expect(page.locator("[data-cart-total]")).to_have_text(money_format(Decimal("9.00")))

    # A coupon entered on the page changes the total (10 % off 9.00).
    page.get_by_label("Coupon code").fill("ten")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("[data-cart-total]")).to_have_text(money_format(Decimal("8.10")))
    expect(page.locator(".coupon-chip")).to_have_text("TEN")
    assert page.evaluate(NO_HORIZONTAL_SCROLL)

    assert page.evaluate("window.cartPageMarker") == "not reloaded"
    after = tmp_path / f"cart-coupon-{label}.png"
    page.screenshot(path=after, full_page=True)
    assert is_png(after)


def test_cart_page_falls_back_to_polling_when_the_stream_fails(live_server, page, alice, tmp_path):
    milk = ProductFactory(name="Oat milk", price=Decimal("2.00"), stock=10)
    cart = cart_get_for_user(user=alice)
    sign_in(page, live_server, alice)
    # The stream answers 503: EventSource gives up, and the page polls the fragment instead.
    page.route("**/cart/events/", lambda route: route.fulfill(status=503, body="down"))
    fragment_answers = []

    def note_fragment(response) -> None:
        if "/cart/fragment/" in response.url:
            fragment_answers.append(response.status)

    page.on("response", note_fragment)

    page.goto(live_server.url + "/cart/")
    expect(page.locator("[data-cart-live]")).to_have_attribute("data-state", "polling")
    page.evaluate("window.cartPageMarker = 'not reloaded'")
    page.wait_for_timeout(2500)  # at least one poll of the unchanged cart
    cart_add_product(cart=cart, product=milk)

    expect(page.get_by_role("link", name="Oat milk")).to_be_visible(timeout=4000)
    assert 304 in fragment_answers
    assert 200 in fragment_answers
    assert page.evaluate("window.cartPageMarker") == "not reloaded"
    page.screenshot(path=tmp_path / "cart-polling.png", full_page=True)
