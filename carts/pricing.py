"""The one place that computes a cart's money: subtotal, coupon discount per line, total.

Everything is ``Decimal``. A line's subtotal is its unit price times its quantity, rounded once
to the cent. A coupon's discount is computed once, on the eligible lines' subtotal (a percentage
of it rounded once, plus a fixed amount), limited by its cap and by what those lines cost, and
then shared out over them to the cent, so that every line's total and the cart's total add up
exactly and nothing goes below zero.

Pricing only needs the cart's contents and the coupon's terms. Whether a coupon may be used at
all (active, validity window, usage limits) is the cart service's question.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from catalog.models import Coupon
from shopcart.core.money import CENT, money_format, money_round

ZERO = Decimal("0.00")

COUPON_BELOW_MINIMUM = "This coupon needs a subtotal of at least {minimum}."
COUPON_NO_ELIGIBLE_LINES = "This coupon is for {category} only, and the cart has none."
COUPON_NOTHING_TO_DISCOUNT = "This coupon applies once the cart has something in it."


@dataclass(frozen=True)
class LineInput:
    """What pricing needs to know of one cart line."""

    key: int
    unit_price: Decimal
    quantity: int
    category_id: int | None = None
    available: bool = True  # unavailable lines are shown but neither counted nor discounted


@dataclass(frozen=True)
class PricedLine:
    key: int
    subtotal: Decimal
    discount: Decimal
    total: Decimal
    available: bool


@dataclass(frozen=True)
class CartPrice:
    lines: tuple[PricedLine, ...]
    subtotal: Decimal  # available lines only
    discount: Decimal
    total: Decimal
    coupon_applied: bool = False
    coupon_problem: str = ""  # why a coupon in the cart takes nothing off, for the shopper

    def line(self, key: int) -> PricedLine:
        return next(line for line in self.lines if line.key == key)


def cart_price(lines: Sequence[LineInput], coupon: Coupon | None = None) -> CartPrice:
    """Price ``lines`` with ``coupon`` (terms only; see the module docstring)."""
    subtotals = {line.key: money_round(line.unit_price * line.quantity) for line in lines}
    counted = [line for line in lines if line.available]
    subtotal = sum((subtotals[line.key] for line in counted), ZERO)
    discounts: dict[int, Decimal] = {}
    problem = ""
    if coupon is not None:
        eligible = [line for line in counted if _coupon_covers(coupon, line)]
        problem = _coupon_problem(coupon, subtotal, eligible)
        if not problem:
            discounts = _coupon_discounts(
                coupon, {line.key: subtotals[line.key] for line in eligible}
            )
    priced = tuple(
        PricedLine(
            key=line.key,
            subtotal=subtotals[line.key],
            discount=discounts.get(line.key, ZERO),
            total=subtotals[line.key] - discounts.get(line.key, ZERO),
            available=line.available,
        )
        for line in lines
    )
    discount = sum(discounts.values(), ZERO)
    return CartPrice(
        lines=priced,
        subtotal=subtotal,
        discount=discount,
        total=subtotal - discount,
        coupon_applied=coupon is not None and not problem,
        coupon_problem=problem,
    )


def _coupon_covers(coupon: Coupon, line: LineInput) -> bool:
    return coupon.category_id is None or line.category_id == coupon.category_id


def _coupon_problem(coupon: Coupon, subtotal: Decimal, eligible: list[LineInput]) -> str:
    if subtotal < coupon.min_subtotal:
        return COUPON_BELOW_MINIMUM.format(minimum=money_format(coupon.min_subtotal))
    if not eligible:
        if coupon.category_id is not None:
            return COUPON_NO_ELIGIBLE_LINES.format(category=coupon.category)
        return COUPON_NOTHING_TO_DISCOUNT
    return ""


def _coupon_discounts(coupon: Coupon, eligible: dict[int, Decimal]) -> dict[int, Decimal]:
    """The coupon's discount on each eligible line (keyed like ``eligible``)."""
    eligible_subtotal = sum(eligible.values(), ZERO)
    discount = ZERO
    if coupon.percent_off is not None:
        # Taken of the eligible subtotal and rounded once: rounding each line's share instead
        # would give away up to half a cent a line (10 % of €34.90 must be €3.49, not €3.51).
        discount += money_round(eligible_subtotal * coupon.percent_off / 100)
    if coupon.amount_off is not None:
        discount += coupon.amount_off
    if coupon.max_discount is not None:
        discount = min(discount, coupon.max_discount)
    discount = min(discount, eligible_subtotal)
    return _share_out(discount, eligible)


def _share_out(discount: Decimal, weights: dict[int, Decimal]) -> dict[int, Decimal]:
    """Split ``discount`` over the lines in proportion to ``weights``, exactly, to the cent.

    Each line first gets its share rounded down; the cents left over go one each to the lines
    that lost the most in rounding (earlier lines first on a tie). No line gets more than its
    own weight, because ``discount`` never exceeds the weights' sum.
    """
    total_weight = sum(weights.values(), ZERO)
    if discount <= 0 or total_weight <= 0:
        return {key: ZERO for key in weights}
    exact = {key: discount * weight / total_weight for key, weight in weights.items()}
    shares = {key: value.quantize(CENT, rounding=ROUND_DOWN) for key, value in exact.items()}
    cents_left = int((discount - sum(shares.values(), ZERO)) / CENT)
    by_remainder = sorted(weights, key=lambda key: exact[key] - shares[key], reverse=True)
    for key in by_remainder[:cents_left]:
        shares[key] += CENT
    return shares
