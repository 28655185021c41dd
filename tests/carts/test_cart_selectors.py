"""The cart as shoppers see it: line status, totals, constant query count."""

from decimal import Decimal

import pytest

from carts.models import Cart
from carts.selectors import (
    LINE_OK,
    LINE_OUT_OF_STOCK,
    LINE_UNAVAILABLE,
    MESSAGE_CLAMPED,
    CartLineRow,
    cart_get_current,
    cart_line_rows,
    cart_summary,
    cart_totals_of_locked,
)
from carts.services import (
    cart_add_labelled_product,
    cart_add_product,
    cart_apply_coupon,
    cart_get_for_user,
)
from catalog.models import Coupon
from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_lines_show_their_status_and_only_sellable_lines_count(alice):
    cart = cart_get_for_user(user=alice)
    milk = ProductFactory(price=Decimal("2.00"), stock=5)
    gone = ProductFactory(price=Decimal("3.00"), stock=5)
    empty = ProductFactory(price=Decimal("4.00"), stock=5)
    scanned = ProductFactory(price=Decimal("5.00"), stock=5)
    for product in (milk, gone, empty):
        cart_add_product(cart=cart, product=product)
    cart_add_product(cart=cart, product=scanned, scanned=True)
    gone.active = False
    gone.save()
    empty.stock = 0
    empty.save()
    scanned.stock = 0  # scanned goods are in the cart whatever the stock says
    scanned.save()

    summary = cart_summary(cart=cart)

    assert [view.status for view in summary.lines] == [
        LINE_OK,
        LINE_UNAVAILABLE,
        LINE_OUT_OF_STOCK,
        LINE_OK,
    ]
    assert summary.price.total == Decimal("7.00")
    assert summary.item_count == 2
    assert not summary.can_check_out


def test_coupon_discount_shows_in_the_summary(alice):
    cart = cart_get_for_user(user=alice)
    cart_add_product(cart=cart, product=ProductFactory(price=Decimal("10.00"), stock=5))
    Coupon.objects.create(code="TEN", percent_off=Decimal("10"))
    cart_apply_coupon(cart=cart, code="ten")

    summary = cart_summary(cart=cart)

    assert (summary.price.discount, summary.price.total) == (Decimal("1.00"), Decimal("9.00"))
    assert summary.can_check_out


@pytest.mark.parametrize("line_count", [1, 10, 50])
def test_summary_query_count_does_not_grow_with_lines(
    alice, line_count, django_assert_max_num_queries
):
    cart = cart_get_for_user(user=alice)
    category = CategoryFactory()
    for _ in range(line_count):
        cart_add_product(cart=cart, product=ProductFactory(category=category, stock=3))
    Coupon.objects.create(code="C", percent_off=Decimal("5"), category=category)
    cart_apply_coupon(cart=cart, code="C")

    with django_assert_max_num_queries(2):
        summary = cart_summary(cart=cart)
        assert len(summary.lines) == line_count


def test_device_totals_are_the_summarys_count_and_total(alice, django_assert_max_num_queries):
    cart = cart_get_for_user(user=alice)
    fruit = CategoryFactory()
    apples = ProductFactory(price=Decimal("0.99"), stock=50, category=fruit)
    pears = ProductFactory(price=Decimal("1.37"), stock=5, category=fruit)
    milk = ProductFactory(price=Decimal("2.00"), stock=5)
    gone = ProductFactory(price=Decimal("3.00"), stock=5, category=fruit)
    empty = ProductFactory(price=Decimal("4.00"), stock=5)
    scanned = ProductFactory(price=Decimal("5.00"), stock=5)
    deleted = ProductFactory(price=Decimal("6.00"), stock=5)
    cart_add_product(cart=cart, product=apples, quantity=7)
    cart_add_product(cart=cart, product=pears, quantity=3)
    for product in (milk, gone, empty, deleted):
        cart_add_product(cart=cart, product=product)
    cart_add_product(cart=cart, product=scanned, scanned=True)
    label = "0291234500599"
    cart_add_labelled_product(
        cart=cart, product=apples, label_code=label, unit_price=Decimal("5.99"), quantity=2
    )
    Coupon.objects.create(
        code="FRUIT", percent_off=Decimal("15"), amount_off=Decimal("0.50"), category=fruit
    )
    cart_apply_coupon(cart=cart, code="FRUIT")
    gone.active = False
    gone.save()
    empty.stock = 0
    empty.save()
    scanned.stock = 0
    scanned.save()
    deleted.delete()
    summary = cart_summary(cart=cart)
    locked = Cart.objects.get(pk=cart.pk)

    with django_assert_max_num_queries(2):  # the lines, the coupon
        totals = cart_totals_of_locked(cart=locked)

    assert summary.price.discount > 0
    assert (totals.item_count, totals.total) == (summary.item_count, summary.price.total)
    # 30.02 of goods; 15 % of the fruit's 23.02 is 3.45 (rounded once), plus 0.50 off.
    assert (totals.item_count, totals.total) == (14, Decimal("26.07"))


def test_web_units_beyond_the_stock_are_shown_lowered_and_priced_so_without_writing(
    alice, django_assert_max_num_queries
):
    cart = cart_get_for_user(user=alice)
    milk = ProductFactory(name="Milk", price=Decimal("2.00"), stock=10)
    cart_add_product(cart=cart, product=milk, quantity=4)
    cart_add_product(cart=cart, product=milk, quantity=2, scanned=True)
    milk.stock = 3  # the 2 scanned stay whatever the stock; 1 web unit is still covered
    milk.save()

    with django_assert_max_num_queries(2):
        summary = cart_summary(cart=cart)
    totals = cart_totals_of_locked(cart=Cart.objects.get(pk=cart.pk))

    view = summary.lines[0]
    assert (view.line.quantity, view.quantity) == (6, 3)
    assert (summary.item_count, summary.price.total) == (3, Decimal("6.00"))
    assert (totals.item_count, totals.total) == (3, Decimal("6.00"))
    assert summary.notices == (MESSAGE_CLAMPED.format(stock=3, product="Milk", quantity=3),)
    assert cart.lines.get().quantity == 6


def test_line_rows_are_what_the_orm_reads(alice, django_assert_max_num_queries):
    cart = cart_get_for_user(user=alice)
    cheap = ProductFactory(price=Decimal("0.99"), stock=5)
    dear = ProductFactory(price=Decimal("9999.99"), stock=500)
    round_price = ProductFactory(price=Decimal("2.00"), stock=5)
    gone = ProductFactory(price=Decimal("1.15"), stock=5)
    for product in (cheap, dear, round_price, gone):
        cart_add_product(cart=cart, product=product, quantity=2)
    cart_add_product(cart=cart, product=cheap, quantity=1, scanned=True)
    cart_add_labelled_product(
        cart=cart, product=dear, label_code="0291234500599", unit_price=Decimal("12.34")
    )
    gone.active = False
    gone.save()
    round_price.delete()
    columns = ["pk", "product_id", "label_code", "product_name", "unit_price", "quantity"]
    columns += ["scanned_quantity", "product__active", "product__stock", "product__category_id"]
    expected = sorted(cart.lines.values_list(*columns))

    with django_assert_max_num_queries(1):
        rows = cart_line_rows(cart=cart)

    read = sorted(tuple(getattr(row, field) for field in CartLineRow.__slots__) for row in rows)
    assert read == expected
    assert all(str(row.unit_price).count(".") == 1 for row in rows)  # cents, as stored
    assert {str(row.unit_price) for row in rows} == {"0.99", "9999.99", "2.00", "1.15", "12.34"}


def test_device_totals_of_an_empty_cart_are_zero(alice):
    cart = cart_get_for_user(user=alice)

    totals = cart_totals_of_locked(cart=cart)

    assert (totals.item_count, totals.total) == (0, Decimal("0.00"))


def test_current_cart_is_found_without_creating_one(alice, bob):
    assert cart_get_current(user=alice) is None
    cart = cart_get_for_user(user=alice)

    assert cart_get_current(user=alice) == cart
    assert cart_get_current(user=bob) is None
    assert cart_get_current() is None
