"""Stock mismatches: a cart holds more than the recorded stock (recorded at a scan or at
checkout), and staff, having counted the shelf, settle it (resolved)."""

from collections.abc import Iterable

from carts.models import Cart, StockMismatch
from catalog.models import Product


def stock_mismatch_resolve(*, mismatch_ids: Iterable[int]) -> int:
    """Mark the mismatches resolved. Idempotent: returns how many were still unresolved."""
    unresolved = StockMismatch.objects.filter(pk__in=list(mismatch_ids), resolved=False)
    return unresolved.update(resolved=True)


def stock_mismatch_record(
    *, product: Product, cart: Cart, quantity_in_cart: int, stock_recorded: int
) -> StockMismatch:
    """Tell staff that ``cart`` holds more of ``product`` than the recorded stock: count it."""
    return StockMismatch.objects.create(
        product=product, cart=cart, quantity_in_cart=quantity_in_cart, stock_recorded=stock_recorded
    )
