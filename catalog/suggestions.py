"""Serving “often bought with” from the stored neighbours, within about a millisecond.

For a cart (or one product): each cart product's neighbours (``ProductPairScore``, written by
``orders.recommendations.rebuild``) are summed, best first; then come the best sellers of the
cart's categories, then of the whole store (``ProductPopularity``), for a product with no
neighbours (never sold, or only alone) or too few in stock. Products in the cart, inactive or
out of stock are never suggested; a store with no build yet suggests nothing.

The neighbour lists and best-seller rankings are kept in the cache under the build's
``version`` (the rebuild fills them all in; anything missing is read from the database
once), so a warm request costs one query: the suggested products themselves,
active and in stock, in one ``pk IN`` lookup. Which build is current is cached for
``VERSION_SECONDS`` (a process-local cache sees a new build within that time; a shared cache
at once, as the rebuild sets it).
"""

import heapq
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from typing import Any

from django.core.cache import cache

from catalog.models import (
    Category,
    Product,
    ProductPairScore,
    ProductPopularity,
    RecommendationBuild,
)

SUGGESTIONS = 4
VERSION_KEY = "catalog:recommendations:version"
VERSION_SECONDS = 60
ENTRY_SECONDS = 24 * 60 * 60  # entries of an old version simply expire
RANKED = 50  # best sellers kept per category and for the store
NO_VERSION = ""
FILL_BATCH = 1000
STORE = 0  # the key of the store's own best sellers

REASON_BOUGHT_WITH = "bought_with"
REASON_POPULAR_IN_CATEGORY = "popular_in_category"
REASON_POPULAR = "popular"


@dataclass(frozen=True)
class Suggestion:
    product: Product
    reason: str  # REASON_BOUGHT_WITH, REASON_POPULAR_IN_CATEGORY or REASON_POPULAR


def product_suggestions(
    *,
    product_ids: Collection[int],
    category_ids: Collection[int | None] = (),
    limit: int = SUGGESTIONS,
) -> list[Suggestion]:
    """Up to ``limit`` products to suggest to someone holding ``product_ids``: active, in
    stock and not among them. Largest summed neighbour weights first, then the best sellers
    of ``category_ids``, then of the store. The first three of a longer list are the list of
    three. One query when the cache is warm.
    """
    version = recommendations_version()
    if version == NO_VERSION or limit <= 0:
        return []
    held = set(product_ids)
    categories = {pk for pk in category_ids if pk is not None}
    bought_with = list(_bought_with(version, held))
    # The best sellers are read only when the neighbours may not be enough.
    return _available(chain(bought_with, _best_sellers(version, categories)), held, limit)


def recommendations_version() -> str:
    """The ``version`` of the latest build (``NO_VERSION`` before the first)."""
    version = cache.get(VERSION_KEY)
    if version is None:
        latest = RecommendationBuild.objects.order_by("-finished_at", "-pk").first()
        version = latest.version if latest else NO_VERSION
        cache.set(VERSION_KEY, version, VERSION_SECONDS)
    return str(version)


def _bought_with(version: str, held: set[int]) -> Iterator[tuple[int, str]]:
    """The neighbours of the cart's products, largest summed weight first."""
    weights: dict[int, float] = {}
    for rows in _cached(version, "n", held, _neighbours_read).values():
        for other, weight in rows:
            weights[other] = weights.get(other, 0.0) + weight
    for pk in sorted(weights, key=lambda pk: (-weights[pk], pk)):
        yield pk, REASON_BOUGHT_WITH


def _best_sellers(version: str, categories: set[int]) -> Iterator[tuple[int, str]]:
    """The best sellers of ``categories``, then of the store (a product may come twice)."""
    in_categories = _cached(version, "c", categories, _category_best_sellers_read).values()
    for pk, _orders in heapq.merge(*in_categories, key=lambda row: (-row[1], row[0])):
        yield pk, REASON_POPULAR_IN_CATEGORY
    for pk, _orders in _cached(version, "s", {STORE}, _store_best_sellers_read)[STORE]:
        yield pk, REASON_POPULAR


def _available(candidates: Iterable[tuple[int, str]], held: set[int], limit: int) -> list:
    """The first ``limit`` candidates not held that are active and in stock: the first
    ``limit + 2`` looked up at once (most are in stock), then more if some were not."""
    found: list[Suggestion] = []
    seen = set(held)
    chunk: list[tuple[int, str]] = []
    size = limit + 2
    for pk, reason in candidates:
        if pk in seen:
            continue
        seen.add(pk)
        chunk.append((pk, reason))
        if len(chunk) == size:
            found += _in_stock(chunk)
            chunk, size = [], 2 * size
            if len(found) >= limit:
                return found[:limit]
    found += _in_stock(chunk) if chunk else []
    return found[:limit]


def _in_stock(chunk: list[tuple[int, str]]) -> list[Suggestion]:
    products = (
        Product.objects.active()
        .in_stock()
        .filter(pk__in=[pk for pk, _ in chunk])
        .order_by()
        .in_bulk()
    )
    return [Suggestion(products[pk], reason) for pk, reason in chunk if pk in products]


# --- The cache, filled by the rebuild and from the database on a miss -----------------------


def _name(version: str, kind: str, key: int) -> str:
    return f"catalog:recommendations:{version}:{kind}:{key}"


def cache_fill(*, version: str, neighbours: dict[int, list[tuple[int, float]]]) -> None:
    """Put build ``version`` in the cache (every product's neighbours, none for a product
    with none, the best sellers of every category and of the store), then make it the
    current build. Called by the rebuild once its rows are committed."""
    products = Product.objects.values_list("pk", flat=True)
    entries: list[tuple[str, list[Any]]] = [
        (_name(version, "n", pk), neighbours.get(pk, [])) for pk in products
    ]
    categories = set(Category.objects.values_list("pk", flat=True))
    rankings = _category_best_sellers_read(categories) | {
        STORE: _store_best_sellers_read({STORE})[STORE]
    }
    entries += [(_name(version, "c", pk), rows) for pk, rows in rankings.items() if pk != STORE]
    entries.append((_name(version, "s", STORE), rankings[STORE]))
    for start in range(0, len(entries), FILL_BATCH):
        cache.set_many(dict(entries[start : start + FILL_BATCH]), ENTRY_SECONDS)
    cache.set(VERSION_KEY, version, VERSION_SECONDS)


def _cached(version: str, kind: str, keys: set[int], read: Any) -> dict[int, list]:
    """``{key: rows}`` for ``keys``, from the cache or else ``read(missing keys)``."""
    if not keys:
        return {}
    names = {_name(version, kind, key): key for key in keys}
    found = {names[name]: rows for name, rows in cache.get_many(list(names)).items()}
    missing = keys - set(found)
    if missing:
        fresh = read(missing)
        found |= fresh
        cache.set_many(
            {name: fresh[key] for name, key in names.items() if key in missing},
            ENTRY_SECONDS,
        )
    return found


def _neighbours_read(products: set[int]) -> dict[int, list[tuple[int, float]]]:
    found: dict[int, list[tuple[int, float]]] = {pk: [] for pk in products}
    rows = ProductPairScore.objects.filter(product_id__in=products).values_list(
        "product_id", "other_id", "score"
    )
    for product_id, other_id, score in rows:
        found[product_id].append((other_id, score))
    return found


def _category_best_sellers_read(categories: set[int]) -> dict[int, list[tuple[int, int]]]:
    found: dict[int, list[tuple[int, int]]] = {pk: [] for pk in categories}
    rows = (
        ProductPopularity.objects.filter(product__category_id__in=categories, orders__gt=0)
        .order_by("-orders", "product_id")
        .values_list("product__category_id", "product_id", "orders")
    )
    for category_id, product_id, orders in rows:
        if len(found[category_id]) < RANKED:
            found[category_id].append((product_id, orders))
    return found


def _store_best_sellers_read(_keys: set[int]) -> dict[int, list[tuple[int, int]]]:
    rows = ProductPopularity.objects.filter(orders__gt=0).order_by("-orders", "product_id")
    return {STORE: list(rows.values_list("product_id", "orders")[:RANKED])}
