"""“Often bought with” against a most-popular list: hit rate, coverage, training and query time.

    .venv/bin/python -m benchmarks.recommend --baskets FILE [--eval-baskets N]

FILE holds one basket per line, its items as comma-separated names (empty fields ignored,
names stripped, an item twice in a basket counts once). The benchmark builds a throwaway
SQLite database (as ``benchmarks.cart_requests`` does), creates one active, in-stock product per
distinct item name, and turns the first 80 % of the lines, in file order, into paid orders.

- **Training**: ``catalog.recommendations.recommendations_rebuild``, timed as the store runs it
  (read the orders, count, write the tables).
- **Evaluation** on the last 20 %: for every basket with at least two distinct items, each item
  in turn is hidden and the others are the cart. The recommender is asked through
  ``product_suggestions`` (the cart page's query) for 5 products; the baseline suggests the 5
  products in most training orders that are not in the cart. Hit rate@k: the share of queries
  whose hidden item is among the first k (the first 3 of 5 are exactly the answer for 3).
  Coverage: the share of all products suggested at least once.
- Test baskets are never seen by either model; items only in them are products nobody bought.

Prints a table, then one JSON line.
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.cart_requests import django_setup

TRAIN_SHARE = 0.8
K = 5
HIT_AT = (3, 5)
ORDER_BATCH = 2000


def baskets_read(path: Path) -> list[list[str]]:
    """One list of distinct item names per line, in file order (empty lines give [])."""
    baskets = []
    for line in path.read_text(encoding="utf-8").splitlines():
        names = (name.strip() for name in line.split(","))
        baskets.append(list(dict.fromkeys(name for name in names if name)))
    return baskets


def baskets_split(baskets: list[list[str]]) -> tuple[list[list[str]], list[list[str]]]:
    cut = int(len(baskets) * TRAIN_SHARE)
    return baskets[:cut], baskets[cut:]


# --- The store ------------------------------------------------------------------------------


def products_create(baskets: list[list[str]]) -> dict[str, int]:
    """One product per distinct name, in order of first appearance; returns name → id."""
    from decimal import Decimal

    from catalog.models import Product

    names = list(dict.fromkeys(name for basket in baskets for name in basket))
    Product.objects.bulk_create(
        Product(name=name[:200], slug=f"item-{n}", price=Decimal("1.00"), stock=1_000_000)
        for n, name in enumerate(names)
    )
    ids = dict(Product.objects.values_list("slug", "pk"))
    return {name: ids[f"item-{n}"] for n, name in enumerate(names)}


def orders_create(baskets: list[list[str]], products: dict[str, int]) -> None:
    """Each basket as a paid order of one of each item (prices play no part)."""
    from datetime import timedelta
    from decimal import Decimal

    from django.db import transaction
    from django.utils import timezone

    from orders.models import Order, OrderLine

    now, zero = timezone.now(), Decimal("0.00")
    for start in range(0, len(baskets), ORDER_BATCH):
        batch = baskets[start : start + ORDER_BATCH]
        numbers = [f"BENCH-{start + n:07d}" for n in range(len(batch))]
        with transaction.atomic():
            Order.objects.bulk_create(
                Order(
                    number=number,
                    cart_version=1,
                    status=Order.Status.PAID,
                    currency="EUR",
                    subtotal=zero,
                    total=zero,
                    expires_at=now + timedelta(minutes=30),
                    paid_at=now,
                )
                for number in numbers
            )
            ids = dict(Order.objects.filter(number__in=numbers).values_list("number", "pk"))
            OrderLine.objects.bulk_create(
                (
                    OrderLine(
                        order_id=ids[number],
                        product_id=products[name],
                        product_name=name[:200],
                        unit_price=zero,
                        quantity=1,
                        subtotal=zero,
                        total=zero,
                    )
                    for number, basket in zip(numbers, batch, strict=True)
                    for name in basket
                ),
                batch_size=ORDER_BATCH,
            )


# --- Evaluation -----------------------------------------------------------------------------


@dataclass
class Score:
    name: str
    queries: int = 0
    hits: dict[int, int] = field(default_factory=lambda: dict.fromkeys(HIT_AT, 0))
    suggested: set[int] = field(default_factory=set)
    times_ms: list[float] = field(default_factory=list)

    def add(self, hidden: int, suggestions: list[int], ms: float) -> None:
        self.queries += 1
        for k in HIT_AT:
            self.hits[k] += hidden in suggestions[:k]
        self.suggested.update(suggestions)
        self.times_ms.append(ms)

    def row(self, products: int) -> dict[str, Any]:
        times = self.times_ms or [0.0, 0.0]
        return {
            "model": self.name,
            **{f"hit_rate@{k}": round(self.hits[k] / max(self.queries, 1), 4) for k in HIT_AT},
            "coverage": round(len(self.suggested) / max(products, 1), 4),
            "query_ms_median": round(statistics.median(times), 3),
            "query_ms_p95": round(statistics.quantiles(times, n=20)[18], 3),
        }


def popular_suggest(ranking: list[int], cart: set[int], k: int) -> list[int]:
    found = []
    for product_id in ranking:
        if product_id not in cart:
            found.append(product_id)
            if len(found) == k:
                break
    return found


def evaluate(
    test: list[list[str]], products: dict[str, int], ranking: list[int]
) -> tuple[Score, Score]:
    from catalog.recommendations import product_suggestions

    recommender, popular = Score("co-purchase"), Score("most popular")
    for basket in test:
        ids = [products[name] for name in basket]
        if len(ids) < 2:
            continue
        for hidden in ids:
            cart = [pk for pk in ids if pk != hidden]
            start = time.perf_counter()
            found = product_suggestions(product_ids=cart, category_ids=[None], limit=K)
            recommender.add(hidden, [s.product.pk for s in found], _ms(start))
            start = time.perf_counter()
            suggestions = popular_suggest(ranking, set(cart), K)
            popular.add(hidden, suggestions, _ms(start))
    return recommender, popular


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


# --- Run ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    baskets: int
    train_baskets: int
    test_baskets: int
    products: int
    train_lines: int
    load_seconds: float


def run(path: Path, eval_baskets: int | None) -> dict[str, Any]:
    from catalog.recommendations import recommendations_rebuild

    baskets = baskets_read(path)
    train, test = baskets_split(baskets)
    if eval_baskets is not None:
        test = test[:eval_baskets]
    start = time.perf_counter()
    products = products_create(baskets)
    orders_create(train, products)
    setup = Setup(
        baskets=len(baskets),
        train_baskets=len(train),
        test_baskets=len(test),
        products=len(products),
        train_lines=sum(len(basket) for basket in train),
        load_seconds=round(time.perf_counter() - start, 2),
    )
    print(
        f"loaded {setup.train_baskets} orders in {setup.load_seconds} s",
        file=sys.stderr,
        flush=True,
    )
    start = time.perf_counter()
    build = recommendations_rebuild()
    train_seconds = round(time.perf_counter() - start, 3)
    counts = Counter(products[name] for basket in train for name in basket)
    ranking = sorted(counts, key=lambda pk: (-counts[pk], pk))
    recommender, popular = evaluate(test, products, ranking)
    return {
        "benchmark": "recommend",
        "file": str(path),
        **asdict(setup),
        "queries": recommender.queries,
        "train_seconds": train_seconds,
        "neighbour_rows": build.pairs,
        "results": [recommender.row(len(products)), popular.row(len(products))],
    }


def report(summary: dict[str, Any]) -> None:
    print(
        f"Recommendations: {summary['file']}: {summary['baskets']} baskets, "
        f"{summary['products']} products; trained on {summary['train_baskets']} "
        f"({summary['train_lines']} lines) in {summary['train_seconds']:.2f} s "
        f"({summary['neighbour_rows']} neighbour rows); {summary['queries']} queries "
        f"from {summary['test_baskets']} test baskets"
    )
    print(f"{'model':<14} {'hit@3':>7} {'hit@5':>7} {'coverage':>9} {'query ms':>9} {'p95 ms':>8}")
    for r in summary["results"]:
        print(
            f"{r['model']:<14} {r['hit_rate@3']:>7.1%} {r['hit_rate@5']:>7.1%} "
            f"{r['coverage']:>9.1%} {r['query_ms_median']:>9.3f} {r['query_ms_p95']:>8.3f}"
        )
    print(json.dumps(summary))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baskets", type=Path, required=True, help="one basket per line")
    parser.add_argument(
        "--eval-baskets",
        type=int,
        default=None,
        help="evaluate on only the first N test baskets (for very large files)",
    )
    args = parser.parse_args(argv)
    if not args.baskets.is_file():
        parser.error(f"{args.baskets} is not a file")
    with tempfile.TemporaryDirectory(prefix="smartcart-bench-") as directory:
        django_setup(Path(directory) / "bench.sqlite3")
        report(run(args.baskets, args.eval_baskets))
    return 0


if __name__ == "__main__":
    sys.exit(main())
