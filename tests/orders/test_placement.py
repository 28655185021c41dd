"""``order_place``: a cart becomes a pending order once, stock and coupon counted under locks.

The concurrent cases (last units, single-use coupon) run on MariaDB in test_placement_races.py.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from carts import events
from carts.events import CartStamp, InProcessBroker
from carts.models import Cart, CartLine, StockMismatch
from carts.selectors import cart_summary
from carts.services import (
    CartError,
    cart_add_labelled_product,
    cart_add_product,
    cart_close,
    cart_get_for_user,
    cart_pass_issue,
    cart_set_quantity,
)
from carts.services.carts import ERROR_CART_CLOSED
from catalog.coupons import ERROR_COUPON_EXPIRED, ERROR_COUPON_USED_UP
from catalog.models import Coupon, Product
from devices.services import device_pair
from devices.services.scans import DISPLAY_CART_PAYING
from orders.errors import OrderError
from orders.models import CouponRedemption, Order
from orders.services import order_cancel, order_place
from orders.services import placement as placement_module
from orders.services.placement import (
    ERROR_CART_CLOSED as ERROR_ORDER_CART_CLOSED,
)
from orders.services.placement import (
    ERROR_COUPON,
    ERROR_EMPTY,
    ERROR_NOT_YOUR_CART,
    ERROR_OUT_OF_STOCK,
    ERROR_UNAVAILABLE,
)
from tests.devices.support import EAN13, EAN13_GTIN, scan_code
from tests.factories import BarcodeFactory, CategoryFactory, ProductFactory
from tests.orders.factories import OrderFactory
from tests.orders.support import cart_with, stock_of

pytestmark = pytest.mark.django_db

LABEL_CODE = "00201234001232"  # an in-store price label's GTIN-14 (the line's own code)


# --- Helpers shared with test_expiry.py and test_placement_races.py ----------------------------


def refused(cart: Cart, user) -> OrderError:
    with pytest.raises(OrderError) as caught:
        order_place(cart=cart, user=user)
    return caught.value


def assert_nothing_changed(cart: Cart, stocks: dict[Product, int]) -> None:
    assert not Order.objects.exists()
    assert Cart.objects.get(pk=cart.pk).status == Cart.Status.OPEN
    assert Cart.objects.get(pk=cart.pk).version == cart.version
    assert {product: stock_of(product) for product in stocks} == stocks


@pytest.fixture
def milk(db):
    product = ProductFactory(name="Oat milk 1 l", price=Decimal("1.99"), stock=10)
    BarcodeFactory(product=product, gtin="04006381333931")
    return product


@pytest.fixture
def bread(db):
    product = ProductFactory(name="Rye bread", price=Decimal("3.35"), stock=4)
    BarcodeFactory(product=product, gtin="04000000000020")
    return product


# --- The order ------------------------------------------------------------------------------


def test_place_snapshots_every_line_and_the_totals_the_cart_page_shows(alice, milk, bread):
    Coupon.objects.create(code="TENOFF", percent_off=Decimal("10"), description="10 % off")
    cart = cart_with(alice, (milk, 3), (bread, 1), coupon="TENOFF")
    shown = cart_summary(cart=cart)

    order = order_place(cart=cart, user=alice)

    assert (order.status, order.user, order.email) == (Order.Status.PENDING, alice, alice.email)
    assert (order.subtotal, order.discount, order.total) == (
        shown.price.subtotal,
        shown.price.discount,
        shown.price.total,
    )
    assert order.discount > 0
    assert order.coupon == Coupon.objects.get(code="TENOFF")
    assert (order.coupon_code, order.coupon_description) == ("TENOFF", "10 % off")
    lines = list(order.lines.all())
    assert [(line.product, line.product_name, line.gtin) for line in lines] == [
        (milk, "Oat milk 1 l", "04006381333931"),
        (bread, "Rye bread", "04000000000020"),
    ]
    for line, view in zip(lines, shown.lines, strict=True):
        assert (line.unit_price, line.quantity, line.scanned_quantity) == (
            view.line.unit_price,
            view.line.quantity,
            0,
        )
        assert (line.subtotal, line.discount, line.total) == (
            view.price.subtotal,
            view.price.discount,
            view.price.total,
        )
    assert sum(line.total for line in lines) == order.total


def test_order_keeps_the_cart_price_not_a_later_catalog_price(alice, milk):
    cart = cart_with(alice, (milk, 2))
    Product.objects.filter(pk=milk.pk).update(price=Decimal("9.99"), name="Renamed")

    order = order_place(cart=cart, user=alice)

    line = order.lines.get()
    assert (line.unit_price, line.product_name, order.total) == (
        Decimal("1.99"),
        "Oat milk 1 l",
        Decimal("3.98"),
    )


def test_order_has_the_store_currency_and_expires_after_the_pending_minutes(alice, milk, settings):
    settings.STORE_CURRENCY = "GBP"
    settings.ORDER_PENDING_MINUTES = 45
    cart = cart_with(alice, (milk, 1))
    before = timezone.now()

    order = order_place(cart=cart, user=alice)

    assert order.currency == "GBP"
    assert before + timedelta(minutes=45) <= order.expires_at
    assert order.expires_at <= timezone.now() + timedelta(minutes=45)


def test_line_gtin_is_the_products_first_barcode(alice):
    product = ProductFactory()
    BarcodeFactory(product=product, gtin="04000000000051")
    BarcodeFactory(product=product, gtin="04000000000013")  # lower, but added later
    cart = cart_with(alice, (product, 1))

    order = order_place(cart=cart, user=alice)

    assert order.lines.get().gtin == "04000000000051"


def test_line_of_a_product_without_barcodes_has_no_gtin(alice):
    cart = cart_with(alice, (ProductFactory(), 1))

    assert order_place(cart=cart, user=alice).lines.get().gtin == ""


def test_a_pack_priced_by_its_instore_label_keeps_the_labels_code_and_price(alice, milk):
    cart = cart_get_for_user(user=alice)
    cart_add_product(cart=cart, product=milk, quantity=1)
    cart_add_labelled_product(
        cart=cart, product=milk, label_code=LABEL_CODE, unit_price=Decimal("4.12"), quantity=2
    )

    order = order_place(cart=cart, user=alice)

    ordinary, labelled = order.lines.all()
    assert (ordinary.gtin, ordinary.unit_price, ordinary.stock_taken) == (
        "04006381333931",
        Decimal("1.99"),
        1,
    )
    assert (labelled.gtin, labelled.unit_price, labelled.quantity) == (
        LABEL_CODE,
        Decimal("4.12"),
        2,
    )
    assert (labelled.scanned_quantity, labelled.stock_taken) == (2, 2)
    assert order.total == Decimal("10.23")
    assert stock_of(milk) == 7


def test_place_moves_the_cart_to_checking_out_with_a_new_version(alice, milk):
    cart = cart_with(alice, (milk, 1))
    shown = cart.version

    order = order_place(cart=cart, user=alice)

    cart.refresh_from_db()
    assert cart.status == Cart.Status.CHECKING_OUT
    assert order.cart == cart
    assert order.cart_version == shown  # the version whose contents were ordered
    assert cart.version == shown + 1
    with pytest.raises(CartError, match=ERROR_CART_CLOSED):
        cart_add_product(cart=cart, product=milk)


def test_place_tells_the_live_cart_page_after_commit(
    alice, milk, monkeypatch, django_capture_on_commit_callbacks
):
    broker = InProcessBroker()
    monkeypatch.setattr(events, "broker", lambda: broker)
    cart = cart_with(alice, (milk, 1))
    listening = broker.subscribe(cart.pk)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        order_place(cart=cart, user=alice)
        assert listening.get(timeout=0.01) is None  # nothing before the commit
    for callback in callbacks:
        callback()

    assert listening.get(timeout=1) == CartStamp(Cart.objects.get(pk=cart.pk).version, 0)


# --- Stock ----------------------------------------------------------------------------------


def test_place_takes_web_added_units_off_stock_and_records_them(alice, milk, bread):
    cart = cart_with(alice, (milk, 3), (bread, 4))

    order = order_place(cart=cart, user=alice)

    assert (stock_of(milk), stock_of(bread)) == (7, 0)
    assert [line.stock_taken for line in order.lines.all()] == [3, 4]


def test_web_units_beyond_the_stock_are_placed_as_the_cart_page_shows_them(alice, milk, bread):
    cart = cart_with(alice, (milk, 2), (bread, 3))
    Product.objects.filter(pk=bread.pk).update(stock=2)  # sold in the store meanwhile
    shown = cart_summary(cart=cart)  # the cart page: bread lowered to what the stock covers

    order = order_place(cart=cart, user=alice)

    placed = {line.product_name: line.quantity for line in order.lines.all()}
    assert placed == {milk.name: 2, "Rye bread": 2}
    assert order.total == shown.price.total
    assert CartLine.objects.get(cart=cart, product=bread).quantity == 2  # written down
    assert stock_of(bread) == 0


def test_checkout_writes_down_web_units_only_once_scanned_ones_are_counted(alice, bread):
    cart = cart_get_for_user(user=alice)
    cart_add_product(cart=cart, product=bread, quantity=2)  # stock 4: fine on its own
    cart_add_product(cart=cart, product=bread, quantity=3, scanned=True)  # 5 in the cart

    order = order_place(cart=cart, user=alice)

    # The 3 scanned units are in the cart whatever the stock says; 1 web unit still fits.
    assert (order.lines.get().quantity, order.lines.get().stock_taken) == (4, 4)
    assert stock_of(bread) == 0


def test_a_line_out_of_stock_altogether_is_refused(alice, milk, bread):
    cart = cart_with(alice, (milk, 1), (bread, 1))
    Product.objects.filter(pk=bread.pk).update(stock=0)

    error = refused(cart, alice)

    assert (str(error), error.code) == (
        ERROR_OUT_OF_STOCK.format(product="Rye bread"),
        "out_of_stock",
    )
    assert_nothing_changed(cart, {milk: 10, bread: 0})


def test_scanned_units_are_sold_whatever_the_record_says_and_stock_stops_at_zero(alice, bread):
    cart = cart_get_for_user(user=alice)
    cart_add_product(cart=cart, product=bread, quantity=3, scanned=True)
    Product.objects.filter(pk=bread.pk).update(stock=1)
    StockMismatch.objects.all().delete()  # keep only what checkout records

    order = order_place(cart=cart, user=alice)

    line = order.lines.get()
    assert (line.quantity, line.scanned_quantity, line.stock_taken) == (3, 3, 1)
    assert stock_of(bread) == 0
    mismatch = StockMismatch.objects.get()
    assert (mismatch.product, mismatch.cart) == (bread, cart)
    assert (mismatch.quantity_in_cart, mismatch.stock_recorded) == (3, 1)


def test_scanned_units_the_stock_covers_record_no_mismatch(alice, bread):
    cart = cart_get_for_user(user=alice)
    cart_add_product(cart=cart, product=bread, quantity=2, scanned=True)

    order = order_place(cart=cart, user=alice)

    assert order.lines.get().stock_taken == 2
    assert stock_of(bread) == 2
    assert not StockMismatch.objects.exists()


# --- Refusals -------------------------------------------------------------------------------


def test_an_empty_cart_is_refused(alice):
    cart = cart_get_for_user(user=alice)

    error = refused(cart, alice)

    assert (str(error), error.code) == (ERROR_EMPTY, "empty")
    assert cart_get_for_user(user=alice).status == Cart.Status.OPEN


def test_a_line_no_longer_sold_is_refused_by_name(alice, milk, bread):
    cart = cart_with(alice, (milk, 1), (bread, 1))
    Product.objects.filter(pk=bread.pk).update(active=False)

    error = refused(cart, alice)

    assert (str(error), error.code) == (
        ERROR_UNAVAILABLE.format(product="Rye bread"),
        "unavailable",
    )
    assert_nothing_changed(cart, {milk: 10, bread: 4})


def test_a_line_whose_product_was_deleted_is_refused_by_name(alice, milk, bread):
    cart = cart_with(alice, (milk, 1), (bread, 1))
    bread.delete()

    error = refused(cart, alice)

    assert (str(error), error.code) == (
        ERROR_UNAVAILABLE.format(product="Rye bread"),
        "unavailable",
    )
    assert_nothing_changed(cart, {milk: 10})


def test_someone_elses_cart_is_refused(alice, bob, milk):
    cart = cart_with(alice, (milk, 1))

    error = refused(cart, bob)

    assert (str(error), error.code) == (ERROR_NOT_YOUR_CART, "not_your_cart")
    assert_nothing_changed(cart, {milk: 10})


def test_a_closed_cart_is_refused(alice, milk):
    cart = cart_with(alice, (milk, 1))
    cart_close(cart=cart)

    error = refused(cart, alice)

    assert (str(error), error.code) == (ERROR_ORDER_CART_CLOSED, "cart_closed")
    assert not Order.objects.exists()


# --- Once per cart version ------------------------------------------------------------------


def test_a_double_click_returns_the_same_order_and_counts_everything_once(alice, milk):
    Coupon.objects.create(code="ONCE", amount_off=Decimal("1.00"), max_uses=5)
    cart = cart_with(alice, (milk, 2), coupon="ONCE")

    first = order_place(cart=cart, user=alice)
    second = order_place(cart=cart, user=alice)  # the instance still says "open", old version

    assert second == first
    assert Order.objects.count() == 1
    assert stock_of(milk) == 8
    assert Coupon.objects.get(code="ONCE").times_used == 1
    assert CouponRedemption.objects.count() == 1


def test_after_a_cancel_the_changed_cart_makes_a_new_order(alice, milk):
    cart = cart_with(alice, (milk, 2))
    first = order_place(cart=cart, user=alice)
    order_cancel(order=first)
    cart_set_quantity(cart=cart, product=milk, quantity=1)

    second = order_place(cart=cart, user=alice)

    assert second != first
    assert second.cart_version > first.cart_version
    assert second.total == Decimal("1.99")
    assert stock_of(milk) == 9


def test_a_taken_order_number_is_drawn_again(alice, milk, monkeypatch):
    OrderFactory(number="AAAA-AAAA")
    numbers = iter(["AAAA-AAAA", "BBBB-BBBB"])
    monkeypatch.setattr(placement_module, "order_number_new", lambda: next(numbers))
    cart = cart_with(alice, (milk, 1))

    order = order_place(cart=cart, user=alice)

    assert order.number == "BBBB-BBBB"
    assert order.lines.count() == 1


def test_place_first_expires_overdue_orders_so_their_stock_is_free_again(alice, bob, bread):
    bobs = order_place(cart=cart_with(bob, (bread, 4)), user=bob)
    Order.objects.filter(pk=bobs.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert stock_of(bread) == 0
    cart = cart_get_for_user(user=alice)
    cart.lines.create(product=bread, product_name=bread.name, unit_price=bread.price, quantity=4)

    order = order_place(cart=cart, user=alice)

    assert Order.objects.get(pk=bobs.pk).status == Order.Status.EXPIRED
    assert order.lines.get().stock_taken == 4
    assert stock_of(bread) == 0


# --- Coupons --------------------------------------------------------------------------------


def test_a_coupon_use_is_counted_and_recorded_for_the_order(alice, milk):
    Coupon.objects.create(code="SAVE", amount_off=Decimal("1.00"))
    cart = cart_with(alice, (milk, 2), coupon="save")

    order = order_place(cart=cart, user=alice)

    coupon = Coupon.objects.get(code="SAVE")
    assert coupon.times_used == 1
    redemption = CouponRedemption.objects.get()
    assert (redemption.coupon, redemption.order, redemption.order.user) == (coupon, order, alice)
    assert order.total == Decimal("2.98")


def test_a_coupon_used_up_since_it_was_applied_is_refused_and_nothing_changes(alice, milk):
    Coupon.objects.create(code="LAST", amount_off=Decimal("1.00"), max_uses=1)
    cart = cart_with(alice, (milk, 2), coupon="LAST")
    Coupon.objects.filter(code="LAST").update(times_used=1)  # someone else's paid order

    error = refused(cart, alice)

    problem = ERROR_COUPON_USED_UP.format(code="LAST")
    assert (str(error), error.code) == (ERROR_COUPON.format(problem=problem), "coupon_used_up")
    assert_nothing_changed(cart, {milk: 10})
    assert Coupon.objects.get(code="LAST").times_used == 1
    assert not CouponRedemption.objects.exists()


def test_a_coupon_expired_since_it_was_applied_is_refused(alice, milk):
    Coupon.objects.create(code="SPRING", percent_off=Decimal("5"))
    cart = cart_with(alice, (milk, 1), coupon="SPRING")
    Coupon.objects.filter(code="SPRING").update(valid_until=timezone.now() - timedelta(minutes=1))

    error = refused(cart, alice)

    problem = ERROR_COUPON_EXPIRED.format(code="SPRING")
    assert (str(error), error.code) == (ERROR_COUPON.format(problem=problem), "coupon_expired")
    assert_nothing_changed(cart, {milk: 10})


def test_a_coupon_that_takes_nothing_off_is_neither_kept_nor_counted(alice, milk):
    Coupon.objects.create(code="BIG", amount_off=Decimal("5.00"), min_subtotal=Decimal("50"))
    cart = cart_with(alice, (milk, 1), coupon="BIG")

    order = order_place(cart=cart, user=alice)

    assert (order.coupon, order.coupon_code, order.discount) == (None, "", Decimal("0.00"))
    assert Coupon.objects.get(code="BIG").times_used == 0
    assert not CouponRedemption.objects.exists()


def test_a_category_coupon_discounts_only_its_lines_in_the_snapshot(alice, milk, bread):
    bakery = CategoryFactory(name="Bakery")
    Product.objects.filter(pk=bread.pk).update(category=bakery)
    Coupon.objects.create(code="BAKERY", percent_off=Decimal("50"), category=bakery)
    cart = cart_with(alice, (milk, 1), (bread, 2), coupon="BAKERY")

    order = order_place(cart=cart, user=alice)

    milk_line, bread_line = order.lines.all()
    assert (milk_line.discount, bread_line.discount) == (Decimal("0.00"), Decimal("3.35"))
    assert order.total == Decimal("1.99") + Decimal("3.35")


def test_a_percentage_coupon_is_snapshotted_as_pricing_shares_it(alice):
    # Issue 19: 10 % off €34.90 is €3.49 off, shared out by largest remainder.
    Coupon.objects.create(code="TENOFF", percent_off=Decimal("10"))
    prices = ["2.45", "3.95", "8.15", "6.75", "13.60"]
    products = [ProductFactory(price=Decimal(price), stock=5) for price in prices]
    cart = cart_with(alice, *((product, 1) for product in products), coupon="TENOFF")

    order = order_place(cart=cart, user=alice)

    assert (order.subtotal, order.discount, order.total) == (
        Decimal("34.90"),
        Decimal("3.49"),
        Decimal("31.41"),
    )
    discounts = [line.discount for line in order.lines.order_by("pk")]
    assert discounts == [Decimal(d) for d in ("0.25", "0.40", "0.81", "0.67", "1.36")]
    assert sum(line.total for line in order.lines.all()) == order.total


# --- Cost -----------------------------------------------------------------------------------


# Placing a one-line cart with a coupon (23 when measured, one more for a coupon with a
# per-shopper limit); each further product adds one stock UPDATE.
QUERIES_ONE_LINE = 24


def placement_queries(user, product_count: int) -> int:
    Coupon.objects.get_or_create(code="COST", defaults={"percent_off": Decimal("10")})
    products = [ProductFactory(stock=5) for _ in range(product_count)]
    cart = cart_with(user, *((product, 2) for product in products), coupon="COST")
    with CaptureQueriesContext(connection) as queries:
        order_place(cart=cart, user=user)
    return len(queries)


def test_placement_costs_a_fixed_number_of_queries_plus_one_per_product(alice, bob):
    one = placement_queries(alice, 1)
    six = placement_queries(bob, 6)

    # Locks, pricing, snapshot lines and barcodes are read and written in bulk.
    assert six - one == 5


def test_placing_a_three_line_cart_stays_within_its_query_budget(
    alice, django_assert_max_num_queries
):
    cart = cart_with(alice, *((ProductFactory(), 1) for _ in range(3)))

    with django_assert_max_num_queries(QUERIES_ONE_LINE + 2):
        order_place(cart=cart, user=alice)


# --- A cart device while the cart is paid for ----------------------------------------------


def test_a_device_scanning_into_a_cart_being_paid_for_hears_cart_closed_and_stays_paired(
    device_client, device, alice
):
    product = BarcodeFactory(gtin=EAN13_GTIN, product=ProductFactory(stock=5)).product
    cart = device_pair(device=device, cart_pass=cart_pass_issue(user=alice)).cart
    cart_add_product(cart=cart, product=product, quantity=1)
    order = order_place(cart=cart, user=alice)

    answer = scan_code(device_client, EAN13)

    assert answer["result"] == "cart_closed"
    assert answer["beep"] == "error"
    assert answer["display"] == list(DISPLAY_CART_PAYING)
    assert Cart.objects.get(pk=cart.pk).lines.get().quantity == 1

    order_cancel(order=order)  # the shopper went back to the cart: scanning works again

    assert scan_code(device_client, EAN13)["result"] == "added"
    assert Cart.objects.get(pk=cart.pk).lines.get().quantity == 2
