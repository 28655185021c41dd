"""Cart services: quantities, stock rules, coupons, merging, closing, versions."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from carts import events
from carts.events import CartStamp, InProcessBroker
from carts.models import Cart, CartLine, StockMismatch
from carts.services import (
    MESSAGE_CLAMPED,
    MESSAGE_MERGED,
    CartError,
    cart_add_product,
    cart_apply_coupon,
    cart_clear,
    cart_close,
    cart_delete_line,
    cart_delete_unavailable_line,
    cart_get_for_session,
    cart_get_for_user,
    cart_lock,
    cart_merge,
    cart_remove_coupon,
    cart_remove_product,
    cart_set_quantity,
)
from carts.services.carts import (
    ERROR_CART_CLOSED,
    ERROR_COUPON_BLANK,
    ERROR_NO_MORE_STOCK,
    ERROR_NOT_IN_CART,
    ERROR_OUT_OF_STOCK,
    ERROR_QUANTITY,
    ERROR_UNAVAILABLE,
)
from catalog.coupons import (
    ERROR_COUPON_EXPIRED,
    ERROR_COUPON_NOT_YET,
    ERROR_COUPON_UNKNOWN,
    ERROR_COUPON_USED_BY_YOU,
    ERROR_COUPON_USED_UP,
)
from catalog.models import Coupon
from orders.models import CouponRedemption
from tests.factories import ProductFactory
from tests.orders.factories import OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cart(alice):
    return cart_get_for_user(user=alice)


def quantity_of(cart, product) -> int:
    line = CartLine.objects.filter(cart=cart, product=product).first()
    return line.quantity if line else 0


def test_a_shopper_has_one_current_cart(alice):
    first = cart_get_for_user(user=alice)

    assert cart_get_for_user(user=alice) == first
    with pytest.raises(IntegrityError), transaction.atomic():
        Cart.objects.create(owner=alice)


def test_a_closed_cart_makes_room_for_a_new_one(alice, cart):
    cart_close(cart=cart)

    assert cart_get_for_user(user=alice) != cart


def test_anonymous_session_gets_its_own_cart():
    cart = cart_get_for_session(session_key="abc")

    assert cart.owner is None
    assert cart_get_for_session(session_key="abc") == cart
    assert cart_get_for_session(session_key="xyz") != cart


def test_add_captures_the_price_and_adds_up(cart, milk):
    cart_add_product(cart=cart, product=milk)
    milk.price = Decimal("9.99")
    milk.save()
    cart_add_product(cart=cart, product=milk, quantity=2)

    line = CartLine.objects.get(cart=cart, product=milk)
    assert (line.quantity, line.unit_price, line.product_name) == (3, Decimal("1.15"), "Milk")


@pytest.mark.parametrize("quantity", [0, -1, 100])
def test_add_refuses_quantities_outside_1_to_99(cart, milk, quantity):
    # A negative quantity would take a cart below zero.
    with pytest.raises(CartError) as excinfo:
        cart_add_product(cart=cart, product=milk, quantity=quantity)

    assert str(excinfo.value) == ERROR_QUANTITY
    assert quantity_of(cart, milk) == 0


def test_web_addition_is_clamped_to_stock_with_a_message(cart, milk):
    change = cart_add_product(cart=cart, product=milk, quantity=8)

    assert quantity_of(cart, milk) == 5
    assert change.messages == (MESSAGE_CLAMPED.format(stock=5, product="Milk", quantity=5),)


def test_web_addition_beyond_what_is_left_is_refused(cart, milk):
    cart_add_product(cart=cart, product=milk, quantity=5)

    with pytest.raises(CartError) as excinfo:
        cart_add_product(cart=cart, product=milk)

    assert str(excinfo.value) == ERROR_NO_MORE_STOCK.format(stock=5, product="Milk")


def test_web_addition_of_a_product_out_of_stock_is_refused(cart):
    empty = ProductFactory(name="Eggs", stock=0)

    with pytest.raises(CartError) as excinfo:
        cart_add_product(cart=cart, product=empty)

    assert (str(excinfo.value), excinfo.value.code) == (
        ERROR_OUT_OF_STOCK.format(product="Eggs"),
        "out_of_stock",
    )


def test_scanned_goods_are_accepted_beyond_stock_and_reported_to_staff(cart, milk):
    cart_add_product(cart=cart, product=milk, quantity=7, scanned=True)

    line = CartLine.objects.get(cart=cart, product=milk)
    assert (line.quantity, line.scanned_quantity) == (7, 7)
    mismatch = StockMismatch.objects.get()
    assert (mismatch.product, mismatch.quantity_in_cart, mismatch.stock_recorded) == (milk, 7, 5)


def test_inactive_product_cannot_be_added(cart, milk):
    milk.active = False
    milk.save()

    with pytest.raises(CartError) as excinfo:
        cart_add_product(cart=cart, product=milk, scanned=True)

    assert str(excinfo.value) == ERROR_UNAVAILABLE.format(product="Milk")


def test_remove_takes_one_and_the_line_goes_at_zero(cart, milk):
    cart_add_product(cart=cart, product=milk, quantity=2)

    cart_remove_product(cart=cart, product=milk)
    assert quantity_of(cart, milk) == 1
    change = cart_remove_product(cart=cart, product=milk)

    assert change.line is None
    assert not CartLine.objects.filter(cart=cart).exists()


def test_remove_of_a_product_not_in_the_cart_says_so(cart, milk):
    with pytest.raises(CartError) as excinfo:
        cart_remove_product(cart=cart, product=milk, scanned=True)

    assert (str(excinfo.value), excinfo.value.code) == (
        ERROR_NOT_IN_CART.format(product="Milk"),
        "not_in_cart",
    )


def test_scanned_removal_takes_from_the_scanned_part(cart, milk):
    cart_add_product(cart=cart, product=milk, quantity=2, scanned=True)
    cart_add_product(cart=cart, product=milk, quantity=1)

    cart_remove_product(cart=cart, product=milk, scanned=True)

    line = CartLine.objects.get(cart=cart, product=milk)
    assert (line.quantity, line.scanned_quantity) == (2, 1)


def test_set_quantity_sets_and_clamps_to_stock(cart, milk):
    cart_set_quantity(cart=cart, product=milk, quantity=3)
    assert quantity_of(cart, milk) == 3

    change = cart_set_quantity(cart=cart, product=milk, quantity=9)

    assert quantity_of(cart, milk) == 5
    assert change.messages == (MESSAGE_CLAMPED.format(stock=5, product="Milk", quantity=5),)


def test_set_quantity_keeps_what_was_scanned_even_beyond_stock(cart, milk):
    cart_add_product(cart=cart, product=milk, quantity=7, scanned=True)

    cart_set_quantity(cart=cart, product=milk, quantity=9)

    assert quantity_of(cart, milk) == 7


@pytest.mark.parametrize("quantity", [0, -3])
def test_set_quantity_refuses_zero_and_negative(cart, milk, quantity):
    cart_add_product(cart=cart, product=milk)

    with pytest.raises(CartError):
        cart_set_quantity(cart=cart, product=milk, quantity=quantity)

    assert quantity_of(cart, milk) == 1


def test_delete_line_and_clear(cart, milk):
    bread = ProductFactory()
    cart_add_product(cart=cart, product=milk)
    cart_add_product(cart=cart, product=bread)

    cart_delete_line(cart=cart, product_id=milk.pk)
    assert list(cart.lines.values_list("product", flat=True)) == [bread.pk]
    cart_clear(cart=cart)
    assert not cart.lines.exists()


def test_a_line_whose_product_was_deleted_stays_and_can_be_removed(cart, milk):
    cart_add_product(cart=cart, product=milk)
    milk.barcodes.all().delete()
    milk.delete()
    line = CartLine.objects.get(cart=cart)
    assert (line.product, line.product_name) == (None, "Milk")

    cart_delete_unavailable_line(cart=cart, line_id=line.pk)

    assert not cart.lines.exists()


def test_a_change_writes_first_what_stock_no_longer_covers_and_says_so(cart, milk):
    bread = ProductFactory(name="Bread", stock=10)
    cart_add_product(cart=cart, product=milk, quantity=4)
    milk.stock = 2
    milk.save()
    version = Cart.objects.get(pk=cart.pk).version

    change = cart_add_product(cart=cart, product=bread)

    assert quantity_of(cart, milk) == 2
    assert change.messages == (MESSAGE_CLAMPED.format(stock=2, product="Milk", quantity=2),)
    assert Cart.objects.get(pk=cart.pk).version == version + 1  # the addition's bump only


def test_a_change_applies_to_the_quantity_stock_still_covers(cart, milk):
    cart_add_product(cart=cart, product=milk, quantity=4)
    milk.stock = 2
    milk.save()

    cart_remove_product(cart=cart, product=milk)  # the page showed 2: one less is 1

    assert quantity_of(cart, milk) == 1


def test_lines_locked_lowers_only_web_units_beyond_the_stock(cart, milk):
    cart_add_product(cart=cart, product=milk, quantity=2)
    cart_add_product(cart=cart, product=milk, quantity=3, scanned=True)
    empty = ProductFactory(name="Eggs", stock=3)
    cart_add_product(cart=cart, product=empty, quantity=2)
    milk.stock = 1  # the 3 scanned stay, the web units go
    milk.save()
    empty.stock = 0  # out of stock altogether: kept, for the shopper to remove
    empty.save()

    with transaction.atomic():
        lines = cart_lock(cart).lines
        assert cart_lock(cart).lines.messages == ()  # written: nothing left to lower

    assert lines.messages == (MESSAGE_CLAMPED.format(stock=1, product="Milk", quantity=3),)
    assert (quantity_of(cart, milk), quantity_of(cart, empty)) == (3, 2)


def test_every_change_bumps_the_version_and_is_published_after_commit(
    cart, milk, monkeypatch, django_capture_on_commit_callbacks
):
    broker = InProcessBroker()
    monkeypatch.setattr(events, "broker", lambda: broker)
    listener = broker.subscribe(cart.pk)
    start = cart.version

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        cart_add_product(cart=cart, product=milk)
        cart_set_quantity(cart=cart, product=milk, quantity=3)
        cart_remove_product(cart=cart, product=milk)
    assert listener.get(timeout=0.01) is None  # nothing before the commit
    for callback in callbacks:
        callback()

    cart.refresh_from_db()
    assert cart.version == start + 3
    assert listener.get(timeout=1) == CartStamp(start + 3, 0)  # web edits: no scan


def test_a_locked_cart_is_changed_in_the_callers_transaction_with_its_lines_in_place(
    cart, milk, django_assert_num_queries
):
    with transaction.atomic():
        locked = cart_lock(cart)
        start = locked.cart.version
        cart_add_product(cart=locked, product=milk, quantity=2, scanned=True)
        with django_assert_num_queries(2):  # the line's UPDATE, the cart's: no read again
            cart_remove_product(cart=locked, product=milk, scanned=True)

        assert locked.cart.version == start + 2
        assert [row.quantity for row in locked.lines.rows] == [1]
    assert Cart.objects.get(pk=cart.pk).version == start + 2
    assert quantity_of(cart, milk) == 1


def test_a_write_refused_on_a_locked_cart_leaves_the_callers_transaction_usable(cart, milk):
    cart_add_product(cart=cart, product=milk)
    cart_close(cart=cart)

    with transaction.atomic():
        closed = cart_lock(cart)
        with pytest.raises(CartError) as excinfo:
            cart_remove_product(cart=closed, product=milk)
        assert excinfo.value.code == "cart_closed"
        # Nothing was written, and the transaction still answers.
        assert cart_lock(cart).cart.status == Cart.Status.CLOSED

    assert quantity_of(cart, milk) == 1
    assert Cart.objects.get(pk=cart.pk).version == closed.cart.version


def test_closed_cart_refuses_changes(cart, milk):
    cart_close(cart=cart)

    with pytest.raises(CartError) as excinfo:
        cart_add_product(cart=cart, product=milk, scanned=True)

    assert (str(excinfo.value), excinfo.value.code) == (ERROR_CART_CLOSED, "cart_closed")


def test_close_is_idempotent(cart):
    cart_close(cart=cart)
    closed_at = Cart.objects.get(pk=cart.pk).closed_at

    cart_close(cart=cart)

    assert Cart.objects.get(pk=cart.pk).closed_at == closed_at


# --- Merging --------------------------------------------------------------------------------


def test_merge_adds_quantities_clamped_to_stock_and_closes_the_anonymous_cart(cart, milk):
    bread = ProductFactory(name="Bread", stock=10)
    anonymous = cart_get_for_session(session_key="visitor")
    cart_add_product(cart=anonymous, product=milk, quantity=4)
    cart_add_product(cart=anonymous, product=bread, quantity=2)
    cart_add_product(cart=cart, product=milk, quantity=3)

    messages = cart_merge(source=anonymous, target=cart)

    assert (quantity_of(cart, milk), quantity_of(cart, bread)) == (5, 2)
    assert messages[0] == MESSAGE_MERGED.format(count=6)
    assert MESSAGE_CLAMPED.format(stock=5, product="Milk", quantity=5) in messages
    anonymous.refresh_from_db()
    assert anonymous.status == Cart.Status.CLOSED


def test_merging_twice_changes_nothing(cart, milk):
    anonymous = cart_get_for_session(session_key="visitor")
    cart_add_product(cart=anonymous, product=milk, quantity=2)
    cart_merge(source=anonymous, target=cart)

    assert cart_merge(source=anonymous, target=cart) == ()
    assert quantity_of(cart, milk) == 2


# --- Coupons --------------------------------------------------------------------------------


def make_coupon(**terms) -> Coupon:
    terms.setdefault("percent_off", Decimal("10"))
    return Coupon.objects.create(code="SAVE10", **terms)


def test_apply_coupon_in_any_case_and_remove_it(cart):
    coupon = make_coupon()

    cart_apply_coupon(cart=cart, code="save10 ")
    assert Cart.objects.get(pk=cart.pk).coupon == coupon
    cart_remove_coupon(cart=cart)
    assert Cart.objects.get(pk=cart.pk).coupon is None


@pytest.mark.parametrize(
    ("terms", "message"),
    [
        ({"active": False}, ERROR_COUPON_UNKNOWN),
        ({"valid_from": timezone.now() + timedelta(days=1)}, ERROR_COUPON_NOT_YET),
        ({"valid_until": timezone.now() - timedelta(days=1)}, ERROR_COUPON_EXPIRED),
        ({"max_uses": 1, "times_used": 1}, ERROR_COUPON_USED_UP),
    ],
)
def test_coupon_that_cannot_be_used_now_is_refused(cart, terms, message):
    times_used = terms.pop("times_used", 0)
    coupon = make_coupon(**terms)
    Coupon.objects.filter(pk=coupon.pk).update(times_used=times_used)

    with pytest.raises(CartError) as excinfo:
        cart_apply_coupon(cart=cart, code="SAVE10")

    assert str(excinfo.value) == message.format(code="SAVE10")
    assert Cart.objects.get(pk=cart.pk).coupon is None


def test_unknown_coupon_is_refused(cart):
    with pytest.raises(CartError) as excinfo:
        cart_apply_coupon(cart=cart, code="nope")

    assert str(excinfo.value) == ERROR_COUPON_UNKNOWN.format(code="NOPE")


@pytest.mark.parametrize("code", ["", "   "])
def test_blank_coupon_code_is_refused_with_its_own_message(cart, code):
    with pytest.raises(CartError) as excinfo:
        cart_apply_coupon(cart=cart, code=code)

    assert (str(excinfo.value), excinfo.value.code) == (ERROR_COUPON_BLANK, "coupon_blank")


def test_coupon_used_up_by_this_shopper_is_refused_but_others_may_use_it(alice, bob, cart):
    coupon = make_coupon(max_uses_per_shopper=1)
    CouponRedemption.objects.create(coupon=coupon, order=OrderFactory(user=alice))

    with pytest.raises(CartError) as excinfo:
        cart_apply_coupon(cart=cart, code="SAVE10")
    cart_apply_coupon(cart=cart_get_for_user(user=bob), code="SAVE10")

    assert str(excinfo.value) == ERROR_COUPON_USED_BY_YOU.format(code="SAVE10")
