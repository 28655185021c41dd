"""Helpers shared by the pricing tests and the order bounds tests: amounts at the bounds."""

from decimal import Context, Decimal

from hypothesis import strategies as st

from catalog.models import Category, Coupon
from shopcart.core.money import (
    AMOUNT_COLUMN_MAX,
)

D = Decimal
CENT = D("0.01")
PLASTIC, OTHER = 1, 2  # category ids


# A DecimalField(max_digits=10, decimal_places=2) reads a value back in this context: an amount
# that does not fit raises decimal.InvalidOperation, as finding 1 of issue 18 did.
COLUMN_CONTEXT = Context(prec=10)


def coupon(**terms) -> Coupon:
    """Coupon terms, unsaved: pricing reads only them."""
    terms.setdefault("min_subtotal", D("0"))
    return Coupon(code="TEST", **terms)


def fits_an_amount_column(amount: Decimal) -> bool:
    amount.quantize(CENT, context=COLUMN_CONTEXT)  # raises when it would not read back
    return D("0") <= amount <= AMOUNT_COLUMN_MAX and amount == amount.quantize(CENT)


def near(low: Decimal, high: Decimal) -> st.SearchStrategy[Decimal]:
    """Amounts from ``low`` to ``high``, the ends and the cents beside them drawn often."""
    ends = st.sampled_from([low, low + CENT, high - CENT, high])
    return ends | st.decimals(min_value=low, max_value=high, places=2)


# Coupons may say anything their columns hold: pricing must still never go past a column.
extreme_coupons = st.builds(
    coupon,
    percent_off=st.none() | near(CENT, D("100")),
    amount_off=st.none() | near(CENT, AMOUNT_COLUMN_MAX),
    max_discount=st.none() | near(CENT, AMOUNT_COLUMN_MAX),
    category=st.sampled_from([Category(pk=PLASTIC, name="Plastic goods"), None]),
    min_subtotal=near(D("0"), AMOUNT_COLUMN_MAX),
).filter(lambda c: c.percent_off is not None or c.amount_off is not None)
