"""Stock mismatches: staff counted the shelf and settled what a scanned cart reported."""

from collections.abc import Iterable

from carts.models import StockMismatch


def stock_mismatch_resolve(*, mismatch_ids: Iterable[int]) -> int:
    """Mark the mismatches resolved. Idempotent: returns how many were still unresolved."""
    unresolved = StockMismatch.objects.filter(pk__in=list(mismatch_ids), resolved=False)
    return unresolved.update(resolved=True)
