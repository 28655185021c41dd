from decimal import Decimal

import pytest
from django.template import Context, Template

from orders.gateways.base import amount_to_minor_units
from orders.models import Order
from shopcart.core.money import (
    AMOUNT_COLUMN_MAX,
    ERROR_NOT_DECIMAL,
    LINE_TOTAL_MAX,
    LINES_MAX,
    ORDER_TOTAL_MAX,
    PRICE_MAX,
    QUANTITY_MAX,
    money_format,
)


@pytest.mark.parametrize(
    ("amount", "written"),
    [
        ("2.50", "€2.50"),
        ("0.05", "€0.05"),
        ("0.00", "€0.00"),
        ("19.99", "€19.99"),
        ("1234.50", "€1,234.50"),
        ("99999999.99", "€99,999,999.99"),
    ],
)
def test_two_place_amount_is_written_exactly(amount, written):
    assert money_format(Decimal(amount), "EUR") == written


def test_whole_amounts_get_two_places():
    assert money_format(Decimal("3"), "EUR") == "€3.00"
    assert money_format(3, "EUR") == "€3.00"


@pytest.mark.parametrize(
    ("amount", "written"),
    [("2.345", "€2.35"), ("2.344", "€2.34"), ("0.005", "€0.01"), ("-2.345", "-€2.35")],
)
def test_more_places_are_rounded_half_up_to_the_cent(amount, written):
    assert money_format(Decimal(amount), "EUR") == written


def test_negative_amount_has_its_sign_before_the_symbol():
    assert money_format(Decimal("-0.40"), "EUR") == "-€0.40"


def test_amount_that_rounds_to_zero_has_no_minus_sign():
    assert money_format(Decimal("-0.001"), "EUR") == "€0.00"


@pytest.mark.parametrize(("currency", "written"), [("USD", "$2.50"), ("GBP", "£2.50")])
def test_known_symbols_go_before_the_amount(currency, written):
    assert money_format(Decimal("2.50"), currency) == written


def test_currency_without_a_symbol_is_written_after_the_amount():
    assert money_format(Decimal("1234.5"), "chf") == "1,234.50 CHF"


def test_default_currency_is_the_store_currency(settings):
    settings.STORE_CURRENCY = "SEK"
    assert money_format(Decimal("2.50")) == "2.50 SEK"


@pytest.mark.parametrize("amount", [2.5, "2.50", True, None])
def test_anything_but_decimal_or_int_is_refused(amount):
    with pytest.raises(TypeError) as error:
        money_format(amount)
    assert str(error.value) == ERROR_NOT_DECIMAL.format(type=type(amount).__name__)


def test_money_filter_formats_with_the_store_currency(settings):
    settings.STORE_CURRENCY = "EUR"
    template = Template("{% load store %}[{{ price|money }}][{{ none|money }}]")
    assert template.render(Context({"price": Decimal("2.50"), "none": None})) == "[€2.50][]"


# --- Bounds ------------------------------------------------------------------------------------

STRIPE_AMOUNT_MAX = 99_999_999  # Stripe takes amounts of at most eight digits, in minor units


def test_the_largest_cart_the_bounds_allow_fits_every_amount_column():
    total = Order._meta.get_field("total")
    column_max = Decimal(10) ** (total.max_digits - total.decimal_places) - Decimal("0.01")

    assert column_max == AMOUNT_COLUMN_MAX
    assert LINE_TOTAL_MAX == PRICE_MAX * QUANTITY_MAX == Decimal("989999.01")
    assert LINE_TOTAL_MAX * LINES_MAX == Decimal("98999901.00") <= AMOUNT_COLUMN_MAX
    assert ORDER_TOTAL_MAX <= AMOUNT_COLUMN_MAX


def test_the_largest_order_is_one_card_payment():
    for currency in ("EUR", "USD", "GBP"):
        assert amount_to_minor_units(ORDER_TOTAL_MAX, currency) <= STRIPE_AMOUNT_MAX
