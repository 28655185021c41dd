"""Small query helpers for hot paths."""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Model, QuerySet

_M = TypeVar("_M", bound=Model)


def only_row(queryset: QuerySet[_M]) -> _M | None:
    """The one row a lookup on a unique key finds, or None.

    Like ``.first()`` without its ``ORDER BY`` (the model's ordering, or the pk): with at most
    one row there is nothing to order, and compiling the ordering costs about a millisecond
    per query on the scan path.
    """
    return next(iter(queryset.order_by()[:1]), None)
