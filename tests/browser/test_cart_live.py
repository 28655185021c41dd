"""The cart page in a real Chromium: changes made elsewhere arrive without a reload, in a second.

The change is made from the test's thread through the cart service, as a device scan would be,
or posted to the device API of the live server; the live server runs in this process, so the
in-process broker (or Redis, when REDIS_URL is set) carries the event to the page's stream.
"""

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from carts import scan_notices
from carts.models import Cart, CartLine
from carts.services import cart_add_product, cart_close, cart_get_for_user, cart_pass_issue
from catalog.models import Coupon
from devices.services import device_pair
from orders.services import order_place
from shopcart.core.money import money_format
from tests.browser.conftest import DESKTOP, PHONE, is_png
from tests.browser.support import LIVE_WITHIN_MS, NO_HORIZONTAL_SCROLL, device_scan, sign_in
from tests.devices.support import OTHER_GTIN, b64, two_codes_photo
from tests.factories import BarcodeFactory, ProductFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


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


# --- What each scan came to, on the shopper's phone --------------------------------------------

APPLES_EAN13 = "4006381333931"
UNKNOWN_EAN13 = "5901234123457"  # valid, and not in the catalog
BAD_CHECK_DIGIT = "4006381333932"
TWO_CODES = "two codes"  # a photo of APPLES_EAN13 and OTHER_EAN13 (both sold)
NOTICE = "[data-scan-notice]"
ANNOUNCE = "[data-cart-announce]"
NOTICE_WITHIN_MS = 2000


def scan_code(live_server, device_key: str, code: str, mode: str = "add") -> dict:
    """A scan of ``code`` as a cart with a scanner module sends it; ``TWO_CODES`` sends a photo
    of two different EAN-13s instead."""
    if code == TWO_CODES:
        return device_scan(live_server, device_key, mode=mode, image=b64(two_codes_photo()))
    return device_scan(live_server, device_key, mode=mode, code=code, symbology="EAN13")


def expect_notice(page, text: str) -> None:
    """``text`` shows by itself, on screen without scrolling, and is announced."""
    notice = page.locator(NOTICE)
    expect(notice).to_have_text(text, timeout=NOTICE_WITHIN_MS)
    expect(notice).to_be_visible()
    expect(notice).to_be_in_viewport(ratio=1)
    expect(page.locator(ANNOUNCE)).to_have_text(text)


def test_each_scan_outcome_shows_on_the_phone_by_itself(
    live_server, phone_page, alice, device, device_key, tmp_path
):
    """added, removed, not_in_cart, no_barcode, unknown_product, ambiguous, cart_closed while
    paying and once paid: each shows by itself, on screen at 375 px, and is announced."""
    apples = ProductFactory(name="Braeburn apples", price=Decimal("2.40"), stock=20)
    BarcodeFactory(gtin="0" + APPLES_EAN13, product=apples)
    BarcodeFactory(gtin=OTHER_GTIN)
    oat_milk = ProductFactory(name="Oat milk", price=Decimal("2.00"), stock=20)
    cart = device_pair(device=device, cart_pass=cart_pass_issue(user=alice)).cart
    cart_add_product(cart=cart, product=oat_milk)  # a long enough page to scroll
    page = phone_page
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text))
    sign_in(page, live_server, alice)
    page.goto(live_server.url + "/cart/")
    expect(page.locator("[data-cart-live]")).to_have_attribute("data-state", "live")
    page.evaluate("window.cartPageMarker = 'not reloaded'")
    page.mouse.wheel(0, 2000)  # wherever the shopper has scrolled to, the notice is on screen

    def scan(code: str, mode: str, result: str, text: str, shot: str) -> None:
        assert scan_code(live_server, device_key, code, mode)["result"] == result
        expect_notice(page, text)
        page.screenshot(path=tmp_path / f"scan-{shot}.png", animations="disabled")

    scan(APPLES_EAN13, "add", "added", "Added: Braeburn apples", "added")
    expect(page.get_by_role("link", name="Braeburn apples")).to_be_visible()
    scan(APPLES_EAN13, "remove", "removed", "Removed: Braeburn apples", "removed")
    expect(page.get_by_role("link", name="Braeburn apples")).to_have_count(0)
    version = page.locator("[data-cart-body]").get_attribute("data-cart-version")

    scan(APPLES_EAN13, "remove", "not_in_cart", "Not in your cart: Braeburn apples", "not-in-cart")
    scan(BAD_CHECK_DIGIT, "add", "no_barcode", scan_notices.NOTICE_NO_BARCODE, "no-barcode")
    scan(UNKNOWN_EAN13, "add", "unknown_product", scan_notices.NOTICE_UNKNOWN_PRODUCT, "unknown")
    scan(TWO_CODES, "add", "ambiguous", scan_notices.NOTICE_AMBIGUOUS, "two-codes")
    # None of these changed the cart: its version (what a pay button carries) stayed.
    expect(page.locator("[data-cart-body]")).to_have_attribute("data-cart-version", version)

    # The shopper starts paying on another tab; the cart then refuses scans, and says so here.
    order_place(cart=cart, user=alice)
    expect(page.locator("[data-checkout-pending]")).to_be_visible(timeout=NOTICE_WITHIN_MS)
    paying_version = page.locator("[data-cart-body]").get_attribute("data-cart-version")
    scan(APPLES_EAN13, "add", "cart_closed", scan_notices.NOTICE_CART_PAYING, "paying")
    pay_version = page.locator("[data-checkout-pending] input[name=version]")
    expect(pay_version).to_have_value(paying_version)
    assert page.evaluate(NO_HORIZONTAL_SCROLL)

    # Paid: the cart closes and the page moves on to the shopper's next cart, where a scan
    # with the old cart is shown (the device's pairing ends with it).
    cart_close(cart=cart)
    expect(page.get_by_text("Your cart is empty.")).to_be_visible(timeout=NOTICE_WITHIN_MS)
    scan(APPLES_EAN13, "add", "cart_closed", scan_notices.NOTICE_CART_CLOSED, "closed")

    # The notice goes by itself after a few seconds, and a page loaded later shows none.
    expect(page.locator(NOTICE)).to_be_hidden(timeout=8000)
    assert page.evaluate("window.cartPageMarker") == "not reloaded"
    long_ago = timezone.now() - timedelta(seconds=scan_notices.FRESH_SECONDS + 1)
    Cart.objects.filter(owner=alice, current=True).update(last_scan_at=long_ago)
    page.reload()
    expect(page.locator("[data-cart-live]")).to_have_attribute("data-state", "live")
    expect(page.locator(NOTICE)).to_have_count(0)
    assert not [text for text in violations if "Content Security Policy" in text]


def test_a_scan_notice_reaches_a_polling_page_too_and_shows_once(
    live_server, phone_page, alice, device, device_key, tmp_path, monkeypatch
):
    # The server keeps rendering the notice for a minute: the page alone decides to hide it.
    monkeypatch.setattr(scan_notices, "FRESH_SECONDS", 60)
    cart = device_pair(device=device, cart_pass=cart_pass_issue(user=alice)).cart
    cart_add_product(cart=cart, product=ProductFactory(name="Oat milk", stock=10))
    page = phone_page
    sign_in(page, live_server, alice)
    page.route("**/cart/events/", lambda route: route.fulfill(status=503, body="down"))
    fragment_answers: list[int] = []
    page.on(
        "response",
        lambda response: (
            fragment_answers.append(response.status) if "/cart/fragment/" in response.url else None
        ),
    )
    page.goto(live_server.url + "/cart/")
    expect(page.locator("[data-cart-live]")).to_have_attribute("data-state", "polling")
    page.wait_for_timeout(2500)  # at least one poll of the unchanged cart
    version = Cart.objects.get(pk=cart.pk).version

    assert scan_code(live_server, device_key, BAD_CHECK_DIGIT)["result"] == "no_barcode"

    notice = page.locator(NOTICE)
    expect(notice).to_have_text(scan_notices.NOTICE_NO_BARCODE, timeout=4000)
    expect(notice).to_be_in_viewport(ratio=1)
    expect(page.locator(ANNOUNCE)).to_have_text(scan_notices.NOTICE_NO_BARCODE)
    assert Cart.objects.get(pk=cart.pk).version == version  # only the scan count moved
    assert 304 in fragment_answers
    assert 200 in fragment_answers
    page.screenshot(path=tmp_path / "scan-polling.png", animations="disabled")

    # Gone after a few seconds; an edit's answer, while the scan is still fresh on the server,
    # brings the same notice again: it stays hidden and is not announced again.
    expect(notice).to_be_hidden(timeout=8000)
    page.get_by_role("button", name="One more Oat milk").click()
    expect(page.locator(ANNOUNCE)).to_have_text("Cart updated.")
    expect(notice).to_have_count(1)  # rendered again by the server
    expect(notice).to_be_hidden()
