"""Smoke tests in a real Chromium: the shop renders, search works, the layout holds on a phone."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from catalog.models import Product
from shopcart.core.money import money_format
from tests.browser.conftest import is_png
from tests.factories import BarcodeFactory, ProductFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

NO_HORIZONTAL_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"


def card_names(page):
    return page.locator(".product-grid .card__name")


def test_home_page_lists_products_and_search_finds_one(live_server, page, tmp_path):
    for name in ("Oat milk", "Rye bread", "Green apples"):
        ProductFactory(name=name, price=Decimal("1.80"))
    requested = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto(live_server.url + "/")
    expect(card_names(page)).to_have_text(["Green apples", "Oat milk", "Rye bread"])
    expect(page.locator(".price").first).to_have_text(money_format(Decimal("1.80")))

    page.get_by_label("Search products by name or barcode").fill("Oat milk")
    page.get_by_role("button", name="Search").click()

    expect(page).to_have_url(live_server.url + "/?q=Oat+milk")
    expect(card_names(page)).to_have_text(["Oat milk"])
    screenshot = tmp_path / "search-results.png"
    page.screenshot(path=screenshot, full_page=True)
    assert is_png(screenshot)
    # No CDN, no web fonts: every request the pages made went to the store itself.
    assert requested
    assert all(url.startswith(live_server.url) for url in requested), requested


def test_search_by_barcode_in_the_browser_opens_the_right_product(live_server, page):
    BarcodeFactory(gtin="00036602301467", product__name="Breakfast tea")
    ProductFactory(name="Coffee")

    page.goto(live_server.url + "/")
    page.get_by_label("Search products by name or barcode").fill("036602301467")
    page.keyboard.press("Enter")
    expect(card_names(page)).to_have_text(["Breakfast tea"])
    card_names(page).first.click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Breakfast tea")
    expect(page.locator(".gtins")).to_contain_text("00036602301467")


@pytest.mark.parametrize(("label", "size"), [("phone", (375, 812)), ("desktop", (1280, 800))])
def test_demo_store_fits_the_screen(live_server, new_page, tmp_path, label, size):
    call_command("load_demo_store", stdout=StringIO())
    page = new_page(*size)

    page.goto(live_server.url + "/")
    expect(card_names(page)).to_have_count(24)
    # The stylesheet loaded (system font stack) and nothing forces sideways scrolling.
    assert "system-ui" in page.evaluate("getComputedStyle(document.body).fontFamily")
    assert page.evaluate(NO_HORIZONTAL_SCROLL)
    home = tmp_path / f"home-{label}.png"
    page.screenshot(path=home, full_page=True)

    product = Product.objects.get(slug="lemons")
    page.goto(live_server.url + product.get_absolute_url())
    expect(page.locator(".stock")).to_have_text(f"Only {product.stock} left")
    assert page.evaluate(NO_HORIZONTAL_SCROLL)
    detail = tmp_path / f"product-{label}.png"
    page.screenshot(path=detail, full_page=True)

    assert is_png(home)
    assert is_png(detail)


def test_harness_keeps_the_test_database_connection_while_the_browser_runs(live_server, page):
    # Without the harness, Playwright's running event loop makes Django open a fresh
    # connection in the test thread, one that does not see the live server's test database.
    page.goto(live_server.url + "/")
    ProductFactory(name="Made while the browser runs")

    page.reload()

    expect(card_names(page)).to_have_text(["Made while the browser runs"])
