"""Order reads: a shopper sees only their own orders; staff look orders up by number."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser

from orders.selectors import order_get_by_number, order_get_for_user, order_list_for_user
from tests.orders.factories import OrderFactory, OrderLineFactory, PaidOrderFactory

pytestmark = pytest.mark.django_db


def test_list_holds_only_the_shoppers_orders_newest_first_with_item_counts(alice, bob):
    older = PaidOrderFactory(user=alice)
    OrderLineFactory(order=older, quantity=2)
    OrderLineFactory(order=older, quantity=3)
    newer = OrderFactory(user=alice)
    OrderFactory(user=bob)

    orders = list(order_list_for_user(user=alice))

    assert orders == [newer, older]
    assert [order.item_count for order in orders] == [0, 5]


def test_list_is_empty_for_a_visitor(alice):
    OrderFactory(user=alice)

    assert not order_list_for_user(user=AnonymousUser()).exists()


def test_list_costs_one_query_however_many_orders(alice, django_assert_num_queries):
    for _ in range(5):
        OrderLineFactory(order=OrderFactory(user=alice))

    with django_assert_num_queries(1):
        list(order_list_for_user(user=alice))


def test_get_finds_the_shoppers_order_in_any_case_with_its_lines(alice, django_assert_num_queries):
    order = OrderFactory(user=alice, number="K7M2-QX9P")
    OrderLineFactory(order=order, unit_price=Decimal("1.50"))

    found = order_get_for_user(user=alice, number=" k7m2-qx9p ")

    assert found == order
    assert found is not None
    with django_assert_num_queries(0):  # lines and payments came with it
        assert [line.unit_price for line in found.lines.all()] == [Decimal("1.50")]
        assert list(found.payments.all()) == []


def test_get_gives_nothing_for_someone_elses_order_or_a_visitor(alice, bob):
    order = OrderFactory(user=alice)

    assert order_get_for_user(user=bob, number=order.number) is None
    assert order_get_for_user(user=AnonymousUser(), number=order.number) is None
    assert order_get_for_user(user=alice, number="NONE-SUCH") is None


def test_get_by_number_finds_any_order_for_staff(alice):
    order = OrderFactory(user=alice, number="ABCD-EFGH")

    assert order_get_by_number(number="abcd-efgh") == order
    assert order_get_by_number(number="ZZZZ-ZZZZ") is None
