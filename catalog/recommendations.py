"""“Often bought with”: which products sell together, learnt from the store's own paid orders.

Training (``recommendations_rebuild``: Celery beat, ``manage.py recommendations_rebuild``)
    The orders paid in the last ``HISTORY_DAYS`` (paid or partly refunded; wholly refunded
    ones are left out) are read as baskets: the distinct products of each order. For every two
    products, the number of orders holding both (``together``) is counted in memory. Their
    score is the Jaccard similarity, together / orders holding either, kept when they were
    bought together at least ``MIN_TOGETHER`` times (once is a coincidence); each product keeps
    its ``NEIGHBOURS`` best. The rows replace the old ones in one transaction, with each
    product's order count (``ProductPopularity``) for the fallbacks.

Serving (``product_suggestions``)
    For a cart (or one product), the neighbours' scores are summed over the cart's products in
    one query; products in the cart, inactive or out of stock are never suggested. When that
    gives fewer than asked for, one more query fills up with the best sellers of the cart's
    categories, then of the whole store.

Jaccard was chosen by measuring (``benchmarks/recommend.py``, see benchmarks/README.md):
against confidence, lift, cosine and others, it found the hidden product of a basket about as
often as the best and never suggests the same few best sellers for everything.

Catalog reads the orders app's tables here and only here, through the app registry: orders
depends on catalog, never the other way round at import time.
"""

import heapq
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import combinations, groupby
from operator import itemgetter

from django.apps import apps
from django.db import transaction
from django.db.models import Case, IntegerField, Sum, Value, When
from django.utils import timezone

from catalog.models import Product, ProductPairScore, ProductPopularity, RecommendationBuild

HISTORY_DAYS = 365
MIN_TOGETHER = 2
NEIGHBOURS = 10
# A basket this large (a restaurant stocking up) says little about what goes together, and
# its pairs grow with the square of its size: it counts towards popularity only.
BASKET_PAIRS_MAX = 100
SUGGESTIONS = 4
WRITE_BATCH = 1000
PROGRESS_EVERY = 10_000  # orders

REASON_BOUGHT_WITH = "bought_with"
REASON_POPULAR_IN_CATEGORY = "popular_in_category"
REASON_POPULAR = "popular"

Progress = Callable[[str], None]


# --- Training (no database) ----------------------------------------------------------------


@dataclass(frozen=True)
class Neighbour:
    product_id: int
    score: float
    together: int


@dataclass(frozen=True)
class CoPurchaseModel:
    orders: int
    lines: int
    popularity: dict[int, int]  # product id → orders holding it
    neighbours: dict[int, list[Neighbour]]  # product id → its best neighbours, best first

    @property
    def pair_count(self) -> int:
        return sum(len(rows) for rows in self.neighbours.values())


def baskets_from_lines(rows: Iterable[tuple[int, int]]) -> Iterator[set[int]]:
    """Group ``(order id, product id)`` rows, ordered by order id, into sets of product ids."""
    for _order_id, lines in groupby(rows, key=itemgetter(0)):
        yield {product_id for _, product_id in lines}


def co_purchase_train(
    baskets: Iterable[Collection[int]],
    *,
    min_together: int = MIN_TOGETHER,
    neighbours: int = NEIGHBOURS,
    progress: Progress | None = None,
) -> CoPurchaseModel:
    """Count products and pairs over ``baskets`` (each a set of product ids) and score them.

    Products get dense indexes so that a pair is one small int key (``a << 32 | b``), which
    keeps millions of pairs in memory cheaply.
    """
    index: dict[int, int] = {}
    counts: Counter[int] = Counter()
    pairs: Counter[int] = Counter()
    orders = lines = 0
    for basket in baskets:
        indexes = sorted(index.setdefault(product_id, len(index)) for product_id in basket)
        orders += 1
        lines += len(indexes)
        counts.update(indexes)
        if 1 < len(indexes) <= BASKET_PAIRS_MAX:
            pairs.update(a << 32 | b for a, b in combinations(indexes, 2))
        if progress and orders % PROGRESS_EVERY == 0:
            progress(f"Read {orders} orders…")
    ids = sorted(index, key=index.__getitem__)
    best = _neighbours_best(pairs, counts, min_together=min_together, keep=neighbours)
    return CoPurchaseModel(
        orders=orders,
        lines=lines,
        popularity={ids[i]: count for i, count in counts.items()},
        neighbours={
            ids[a]: [Neighbour(ids[b], score, together) for score, together, b in rows]
            for a, rows in best.items()
        },
    )


def _neighbours_best(
    pairs: Counter[int], counts: Counter[int], *, min_together: int, keep: int
) -> dict[int, list[tuple[float, int, int]]]:
    """Each product's ``keep`` best ``(score, together, other)``: best score, then most orders
    together, then the lowest index (so equal inputs always give equal rows)."""
    rows: dict[int, list[tuple[float, int, int]]] = defaultdict(list)
    low = (1 << 32) - 1
    for key, together in pairs.items():
        if together < min_together:
            continue
        a, b = key >> 32, key & low
        score = together / (counts[a] + counts[b] - together)
        rows[a].append((score, together, b))
        rows[b].append((score, together, a))
    return {
        a: heapq.nsmallest(keep, candidates, key=lambda row: (-row[0], -row[1], row[2]))
        for a, candidates in rows.items()
    }


# --- Training from the store's orders ----------------------------------------------------


def paid_baskets(*, since: datetime) -> Iterator[set[int]]:
    """The products of each order paid since ``since`` (wholly refunded ones left out),
    streamed in order id order, a chunk of rows at a time."""
    order_model = apps.get_model("orders", "Order")
    line_model = apps.get_model("orders", "OrderLine")
    statuses = [order_model.Status.PAID, order_model.Status.PARTIALLY_REFUNDED]
    rows = (
        line_model.objects.filter(
            order__status__in=statuses, order__paid_at__gte=since, product__isnull=False
        )
        .order_by("order_id")
        .values_list("order_id", "product_id")
        .iterator(chunk_size=10_000)
    )
    return baskets_from_lines(rows)


def recommendations_rebuild(*, progress: Progress | None = None) -> RecommendationBuild:
    """Learn from the paid orders again and replace every pair score and popularity row.

    Reads outside any transaction; writes in one, so shoppers see the old rows or the new
    ones, never a mix. Idempotent: a second run over the same orders writes the same rows.
    """
    say = progress or (lambda text: None)
    started_at, clock = timezone.now(), time.perf_counter()
    since = started_at - timedelta(days=HISTORY_DAYS)
    model = co_purchase_train(paid_baskets(since=since), progress=say)
    say(f"Read {model.orders} orders; writing {model.pair_count} neighbour rows…")
    with transaction.atomic(durable=True):
        written = _model_write(model)
        return RecommendationBuild.objects.create(
            started_at=started_at,
            finished_at=timezone.now(),
            history_from=since,
            orders=model.orders,
            lines=model.lines,
            products=len(model.popularity),
            pairs=written,
            seconds=round(time.perf_counter() - clock, 3),
        )


def _model_write(model: CoPurchaseModel) -> int:
    """Replace the tables with ``model``; products deleted meanwhile are left out."""
    ProductPairScore.objects.all().delete()
    ProductPopularity.objects.all().delete()
    existing = set(Product.objects.values_list("pk", flat=True))
    ProductPopularity.objects.bulk_create(
        (
            ProductPopularity(product_id=pk, orders=n)
            for pk, n in model.popularity.items()
            if pk in existing
        ),
        batch_size=WRITE_BATCH,
    )
    rows = [
        ProductPairScore(product_id=pk, other_id=n.product_id, score=n.score, together=n.together)
        for pk, neighbours in model.neighbours.items()
        if pk in existing
        for n in neighbours
        if n.product_id in existing
    ]
    ProductPairScore.objects.bulk_create(rows, batch_size=WRITE_BATCH)
    return len(rows)


# --- Serving ----------------------------------------------------------------------------------


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
    stock and not among them. Best co-purchase scores first, then the best sellers of
    ``category_ids``, then of the store. One query, two when the first falls short.

    The first three of a longer list are the list of three.
    """
    held = set(product_ids)
    found = [Suggestion(p, REASON_BOUGHT_WITH) for p in _bought_with(held, limit)] if held else []
    if len(found) < limit:
        taken = held | {s.product.pk for s in found}
        categories = {pk for pk in category_ids if pk is not None}
        found += _popular(taken, categories, limit - len(found))
    return found


def _bought_with(held: set[int], limit: int) -> list[Product]:
    return list(
        Product.objects.active()
        .in_stock()
        .filter(suggested_by__product_id__in=held)
        .exclude(pk__in=held)
        .annotate(affinity=Sum("suggested_by__score"))
        .select_related("category")
        .order_by("-affinity", "pk")[:limit]
    )


def _popular(taken: set[int], categories: set[int], limit: int) -> list[Suggestion]:
    in_category = (
        Case(
            When(category_id__in=categories, then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
        if categories
        else Value(0, output_field=IntegerField())
    )
    products = (
        Product.objects.active()
        .in_stock()
        .filter(popularity__orders__gt=0)
        .exclude(pk__in=taken)
        .annotate(in_category=in_category)
        .select_related("category")
        .order_by("-in_category", "-popularity__orders", "pk")[:limit]
    )
    return [
        Suggestion(p, REASON_POPULAR_IN_CATEGORY if p.in_category else REASON_POPULAR)
        for p in products
    ]
