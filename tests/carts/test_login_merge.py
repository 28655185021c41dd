"""A visitor's cart joins the shopper's cart when they sign in, through the real login view."""

from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import SESSION_KEY
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from carts.models import Cart, CartLine
from carts.selectors import cart_get_current
from carts.services import MESSAGE_CLAMPED, MESSAGE_MERGED, cart_add_product, cart_get_for_user
from carts.web import SESSION_CART_ID
from tests.accounts.conftest import PASSWORD
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("account_login")
DETAIL = reverse("carts:detail")


@pytest.fixture(autouse=True)
def _empty_cache():
    # allauth counts login attempts in the cache.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def verified_alice(alice):
    EmailAddress.objects.create(user=alice, email=alice.email, verified=True, primary=True)
    return alice


@pytest.fixture
def bread(db):
    return ProductFactory(name="Bread", price=Decimal("2.40"), stock=9)


def quantities(cart: Cart | None) -> dict[str, int]:
    return dict(CartLine.objects.filter(cart=cart).values_list("product_name", "quantity"))


def visitor_adds(client: Client, *products, times: int = 1) -> None:
    for product in products:
        for _ in range(times):
            response = client.post(reverse("carts:line_add", kwargs={"product_id": product.pk}))
            assert response.status_code == 302


def log_in(client: Client, email: str = "alice@example.com"):
    response = client.post(LOGIN, {"login": email, "password": PASSWORD})
    assert response.status_code == 302, response.text
    assert SESSION_KEY in client.session
    return response


def test_visitors_cart_joins_the_shoppers_cart_on_login(client, verified_alice, milk, bread):
    visitor_adds(client, milk, bread)
    anonymous = Cart.objects.get()
    key_before = client.session.session_key

    log_in(client)

    # Django gave the session a new key; the cart was found by the id in the session's data.
    assert client.session.session_key != key_before
    assert SESSION_CART_ID not in client.session
    assert quantities(cart_get_current(user=verified_alice)) == {"Milk": 1, "Bread": 1}
    anonymous.refresh_from_db()
    assert anonymous.status == Cart.Status.CLOSED
    page = client.get(DETAIL).text
    assert MESSAGE_MERGED.format(count=2) in page
    assert "Milk" in page


def test_merge_adds_to_what_the_shopper_had_clamped_to_stock_and_says_so(
    client, verified_alice, milk, bread
):
    cart_add_product(cart=cart_get_for_user(user=verified_alice), product=milk, quantity=4)
    visitor_adds(client, milk, times=3)

    log_in(client)

    assert quantities(cart_get_current(user=verified_alice)) == {"Milk": 5}
    page = client.get(DETAIL).text
    assert MESSAGE_CLAMPED.format(stock=5, product="Milk", quantity=5) in page


def test_logging_in_again_merges_nothing_twice(client, verified_alice, milk):
    visitor_adds(client, milk, times=2)
    log_in(client)
    cart = cart_get_current(user=verified_alice)

    log_in(client)  # the same shopper again, in the same browser
    client.force_login(verified_alice)

    assert quantities(cart) == {"Milk": 2}
    assert Cart.objects.filter(current=True).count() == 1


def test_force_login_merges_too(client, alice, milk):
    # Client.force_login sends user_logged_in with a bare request (no messages): still merged.
    visitor_adds(client, milk)

    client.force_login(alice)

    assert quantities(cart_get_current(user=alice)) == {"Milk": 1}


def test_empty_visit_gives_the_shopper_no_cart(client, verified_alice):
    client.get(DETAIL)

    log_in(client)

    assert cart_get_current(user=verified_alice) is None


def test_bob_never_gets_alices_things(client, verified_alice, bob, milk):
    visitor_adds(client, milk)
    log_in(client)

    bob_browser = Client()
    bob_browser.force_login(bob)

    assert cart_get_current(user=bob) is None
    assert "Milk" not in bob_browser.get(DETAIL).text
    assert "Milk" in client.get(DETAIL).text


def test_another_visitors_cart_is_not_merged_into_the_shopper(client, verified_alice, milk):
    stranger = Client()
    visitor_adds(stranger, milk)

    log_in(client)

    assert cart_get_current(user=verified_alice) is None
    assert Cart.objects.get().owner is None  # the stranger's cart, untouched
