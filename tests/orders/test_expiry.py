"""Cancelling and expiring pending orders: stock, coupon use and the cart come back, once."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from carts.models import Cart
from carts.services import cart_add_product, cart_close, cart_get_for_user
from catalog.models import Coupon, Product
from orders.management.commands.orders_expire import MESSAGE_EXPIRED
from orders.models import CouponRedemption, Order
from orders.services import order_cancel, order_place, orders_expire_pending
from orders.tasks import orders_expire_pending as orders_expire_pending_task
from shopcart.celery import app as celery_app
from tests.factories import ProductFactory
from tests.orders.factories import PaidOrderFactory
from tests.orders.support import cart_with, stock_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def tea(db):
    return ProductFactory(name="Green tea", price=Decimal("4.00"), stock=5)


@pytest.fixture
def coupon(db):
    return Coupon.objects.create(code="WELCOME", amount_off=Decimal("1.00"), max_uses=10)


def placed(user, tea, quantity: int = 2, coupon: str = "") -> Order:
    return order_place(cart=cart_with(user, (tea, quantity), coupon=coupon), user=user)


def overdue(order: Order) -> Order:
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    return order


def assert_given_back(order: Order, tea: Product, coupon: Coupon) -> None:
    assert stock_of(tea) == 5
    coupon.refresh_from_db()
    assert coupon.times_used == 0
    assert not CouponRedemption.objects.filter(order=order).exists()
    assert Cart.objects.get(pk=order.cart_id).status == Cart.Status.OPEN


# --- Cancelling -----------------------------------------------------------------------------


def test_cancel_gives_stock_and_coupon_use_back_and_opens_the_cart(alice, tea, coupon):
    order = placed(alice, tea, coupon="WELCOME")
    version = Cart.objects.get(pk=order.cart_id).version

    cancelled = order_cancel(order=order)

    assert cancelled.status == Order.Status.CANCELLED
    assert cancelled.closed_at is not None
    assert Order.objects.get(pk=order.pk).status == Order.Status.CANCELLED
    assert_given_back(order, tea, coupon)
    assert Cart.objects.get(pk=order.cart_id).version > version  # the cart page re-reads it


def test_cancel_again_changes_nothing(alice, tea, coupon):
    order = placed(alice, tea, coupon="WELCOME")
    order_cancel(order=order)
    cart_add_product(cart=cart_get_for_user(user=alice), product=tea)  # the shopper edits on

    again = order_cancel(order=order)

    assert again.status == Order.Status.CANCELLED
    assert stock_of(tea) == 5
    assert Coupon.objects.get(pk=coupon.pk).times_used == 0
    assert Cart.objects.get(pk=order.cart_id).status == Cart.Status.OPEN


def test_cancel_leaves_a_paid_order_as_it_is(alice):
    order = PaidOrderFactory(user=alice)

    assert order_cancel(order=order).status == Order.Status.PAID
    assert Order.objects.get(pk=order.pk).closed_at is None


def test_cancel_leaves_a_cart_closed_meanwhile_closed(alice, tea):
    order = placed(alice, tea)
    cart_close(cart=order.cart)

    order_cancel(order=order)

    assert Cart.objects.get(pk=order.cart_id).status == Cart.Status.CLOSED
    assert stock_of(tea) == 5


def test_cancel_gives_back_only_what_scanned_units_took(alice):
    product = ProductFactory(stock=3)
    cart = cart_get_for_user(user=alice)
    cart_add_product(cart=cart, product=product, quantity=4, scanned=True)
    Product.objects.filter(pk=product.pk).update(stock=1)
    order = order_place(cart=cart, user=alice)
    assert stock_of(product) == 0

    order_cancel(order=order)

    assert stock_of(product) == 1


def test_cancel_lets_the_shopper_use_a_once_per_shopper_coupon_again(alice, tea):
    Coupon.objects.create(code="ONCEEACH", amount_off=Decimal("1.00"), max_uses_per_shopper=1)
    first = placed(alice, tea, coupon="ONCEEACH")
    order_cancel(order=first)

    second = order_place(cart=cart_get_for_user(user=alice), user=alice)

    assert second.coupon_code == "ONCEEACH"
    assert CouponRedemption.objects.get().order == second


def test_a_cancelled_order_without_a_cart_still_gives_stock_back(alice, tea):
    order = placed(alice, tea)
    Order.objects.filter(pk=order.pk).update(cart=None)

    order_cancel(order=order)

    assert stock_of(tea) == 5


# --- Expiring -------------------------------------------------------------------------------


def test_expire_ends_only_overdue_pending_orders_and_gives_back(alice, bob, tea, coupon):
    on_time = placed(bob, tea, quantity=1)
    late = overdue(placed(alice, tea, coupon="WELCOME"))
    paid_long_ago = overdue(PaidOrderFactory())

    assert orders_expire_pending() == 1

    late.refresh_from_db()
    assert (late.status, late.closed_at is not None) == (Order.Status.EXPIRED, True)
    assert Order.objects.get(pk=on_time.pk).status == Order.Status.PENDING
    assert Order.objects.get(pk=paid_long_ago.pk).status == Order.Status.PAID
    assert stock_of(tea) == 4  # bob's one is still held
    assert Coupon.objects.get(pk=coupon.pk).times_used == 0
    assert Cart.objects.get(pk=late.cart_id).status == Cart.Status.OPEN


def test_expire_again_changes_nothing(alice, tea):
    overdue(placed(alice, tea))
    orders_expire_pending()

    assert orders_expire_pending() == 0
    assert stock_of(tea) == 5


def test_expire_goes_by_the_time_it_is_given(alice, tea):
    order = placed(alice, tea)

    assert orders_expire_pending(now=order.expires_at - timedelta(seconds=1)) == 0
    assert orders_expire_pending(now=order.expires_at) == 1


def test_expire_with_a_limit_ends_the_oldest_first(alice, bob, tea):
    bobs = placed(bob, tea, quantity=1)
    alices = overdue(placed(alice, tea, quantity=1))
    Order.objects.filter(pk=bobs.pk).update(expires_at=timezone.now() - timedelta(hours=1))

    assert orders_expire_pending(limit=1) == 1

    assert Order.objects.get(pk=bobs.pk).status == Order.Status.EXPIRED
    assert Order.objects.get(pk=alices.pk).status == Order.Status.PENDING


def test_placing_after_an_expiry_makes_a_new_order(alice, tea):
    order = overdue(placed(alice, tea))
    orders_expire_pending()
    cart = Cart.objects.get(pk=order.cart_id)

    again = order_place(cart=cart, user=alice)

    assert again != order
    assert again.status == Order.Status.PENDING
    assert stock_of(tea) == 3


# --- Running it -----------------------------------------------------------------------------


def test_the_beat_schedule_names_the_expiry_task(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE["orders-expire-pending"]

    assert schedule["task"] == orders_expire_pending_task.name
    assert orders_expire_pending_task.name in celery_app.tasks


def test_the_task_expires_overdue_orders(alice, tea):
    overdue(placed(alice, tea))

    assert orders_expire_pending_task.delay().get() == 1
    assert stock_of(tea) == 5


def test_the_command_expires_overdue_orders_and_says_how_many(alice, tea, capsys):
    overdue(placed(alice, tea))

    call_command("orders_expire")

    assert capsys.readouterr().out.strip() == MESSAGE_EXPIRED.format(count=1)
    assert stock_of(tea) == 5
