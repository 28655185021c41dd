"""Placement at the bounds (``shopcart.core.money``): any cart the database allows is either placed
with every amount fitting its column, or refused with ``OrderError`` and nothing written.

Property tests: hypothesis draws carts line by line within what the rows allow (unit price up
to ``PRICE_MAX``, quantity up to ``QUANTITY_MAX``), up to one line more than ``LINES_MAX``, the
ends of each range drawn often; then carts built through the cart services, which must keep
them within the bounds whatever they are asked. Each example runs in a transaction of its own
(hypothesis' Django ``TestCase``), so ``order_place``'s durable transaction runs as in a test.
"""

from decimal import Decimal
from itertools import count

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from carts.models import Cart, CartLine
from carts.services import CartError, cart_add_product, cart_get_for_user, cart_set_quantity
from carts.services.carts import CART_TOTAL_MAX
from catalog.models import Product
from orders.errors import OrderError
from orders.models import Order
from orders.services import order_place
from shopcart.core.money import (
    LINE_TOTAL_MAX,
    LINES_MAX,
    ORDER_TOTAL_MAX,
    PRICE_MAX,
    QUANTITY_MAX,
    STOCK_MAX,
    money_round,
)
from tests.carts.support import extreme_coupons, fits_an_amount_column
from tests.factories import UserFactory

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# The refusal placement documents for these carts (whose stock covers them): too large for one
# order. Anything else is a bug.
REFUSALS = {"too_large"}

_numbers = count(1)


def _ends_often(low: Decimal, high: Decimal) -> st.SearchStrategy[Decimal]:
    return st.sampled_from([low, low + CENT, high - CENT, high]) | st.decimals(
        min_value=low, max_value=high, places=2
    )


prices = _ends_often(ZERO, PRICE_MAX)
quantities = st.sampled_from([1, QUANTITY_MAX]) | st.integers(1, QUANTITY_MAX)


@st.composite
def cart_rows(draw: st.DrawFn) -> dict:
    """One cart line as the database may hold it, with its product's stock."""
    quantity = draw(quantities)
    return {
        "unit_price": draw(prices),
        "quantity": quantity,
        "scanned_quantity": draw(st.sampled_from([0, quantity])),
        # Enough stock: out-of-stock refusals are tested in test_placement.py, and a cart of
        # many lines would almost always hold one.
        "stock": draw(st.sampled_from([quantity, STOCK_MAX])),
    }


line_counts = st.sampled_from([1, LINES_MAX, LINES_MAX + 1]) | st.integers(1, LINES_MAX + 1)
carts = line_counts.flatmap(lambda n: st.lists(cart_rows(), min_size=n, max_size=n))

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def products_for(rows: list[dict]) -> list[Product]:
    batch = next(_numbers)
    return Product.objects.bulk_create(
        Product(
            name=f"P{batch}-{i}", slug=f"p{batch}-{i}", price=row["unit_price"], stock=row["stock"]
        )
        for i, row in enumerate(rows)
    )


def assert_stored_amounts_fit(order: Order) -> None:
    """Read the order back through its columns (a value that does not fit raises) and check
    every amount against its bound."""
    order = Order.objects.get(pk=order.pk)
    lines = list(order.lines.all())
    assert 1 <= len(lines) <= LINES_MAX
    assert ZERO <= order.total <= order.subtotal <= ORDER_TOTAL_MAX
    assert all(fits_an_amount_column(amount) for amount in (order.subtotal, order.total))
    for line in lines:
        assert 1 <= line.quantity <= QUANTITY_MAX
        assert ZERO <= line.unit_price <= PRICE_MAX
        assert ZERO <= line.total <= line.subtotal <= LINE_TOTAL_MAX
    assert all(payment.amount <= ORDER_TOTAL_MAX for payment in order.payments.all())


class PlacementAtTheBoundsTests(TestCase):
    @SETTINGS
    @given(rows=carts, terms=st.none() | extreme_coupons)
    def test_any_cart_the_rows_allow_is_placed_within_the_bounds_or_refused(self, rows, terms):
        shopper = UserFactory()
        cart = cart_get_for_user(user=shopper)
        products = products_for(rows)
        CartLine.objects.bulk_create(
            CartLine(
                cart=cart,
                product=product,
                product_name=product.name,
                unit_price=row["unit_price"],
                quantity=row["quantity"],
                scanned_quantity=row["scanned_quantity"],
            )
            for product, row in zip(products, rows, strict=True)
        )
        if terms is not None:
            terms.code = f"C{next(_numbers)}"
            terms.category = None
            terms.save()
            Cart.objects.filter(pk=cart.pk).update(coupon=terms)
        subtotal = sum((money_round(r["unit_price"] * r["quantity"]) for r in rows), ZERO)
        too_large = len(rows) > LINES_MAX or subtotal > ORDER_TOTAL_MAX

        try:
            order = order_place(cart=cart, user=shopper)
        except OrderError as refusal:
            event(f"refused: {refusal.code}")  # --hypothesis-show-statistics shows the mix
            assert refusal.code in REFUSALS, refusal.code
            assert not Order.objects.filter(user=shopper).exists()
            return
        event("placed")
        assert not too_large
        assert_stored_amounts_fit(order)

    @SETTINGS
    @given(
        steps=st.lists(
            st.tuples(st.integers(0, 3), st.sampled_from(["add", "set", "scan"]), quantities),
            min_size=1,
            max_size=25,
        )
    )
    def test_carts_built_by_the_services_stay_within_the_bounds_and_place(self, steps):
        shopper = UserFactory()
        cart = cart_get_for_user(user=shopper)
        shelf = products_for([{"unit_price": price, "stock": STOCK_MAX} for price in (
            PRICE_MAX, PRICE_MAX, PRICE_MAX - CENT, CENT
        )])  # fmt: skip

        for index, action, quantity in steps:
            product = shelf[index]
            try:
                if action == "set":
                    cart_set_quantity(cart=cart, product=product, quantity=quantity)
                else:
                    scanned = action == "scan"
                    cart_add_product(cart=cart, product=product, quantity=quantity, scanned=scanned)
            except CartError as refusal:
                event(f"refused: {refusal.code}")
                assert refusal.code in {"quantity", "cart_total"}, refusal.code

        lines = list(cart.lines.all())
        goods = sum((money_round(line.unit_price * line.quantity) for line in lines), ZERO)
        assert all(line.quantity <= QUANTITY_MAX for line in lines)
        assert len(lines) <= LINES_MAX
        assert goods <= CART_TOTAL_MAX
        assert_stored_amounts_fit(order_place(cart=cart, user=shopper))
