"""Shopper cart API at /api/v1/cart/: the caller's own cart only, and its update rules."""

from decimal import Decimal

import pytest
import yaml
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, reverse
from rest_framework.authtoken.models import Token

from carts import api_urls
from carts.api import (
    ERROR_BARCODE_UNKNOWN,
    ERROR_LINE_UNKNOWN,
    ERROR_PRODUCT_UNKNOWN,
    ERROR_QUANTITY_INVALID,
    ERROR_QUANTITY_TOO_LARGE,
    ERROR_QUANTITY_TOO_SMALL,
    ERROR_TARGET_MISSING,
    ERROR_TARGET_SEVERAL,
)
from carts.models import Cart, CartLine
from carts.selectors import LINE_NOTES, LINE_OUT_OF_STOCK
from carts.services import (
    MESSAGE_CLAMPED,
    cart_add_product,
    cart_apply_coupon,
    cart_get_for_user,
)
from carts.services.carts import (
    ERROR_CART_CLOSED,
    ERROR_COUPON_BLANK,
    ERROR_NOT_IN_CART,
    ERROR_OUT_OF_STOCK,
    ERROR_UNAVAILABLE,
)
from catalog.barcodes import ERROR_CHECK_DIGIT
from catalog.coupons import ERROR_COUPON_UNKNOWN
from catalog.models import Coupon
from tests.factories import BarcodeFactory, CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db

CART_URL = reverse("carts-api:detail")
LINES_URL = reverse("carts-api:lines")
COUPON_URL = reverse("carts-api:coupon")
UPC_A = "036602301467"
GTIN_14 = "00036602301467"


@pytest.fixture
def milk():
    product = ProductFactory(name="Oat milk", slug="oat-milk", price=Decimal("1.99"), stock=10)
    BarcodeFactory(product=product, gtin=GTIN_14)
    return product


@pytest.fixture
def bread():
    return ProductFactory(name="Rye bread", slug="rye-bread", price=Decimal("3.10"), stock=10)


def post(client: Client, url: str, body: object, **headers: str):
    return client.post(url, body, content_type="application/json", headers=headers)


def quantities(user) -> dict[int, int]:
    cart = cart_get_for_user(user=user)
    return dict(cart.lines.values_list("product_id", "quantity"))


# --- Who may do what ---------------------------------------------------------------------------


def every_operation() -> list[tuple[str, str, dict]]:
    return [
        ("get", CART_URL, {}),
        ("post", LINES_URL, {"product": 1}),
        ("post", COUPON_URL, {"code": "X"}),
        ("delete", COUPON_URL, {}),
    ]


def send(client: Client, method: str, url: str, body: dict):
    if method == "post":
        return post(client, url, body)
    return getattr(client, method)(url)


def test_anonymous_gets_401_for_every_operation_and_no_cart_is_made(client):
    for method, url, body in every_operation():
        response = send(client, method, url, body)

        assert response.status_code == 401, (method, url)
        assert response["WWW-Authenticate"] == "Token", (method, url)
    assert not Cart.objects.exists()


def test_a_shoppers_token_authenticates(alice, milk):
    token = Token.objects.create(user=alice)
    client = Client()

    response = post(client, LINES_URL, {"product": milk.pk}, Authorization=f"Token {token.key}")

    assert response.status_code == 200
    assert quantities(alice) == {milk.pk: 1}


def test_session_write_without_csrf_token_is_refused(alice, milk):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)

    response = post(client, LINES_URL, {"product": milk.pk})

    assert response.status_code == 403
    assert quantities(alice) == {}


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("post", CART_URL),
        ("put", CART_URL),
        ("delete", CART_URL),
        ("get", LINES_URL),
        ("delete", LINES_URL),
        ("get", COUPON_URL),
        ("patch", COUPON_URL),
    ],
)
def test_wrong_method_is_405(alice_client, method, url):
    response = getattr(alice_client, method)(url, {}, content_type="application/json")

    assert response.status_code == 405


# --- Reading the cart --------------------------------------------------------------------------


def test_get_answers_the_whole_cart_with_money_as_strings(alice, alice_client, milk, bread):
    cart = cart_get_for_user(user=alice)
    cart_add_product(cart=cart, product=milk, quantity=2, scanned=True)
    cart_add_product(cart=cart, product=bread)
    Coupon.objects.create(code="TEN", percent_off=Decimal("10"))
    cart_apply_coupon(cart=cart, code="ten")

    response = alice_client.get(CART_URL)

    assert response.status_code == 200
    body = response.json()
    cart.refresh_from_db()
    milk_line = cart.lines.get(product=milk)
    assert body["lines"][0] == {
        "id": milk_line.pk,
        "product": milk.pk,
        "name": "Oat milk",
        "slug": "oat-milk",
        "unit_price": "1.99",
        "quantity": 2,
        "scanned_quantity": 2,
        "status": "ok",
        "note": "",
        "subtotal": "3.98",
        "discount": "0.40",
        "total": "3.58",
    }
    assert {key: body[key] for key in body if key != "lines"} == {
        "version": cart.version,
        "status": "open",
        "currency": "EUR",
        "coupon": {"code": "TEN", "applied": True, "problem": ""},
        "subtotal": "7.08",
        "discount": "0.71",
        "total": "6.37",
        "item_count": 3,
        "can_check_out": True,
        "messages": [],
        "suggestions": [],  # no sales yet
    }
    assert response["Cache-Control"] == "private, no-cache"


def test_get_of_a_new_shopper_is_an_empty_cart(alice_client):
    body = alice_client.get(CART_URL).json()

    assert (body["lines"], body["coupon"], body["total"]) == ([], None, "0.00")
    assert body["can_check_out"] is False


def test_get_shows_quantities_lowered_to_stock_and_says_so_without_writing(
    alice, alice_client, milk
):
    cart = cart_get_for_user(user=alice)
    cart_add_product(cart=cart, product=milk, quantity=5)
    milk.stock = 3
    milk.save()
    version = Cart.objects.get(pk=cart.pk).version

    with CaptureQueriesContext(connection) as queries:
        body = alice_client.get(CART_URL).json()

    assert body["lines"][0]["quantity"] == 3
    assert (body["lines"][0]["subtotal"], body["total"], body["item_count"]) == ("5.97", "5.97", 3)
    assert body["messages"] == [MESSAGE_CLAMPED.format(stock=3, product="Oat milk", quantity=3)]
    assert_no_lock_no_write(queries)
    assert CartLine.objects.get(cart=cart).quantity == 5  # corrected by the next change
    assert (body["version"], Cart.objects.get(pk=cart.pk).version) == (version, version)


def test_the_next_change_writes_the_lowered_quantity_and_says_so(alice, alice_client, milk):
    cart = cart_get_for_user(user=alice)
    cart_add_product(cart=cart, product=milk, quantity=5)
    milk.stock = 3
    milk.save()

    body = post(alice_client, LINES_URL, {"product": milk.pk, "quantity": "2"}).json()

    assert body["lines"][0]["quantity"] == 2
    assert body["messages"] == [MESSAGE_CLAMPED.format(stock=3, product="Oat milk", quantity=3)]
    assert alice_client.get(CART_URL).json()["messages"] == []


def test_line_out_of_stock_is_shown_with_its_note_and_blocks_checkout(alice, alice_client, milk):
    cart_add_product(cart=cart_get_for_user(user=alice), product=milk)
    milk.stock = 0
    milk.save()

    body = alice_client.get(CART_URL).json()

    line = body["lines"][0]
    assert (line["status"], line["note"]) == (LINE_OUT_OF_STOCK, LINE_NOTES[LINE_OUT_OF_STOCK])
    assert (body["total"], body["can_check_out"]) == ("0.00", False)


def test_line_whose_product_was_deleted_shows_without_product_or_slug(alice, alice_client, milk):
    cart_add_product(cart=cart_get_for_user(user=alice), product=milk)
    milk.delete()

    line = alice_client.get(CART_URL).json()["lines"][0]

    assert (line["product"], line["slug"], line["name"]) == (None, None, "Oat milk")
    assert line["status"] == "unavailable"


def assert_no_lock_no_write(queries: CaptureQueriesContext) -> None:
    """Nothing in ``queries`` begins a transaction, locks a row or writes one."""
    for query in queries.captured_queries:
        sql = query["sql"].upper()
        assert not sql.startswith(("BEGIN", "SAVEPOINT", "UPDATE", "INSERT", "DELETE")), sql
        assert "FOR UPDATE" not in sql, sql


@pytest.mark.parametrize("line_count", [1, 30])
def test_get_query_count_does_not_grow_with_lines_and_nothing_locks(
    alice, alice_client, line_count, django_assert_max_num_queries
):
    cart = cart_get_for_user(user=alice)
    category = CategoryFactory()
    products = [ProductFactory(category=category, stock=5) for _ in range(line_count)]
    for product in products:
        cart_add_product(cart=cart, product=product, quantity=2)
    Coupon.objects.create(code="FIVE", percent_off=Decimal("5"), category=category)
    cart_apply_coupon(cart=cart, code="FIVE")
    for product in products:  # every line shown lowered: still no write, no extra query
        product.stock = 1
        product.save()

    # session, user, cart, summary (2), suggestions (2)
    with django_assert_max_num_queries(7) as queries:
        response = alice_client.get(CART_URL)

    assert len(response.json()["lines"]) == line_count
    assert len(response.json()["messages"]) == line_count
    assert_no_lock_no_write(queries)


# --- Conditional GET ---------------------------------------------------------------------------


def test_same_etag_answers_304_without_a_body(alice, alice_client, milk):
    cart_add_product(cart=cart_get_for_user(user=alice), product=milk)
    first = alice_client.get(CART_URL)
    etag = first["ETag"]

    again = alice_client.get(CART_URL, headers={"If-None-Match": etag})

    cart = cart_get_for_user(user=alice)
    assert etag.startswith(f'W/"cart-{cart.pk}-v{cart.version}-')
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag


def test_etag_matches_weakly_and_among_several(alice_client):
    etag = alice_client.get(CART_URL)["ETag"]
    strong = etag.removeprefix("W/")

    response = alice_client.get(CART_URL, headers={"If-None-Match": f'"other", {strong}'})

    assert response.status_code == 304


def test_a_change_gives_a_new_etag_and_a_full_answer(alice, alice_client, milk):
    etag = alice_client.get(CART_URL)["ETag"]
    cart_add_product(cart=cart_get_for_user(user=alice), product=milk)

    response = alice_client.get(CART_URL, headers={"If-None-Match": etag})

    assert response.status_code == 200
    assert response["ETag"] != etag
    assert response.json()["lines"][0]["product"] == milk.pk


def test_stock_running_out_changes_the_etag_though_the_cart_did_not_change(
    alice, alice_client, milk
):
    cart_add_product(cart=cart_get_for_user(user=alice), product=milk)
    etag = alice_client.get(CART_URL)["ETag"]
    milk.stock = 0  # no cart write, so the version stays; what the shopper sees changes
    milk.save()

    response = alice_client.get(CART_URL, headers={"If-None-Match": etag})

    assert response.status_code == 200
    assert response.json()["lines"][0]["status"] == LINE_OUT_OF_STOCK


def test_the_cart_api_and_the_cart_pages_block_give_one_etag(alice, alice_client, milk):
    cart_add_product(cart=cart_get_for_user(user=alice), product=milk)

    api = alice_client.get(CART_URL)["ETag"]
    page = alice_client.get(reverse("carts:fragment"))["ETag"]

    assert api == page


# --- Changing lines: the API's quantity rules -------------------------------------------


@pytest.mark.parametrize("body", [{}, {"quantity": None}, {"quantity": ""}])
def test_empty_quantity_adds_one(alice, alice_client, milk, body):
    cart_add_product(cart=cart_get_for_user(user=alice), product=milk)

    response = post(alice_client, LINES_URL, {"product": milk.pk, **body})

    assert response.status_code == 200
    assert response.json()["lines"][0]["quantity"] == 2
    assert quantities(alice) == {milk.pk: 2}


@pytest.mark.parametrize("quantity", [4, "4", " 4 "])
def test_a_natural_number_sets_the_quantity(alice, alice_client, milk, quantity):
    cart_add_product(cart=cart_get_for_user(user=alice), product=milk, quantity=2)

    response = post(alice_client, LINES_URL, {"product": milk.pk, "quantity": quantity})

    assert response.status_code == 200
    assert quantities(alice) == {milk.pk: 4}
    assert response.json()["total"] == "7.96"


def test_setting_more_than_the_stock_is_clamped_with_a_message(alice, alice_client, milk):
    milk.stock = 3
    milk.save()

    response = post(alice_client, LINES_URL, {"product": milk.pk, "quantity": 5})

    assert response.status_code == 200
    assert quantities(alice) == {milk.pk: 3}
    assert response.json()["messages"] == [
        MESSAGE_CLAMPED.format(stock=3, product="Oat milk", quantity=3)
    ]


def test_delete_removes_the_line(alice, alice_client, milk, bread):
    cart = cart_get_for_user(user=alice)
    cart_add_product(cart=cart, product=milk)
    cart_add_product(cart=cart, product=bread)

    response = post(alice_client, LINES_URL, {"product": milk.pk, "quantity": "delete"})

    assert response.status_code == 200
    assert [line["product"] for line in response.json()["lines"]] == [bread.pk]
    assert quantities(alice) == {bread.pk: 1}


def test_delete_of_a_product_not_in_the_cart_is_a_clear_400(alice, alice_client, milk):
    response = post(alice_client, LINES_URL, {"product": milk.pk, "quantity": "delete"})

    assert response.status_code == 400
    assert response.json() == {
        "detail": ERROR_NOT_IN_CART.format(product="Oat milk"),
        "code": "not_in_cart",
    }


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        (0, ERROR_QUANTITY_TOO_SMALL),
        ("0", ERROR_QUANTITY_TOO_SMALL),
        (-1, ERROR_QUANTITY_TOO_SMALL),  # a cart line never goes negative
        ("-3", ERROR_QUANTITY_TOO_SMALL),
        (100, ERROR_QUANTITY_TOO_LARGE),
        ("100", ERROR_QUANTITY_TOO_LARGE),
        (10**30, ERROR_QUANTITY_TOO_LARGE),
        (1.5, ERROR_QUANTITY_INVALID),
        (2.0, ERROR_QUANTITY_INVALID),
        ("1.5", ERROR_QUANTITY_INVALID),
        ("two", ERROR_QUANTITY_INVALID),
        ("remove", ERROR_QUANTITY_INVALID),
        (True, ERROR_QUANTITY_INVALID),
        ([1], ERROR_QUANTITY_INVALID),
        ({"n": 1}, ERROR_QUANTITY_INVALID),
    ],
)
def test_bad_quantity_is_400_under_quantity_and_changes_nothing(
    alice, alice_client, milk, quantity, message
):
    cart_add_product(cart=cart_get_for_user(user=alice), product=milk, quantity=2)
    version = cart_get_for_user(user=alice).version

    response = post(alice_client, LINES_URL, {"product": milk.pk, "quantity": quantity})

    assert response.status_code == 400
    assert response.json() == {"quantity": [message]}
    assert quantities(alice) == {milk.pk: 2}
    assert cart_get_for_user(user=alice).version == version


def test_closed_cart_refuses_changes_with_409(alice, alice_client, milk):
    cart = cart_get_for_user(user=alice)
    Cart.objects.filter(pk=cart.pk).update(status=Cart.Status.CHECKING_OUT)

    response = post(alice_client, LINES_URL, {"product": milk.pk})

    assert response.status_code == 409
    assert response.json() == {"detail": ERROR_CART_CLOSED, "code": "cart_closed"}
    assert quantities(alice) == {}


# --- Naming the product ------------------------------------------------------------------------


def test_any_gs1_form_of_a_barcode_finds_the_product(alice, alice_client, milk):
    response = post(alice_client, LINES_URL, {"barcode": UPC_A})

    assert response.status_code == 200
    assert quantities(alice) == {milk.pk: 1}


def test_barcode_with_a_wrong_check_digit_is_400_naming_the_problem(alice_client, milk):
    response = post(alice_client, LINES_URL, {"barcode": "036602301468"})

    assert response.status_code == 400
    expected = ERROR_CHECK_DIGIT.format(value="036602301468", expected=7)
    assert response.json() == {"barcode": [expected]}


def test_barcode_of_no_product_is_400(alice_client, milk):
    response = post(alice_client, LINES_URL, {"barcode": "4006381333931"})

    assert response.status_code == 400
    assert response.json() == {"barcode": [ERROR_BARCODE_UNKNOWN]}


def test_unknown_product_id_is_400(alice_client):
    response = post(alice_client, LINES_URL, {"product": 999_999})

    assert response.status_code == 400
    assert response.json() == {"product": [ERROR_PRODUCT_UNKNOWN]}


def test_inactive_product_is_refused_with_the_cart_error(alice, alice_client, milk):
    milk.active = False
    milk.save()

    response = post(alice_client, LINES_URL, {"product": milk.pk})

    assert response.status_code == 400
    assert response.json() == {
        "detail": ERROR_UNAVAILABLE.format(product="Oat milk"),
        "code": "unavailable",
    }


def test_inactive_product_can_still_be_deleted_from_the_cart(alice, alice_client, milk):
    cart_add_product(cart=cart_get_for_user(user=alice), product=milk)
    milk.active = False
    milk.save()

    response = post(alice_client, LINES_URL, {"product": milk.pk, "quantity": "delete"})

    assert response.status_code == 200
    assert quantities(alice) == {}


def test_product_out_of_stock_is_refused(alice_client, milk):
    milk.stock = 0
    milk.save()

    response = post(alice_client, LINES_URL, {"product": milk.pk})

    assert response.status_code == 400
    assert response.json() == {
        "detail": ERROR_OUT_OF_STOCK.format(product="Oat milk"),
        "code": "out_of_stock",
    }


def test_a_line_whose_product_was_deleted_is_removed_by_line_id(alice, alice_client, milk):
    cart = cart_get_for_user(user=alice)
    cart_add_product(cart=cart, product=milk)
    line = cart.lines.get()
    milk.delete()

    refused = post(alice_client, LINES_URL, {"line": line.pk, "quantity": 2})
    removed = post(alice_client, LINES_URL, {"line": line.pk, "quantity": "delete"})

    assert refused.status_code == 400
    assert refused.json()["detail"] == ERROR_UNAVAILABLE.format(product="Oat milk")
    assert removed.status_code == 200
    assert removed.json()["lines"] == []
    assert removed.json()["can_check_out"] is False


def test_line_id_sets_the_quantity_of_its_product(alice, alice_client, milk):
    cart = cart_get_for_user(user=alice)
    cart_add_product(cart=cart, product=milk)
    line = cart.lines.get()

    response = post(alice_client, LINES_URL, {"line": line.pk, "quantity": 3})

    assert response.status_code == 200
    assert quantities(alice) == {milk.pk: 3}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"quantity": 2}, ERROR_TARGET_MISSING),
        ({"product": 1, "barcode": UPC_A}, ERROR_TARGET_SEVERAL),
        ({"product": 1, "line": 1}, ERROR_TARGET_SEVERAL),
    ],
)
def test_exactly_one_of_product_barcode_and_line_is_needed(alice_client, body, message):
    response = post(alice_client, LINES_URL, body)

    assert response.status_code == 400
    assert response.json() == {"non_field_errors": [message]}


@pytest.mark.parametrize(
    "body",
    [
        {"product": "milk"},
        {"product": 0},
        {"product": 10**30},
        {"line": -1},
        {"barcode": ["036602301467"]},
    ],
)
def test_malformed_fields_are_400_under_the_field(alice_client, body):
    response = post(alice_client, LINES_URL, body)

    assert response.status_code == 400
    assert list(response.json()) == list(body)


@pytest.mark.parametrize("url", [LINES_URL, COUPON_URL])
def test_body_that_is_a_json_list_is_400(alice_client, url):
    response = post(alice_client, url, [{"product": 1}])

    assert response.status_code == 400
    assert "non_field_errors" in response.json()


@pytest.mark.parametrize("url", [LINES_URL, COUPON_URL])
def test_body_that_is_not_json_is_400(alice_client, url):
    response = alice_client.post(url, '{"product": 1', content_type="application/json")

    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


# --- Another shopper's cart is unreachable -----------------------------------------------------


def test_bob_never_sees_alices_lines(alice, bob_client, milk):
    cart_add_product(cart=cart_get_for_user(user=alice), product=milk, quantity=3)

    body = bob_client.get(CART_URL).json()

    assert body["lines"] == []
    assert body["total"] == "0.00"


def test_bob_posting_alices_product_changes_only_bobs_cart(alice, bob, bob_client, milk):
    cart_add_product(cart=cart_get_for_user(user=alice), product=milk, quantity=3)

    post(bob_client, LINES_URL, {"product": milk.pk, "quantity": 1})
    post(bob_client, LINES_URL, {"product": milk.pk})
    deleted = post(bob_client, LINES_URL, {"product": milk.pk, "quantity": "delete"})

    assert deleted.status_code == 200
    assert quantities(bob) == {}
    assert quantities(alice) == {milk.pk: 3}


def test_bob_cannot_reach_alices_line_by_its_id(alice, bob_client, milk):
    cart = cart_get_for_user(user=alice)
    cart_add_product(cart=cart, product=milk, quantity=3)
    line = cart.lines.get()

    for quantity in ("delete", 1, None):
        response = post(bob_client, LINES_URL, {"line": line.pk, "quantity": quantity})

        assert response.status_code == 400
        assert response.json() == {"line": [ERROR_LINE_UNKNOWN]}
    assert quantities(alice) == {milk.pk: 3}


def test_no_cart_url_takes_a_cart_id(alice, bob_client):
    cart = cart_get_for_user(user=alice)

    for pattern in api_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        assert pattern.pattern.converters == {}, pattern
    assert bob_client.get(f"{CART_URL}{cart.pk}/").status_code == 404


def test_bobs_coupon_goes_on_bobs_cart_only(alice, bob, bob_client):
    Coupon.objects.create(code="TEN", percent_off=Decimal("10"))

    post(bob_client, COUPON_URL, {"code": "TEN"})

    assert cart_get_for_user(user=alice).coupon is None
    assert cart_get_for_user(user=bob).coupon is not None


# --- Coupons -----------------------------------------------------------------------------------


def test_coupon_with_a_cap_takes_off_at_most_the_cap(alice, alice_client):
    # The cap limits the discount, not the total: 100 at 20 % off capped at 50 is 80.
    cart_add_product(
        cart=cart_get_for_user(user=alice), product=ProductFactory(price=Decimal("100.00"))
    )
    Coupon.objects.create(code="BIG", percent_off=Decimal("20"), max_discount=Decimal("50"))

    response = post(alice_client, COUPON_URL, {"code": "big"})

    assert response.status_code == 200
    body = response.json()
    assert (body["subtotal"], body["discount"], body["total"]) == ("100.00", "20.00", "80.00")
    assert body["coupon"] == {"code": "BIG", "applied": True, "problem": ""}


def test_coupon_the_cart_does_not_qualify_for_shows_the_problem(alice, alice_client, milk):
    cart_add_product(cart=cart_get_for_user(user=alice), product=milk)
    Coupon.objects.create(code="MIN", amount_off=Decimal("5"), min_subtotal=Decimal("50"))

    body = post(alice_client, COUPON_URL, {"code": "MIN"}).json()

    assert body["coupon"]["applied"] is False
    assert body["coupon"]["problem"] == "This coupon needs a subtotal of at least €50.00."
    assert body["total"] == "1.99"


def test_unknown_coupon_is_400_with_the_cart_error(alice, alice_client):
    response = post(alice_client, COUPON_URL, {"code": "nope"})

    assert response.status_code == 400
    assert response.json() == {
        "detail": ERROR_COUPON_UNKNOWN.format(code="NOPE"),
        "code": "coupon_unknown",
    }
    assert cart_get_for_user(user=alice).coupon is None


@pytest.mark.parametrize("body", [{}, {"code": ""}, {"code": "   "}])
def test_missing_coupon_code_is_400(alice_client, body):
    response = post(alice_client, COUPON_URL, body)

    assert response.status_code == 400
    assert response.json() == {"code": [ERROR_COUPON_BLANK]}


def test_delete_coupon_removes_it(alice, alice_client, milk):
    cart = cart_get_for_user(user=alice)
    cart_add_product(cart=cart, product=milk)
    Coupon.objects.create(code="TEN", percent_off=Decimal("10"))
    cart_apply_coupon(cart=cart, code="TEN")

    response = alice_client.delete(COUPON_URL)

    assert response.status_code == 200
    assert (response.json()["coupon"], response.json()["total"]) == (None, "1.99")
    assert cart_get_for_user(user=alice).coupon is None


def test_coupon_on_a_cart_being_paid_for_is_409(alice, alice_client):
    cart = cart_get_for_user(user=alice)
    Coupon.objects.create(code="TEN", percent_off=Decimal("10"))
    Cart.objects.filter(pk=cart.pk).update(status=Cart.Status.CHECKING_OUT)

    assert post(alice_client, COUPON_URL, {"code": "TEN"}).status_code == 409
    assert alice_client.delete(COUPON_URL).status_code == 409


# --- Documentation -----------------------------------------------------------------------------


def test_schema_shows_the_cart_endpoints_with_examples(client):
    schema = yaml.safe_load(client.get(reverse("api-schema")).content)

    lines = schema["paths"]["/api/v1/cart/lines/"]["post"]
    examples = lines["requestBody"]["content"]["application/json"]["examples"]
    assert examples["RemoveTheLine"]["value"] == {"product": 42, "quantity": "delete"}
    cart = schema["components"]["schemas"]["ShopperCart"]["properties"]
    assert {"version", "lines", "coupon", "total", "messages"} <= set(cart)
    assert set(schema["paths"]["/api/v1/cart/coupon/"]) == {"post", "delete"}
