"""Concurrent checkouts on MariaDB/MySQL: never oversell, never redeem a coupon twice.

SQLite ignores ``select_for_update`` and the test database lives in memory, so these run only
on MySQL/MariaDB (CI's second run); on SQLite they are skipped with the reason printed.
"""

import threading
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from catalog.models import Coupon
from orders.errors import OrderError
from orders.models import CouponRedemption, Order
from orders.services import order_cancel, order_place, orders_expire_pending
from tests.factories import ProductFactory, UserFactory
from tests.orders.support import cart_with, stock_of

pytestmark = [pytest.mark.mysql, pytest.mark.django_db(transaction=True)]


def run_at_once(works: list[Callable[[], object]]) -> list[object]:
    """Run each of ``works`` in its own thread, all released together; what each returned or
    raised, in the order given."""
    barrier = threading.Barrier(len(works))
    outcomes: list[object] = [None] * len(works)

    def run(index: int, work: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes[index] = work()
        except Exception as exc:  # the test looks at what each got
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(works)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a checkout hung"
    return outcomes


def placing(user, cart) -> Callable[[], object]:
    return lambda: order_place(cart=cart, user=user)


def test_twenty_shoppers_for_the_last_five_units_make_exactly_five_orders():
    product = ProductFactory(name="Last loaf", stock=5)
    shoppers = [UserFactory() for _ in range(20)]
    works = [placing(user, cart_with(user, (product, 1))) for user in shoppers]

    outcomes = run_at_once(works)

    placed = [outcome for outcome in outcomes if isinstance(outcome, Order)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, OrderError)]
    assert len(placed) == 5, outcomes
    assert len(refused) == 15, outcomes
    assert {error.code for error in refused} == {"out_of_stock"}
    assert stock_of(product) == 0
    assert Order.objects.filter(status=Order.Status.PENDING).count() == 5
    assert sum(order.lines.get().stock_taken for order in Order.objects.all()) == 5


def test_a_single_use_coupon_checked_out_by_ten_shoppers_at_once_is_used_once():
    Coupon.objects.create(code="ONLYONE", amount_off=Decimal("2.00"), max_uses=1)
    product = ProductFactory(stock=100)
    shoppers = [UserFactory() for _ in range(10)]
    works = [placing(user, cart_with(user, (product, 1), coupon="ONLYONE")) for user in shoppers]

    outcomes = run_at_once(works)

    placed = [outcome for outcome in outcomes if isinstance(outcome, Order)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, OrderError)]
    assert len(placed) == 1, outcomes
    assert {error.code for error in refused} == {"coupon_used_up"}
    assert len(refused) == 9
    assert Coupon.objects.get(code="ONLYONE").times_used == 1
    assert CouponRedemption.objects.get().order == placed[0]
    assert stock_of(product) == 99  # the refused checkouts took nothing


def test_six_clicks_at_once_on_one_cart_make_one_order():
    product = ProductFactory(stock=10)
    user = UserFactory()
    cart = cart_with(user, (product, 3))

    outcomes = run_at_once([placing(user, cart) for _ in range(6)])

    assert all(isinstance(outcome, Order) for outcome in outcomes), outcomes
    assert len({order.pk for order in outcomes}) == 1
    assert Order.objects.count() == 1
    assert stock_of(product) == 7


def test_two_expiry_workers_and_a_cancel_at_once_give_each_order_back_once():
    product = ProductFactory(stock=10)
    shoppers = [UserFactory() for _ in range(5)]
    orders = [order_place(cart=cart_with(user, (product, 2)), user=user) for user in shoppers]
    assert stock_of(product) == 0
    Order.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    outcomes = run_at_once(
        [orders_expire_pending, orders_expire_pending, lambda: order_cancel(order=orders[0])]
    )

    first, second, cancelled = outcomes
    assert isinstance(first, int) and isinstance(second, int), outcomes
    assert isinstance(cancelled, Order), outcomes
    # Each order ended once: by one of the workers, or (the first) by the cancel.
    assert first + second == (5 if cancelled.status == Order.Status.EXPIRED else 4)
    assert stock_of(product) == 10
    assert not Order.objects.filter(status=Order.Status.PENDING).exists()
