"""Errors where the eye is, on a 375 px phone: a refused coupon code or quantity shows beside
its field, on screen, with what was typed still in it; a good code updates the totals in place.
"""

from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from carts.models import CartLine
from carts.services import cart_add_product, cart_get_for_user
from carts.services.carts import ERROR_QUANTITY
from catalog.coupons import ERROR_COUPON_UNKNOWN
from catalog.models import Coupon
from shopcart.core.money import money_format
from tests.browser.support import sign_in
from tests.factories import ProductFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

COUPON_ERROR = "#coupon-error"


@pytest.fixture
def full_cart(alice):
    """A cart long enough that the coupon box is below the fold of a phone."""
    cart = cart_get_for_user(user=alice)
    for number in range(4):
        product = ProductFactory(name=f"Product {number}", price=Decimal("2.50"), stock=10)
        cart_add_product(cart=cart, product=product)
    return cart


def test_a_wrong_coupon_shows_beside_the_field_on_screen_and_a_good_one_updates_totals(
    live_server, phone_page, alice, full_cart, tmp_path
):
    Coupon.objects.create(code="TEN", percent_off=Decimal("10"))
    page = phone_page
    sign_in(page, live_server, alice)
    page.goto(live_server.url + reverse("carts:detail"))
    expect(page.locator("[data-cart-live]")).to_have_attribute("data-state", "live")
    page.evaluate("window.cartPageMarker = 'not reloaded'")
    total = page.locator("[data-cart-total]")
    expect(total).to_have_text(money_format(Decimal("10.00")))

    box = page.get_by_label("Coupon code")
    box.fill("nope1")
    page.get_by_role("button", name="Apply").click()

    error = page.locator(COUPON_ERROR)
    expect(error).to_have_text(ERROR_COUPON_UNKNOWN.format(code="NOPE1"))
    expect(error).to_be_in_viewport(ratio=1)
    expect(box).to_be_in_viewport()
    expect(box).to_have_value("nope1")  # what was typed stays
    expect(box).to_be_focused()
    expect(box).to_have_attribute("aria-invalid", "true")
    # Beside the field: right under its row, not in a banner at the top of the page.
    gap = page.evaluate(
        "() => document.querySelector('#coupon-error').getBoundingClientRect().top"
        " - document.querySelector('#coupon-code').getBoundingClientRect().bottom"
    )
    assert 0 <= gap < 60
    page.screenshot(path=tmp_path / "coupon-wrong.png")

    box.fill("ten")
    page.get_by_role("button", name="Apply").click()
    expect(total).to_have_text(money_format(Decimal("9.00")))
    expect(page.locator(".coupon-chip").first).to_have_text("TEN")
    expect(page.locator(COUPON_ERROR)).to_have_count(0)
    assert page.evaluate("window.cartPageMarker") == "not reloaded"


def test_without_javascript_a_wrong_coupon_comes_back_beside_the_field_kept_and_in_view(
    live_server, new_page, browser, alice, full_cart
):
    context = browser.new_context(viewport={"width": 375, "height": 812}, java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, live_server, alice)
        page.goto(live_server.url + reverse("carts:detail"))
        page.get_by_label("Coupon code").fill("nope2")
        page.get_by_role("button", name="Apply").click()

        expect(page.locator(COUPON_ERROR)).to_have_text(ERROR_COUPON_UNKNOWN.format(code="NOPE2"))
        expect(page.get_by_label("Coupon code")).to_have_value("nope2")
        expect(page.get_by_label("Coupon code")).to_be_focused()  # autofocus: no script needed
        expect(page.get_by_label("Coupon code")).to_be_in_viewport()
    finally:
        context.close()


def test_a_refused_quantity_shows_beside_its_box_keeping_what_was_typed(
    live_server, phone_page, alice, full_cart, tmp_path
):
    line = CartLine.objects.filter(cart=full_cart).order_by("-pk")[0]
    page = phone_page
    sign_in(page, live_server, alice)
    page.goto(live_server.url + reverse("carts:detail"))
    expect(page.locator("[data-cart-live]")).to_have_attribute("data-state", "live")
    box = page.locator(f"#line-{line.pk}-quantity")
    # Past the box's own max: only the server can refuse it (removing ``max`` stands in for a
    # browser whose number box lets it through).
    page.evaluate(f"document.querySelector('#line-{line.pk}-quantity').removeAttribute('max')")
    box.fill("100")
    box.dispatch_event("change")

    error = page.locator(f"#line-{line.pk}-error")
    expect(error).to_have_text(ERROR_QUANTITY)
    expect(error).to_be_in_viewport(ratio=1)
    expect(page.locator(f"#line-{line.pk}-quantity")).to_have_value("100")
    assert CartLine.objects.get(pk=line.pk).quantity == 1
    page.screenshot(path=tmp_path / "quantity-refused.png")
