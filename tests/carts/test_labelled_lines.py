"""Cart lines of packs scanned by their in-store price or weight label: one line per label, at
the label's price, next to (never merged with) the product's ordinary line."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from carts.api import ERROR_LABELLED_LINE
from carts.models import Cart, CartLine, StockMismatch
from carts.selectors import cart_summary
from carts.services import (
    CartError,
    cart_add_labelled_product,
    cart_add_product,
    cart_close,
    cart_delete_labelled_line,
    cart_delete_line,
    cart_get_for_session,
    cart_get_for_user,
    cart_merge,
    cart_remove_product,
    cart_set_quantity,
)
from carts.services.carts import ERROR_CART_CLOSED, ERROR_NOT_IN_CART
from catalog.models import Product
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

# Germany's layout (prefix 28: weight in grams); both labels are of the same item.
LABEL_412_G = "02812345004128"
LABEL_250_G = "02812343002508"


@pytest.fixture(autouse=True)
def _labels_german(settings):
    settings.INSTORE_LABEL_REGION = "de"


@pytest.fixture
def cart(alice):
    return cart_get_for_user(user=alice)


@pytest.fixture
def cheddar():
    return ProductFactory(
        name="Cheddar", price=Decimal("12.90"), sold_by=Product.SoldBy.KG, stock=20
    )


def add_label(cart, product, code: str, price: str, quantity: int = 1):
    return cart_add_labelled_product(
        cart=cart, product=product, label_code=code, unit_price=Decimal(price), quantity=quantity
    )


def add_label_line(cart, product, code: str, price: str) -> CartLine:
    line = add_label(cart, product, code, price).line
    assert line is not None
    return line


def lines_of(cart) -> list[tuple[str, str, int, int]]:
    return [
        (line.label_code, str(line.unit_price), line.quantity, line.scanned_quantity)
        for line in cart.lines.order_by("pk")
    ]


# --- Services ---------------------------------------------------------------------------------


def test_a_labelled_pack_is_a_scanned_line_at_the_labels_price(cart, cheddar):
    change = add_label(cart, cheddar, LABEL_412_G, "5.31")

    assert lines_of(cart) == [(LABEL_412_G, "5.31", 1, 1)]
    assert change.line is not None and change.line.product_name == "Cheddar"
    assert cart_summary(cart=cart).price.total == Decimal("5.31")


def test_the_same_label_twice_is_one_line_of_two(cart, cheddar):
    add_label(cart, cheddar, LABEL_412_G, "5.31")
    add_label(cart, cheddar, LABEL_412_G, "5.31")

    assert lines_of(cart) == [(LABEL_412_G, "5.31", 2, 2)]
    assert cart_summary(cart=cart).price.total == Decimal("10.62")


def test_two_labels_of_one_product_are_two_lines(cart, cheddar):
    add_label(cart, cheddar, LABEL_412_G, "5.31")
    add_label(cart, cheddar, LABEL_250_G, "3.23")

    assert lines_of(cart) == [(LABEL_412_G, "5.31", 1, 1), (LABEL_250_G, "3.23", 1, 1)]
    assert cart_summary(cart=cart).price.total == Decimal("8.54")


def test_labelled_lines_and_the_ordinary_line_of_a_product_stay_apart(cart, cheddar):
    cart_add_product(cart=cart, product=cheddar, quantity=2)
    add_label(cart, cheddar, LABEL_412_G, "5.31")
    cart_add_product(cart=cart, product=cheddar)
    cart_set_quantity(cart=cart, product=cheddar, quantity=4)

    assert lines_of(cart) == [("", "12.90", 4, 0), (LABEL_412_G, "5.31", 1, 1)]


def test_removing_by_label_takes_from_that_labels_line_only(cart, cheddar):
    cart_add_product(cart=cart, product=cheddar)
    add_label(cart, cheddar, LABEL_412_G, "5.31", quantity=2)
    add_label(cart, cheddar, LABEL_250_G, "3.23")

    cart_remove_product(cart=cart, product=cheddar, scanned=True, label_code=LABEL_412_G)
    ordinary, pack_250_g = ("", "12.90", 1, 0), (LABEL_250_G, "3.23", 1, 1)
    assert lines_of(cart) == [ordinary, (LABEL_412_G, "5.31", 1, 1), pack_250_g]

    cart_remove_product(cart=cart, product=cheddar, scanned=True, label_code=LABEL_412_G)
    assert lines_of(cart) == [ordinary, pack_250_g]


def test_removing_a_label_not_in_the_cart_says_so(cart, cheddar):
    cart_add_product(cart=cart, product=cheddar)

    with pytest.raises(CartError) as refused:
        cart_remove_product(cart=cart, product=cheddar, scanned=True, label_code=LABEL_412_G)

    assert refused.value.code == "not_in_cart"
    assert str(refused.value) == ERROR_NOT_IN_CART.format(product="Cheddar")


def test_removing_the_product_without_a_label_leaves_its_labelled_lines(cart, cheddar):
    add_label(cart, cheddar, LABEL_412_G, "5.31")

    with pytest.raises(CartError):
        cart_remove_product(cart=cart, product=cheddar)
    cart_delete_line(cart=cart, product_id=cheddar.pk)

    assert lines_of(cart) == [(LABEL_412_G, "5.31", 1, 1)]


def test_a_labelled_line_is_deleted_by_its_id_in_its_own_cart_only(cart, cheddar, bob):
    line = add_label_line(cart, cheddar, LABEL_412_G, "5.31")
    bobs_cart = cart_get_for_user(user=bob)
    version = cart.version

    cart_delete_labelled_line(cart=bobs_cart, line_id=line.pk)
    assert CartLine.objects.filter(pk=line.pk).exists()

    cart_delete_labelled_line(cart=cart, line_id=line.pk)
    assert not CartLine.objects.filter(pk=line.pk).exists()
    assert Cart.objects.get(pk=cart.pk).version > version


def test_deleting_by_line_id_never_takes_an_ordinary_line(cart, cheddar):
    line = cart_add_product(cart=cart, product=cheddar).line
    assert line is not None

    cart_delete_labelled_line(cart=cart, line_id=line.pk)

    assert CartLine.objects.filter(pk=line.pk).exists()


def test_labelled_packs_beyond_the_stock_are_accepted_and_flagged(cart):
    ham = ProductFactory(name="Ham", stock=1, sold_by=Product.SoldBy.KG)
    add_label(cart, ham, LABEL_412_G, "5.31")
    assert not StockMismatch.objects.exists()

    add_label(cart, ham, LABEL_250_G, "3.23")

    mismatch = StockMismatch.objects.get()
    assert (mismatch.product, mismatch.quantity_in_cart, mismatch.stock_recorded) == (ham, 2, 1)
    assert cart_summary(cart=cart).notices == ()  # labelled packs are scanned: never lowered
    assert [line.quantity for line in cart.lines.all()] == [1, 1]


def test_labelled_packs_are_refused_for_a_closed_cart_or_a_product_no_longer_sold(cart, cheddar):
    cheddar.active = False
    cheddar.save()
    with pytest.raises(CartError) as refused:
        add_label(cart, cheddar, LABEL_412_G, "5.31")
    assert refused.value.code == "unavailable"

    cart_close(cart=cart)
    with pytest.raises(CartError, match=ERROR_CART_CLOSED):
        add_label(cart, ProductFactory(), LABEL_412_G, "5.31")


def test_the_database_keeps_one_line_per_product_and_label(cart, cheddar):
    add_label(cart, cheddar, LABEL_412_G, "5.31")
    line = CartLine(cart=cart, product=cheddar, product_name="x", unit_price=1, quantity=1)

    line.label_code = LABEL_412_G
    with pytest.raises(IntegrityError), transaction.atomic():
        line.save()
    line.pk, line.label_code = None, ""
    line.save()  # the ordinary line is another line
    line.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        line.save()


def test_merging_an_anonymous_cart_moves_only_ordinary_lines(alice, cheddar):
    visitor = cart_get_for_session(session_key="s" * 32)
    cart_add_product(cart=visitor, product=cheddar)
    add_label(visitor, cheddar, LABEL_412_G, "5.31")
    target = cart_get_for_user(user=alice)

    cart_merge(source=visitor, target=target)

    assert lines_of(target) == [("", "12.90", 1, 0)]


# --- The cart page ----------------------------------------------------------------------------


def test_the_cart_page_shows_a_labelled_line_with_its_weight_and_price(alice_client, cart, cheddar):
    line = add_label_line(cart, cheddar, LABEL_412_G, "5.31")

    page = alice_client.get(reverse("carts:detail")).content.decode()

    assert "0.412 kg · €5.31 by in-store label" in page
    delete = reverse("carts:labelled_line_delete", kwargs={"line_id": line.pk})
    assert f'action="{delete}"' in page
    # No stepper: a labelled line changes by scanning, not by typing a quantity.
    assert f'id="line-{line.pk}-more"' not in page
    assert f'id="line-{line.pk}-quantity"' not in page


def test_the_cart_page_shows_an_ordinary_line_as_before(alice_client, cart, cheddar):
    line = cart_add_product(cart=cart, product=cheddar).line
    assert line is not None

    page = alice_client.get(reverse("carts:detail")).content.decode()

    assert "€12.90 each" in page
    assert f'id="line-{line.pk}-more"' in page


def test_a_shopper_deletes_their_labelled_line_from_the_cart_page(alice_client, cart, cheddar):
    line = add_label_line(cart, cheddar, LABEL_412_G, "5.31")

    response = alice_client.post(reverse("carts:labelled_line_delete", args=[line.pk]))

    assert response.status_code == 302
    assert not cart.lines.exists()


def test_another_shopper_cannot_delete_a_labelled_line(bob_client, cart, cheddar):
    line = add_label_line(cart, cheddar, LABEL_412_G, "5.31")

    bob_client.post(reverse("carts:labelled_line_delete", args=[line.pk]))

    assert CartLine.objects.filter(pk=line.pk).exists()


def test_deleting_a_labelled_line_refuses_get(alice_client, cart, cheddar):
    line = add_label_line(cart, cheddar, LABEL_412_G, "5.31")

    response = alice_client.get(reverse("carts:labelled_line_delete", args=[line.pk]))

    assert response.status_code == 405


# --- The cart JSON API ------------------------------------------------------------------------

API_CART = reverse("carts-api:detail")
API_LINES = reverse("carts-api:lines")


def test_the_api_shows_a_labelled_line_with_its_label(alice_client, cart, cheddar):
    cart_add_product(cart=cart, product=cheddar)
    add_label(cart, cheddar, LABEL_412_G, "5.31")

    ordinary, labelled = alice_client.get(API_CART).json()["lines"]

    assert "instore_label" not in ordinary
    assert labelled["instore_label"] == {"code": LABEL_412_G, "text": "0.412 kg"}
    assert (labelled["unit_price"], labelled["quantity"], labelled["total"]) == ("5.31", 1, "5.31")


def test_the_api_deletes_a_labelled_line_by_its_id(alice_client, cart, cheddar):
    cart_add_product(cart=cart, product=cheddar)
    line = add_label_line(cart, cheddar, LABEL_412_G, "5.31")

    response = alice_client.post(
        API_LINES, {"line": line.pk, "quantity": "delete"}, content_type="application/json"
    )

    assert response.status_code == 200
    assert line.pk not in [entry["id"] for entry in response.json()["lines"]]
    assert lines_of(cart) == [("", "12.90", 1, 0)]


@pytest.mark.parametrize("quantity", [None, 3])
def test_the_api_refuses_other_changes_of_a_labelled_line(alice_client, cart, cheddar, quantity):
    line = add_label_line(cart, cheddar, LABEL_412_G, "5.31")
    body = {"line": line.pk} if quantity is None else {"line": line.pk, "quantity": quantity}

    response = alice_client.post(API_LINES, body, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {
        "detail": ERROR_LABELLED_LINE.format(product="Cheddar"),
        "code": "labelled_line",
    }
    assert lines_of(cart) == [(LABEL_412_G, "5.31", 1, 1)]


def test_the_api_delete_by_product_leaves_the_labelled_lines(alice_client, cart, cheddar):
    add_label(cart, cheddar, LABEL_412_G, "5.31")

    response = alice_client.post(
        API_LINES, {"product": cheddar.pk, "quantity": "delete"}, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "not_in_cart"
    assert lines_of(cart) == [(LABEL_412_G, "5.31", 1, 1)]


# --- The admin --------------------------------------------------------------------------------


def test_the_admin_shows_a_labelled_lines_label_and_weight(staff_client, cart, cheddar):
    add_label(cart, cheddar, LABEL_412_G, "5.31")

    page = staff_client.get(reverse("admin:carts_cart_change", args=[cart.pk])).content.decode()

    assert f"{LABEL_412_G} (0.412 kg)" in page
