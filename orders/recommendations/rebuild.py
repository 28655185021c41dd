"""Training from the store's paid orders: read them, fit the model, replace the tables.

Run by Celery beat (``orders.tasks.recommendations_rebuild``) and by ``manage.py
recommendations_rebuild``, never by a request. What it writes is catalog's (the neighbours
and best sellers of its products), which ``catalog.suggestions`` serves.
"""

import time
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from catalog.models import Product, ProductPairScore, ProductPopularity, RecommendationBuild
from catalog.suggestions import cache_fill
from orders.models import Order, OrderLine
from orders.recommendations.ease import NeighbourModel, Progress, baskets_from_lines, ease_train

HISTORY_DAYS = 365
WRITE_BATCH = 1000


def paid_baskets(*, since: datetime) -> Iterator[set[int]]:
    """The products of each order paid since ``since`` (wholly refunded ones left out),
    streamed in order id order, a chunk of rows at a time."""
    statuses = [Order.Status.PAID, Order.Status.PARTIALLY_REFUNDED]
    rows = (
        OrderLine.objects.filter(
            order__status__in=statuses, order__paid_at__gte=since, product__isnull=False
        )
        .order_by("order_id")
        .values_list("order_id", "product_id")
        .iterator(chunk_size=10_000)
    )
    return baskets_from_lines(rows)


def recommendations_rebuild(*, progress: Progress | None = None) -> RecommendationBuild:
    """Learn from the paid orders again and replace every neighbour and popularity row.

    Reads and fits outside any transaction; writes in one, so shoppers see the old rows or
    the new ones, never a mix; then fills the serving's cache and points it at the new
    build. Idempotent:
    a second run over the same orders writes the same rows.
    """
    say = progress or (lambda text: None)
    started_at, clock = timezone.now(), time.perf_counter()
    since = started_at - timedelta(days=HISTORY_DAYS)
    model = ease_train(paid_baskets(since=since), progress=say)
    say(f"Fitted on {model.orders} orders; writing {model.pair_count} neighbour rows…")
    with transaction.atomic(durable=True):
        written = _model_write(model)
        build = RecommendationBuild.objects.create(
            started_at=started_at,
            finished_at=timezone.now(),
            history_from=since,
            orders=model.orders,
            lines=model.lines,
            products=len(model.popularity),
            pairs=written,
            seconds=round(time.perf_counter() - clock, 3),
        )
    say("Filling the cache…")
    cache_fill(
        version=build.version,
        neighbours={
            pk: [(n.product_id, n.score) for n in rows] for pk, rows in model.neighbours.items()
        },
    )
    return build


def _model_write(model: NeighbourModel) -> int:
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
