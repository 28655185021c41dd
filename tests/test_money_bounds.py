"""Issue 18, finding 1: one oversized price corrupted the store.

The staff API took a price of 99,999,999.99; two of it in a cart answered 500; checkout wrote an
order whose total did not fit its column, and from then on the order lists, ``orders_expire``
and every shopper's checkout failed. Each door a price, a quantity or a total comes in by now
stops at the bounds of ``shopcart.core.money``, with a 4xx that says why; and the finding's steps,
replayed, leave every page working.
"""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from carts.models import Cart, CartLine
from carts.services import (
    cart_add_product,
    cart_get_for_user,
    cart_pass_issue,
    cart_set_quantity,
)
from carts.services.carts import CART_TOTAL_MAX, ERROR_CART_TOTAL, ERROR_LINE_FULL
from catalog.models import Product
from catalog.resources import COLUMNS
from devices.services import device_pair
from devices.services.scans import DISPLAY_CART_TOTAL, DISPLAY_LINE_FULL, display_lines
from orders.models import Order, OrderLine, Payment
from orders.services.placement import ERROR_TOO_LARGE
from shopcart.core.money import (
    ERROR_PRICE_TOO_HIGH,
    ERROR_STOCK_TOO_HIGH,
    LINE_TOTAL_MAX,
    ORDER_TOTAL_MAX,
    PRICE_MAX,
    QUANTITY_MAX,
    STOCK_MAX,
    money_format,
)
from tests.catalog.import_files import csv_file, import_with_resource
from tests.devices.support import EAN13, EAN13_GTIN, scan_code
from tests.factories import BarcodeFactory, ProductFactory, UserFactory
from tests.orders.factories import OrderFactory
from tests.support import second_factor_given

pytestmark = pytest.mark.django_db

PRODUCTS = reverse("catalog-api:product_list")
CART_LINES = reverse("carts-api:lines")
CHECKOUT = reverse("orders:checkout")
ORDER_LIST = reverse("orders:list")
ADMIN_ORDERS = reverse("admin:orders_order_changelist")
ADMIN_PRODUCT_ADD = reverse("admin:catalog_product_add")
COLUMN_MAX = "99999999.99"  # the finding's price: the largest a price column holds


def client_for(user) -> Client:
    """A signed-in client that answers a server error as the browser sees it (500), instead of
    raising it in the test; staff have given their second factor."""
    client = Client(raise_request_exception=False)
    client.force_login(user)
    if user.is_staff:
        second_factor_given(client, user)
    return client


def post_json(client: Client, url: str, body: dict):
    return client.post(url, body, content_type="application/json")


def most_expensive(name: str = "Gold bar", stock: int = 1000) -> Product:
    return ProductFactory(name=name, price=PRICE_MAX, stock=stock)


def version_of(cart: Cart) -> int:
    return Cart.objects.values_list("version", flat=True).get(pk=cart.pk)


# --- The finding's steps, one by one ------------------------------------------------------------


def test_the_staff_api_refuses_a_price_past_the_maximum(staff):
    response = post_json(client_for(staff), PRODUCTS, {"name": "Gold bar", "price": COLUMN_MAX})

    assert response.status_code == 400
    assert response.json() == {"price": [ERROR_PRICE_TOO_HIGH]}
    assert not Product.objects.exists()


def test_the_staff_api_takes_the_maximum_price_and_refuses_it_on_change(staff):
    client = client_for(staff)
    created = post_json(client, PRODUCTS, {"name": "Gold bar", "price": str(PRICE_MAX)})
    assert created.status_code == 201
    detail = reverse("catalog-api:product_detail", kwargs={"id": created.json()["id"]})

    changed = client.patch(detail, {"price": "10000.00"}, content_type="application/json")

    assert changed.status_code == 400
    assert changed.json() == {"price": [ERROR_PRICE_TOO_HIGH]}
    assert Product.objects.get().price == PRICE_MAX


def test_the_staff_api_refuses_stock_past_the_maximum(staff):
    body = {"name": "Rice", "price": "1.00", "stock": STOCK_MAX + 1}

    response = post_json(client_for(staff), PRODUCTS, body)

    assert response.status_code == 400
    assert response.json() == {"stock": [ERROR_STOCK_TOO_HIGH]}


def test_the_most_expensive_product_fills_a_line_without_a_server_error(alice):
    gold = most_expensive()

    response = post_json(client_for(alice), CART_LINES, {"product": gold.pk, "quantity": 99})

    assert response.status_code == 200
    assert response.json()["total"] == str(LINE_TOTAL_MAX) == "989999.01"


def test_adding_past_the_most_a_cart_may_come_to_is_a_clear_400(alice):
    gold, silver = most_expensive(), most_expensive("Silver bar")
    client = client_for(alice)
    post_json(client, CART_LINES, {"product": gold.pk, "quantity": QUANTITY_MAX})
    cart = cart_get_for_user(user=alice)
    before = version_of(cart)

    response = post_json(client, CART_LINES, {"product": silver.pk, "quantity": 2})

    assert response.status_code == 400
    limit = money_format(CART_TOTAL_MAX)
    assert response.json() == {
        "detail": ERROR_CART_TOTAL.format(limit=limit),
        "code": "cart_total",
    }
    assert version_of(cart) == before
    assert list(cart.lines.values_list("product_id", "quantity")) == [(gold.pk, QUANTITY_MAX)]


def test_adding_one_more_to_a_full_line_is_a_clear_400(alice):
    gold = most_expensive()
    client = client_for(alice)
    post_json(client, CART_LINES, {"product": gold.pk, "quantity": QUANTITY_MAX})

    response = post_json(client, CART_LINES, {"product": gold.pk})

    assert response.status_code == 400
    assert response.json() == {
        "detail": ERROR_LINE_FULL.format(product=gold.name),
        "code": "quantity",
    }
    assert cart_get_for_user(user=alice).lines.get().quantity == QUANTITY_MAX


def over_the_order_maximum(user) -> Cart:
    """``user``'s cart holding, line by line within the bounds, more than one order may: as a
    cart from before the bounds were set may."""
    cart = cart_get_for_user(user=user)
    for name in ("Gold bar", "Silver bar"):
        product = most_expensive(name)
        CartLine.objects.create(
            cart=cart,
            product=product,
            product_name=name,
            unit_price=PRICE_MAX,
            quantity=QUANTITY_MAX,
        )
    return cart


def test_checkout_of_a_cart_past_the_order_maximum_is_refused_and_writes_nothing(alice):
    cart = over_the_order_maximum(alice)
    stocks = list(Product.objects.values_list("stock", flat=True))

    response = client_for(alice).post(CHECKOUT, {"version": version_of(cart)})

    assert response.status_code == 400
    subtotal = money_format(LINE_TOTAL_MAX * 2)
    message = ERROR_TOO_LARGE.format(limit=money_format(ORDER_TOTAL_MAX), subtotal=subtotal)
    assert escape(message) in response.content.decode()
    assert not Order.objects.exists()
    assert list(Product.objects.values_list("stock", flat=True)) == stocks
    assert Cart.objects.get(pk=cart.pk).status == Cart.Status.OPEN


def test_a_cart_past_the_bounds_can_still_be_lowered(alice):
    cart = over_the_order_maximum(alice)
    gold = Product.objects.get(name="Gold bar")

    cart_set_quantity(cart=cart, product=gold, quantity=1)

    assert cart.lines.get(product=gold).quantity == 1


def test_replaying_the_finding_leaves_every_list_the_expiry_and_checkout_working(staff, alice, bob):
    """The finding as the tester ran it, against the pages: no step answers 5xx, and afterwards
    the order lists, ``orders_expire`` and another shopper's checkout all work."""
    staff_client, alice_client = client_for(staff), client_for(alice)
    gold = {"name": "Gold bar", "price": COLUMN_MAX, "stock": 10}
    created = post_json(staff_client, PRODUCTS, gold)
    # The store before the fix took the price; now the largest price it takes is used.
    fixed = created.status_code == 400
    product_id = most_expensive().pk if fixed else created.json()["id"]
    added = post_json(alice_client, CART_LINES, {"product": product_id, "quantity": 2})
    paid = alice_client.post(CHECKOUT, {"version": version_of(cart_get_for_user(user=alice))})
    Order.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    rice = ProductFactory(name="Rice", price=Decimal("2.00"), stock=5)
    bob_cart = cart_get_for_user(user=bob)
    cart_add_product(cart=bob_cart, product=rice)

    assert [response.status_code for response in (created, added, paid)] == [400, 200, 302]
    assert alice_client.get(ORDER_LIST).status_code == 200
    assert staff_client.get(ADMIN_ORDERS).status_code == 200
    call_command("orders_expire", stdout=io.StringIO())
    assert Order.objects.filter(status=Order.Status.EXPIRED).count() == 1
    bob_pays = client_for(bob).post(CHECKOUT, {"version": version_of(bob_cart)})
    assert bob_pays.status_code == 302
    assert Order.objects.filter(user=bob, status=Order.Status.PENDING).count() == 1


# --- The other doors: admin, CSV import, device scans, the database ----------------------------


def test_the_admin_product_form_refuses_a_price_past_the_maximum(staff):
    data = {
        "name": "Gold bar",
        "slug": "gold-bar",
        "category": "",
        "price": COLUMN_MAX,
        "stock": "1",
        "active": "on",
        "description": "",
        "barcodes-TOTAL_FORMS": "0",
        "barcodes-INITIAL_FORMS": "0",
        "barcodes-MIN_NUM_FORMS": "0",
        "barcodes-MAX_NUM_FORMS": "1000",
    }

    response = client_for(staff).post(ADMIN_PRODUCT_ADD, data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"price": [ERROR_PRICE_TOO_HIGH]}
    assert not Product.objects.exists()


def test_the_csv_import_refuses_a_price_past_the_maximum():
    assert COLUMNS[:4] == ("slug", "name", "category", "price")
    rows = (",Rice,,2.00,5,1,,", f",Gold bar,,{COLUMN_MAX},1,1,,")

    result = import_with_resource(csv_file(*rows))

    assert [(problem.line, problem.column, problem.message) for problem in result.problems] == [
        (3, "price", ERROR_PRICE_TOO_HIGH)
    ]
    assert not Product.objects.exists()


@pytest.fixture
def scanning(alice, device, device_client):
    """A device paired with alice's cart, and a product at the largest price on its shelf."""
    device_pair(device=device, cart_pass=cart_pass_issue(user=alice))
    gold = most_expensive()
    BarcodeFactory(product=gold, gtin=EAN13_GTIN)
    return device_client, gold


def scan(client: Client, qty: int = 1) -> dict:
    """The device's answer to a scan of the gold bar's barcode (201, protocol v1's shape)."""
    return scan_code(client, EAN13, qty=qty)


def test_a_scan_past_a_full_line_is_refused_within_protocol_v1(alice, scanning):
    device_client, gold = scanning
    scan(device_client, qty=QUANTITY_MAX)

    answer = scan(device_client)

    assert answer["result"] == "unknown_product"
    assert answer["product"]["id"] == gold.pk
    assert answer["display"] == display_lines(DISPLAY_LINE_FULL)
    assert answer["cart"] == {"items": QUANTITY_MAX, "total": str(LINE_TOTAL_MAX)}
    assert cart_get_for_user(user=alice).lines.get().quantity == QUANTITY_MAX


def test_a_scan_past_the_cart_total_is_refused_within_protocol_v1(alice, scanning):
    device_client, gold = scanning
    silver = most_expensive("Silver bar")
    cart_add_product(cart=cart_get_for_user(user=alice), product=silver, quantity=QUANTITY_MAX)

    answer = scan(device_client, qty=2)

    assert answer["result"] == "unknown_product"
    assert answer["display"] == display_lines(DISPLAY_CART_TOTAL)
    assert answer["cart"]["total"] == str(LINE_TOTAL_MAX)
    assert not cart_get_for_user(user=alice).lines.filter(product=gold).exists()


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(lambda: ProductFactory(price=PRICE_MAX + Decimal("0.01")), id="price"),
        pytest.param(
            lambda: CartLine.objects.create(
                cart=cart_get_for_user(user=UserFactory()),
                product_name="Rice",
                unit_price=Decimal("1.00"),
                quantity=QUANTITY_MAX + 1,
            ),
            id="cart line quantity",
        ),
        pytest.param(
            lambda: CartLine.objects.create(
                cart=cart_get_for_user(user=UserFactory()),
                product_name="Gold bar",
                unit_price=PRICE_MAX + Decimal("0.01"),
                quantity=1,
            ),
            id="cart line price",
        ),
        pytest.param(
            lambda: OrderFactory(subtotal=ORDER_TOTAL_MAX + Decimal("0.01")), id="order total"
        ),
        pytest.param(
            lambda: OrderLine.objects.create(
                order=OrderFactory(),
                product_name="Gold bar",
                unit_price=PRICE_MAX,
                quantity=QUANTITY_MAX,
                subtotal=LINE_TOTAL_MAX + Decimal("0.01"),
                total=LINE_TOTAL_MAX,
            ),
            id="order line subtotal",
        ),
        pytest.param(
            lambda: Payment.objects.create(
                order=OrderFactory(),
                gateway=Payment.Gateway.TEST,
                amount=ORDER_TOTAL_MAX + Decimal("0.01"),
                currency="EUR",
            ),
            id="payment",
        ),
    ],
)
def test_the_database_refuses_a_row_past_the_bounds(write):
    with pytest.raises(IntegrityError), transaction.atomic():
        write()
