"""How the store writes an amount of money. The one place that formats money for people.

Amounts are ``Decimal`` end to end; a float here is a bug upstream, so it is refused.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

CENT = Decimal("0.01")

# Currencies whose symbol goes before the amount with no space (€2.50, $2.50, £2.50).
# Any other ISO code is written after the amount: "2.50 CHF".
CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}

ERROR_NOT_DECIMAL = "Money must be a Decimal (or an int), not {type}."


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
