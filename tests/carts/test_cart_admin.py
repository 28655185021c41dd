"""Carts and stock mismatches in the admin: managers see them cheaply; nobody edits a cart there."""

from decimal import Decimal

import pytest
from django.urls import reverse

from carts.admin import MESSAGE_RESOLVED, OWNER_ANONYMOUS
from carts.models import Cart, StockMismatch
from carts.selectors import cart_price_of_prefetched, cart_summary
from carts.services import (
    cart_add_product,
    cart_apply_coupon,
    cart_close,
    cart_get_for_session,
    cart_get_for_user,
    stock_mismatch_resolve,
)
from catalog.models import Coupon
from tests.factories import CategoryFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

CARTS = reverse("admin:carts_cart_changelist")
MISMATCHES = reverse("admin:carts_stockmismatch_changelist")


def cart_url(cart: Cart) -> str:
    return reverse("admin:carts_cart_change", args=[cart.pk])


@pytest.fixture
def alices_cart(alice):
    """Two of one product and a coupon capped at 50: 20 % of 100 takes 20 off, total 80."""
    cart = cart_get_for_user(user=alice)
    cart_add_product(
        cart=cart, product=ProductFactory(name="Garden chair", price=Decimal("50.00")), quantity=2
    )
    Coupon.objects.create(code="BIG", percent_off=Decimal("20"), max_discount=Decimal("50"))
    cart_apply_coupon(cart=cart, code="BIG")
    return cart


@pytest.fixture
def scanned_beyond_stock(alice):
    """A cart in the store holds 3 of a product the stock says there is 1 of."""
    product = ProductFactory(name="Lantern", stock=1)
    cart_add_product(cart=cart_get_for_user(user=alice), product=product, quantity=3, scanned=True)
    return StockMismatch.objects.get(product=product)


# --- Carts -------------------------------------------------------------------------------------


def test_manager_sees_carts_with_owner_status_version_items_and_total(
    staff_client, alices_cart, bob
):
    anonymous = cart_get_for_session(session_key="s" * 32)
    cart_add_product(cart=anonymous, product=ProductFactory(price=Decimal("1.00")))

    response = staff_client.get(CARTS)

    assert response.status_code == 200
    rows = {row.pk: row for row in response.context["cl"].result_list}
    assert set(rows) == {alices_cart.pk, anonymous.pk}
    page = response.content.decode()
    assert "alice@example.com" in page
    assert OWNER_ANONYMOUS in page
    assert "€80.00" in page  # the capped coupon, priced by carts.pricing
    assert rows[alices_cart.pk].items == 2
    assert "s" * 32 not in page  # a session key would let its holder act as that browser


def test_admin_total_is_the_total_the_shopper_sees(staff_client, alice):
    cart = cart_get_for_user(user=alice)
    category = CategoryFactory()
    kept = ProductFactory(price=Decimal("30.00"), category=category)
    gone = ProductFactory(price=Decimal("70.00"))
    empty = ProductFactory(price=Decimal("5.00"), stock=4)
    for product in (kept, gone, empty):
        cart_add_product(cart=cart, product=product)
    Coupon.objects.create(code="CAT", percent_off=Decimal("20"), category=category)
    cart_apply_coupon(cart=cart, code="CAT")
    gone.active = False
    gone.save()
    empty.stock = 0
    empty.save()

    listed = staff_client.get(CARTS).context["cl"].result_list[0]

    assert cart_price_of_prefetched(listed) == cart_summary(cart=cart).price
    assert cart_price_of_prefetched(listed).total == Decimal("24.00")


@pytest.mark.parametrize("cart_count", [1, 20])
def test_cart_list_query_count_does_not_grow_with_carts(
    staff_client, cart_count, django_assert_max_num_queries
):
    Coupon.objects.create(code="TEN", percent_off=Decimal("10"))
    for n in range(cart_count):
        cart = cart_get_for_user(user=UserFactory())
        for _ in range(3):
            cart_add_product(cart=cart, product=ProductFactory())
        if n % 2:
            cart_apply_coupon(cart=cart, code="TEN")

    with django_assert_max_num_queries(9):
        response = staff_client.get(CARTS)

    assert len(response.context["cl"].result_list) == cart_count


@pytest.mark.parametrize("line_count", [1, 20])
def test_cart_page_query_count_does_not_grow_with_lines(
    staff_client, alice, line_count, django_assert_max_num_queries
):
    cart = cart_get_for_user(user=alice)
    for _ in range(line_count):
        cart_add_product(cart=cart, product=ProductFactory())

    with django_assert_max_num_queries(11):
        response = staff_client.get(cart_url(cart))

    assert response.status_code == 200


def test_search_by_owner_email(staff_client, alice, bob):
    alices = cart_get_for_user(user=alice)
    cart_get_for_user(user=bob)

    response = staff_client.get(CARTS, {"q": "alice@"})

    assert [cart.pk for cart in response.context["cl"].result_list] == [alices.pk]


def test_filter_by_status(staff_client, alice, bob):
    closed = cart_close(cart=cart_get_for_user(user=alice))
    cart_get_for_user(user=bob)

    response = staff_client.get(CARTS, {"status__exact": "closed"})

    assert [cart.pk for cart in response.context["cl"].result_list] == [closed.pk]


def test_cart_page_shows_its_lines_read_only(staff_client, alices_cart):
    response = staff_client.get(cart_url(alices_cart))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Garden chair" in page
    assert "€80.00" in page
    assert 'name="lines-0-quantity"' not in page  # no input: changes go through the services


def test_nobody_adds_changes_or_deletes_carts_in_the_admin(staff_client, alices_cart):
    alices_cart.refresh_from_db()
    version = alices_cart.version

    assert staff_client.get(reverse("admin:carts_cart_add")).status_code == 403
    changed = staff_client.post(cart_url(alices_cart), {"status": "closed"})
    deleted = staff_client.post(
        reverse("admin:carts_cart_delete", args=[alices_cart.pk]), {"post": "yes"}
    )

    assert changed.status_code == 403
    assert deleted.status_code == 403
    alices_cart.refresh_from_db()
    assert (alices_cart.status, alices_cart.version) == ("open", version)


def test_clerk_cannot_see_carts_or_mismatches(clerk_client, alices_cart):
    assert clerk_client.get(CARTS).status_code == 403
    assert clerk_client.get(MISMATCHES).status_code == 403


# --- Stock mismatches --------------------------------------------------------------------------


def test_manager_sees_stock_mismatches(staff_client, scanned_beyond_stock):
    response = staff_client.get(MISMATCHES)

    assert response.status_code == 200
    row = response.context["cl"].result_list[0]
    assert (row.product.name, row.quantity_in_cart, row.stock_recorded) == ("Lantern", 3, 1)
    page = response.content.decode()
    assert "Lantern" in page
    assert str(scanned_beyond_stock.cart) in page


def test_filter_mismatches_by_resolved(staff_client, scanned_beyond_stock, bob):
    other = ProductFactory(stock=0)
    cart_add_product(cart=cart_get_for_user(user=bob), product=other, scanned=True)
    stock_mismatch_resolve(mismatch_ids=[scanned_beyond_stock.pk])

    response = staff_client.get(MISMATCHES, {"resolved__exact": "0"})

    assert [m.product for m in response.context["cl"].result_list] == [other]


def test_mark_resolved_action(staff_client, scanned_beyond_stock):
    response = staff_client.post(
        MISMATCHES,
        {"action": "mark_resolved", "_selected_action": [scanned_beyond_stock.pk]},
        follow=True,
    )

    assert MESSAGE_RESOLVED.format(count=1) in response.content.decode()
    scanned_beyond_stock.refresh_from_db()
    assert scanned_beyond_stock.resolved


def test_resolving_is_idempotent_and_touches_only_the_chosen(scanned_beyond_stock, bob):
    cart_add_product(
        cart=cart_get_for_user(user=bob), product=ProductFactory(stock=0), scanned=True
    )
    other = StockMismatch.objects.exclude(pk=scanned_beyond_stock.pk).get()

    first = stock_mismatch_resolve(mismatch_ids=[scanned_beyond_stock.pk])
    second = stock_mismatch_resolve(mismatch_ids=[scanned_beyond_stock.pk])

    assert (first, second) == (1, 0)
    other.refresh_from_db()
    assert not other.resolved


@pytest.mark.parametrize("mismatch_count", [1, 20])
def test_mismatch_list_query_count_does_not_grow(
    staff_client, alice, mismatch_count, django_assert_max_num_queries
):
    cart = cart_get_for_user(user=alice)
    for _ in range(mismatch_count):
        cart_add_product(cart=cart, product=ProductFactory(stock=0), scanned=True)

    with django_assert_max_num_queries(8):
        response = staff_client.get(MISMATCHES)

    assert len(response.context["cl"].result_list) == mismatch_count


def test_nobody_adds_or_deletes_mismatches(staff_client, scanned_beyond_stock):
    assert staff_client.get(reverse("admin:carts_stockmismatch_add")).status_code == 403
    delete = reverse("admin:carts_stockmismatch_delete", args=[scanned_beyond_stock.pk])
    assert staff_client.post(delete, {"post": "yes"}).status_code == 403
