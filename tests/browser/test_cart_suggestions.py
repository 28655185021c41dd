"""Suggestions under the cart in a real Chromium: one tap adds in place, and changes made
elsewhere bring new suggestions without a reload."""

import pytest
from playwright.sync_api import expect

from carts.services import cart_add_product, cart_get_for_user
from orders.recommendations.rebuild import recommendations_rebuild
from tests.browser.conftest import PHONE, is_png
from tests.browser.support import LIVE_WITHIN_MS, NO_HORIZONTAL_SCROLL, sign_in
from tests.factories import CategoryFactory, ProductFactory
from tests.orders.support import paid_order

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_one_tap_add_and_live_changes_refresh_the_suggestions(
    live_server, new_page, alice, tmp_path
):
    pantry = CategoryFactory(name="Pantry")
    pasta, sauce, cheese, basil = (
        ProductFactory(name=name, category=pantry, stock=10)
        for name in ("Spaghetti", "Tomato sauce", "Parmesan", "Basil")
    )
    for basket in [(pasta, sauce, cheese), (pasta, sauce, cheese), (pasta, sauce), (cheese, basil)]:
        paid_order(*basket)
    paid_order(cheese, basil)
    recommendations_rebuild()
    cart = cart_get_for_user(user=alice)
    cart_add_product(cart=cart, product=pasta)
    page = new_page(**PHONE)
    sign_in(page, live_server, alice)

    page.goto(live_server.url + "/cart/")
    expect(page.locator("[data-cart-live]")).to_have_attribute("data-state", "live")
    page.evaluate("window.cartPageMarker = 'not reloaded'")
    suggestions = page.locator(".suggestions")
    expect(suggestions).to_contain_text("Often bought with")
    expect(suggestions).to_contain_text("Tomato sauce")

    # One tap: the sauce joins the cart, and leaves the suggestions.
    page.get_by_role("button", name="Add Tomato sauce to your cart").click()
    expect(page.locator(".cart-lines").get_by_role("link", name="Tomato sauce")).to_be_visible()
    expect(suggestions).not_to_contain_text("Tomato sauce")
    expect(suggestions).to_contain_text("Parmesan")

    # Parmesan scanned in the store: the suggestions move on by themselves (basil goes with it).
    cart_add_product(cart=cart, product=cheese, scanned=True)
    expect(suggestions).not_to_contain_text("Parmesan", timeout=LIVE_WITHIN_MS)
    expect(suggestions).to_contain_text("Basil")

    assert page.evaluate("window.cartPageMarker") == "not reloaded"
    assert page.evaluate(NO_HORIZONTAL_SCROLL)
    shot = tmp_path / "cart-suggestions-phone.png"
    page.screenshot(path=shot, full_page=True)
    assert is_png(shot)
