"""“Often bought with” under the cart: one-tap add, live re-render, the cart JSON API."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from carts.services import cart_add_product, cart_get_for_user
from orders.recommendations.rebuild import recommendations_rebuild
from tests.factories import CategoryFactory, ProductFactory
from tests.orders.support import paid_order

pytestmark = pytest.mark.django_db

DETAIL = reverse("carts:detail")
FRAGMENT = reverse("carts:fragment")
API = reverse("carts-api:detail")
FETCH = {"X-Requested-With": "fetch"}


@pytest.fixture
def shop(db):
    pantry = CategoryFactory(name="Pantry")
    products = {
        name: ProductFactory(name=name, category=pantry, stock=10)
        for name in ("Spaghetti", "Tomato sauce", "Parmesan", "Milk")
    }
    pasta, sauce, cheese, milk = products.values()
    for basket in [(pasta, sauce, cheese), (pasta, sauce, cheese), (pasta, sauce), (milk,)]:
        paid_order(*basket)
    recommendations_rebuild()
    return products


def suggestion_section(page: str) -> str:
    match = re.search(r'<section class="suggestions".*?</section>', page, re.S)
    assert match, "no suggestions on the page"
    return match.group(0)


def add_url(product) -> str:
    return reverse("carts:line_add", kwargs={"product_id": product.pk})


def test_cart_page_suggests_what_is_bought_with_the_cart_with_one_tap_add(
    alice, alice_client, shop
):
    cart_add_product(cart=cart_get_for_user(user=alice), product=shop["Spaghetti"])

    section = suggestion_section(alice_client.get(DETAIL).text)

    assert "Often bought with what\u2019s in your cart" in section
    assert section.index("Tomato sauce") < section.index("Parmesan")
    assert "Spaghetti" not in section
    # A plain POST form to the cart's add view, with its CSRF token, sent by cart.js when it runs.
    form = re.search(rf'<form[^>]*action="{add_url(shop["Tomato sauce"])}"[^>]*>', section)
    assert form and 'method="post"' in form.group(0) and "data-cart-form" in form.group(0)
    assert 'name="csrfmiddlewaretoken"' in section


def test_suggestions_are_inside_the_block_live_updates_replace(alice, alice_client, shop):
    cart_add_product(cart=cart_get_for_user(user=alice), product=shop["Spaghetti"])

    fragment = alice_client.get(FRAGMENT, headers=FETCH).text

    assert fragment.strip().startswith('<div class="cart-body"')
    assert "Tomato sauce" in suggestion_section(fragment)


def test_one_tap_add_without_javascript_adds_and_moves_the_suggestions_on(
    alice, alice_client, shop
):
    cart = cart_get_for_user(user=alice)
    cart_add_product(cart=cart, product=shop["Spaghetti"])

    response = alice_client.post(add_url(shop["Tomato sauce"]))

    assert response.status_code == 302 and response["Location"] == DETAIL
    assert set(cart.lines.values_list("product__name", flat=True)) == {"Spaghetti", "Tomato sauce"}
    section = suggestion_section(alice_client.get(DETAIL).text)
    assert "Tomato sauce" not in section
    assert "Parmesan" in section


def test_one_tap_add_with_javascript_answers_the_cart_with_new_suggestions(
    alice, alice_client, shop
):
    cart_add_product(cart=cart_get_for_user(user=alice), product=shop["Spaghetti"])

    response = alice_client.post(add_url(shop["Tomato sauce"]), headers=FETCH)

    assert response.status_code == 200
    section = suggestion_section(response.text)
    assert "Tomato sauce" not in section and "Parmesan" in section


def test_one_tap_add_needs_the_csrf_token(alice, shop):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)

    assert client.post(add_url(shop["Tomato sauce"])).status_code == 403


def test_a_visitor_with_no_cart_sees_best_sellers(client, shop):
    section = suggestion_section(client.get(DETAIL).text)

    assert "Popular right now" in section
    assert "Spaghetti" in section


def test_a_store_without_sales_shows_no_suggestions(alice, alice_client):
    cart_add_product(cart=cart_get_for_user(user=alice), product=ProductFactory())

    assert 'class="suggestions"' not in alice_client.get(DETAIL).text


def test_cart_json_includes_the_suggestions(alice, alice_client, shop):
    cart_add_product(cart=cart_get_for_user(user=alice), product=shop["Spaghetti"])

    body = alice_client.get(API).json()

    sauce = shop["Tomato sauce"]
    assert body["suggestions"][0] == {
        "product": sauce.pk,
        "name": "Tomato sauce",
        "slug": sauce.slug,
        "price": "2.50",
        "reason": "bought_with",
    }
    assert [s["name"] for s in body["suggestions"]] == ["Tomato sauce", "Parmesan", "Milk"]
    assert [s["reason"] for s in body["suggestions"]][-1] == "popular_in_category"


def test_cart_json_etag_changes_when_the_suggestions_do(alice, alice_client, shop):
    cart_add_product(cart=cart_get_for_user(user=alice), product=shop["Spaghetti"])
    etag = alice_client.get(API)["ETag"]
    shop["Tomato sauce"].stock = 0
    shop["Tomato sauce"].save()

    response = alice_client.get(API, headers={"If-None-Match": etag})

    assert response.status_code == 200
    assert "Tomato sauce" not in [s["name"] for s in response.json()["suggestions"]]


def test_while_paying_the_suggestions_add_buttons_are_disabled_with_the_reason(
    alice, alice_client, shop
):
    from carts.selectors import EDIT_BLOCK_PAYING
    from orders.services import order_place

    cart = cart_get_for_user(user=alice)
    cart_add_product(cart=cart, product=shop["Spaghetti"])
    order_place(cart=cart, user=alice)

    page = alice_client.get(DETAIL).text
    section = suggestion_section(page)

    buttons = re.findall(r'<button[^>]*id="suggestion-add-\d+"[^>]*>', section)
    assert buttons
    assert all('disabled aria-describedby="cart-edit-block"' in button for button in buttons)
    assert EDIT_BLOCK_PAYING in page
