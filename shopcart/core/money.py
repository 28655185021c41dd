"""How the store writes an amount of money, and how large amounts and counts may be.

The one place that formats money for people. Amounts are ``Decimal`` end to end; a float here
is a bug upstream, so it is refused.

Bounds. Every amount column is ``DecimalField(max_digits=10, decimal_places=2)``: at most
99,999,999.99 (``AMOUNT_COLUMN_MAX``). The bounds below are chosen so that no cart they allow
can price to an amount that does not fit one, whatever its coupon (a discount only lowers):

    a line   PRICE_MAX x QUANTITY_MAX     =  9,999.99 x 99   =    989,999.01  (LINE_TOTAL_MAX)
    a cart   LINE_TOTAL_MAX x LINES_MAX   = 989,999.01 x 100 = 98,999,901.00  <= 99,999,999.99

On top of that, a cart's goods (every line, sold or not) and an order's subtotal and total may
come to at most ``ORDER_TOTAL_MAX``, 999,999.99: the most one card payment can take (Stripe's
amounts have at most eight digits, 99,999,999 cents), and far more than any shopping trip.
The carts refuse a change that would pass it, and placement refuses such an order, before
anything is written. Prices, quantities and order amounts are also check constraints in the
database; the number of lines in a cart spans rows, so only the cart services count it.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

CENT = Decimal("0.01")

# Currencies whose symbol goes before the amount with no space (€2.50, $2.50, £2.50).
# Any other ISO code is written after the amount: "2.50 CHF".
CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}

ERROR_NOT_DECIMAL = "Money must be a Decimal (or an int), not {type}."

# --- Bounds (see the module docstring for why nothing they allow overflows) ---------------------

AMOUNT_COLUMN_MAX = Decimal("99999999.99")  # DecimalField(max_digits=10, decimal_places=2)
PRICE_MAX = Decimal("9999.99")  # a product's price (each, or per kg), a line's unit price
QUANTITY_MAX = 99  # units in one cart or order line
LINES_MAX = 100  # lines in one cart, and so in one order
LINE_TOTAL_MAX = PRICE_MAX * QUANTITY_MAX  # 989,999.01
ORDER_TOTAL_MAX = Decimal("999999.99")  # a cart's goods, an order's subtotal, a payment
# Units of one product on record. A cancelled or expired order gives its units back even to a
# product at the maximum: the integer column (2,147,483,647) leaves room for over a billion.
STOCK_MAX = 999_999_999

ERROR_PRICE_TOO_HIGH = f"A price is at most {PRICE_MAX}."
ERROR_STOCK_TOO_HIGH = f"The stock is at most {STOCK_MAX}."


def money_round(amount: Decimal) -> Decimal:
    """``amount`` rounded half up to the cent, the store's minor unit."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def money_format(amount: Decimal | int, currency: str | None = None) -> str:
    """``amount`` in ``currency`` (default ``settings.STORE_CURRENCY``): "€1,234.50", "-€0.40".

    Two-place amounts are written exactly as they are; longer ones are rounded half up to
    the cent (a price never has more places, but a computed value might).
    Raises ``TypeError`` for anything but ``Decimal`` or ``int``.
    """
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int):
        raise TypeError(ERROR_NOT_DECIMAL.format(type=type(amount).__name__))
    code = (currency or settings.STORE_CURRENCY).upper()
    cents = money_round(Decimal(amount))
    sign = "-" if cents < 0 else ""
    digits = f"{abs(cents):,.2f}"
    symbol = CURRENCY_SYMBOLS.get(code)
    if symbol:
        return f"{sign}{symbol}{digits}"
    return f"{sign}{digits} {code}"
