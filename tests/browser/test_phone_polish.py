"""Small things a phone shows (issue 19, item 8), in a real Chromium at 375 px: long names stay in
their cards, the card form's fields line up, a disabled button looks disabled, and the store has
its icons (no 404 for /favicon.ico on every page).
"""

import http.client
import json
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from carts.services import cart_add_product, cart_get_for_user
from orders.recommendations.rebuild import recommendations_rebuild
from tests.browser.conftest import PHONE
from tests.browser.support import NO_HORIZONTAL_SCROLL, sign_in
from tests.factories import ProductFactory
from tests.orders.support import paid_order

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

# One word longer than any card is wide at 375 px, and a long name of ordinary words.
LONG_WORD = "Bio-Vollkornhartweizengrießteigwarenspezialitätenauswahl"
LONG_WORDS = "Organic wholegrain spaghetti no. 5 from the hills of Abruzzo, family pack"

# Every element matched by the selector, measured against its card: (name, card) boxes.
BOXES = """([selector, card]) => [...document.querySelectorAll(selector)].map((element) => {
  const box = element.getBoundingClientRect();
  const outer = element.closest(card).getBoundingClientRect();
  return {text: element.textContent.trim(), left: box.left, right: box.right,
          cardLeft: outer.left, cardRight: outer.right,
          overflows: element.scrollWidth > element.clientWidth + 1};
})"""


def assert_names_inside_cards(page, selector: str, card: str, expected: int) -> None:
    boxes = page.evaluate(BOXES, [selector, card])
    assert len(boxes) >= expected, boxes
    for box in boxes:
        assert box["cardLeft"] - 0.5 <= box["left"], box
        assert box["right"] <= box["cardRight"] + 0.5, box
        assert not box["overflows"], box
    assert page.evaluate(NO_HORIZONTAL_SCROLL)


def test_long_product_names_stay_inside_the_product_cards(live_server, new_page):
    for name in (LONG_WORD, LONG_WORDS, "Milk"):
        ProductFactory(name=name)
    page = new_page(**PHONE)

    page.goto(live_server.url + reverse("catalog:home"))

    assert_names_inside_cards(page, ".card__name", ".card", expected=3)


def test_long_product_names_stay_inside_the_suggestion_cards(live_server, new_page, alice):
    pasta = ProductFactory(name="Spaghetti", stock=10)
    long_ones = [ProductFactory(name=name, stock=10) for name in (LONG_WORD, LONG_WORDS)]
    for _ in range(2):
        paid_order(pasta, *long_ones)
    recommendations_rebuild()
    cart_add_product(cart=cart_get_for_user(user=alice), product=pasta)
    page = new_page(**PHONE)
    sign_in(page, live_server, alice)

    page.goto(live_server.url + reverse("carts:detail"))

    expect(page.locator(".suggestions")).to_contain_text("Often bought with")
    assert_names_inside_cards(page, ".suggestion__name", ".suggestion", expected=2)


# --- The test gateway's card form -----------------------------------------------------------

FIELD_BOXES = """() => [...document.querySelectorAll('.test-pay__row .field')].map((field) => ({
  label: field.querySelector('label').getBoundingClientRect(),
  input: field.querySelector('input').getBoundingClientRect(),
}))"""


def test_the_card_forms_labels_and_fields_line_up(live_server, new_page, alice):
    cart_add_product(
        cart=cart_get_for_user(user=alice), product=ProductFactory(price=Decimal("2.50"))
    )
    page = new_page(**PHONE)
    sign_in(page, live_server, alice)
    page.goto(live_server.url + reverse("orders:checkout"))
    page.locator("[data-pay]").click()
    expect(page.locator("[data-test-pay]")).to_be_visible()

    expiry, cvc = page.evaluate(FIELD_BOXES)

    line = expiry["label"]["height"]
    assert cvc["label"]["height"] == pytest.approx(line, abs=1), "a label wraps onto two lines"
    assert cvc["label"]["top"] == pytest.approx(expiry["label"]["top"], abs=1)
    assert cvc["input"]["top"] == pytest.approx(expiry["input"]["top"], abs=1)
    assert cvc["input"]["height"] == pytest.approx(expiry["input"]["height"], abs=1)
    assert page.evaluate(NO_HORIZONTAL_SCROLL)


# --- Disabled buttons -----------------------------------------------------------------------

LOOK = """(element) => {
  const style = getComputedStyle(element);
  return {background: style.backgroundColor, color: style.color, border: style.borderColor,
          opacity: style.opacity, cursor: style.cursor};
}"""


def is_grey(rgb: str) -> bool:
    """An rgb()/rgba() colour with no hue to speak of (or transparent)."""
    parts = [float(part) for part in rgb[rgb.index("(") + 1 : -1].split(",")]
    if len(parts) == 4 and parts[3] == 0:
        return True
    red, green, blue = parts[:3]
    return max(red, green, blue) - min(red, green, blue) <= 16


def assert_looks_disabled(look: dict, enabled: dict) -> None:
    assert look["cursor"] == "not-allowed"
    assert look["background"] != enabled["background"] or look["color"] != enabled["color"]
    # No green left anywhere: a disabled button is grey, whichever kind it was.
    for colour in (look["background"], look["color"], look["border"]):
        assert is_grey(colour), look


def test_a_disabled_add_to_cart_looks_disabled(live_server, new_page):
    sold_out = ProductFactory(name="Sold-out jam", stock=0)
    ProductFactory(name="Apricot jam", stock=5)
    page = new_page(**PHONE)

    page.goto(live_server.url + sold_out.get_absolute_url())
    disabled = page.get_by_role("button", name="Add to cart")
    expect(disabled).to_be_disabled()
    look = disabled.evaluate(LOOK)
    page.goto(live_server.url + reverse("catalog:home"))
    on_cards = page.locator(".card__add-button")
    enabled, sold_out_card = (on_cards.nth(index) for index in (0, 1))
    expect(sold_out_card).to_be_disabled()

    assert_looks_disabled(look, {"background": "rgb(11, 107, 58)", "color": "rgb(255, 255, 255)"})
    assert_looks_disabled(sold_out_card.evaluate(LOOK), enabled.evaluate(LOOK))


# --- Icons ----------------------------------------------------------------------------------


def fetch(live_server, path: str) -> tuple[int, str, bytes]:
    address = urlsplit(live_server.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        connection.close()


def test_the_store_has_its_icons_and_no_page_asks_for_a_missing_one(live_server, new_page):
    page = new_page(**PHONE)
    missing: list[str] = []
    page.on(
        "response",
        lambda response: missing.append(response.url) if response.status >= 400 else None,
    )

    page.goto(live_server.url + reverse("catalog:home"))
    page.wait_for_load_state("networkidle")

    assert missing == []
    links = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll(
             'link[rel~=icon], link[rel=apple-touch-icon], link[rel=manifest]')]
           .map((link) => [link.rel + ' ' + (link.type || link.sizes.value), link.href]))"""
    )
    assert len(links) == 4, links
    for href in [*links.values(), live_server.url + "/favicon.ico"]:
        status, content_type, body = fetch(live_server, urlsplit(href).path)
        assert status == 200, href
        assert body, href
    assert fetch(live_server, "/favicon.ico")[1] in ("image/x-icon", "image/vnd.microsoft.icon")
    status, content_type, body = fetch(live_server, "/apple-touch-icon.png")
    assert (status, content_type) == (200, "image/png")
    manifest = json.loads(fetch(live_server, reverse("web-manifest"))[2])
    assert manifest["start_url"] == "/"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert fetch(live_server, icon["src"])[:2] == (200, "image/png"), icon
