"""The cart page and its edits: forms without JavaScript, fragments for fetch, scoping, CSRF."""

import re
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from carts.models import Cart, CartLine
from carts.pricing import COUPON_BELOW_MINIMUM
from carts.selectors import LINE_NOTES, LINE_OUT_OF_STOCK, LINE_UNAVAILABLE, cart_get_current
from carts.services import (
    MESSAGE_CLAMPED,
    cart_add_product,
    cart_apply_coupon,
    cart_get_for_user,
)
from carts.services.carts import (
    ERROR_CART_CLOSED,
    ERROR_COUPON_BLANK,
    ERROR_NO_MORE_STOCK,
    ERROR_NOT_IN_CART,
    ERROR_QUANTITY,
    ERROR_UNAVAILABLE,
)
from carts.views import (
    CHECKOUT_BLOCKED,
    MESSAGE_ADDED,
)
from carts.web import SESSION_CART_ID
from catalog.coupons import ERROR_COUPON_UNKNOWN
from catalog.models import Coupon
from shopcart.core.money import money_format
from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db

DETAIL = reverse("carts:detail")
FETCH = {"X-Requested-With": "fetch"}


def url(name: str, pk: int) -> str:
    arg = "line_id" if name == "unavailable_line_delete" else "product_id"
    return reverse(f"carts:{name}", kwargs={arg: pk})


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def quantities(cart: Cart) -> dict[str, int]:
    return dict(CartLine.objects.filter(cart=cart).values_list("product_name", "quantity"))


@pytest.fixture
def alice_cart(alice, milk):
    cart = cart_get_for_user(user=alice)
    cart_add_product(cart=cart, product=milk, quantity=2)
    return cart


# --- The page -------------------------------------------------------------------------------


def test_cart_page_shows_each_line_and_the_totals(alice_client, alice_cart, milk):
    bread = ProductFactory(name="Rye bread", price=Decimal("3.40"), stock=9)
    cart_add_product(cart=alice_cart, product=bread)
    Coupon.objects.create(code="TEN", percent_off=Decimal("10"))
    cart_apply_coupon(cart=alice_cart, code="ten")

    response = alice_client.get(DETAIL)

    assert response.status_code == 200
    page = response.text
    assert f'<a href="{milk.get_absolute_url()}">Milk</a>' in page
    assert f"{money_format(Decimal('1.15'))} each" in page
    assert 'value="2"' in page  # the quantity box
    assert "/static/img/product-placeholder.svg" in page
    # 2 x 1.15 = 2.30, less 10 % = 2.07; 3.40 less 0.34 = 3.06; total 5.13, saved 0.57.
    for amount in ("2.30", "2.07", "3.06", "5.70", "0.57", "5.13"):
        assert money_format(Decimal(amount)) in page
    assert "TEN" in page
    assert reverse("carts:coupon_remove") in page
    assert f'href="{reverse("orders:checkout")}" data-checkout-link' in page


def test_cart_page_notes_lines_that_cannot_be_bought_and_blocks_checkout(
    alice_client, alice_cart, milk
):
    gone = ProductFactory(name="Gone")
    empty = ProductFactory(name="Empty shelf")
    for product in (gone, empty):
        cart_add_product(cart=alice_cart, product=product)
    gone.active = False
    gone.save()
    empty.stock = 0
    empty.save()

    page = alice_client.get(DETAIL).text

    assert LINE_NOTES[LINE_UNAVAILABLE] in page
    assert LINE_NOTES[LINE_OUT_OF_STOCK] in page
    assert CHECKOUT_BLOCKED in page


@pytest.mark.parametrize("name", ["detail", "fragment"])
def test_cart_page_shows_quantities_lowered_to_stock_and_says_so_without_writing(
    alice_client, alice_cart, milk, name
):
    milk.stock = 1
    milk.save()
    version = Cart.objects.get(pk=alice_cart.pk).version

    with CaptureQueriesContext(connection) as queries:
        response = alice_client.get(reverse(f"carts:{name}"))

    expected = MESSAGE_CLAMPED.format(stock=1, product="Milk", quantity=1)
    assert response.text.count(f'<p class="message message--warning">{expected}</p>') == 1
    assert re.search(r'name="quantity"\s+value="1"', response.text)
    assert "1.15" in response.text and "2.30" not in response.text  # priced as held
    assert_no_lock_no_write(queries)
    assert quantities(alice_cart) == {"Milk": 2}  # the cart itself is corrected by a change
    assert Cart.objects.get(pk=alice_cart.pk).version == version


def test_the_next_change_writes_the_lowered_quantity_and_says_so_once(
    alice, alice_client, alice_cart, milk
):
    milk.stock = 1
    milk.save()
    bread = ProductFactory(name="Rye bread", stock=9)

    response = alice_client.post(url("line_add", bread.pk), follow=True)

    assert quantities(alice_cart) == {"Milk": 1, "Rye bread": 1}
    expected = MESSAGE_CLAMPED.format(stock=1, product="Milk", quantity=1)
    assert response.text.count(expected) == 1
    assert expected not in alice_client.get(DETAIL).text  # written: nothing left to say


def test_cart_page_says_why_a_coupon_takes_nothing_off(alice_client, alice_cart):
    Coupon.objects.create(code="BIG", amount_off=Decimal("5"), min_subtotal=Decimal("50"))
    cart_apply_coupon(cart=alice_cart, code="big")

    page = alice_client.get(DETAIL).text

    assert COUPON_BELOW_MINIMUM.format(minimum=money_format(Decimal("50"))) in page


def test_empty_cart_page_for_a_visitor_makes_no_cart_and_no_session(client):
    response = client.get(DETAIL)

    assert response.status_code == 200
    assert "Your cart is empty." in response.text
    assert not Cart.objects.exists()
    assert "sessionid" not in response.cookies


def test_cart_page_loads_its_script_and_has_no_inline_script(alice_client, alice_cart):
    # A later Content-Security-Policy forbids inline scripts: behaviour hangs on data- attributes.
    page = alice_client.get(DETAIL).text

    assert re.findall(r"<script[^>]*>", page) == [
        '<script src="/static/js/form-errors.js" defer>',  # every page: focus the first error
        '<script src="/static/js/cart.js" defer>',
    ]
    assert f'data-events-url="{reverse("carts:events")}"' in page
    assert f'data-fragment-url="{reverse("carts:fragment")}"' in page
    assert " on" + "click=" not in page


def test_product_pages_offer_add_to_cart(client, milk):
    form = f'method="post" action="{url("line_add", milk.pk)}"'

    assert form in client.get(milk.get_absolute_url()).text
    assert form in client.get(reverse("catalog:home")).text


def test_cart_page_refuses_post(alice_client):
    assert alice_client.post(DETAIL).status_code == 405


def test_header_shows_how_many_things_the_cart_holds(alice_client, alice_cart):
    page = alice_client.get(reverse("catalog:home")).text

    assert '<span class="cart-link__count" data-cart-count>2</span>' in page


def assert_no_lock_no_write(queries: CaptureQueriesContext) -> None:
    """Nothing in ``queries`` begins a transaction, locks a row or writes one."""
    for query in queries.captured_queries:
        sql = query["sql"].upper()
        assert not sql.startswith(("BEGIN", "SAVEPOINT", "UPDATE", "INSERT", "DELETE")), sql
        assert "FOR UPDATE" not in sql, sql


@pytest.mark.parametrize("line_count", [1, 30])
@pytest.mark.parametrize(("name", "queries_max"), [("detail", 9), ("fragment", 8)])
def test_cart_page_query_count_does_not_grow_with_lines_and_nothing_locks(
    alice, alice_client, line_count, name, queries_max, django_assert_max_num_queries
):
    cart = cart_get_for_user(user=alice)
    category = CategoryFactory()
    products = [ProductFactory(category=category, stock=3) for _ in range(line_count)]
    for product in products:
        cart_add_product(cart=cart, product=product, quantity=2)
    Coupon.objects.create(code="C", percent_off=Decimal("5"), category=category)
    cart_apply_coupon(cart=cart, code="C")
    for product in products:  # every line shown lowered: still no write, no extra query
        product.stock = 1
        product.save()

    # Session, user, cart; the summary (2); the header's count (page only); the paired
    # device; the suggestions (co-purchase, then best sellers): the same for 1 or 30 lines.
    with django_assert_max_num_queries(queries_max) as queries:
        response = alice_client.get(reverse(f"carts:{name}"))
    assert response.text.count('<li class="cart-line') == line_count
    assert response.text.count("message--warning") == line_count
    assert_no_lock_no_write(queries)


# --- Adding ---------------------------------------------------------------------------------


def test_add_puts_one_in_the_cart_and_goes_to_the_cart(alice, alice_client, milk):
    response = alice_client.post(url("line_add", milk.pk))

    assert response.status_code == 302
    assert response["Location"] == DETAIL
    assert quantities(cart_get_current(user=alice)) == {"Milk": 1}
    assert messages_of(response) == [MESSAGE_ADDED.format(product="Milk")]


def test_visitor_can_fill_a_cart_of_their_own(client, milk):
    client.post(url("line_add", milk.pk))
    client.post(url("line_add", milk.pk))

    cart = Cart.objects.get()
    assert cart.owner is None
    assert cart.session_key == client.session.session_key
    assert client.session[SESSION_CART_ID] == cart.pk
    assert quantities(cart) == {"Milk": 2}
    assert 'value="2"' in client.get(DETAIL).text


def test_add_of_an_unknown_product_is_404(alice_client):
    assert alice_client.post(url("line_add", 999_999)).status_code == 404


def test_add_of_a_product_no_longer_sold_says_so(alice, alice_client, milk):
    milk.active = False
    milk.save()

    response = alice_client.post(url("line_add", milk.pk))

    assert messages_of(response) == [ERROR_UNAVAILABLE.format(product="Milk")]
    assert quantities(cart_get_current(user=alice)) == {}


def test_add_beyond_stock_is_refused_with_the_services_message(alice_client, alice_cart, milk):
    cart_add_product(cart=alice_cart, product=milk, quantity=3)

    response = alice_client.post(url("line_add", milk.pk))

    assert messages_of(response) == [ERROR_NO_MORE_STOCK.format(stock=5, product="Milk")]
    assert quantities(alice_cart) == {"Milk": 5}


def test_add_to_a_cart_being_paid_for_is_refused(alice_client, alice_cart, milk):
    Cart.objects.filter(pk=alice_cart.pk).update(status=Cart.Status.CHECKING_OUT)

    response = alice_client.post(url("line_add", milk.pk))

    assert messages_of(response) == [ERROR_CART_CLOSED]
    assert quantities(alice_cart) == {"Milk": 2}


@pytest.mark.parametrize(
    "name", ["line_add", "line_remove", "line_set", "line_delete", "unavailable_line_delete"]
)
def test_line_edits_refuse_get(alice_client, alice_cart, milk, name):
    assert alice_client.get(url(name, milk.pk)).status_code == 405
    assert quantities(alice_cart) == {"Milk": 2}


@pytest.mark.parametrize("name", ["coupon_apply", "coupon_remove"])
def test_coupon_edits_refuse_get(alice_client, name):
    assert alice_client.get(reverse(f"carts:{name}")).status_code == 405


# --- Removing, setting, deleting ------------------------------------------------------------


def test_remove_takes_one_and_the_last_one_takes_the_line(alice_client, alice_cart, milk):
    alice_client.post(url("line_remove", milk.pk))
    assert quantities(alice_cart) == {"Milk": 1}

    alice_client.post(url("line_remove", milk.pk))
    assert quantities(alice_cart) == {}


def test_remove_of_a_product_not_in_the_cart_says_so(alice_client, alice_cart):
    bread = ProductFactory(name="Bread")

    response = alice_client.post(url("line_remove", bread.pk))

    assert messages_of(response) == [ERROR_NOT_IN_CART.format(product="Bread")]


def test_remove_by_a_visitor_without_a_cart_makes_no_cart(client, milk):
    response = client.post(url("line_remove", milk.pk))

    assert response.status_code == 302
    assert not Cart.objects.exists()


def test_set_quantity_from_the_quantity_box(alice_client, alice_cart, milk):
    response = alice_client.post(url("line_set", milk.pk), {"quantity": " 4 "})

    assert response.status_code == 302
    assert quantities(alice_cart) == {"Milk": 4}


def test_set_quantity_beyond_stock_is_clamped_with_a_message(alice_client, alice_cart, milk):
    response = alice_client.post(url("line_set", milk.pk), {"quantity": "9"})

    assert quantities(alice_cart) == {"Milk": 5}
    assert messages_of(response) == [MESSAGE_CLAMPED.format(stock=5, product="Milk", quantity=5)]


@pytest.mark.parametrize("quantity", ["abc", "0", "-1", "", "100", "1.5"])
def test_set_quantity_refuses_bad_input_beside_the_box_keeping_what_was_typed(
    alice_client, alice_cart, milk, quantity
):
    response = alice_client.post(url("line_set", milk.pk), {"quantity": quantity})

    assert response.status_code == 400
    line = CartLine.objects.get(cart=alice_cart)
    box = tag_of(response.text, f"line-{line.pk}-quantity")
    assert f'value="{quantity}"' in box
    assert 'aria-invalid="true"' in box and "autofocus" in box
    assert f'aria-describedby="line-{line.pk}-error"' in box
    assert re.search(
        rf'<p [^>]*id="line-{line.pk}-error"[^>]*>{re.escape(ERROR_QUANTITY)}</p>', response.text
    )
    assert messages_of(response) == []  # beside the box, not at the top of the page
    assert quantities(alice_cart) == {"Milk": 2}


def test_delete_takes_the_whole_line(alice_client, alice_cart, milk):
    alice_client.post(url("line_delete", milk.pk))

    assert quantities(alice_cart) == {}


def test_line_of_a_product_deleted_from_the_catalog_can_be_deleted(alice_client, alice_cart, milk):
    line = CartLine.objects.get(cart=alice_cart)
    milk.delete()
    assert LINE_NOTES[LINE_UNAVAILABLE] in alice_client.get(DETAIL).text

    alice_client.post(url("unavailable_line_delete", line.pk))

    assert quantities(alice_cart) == {}


# --- Coupons --------------------------------------------------------------------------------


def test_apply_and_remove_a_coupon(alice_client, alice_cart):
    Coupon.objects.create(code="TEN", percent_off=Decimal("10"))

    alice_client.post(reverse("carts:coupon_apply"), {"code": " ten "})
    alice_cart.refresh_from_db()
    assert alice_cart.coupon.code == "TEN"

    alice_client.post(reverse("carts:coupon_remove"))
    alice_cart.refresh_from_db()
    assert alice_cart.coupon is None


@pytest.mark.parametrize(
    ("code", "message"),
    [("NOPE", ERROR_COUPON_UNKNOWN.format(code="NOPE")), ("  ", ERROR_COUPON_BLANK)],
)
def test_bad_coupon_code_says_why_beside_the_field_keeping_it(
    alice_client, alice_cart, code, message
):
    response = alice_client.post(reverse("carts:coupon_apply"), {"code": code})

    # Without JavaScript: the page itself (no redirect), the code still in its box.
    assert response.status_code == 400
    assert "<html" in response.text
    box = tag_of(response.text, "coupon-code")
    assert f'value="{code.strip()}"' in box
    assert 'aria-invalid="true"' in box and "autofocus" in box
    assert 'aria-describedby="coupon-error"' in box
    assert f'<p class="cart-field-error" id="coupon-error" data-field-error>{message}</p>' in (
        response.text.replace("&quot;", '"').replace("&#x27;", "'")
    )
    assert messages_of(response) == []
    alice_cart.refresh_from_db()
    assert alice_cart.coupon is None


def test_bad_coupon_code_by_fetch_answers_the_block_with_the_error_beside_the_field(
    alice_client, alice_cart
):
    response = alice_client.post(reverse("carts:coupon_apply"), {"code": "nope"}, headers=FETCH)

    assert response.status_code == 400
    assert "<html" not in response.text
    assert 'value="nope"' in tag_of(response.text, "coupon-code")
    assert 'id="coupon-error"' in response.text


def test_a_good_coupon_by_fetch_answers_the_block_with_the_new_total(alice_client, alice_cart):
    Coupon.objects.create(code="TEN", percent_off=Decimal("10"))

    response = alice_client.post(reverse("carts:coupon_apply"), {"code": "ten"}, headers=FETCH)

    assert response.status_code == 200
    assert money_format(Decimal("2.07")) in response.text  # 2 x 1.15, 10 % off
    assert "coupon-error" not in response.text


def test_a_coupon_refused_while_paying_is_shown_beside_the_field_too(
    alice, alice_client, alice_cart
):
    from orders.services import order_place

    Coupon.objects.create(code="TEN", percent_off=Decimal("10"))
    order_place(cart=alice_cart, user=alice)

    response = alice_client.post(reverse("carts:coupon_apply"), {"code": "ten"})

    assert response.status_code == 400
    box = tag_of(response.text, "coupon-code")
    assert 'aria-describedby="cart-edit-block coupon-error"' in box
    assert "disabled" in box


def tag_of(html: str, element_id: str) -> str:
    """The opening tag of the element ``element_id`` in ``html``."""
    found = re.search(rf'<[^<>]*\bid="{re.escape(element_id)}"[^<>]*>', html)
    assert found, f"no #{element_id}"
    return found.group(0)


# --- Answers for fetch ----------------------------------------------------------------------


def test_fetch_edit_answers_with_the_cart_block_and_its_etag(alice_client, alice_cart, milk):
    response = alice_client.post(url("line_add", milk.pk), headers=FETCH)

    assert response.status_code == 200
    alice_cart.refresh_from_db()
    assert response["ETag"] == alice_client.get(reverse("carts:fragment"))["ETag"]
    assert response["ETag"].startswith(f'W/"cart-{alice_cart.pk}-v{alice_cart.version}-s0-p0-')
    assert response.text.lstrip().startswith('<div class="cart-body"')
    assert f'data-cart-version="{alice_cart.version}"' in response.text
    assert 'value="3"' in response.text
    assert "<html" not in response.text
    # The in-place change is its own feedback: no "added" message waits for the next page.
    assert messages_of(response) == []


def test_fetch_edit_with_bad_input_is_400_with_the_message_in_the_block(
    alice_client, alice_cart, milk
):
    response = alice_client.post(url("line_set", milk.pk), {"quantity": "abc"}, headers=FETCH)

    assert response.status_code == 400
    assert ERROR_QUANTITY in response.text
    assert 'class="cart-body"' in response.text
    assert quantities(alice_cart) == {"Milk": 2}


# --- Whose cart -----------------------------------------------------------------------------


def test_bob_sees_and_edits_only_his_own_cart(bob, bob_client, alice_cart, milk):
    line = CartLine.objects.get(cart=alice_cart)
    assert "Milk" not in bob_client.get(DETAIL).text

    bob_client.post(url("line_remove", milk.pk))
    bob_client.post(url("line_delete", milk.pk))
    bob_client.post(url("unavailable_line_delete", line.pk))
    bob_client.post(reverse("carts:coupon_remove"))
    bob_client.post(url("line_set", milk.pk), {"quantity": "1"})

    assert quantities(alice_cart) == {"Milk": 2}
    # Setting a quantity put milk in bob's own cart, not in alice's.
    assert quantities(cart_get_current(user=bob)) == {"Milk": 1}


def test_line_of_alices_cart_cannot_be_deleted_by_its_id_from_bobs_session(
    bob_client, alice_cart, milk
):
    line = CartLine.objects.get(cart=alice_cart)
    milk.delete()  # alice's line is now "unavailable", deletable by line id

    bob_client.post(url("unavailable_line_delete", line.pk))

    assert CartLine.objects.filter(pk=line.pk).exists()


def test_a_visitor_never_sees_a_shoppers_cart(client, alice_cart):
    assert "Milk" not in client.get(DETAIL).text
    assert "Milk" not in client.get(reverse("carts:fragment")).text


# --- CSRF -----------------------------------------------------------------------------------


def test_edits_need_the_csrf_token(alice, alice_cart, milk):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)

    assert client.post(url("line_add", milk.pk)).status_code == 403
    assert quantities(alice_cart) == {"Milk": 2}

    client.get(DETAIL)  # sets the CSRF cookie, as the page's forms do
    token = client.cookies["csrftoken"].value
    response = client.post(url("line_add", milk.pk), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert quantities(alice_cart) == {"Milk": 3}
