"""“Often bought with”: every model on several splits of a basket file, and the store's own.

    .venv/bin/python -m benchmarks.recommend --baskets FILE [--departments] [--no-als]
        [--no-served] [--eval-baskets N]

FILE holds one basket per line, its items as comma-separated names (empty fields ignored,
names stripped, an item twice in a basket counts once). Items are numbered in order of first
appearance (the store's product ids follow the same order).

1. **Every model on every split** (``benchmarks.recommend_protocol``: file order and 4 seeds):
   each model's settings are chosen by cross-validation inside the split's *training*
   baskets, then it is trained on all of them and asked on the test baskets. Hit rate@3/@5 and MRR@5
   per query and per basket, coverage, the share of queries the model had nothing for (the
   category and store best sellers answer them), and a paired bootstrap 95 % interval of each
   model's hit-rate@3 difference to most popular, and of the shipped model's to the runner-up
   (the other model with the best mean hit rate@3 over the splits).
2. **The store itself** on the file-order split (skip with ``--no-served``): a throwaway SQLite
   database with one active, in-stock product per item (``--departments``: in the category of
   its department in ``benchmarks.basket_files``, for the synthetic files), the training
   baskets as paid orders, ``recommendations_rebuild`` timed as the job runs it, and every test
   query asked through ``product_suggestions`` (the cart page's own queries).

Prints the tables, then one JSON line.

Size: kept in one module: the whole protocol (splits, models, bootstrap, table) in one file, so
a reader checks it in one place.
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.cart_requests import django_setup
from benchmarks.recommend_models import BASELINE, SHIPPED, Model, Training, models
from benchmarks.recommend_protocol import (
    HIT_AT,
    SEEDS,
    SHOWN,
    Answer,
    Basket,
    Interval,
    Outcome,
    Split,
    evaluate,
    folds,
    metric_means,
    paired_bootstrap,
    query_values,
    splits,
)

METRICS = (*(f"hit@{k}" for k in HIT_AT), "mrr")
ORDER_BATCH = 2000


def baskets_read(path: Path) -> list[list[str]]:
    """One list of distinct item names per line, in file order (empty lines give [])."""
    baskets = []
    for line in path.read_text(encoding="utf-8").splitlines():
        names = (name.strip() for name in line.split(","))
        baskets.append(list(dict.fromkeys(name for name in names if name)))
    return baskets


def baskets_index(baskets: list[list[str]]) -> tuple[list[str], list[Basket]]:
    """Item names in order of first appearance, and the baskets as their indexes."""
    names = list(dict.fromkeys(name for basket in baskets for name in basket))
    index = {name: n for n, name in enumerate(names)}
    return names, [[index[name] for name in basket] for basket in baskets]


def departments_of(names: list[str]) -> tuple[list[str], list[int | None]]:
    """The synthetic generator's departments, and each item's (None when not one of its)."""
    from benchmarks.basket_files import DEPARTMENTS

    found = list(DEPARTMENTS)
    where = {item: found.index(name) for name, items in DEPARTMENTS.items() for item in items}
    return found, [where.get(name) for name in names]


# --- 1. Every model on every split ------------------------------------------------------------


@dataclass
class Result:
    model: str
    params: dict[str, Any]
    outcome: Outcome


def choose(model: Model, split: Split, products: int, categories: Sequence[int | None]) -> dict:
    """The setting of ``model`` with the best hit rate@3 pooled over the folds of the split's
    training part (the first of the grid on a tie)."""
    if len(model.grid) == 1:
        return model.grid[0]
    hits = [0.0] * len(model.grid)
    for fold in folds(split):
        training = Training(fold.train, products, categories)
        for n, params in enumerate(model.grid):
            outcome = evaluate(model.trainer(training, params), fold.test)
            hits[n] += float(query_values(outcome, "hit@3").sum())
    return model.grid[hits.index(max(hits))]


def split_run(
    split: Split, compared: list[Model], products: int, categories: Sequence[int | None]
) -> list[Result]:
    training = Training(split.train, products, categories)
    results = []
    for model in compared:
        params = choose(model, split, products, categories)
        recommender = model.trainer(training, params)
        results.append(Result(model.name, params, evaluate(recommender, split.test)))
        print(f"  {split.name}: {model.name} {params}", file=sys.stderr, flush=True)
    return results


def result_row(result: Result, baseline: Result, products: int) -> dict[str, Any]:
    row: dict[str, Any] = {"model": result.model, "params": result.params}
    for metric in METRICS:
        per_query, per_basket = metric_means(result.outcome, metric)
        row[metric] = round(per_query, 4)
        row[f"{metric} per basket"] = round(per_basket, 4)
    chosen, queries = result.outcome.from_model, max(len(result.outcome.from_model), 1)
    row["coverage"] = round(len(result.outcome.shown) / max(products, 1), 4)
    # Queries whose cart had no neighbours at all, and whose first 3 hold a best seller.
    row["no neighbours"] = round(sum(n == 0 for n in chosen) / queries, 4)
    row["fallback in 3"] = round(sum(n < 3 for n in chosen) / queries, 4)
    if result is not baseline:
        by_query, by_basket = paired_bootstrap(result.outcome, baseline.outcome)
        row["vs popular"] = _interval_json(by_query)
        row["vs popular per basket"] = _interval_json(by_basket)
    return row


def _interval_json(interval: Interval) -> list[float]:
    return [round(interval.difference, 4), round(interval.low, 4), round(interval.high, 4)]


def runner_up(per_split: list[list[Result]]) -> str:
    """The model, other than the shipped one and the baseline, with the best mean hit@3."""
    means: dict[str, list[float]] = {}
    for results in per_split:
        for result in results:
            if result.model not in (SHIPPED, BASELINE):
                means.setdefault(result.model, []).append(metric_means(result.outcome, "hit@3")[0])
    return max(means, key=lambda name: statistics.mean(means[name]))


def compare(
    baskets: list[Basket],
    products: int,
    categories: Sequence[int | None],
    compared: list[Model],
    seeds: Sequence[int] = SEEDS,
) -> dict[str, Any]:
    per_split = []
    found = []
    for split in splits(baskets, seeds):
        results = split_run(split, compared, products, categories)
        per_split.append(results)
        found.append((split, results))
    second = runner_up(per_split)
    report: list[dict[str, Any]] = []
    for split, results in found:
        by_name = {result.model: result for result in results}
        shipped_vs, shipped_vs_basket = paired_bootstrap(
            by_name[SHIPPED].outcome, by_name[second].outcome
        )
        report.append(
            {
                "split": split.name,
                "train baskets": len(split.train),
                "test baskets": len(split.test),
                "queries": len(by_name[BASELINE].outcome.position),
                "rows": [result_row(r, by_name[BASELINE], products) for r in results],
                "shipped vs runner-up": _interval_json(shipped_vs),
                "shipped vs runner-up per basket": _interval_json(shipped_vs_basket),
            }
        )
    return {"runner-up": second, "splits": report, "summary": summary(report)}


def summary(report: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each model's hit rate@3 averaged over the splits, and on how many its interval
    against most popular lies wholly above zero (per query and per basket)."""
    names = [row["model"] for row in report[0]["rows"]]
    found = []
    for name in names:
        rows = [row for split in report for row in split["rows"] if row["model"] == name]
        found.append(
            {
                "model": name,
                **{
                    f"mean {metric}": round(statistics.mean(row[metric] for row in rows), 4)
                    for metric in ("hit@3", "hit@3 per basket", "hit@5", "mrr")
                },
                "splits above popular": sum(row.get("vs popular", [0, 0])[1] > 0 for row in rows),
                "splits above popular per basket": sum(
                    row.get("vs popular per basket", [0, 0])[1] > 0 for row in rows
                ),
            }
        )
    return found


# --- 2. The store itself --------------------------------------------------------------------


def products_create(
    names: list[str], categories: Sequence[int | None], departments: list[str]
) -> list[int]:
    """One active, in-stock product per item, in item order (in its department's category,
    if it has one); returns the ids by index."""
    from decimal import Decimal

    from catalog.models import Category, Product

    made = [
        Category.objects.create(name=name.title(), slug=f"department-{n}").pk
        for n, name in enumerate(departments)
    ]
    category_ids: list[int | None] = [None] * len(names)
    for n, department in enumerate(categories[: len(names)]):
        if department is not None:
            category_ids[n] = made[department]
    Product.objects.bulk_create(
        Product(
            name=name[:200],
            slug=f"item-{n}",
            price=Decimal("1.00"),
            stock=1_000_000,
            category_id=category_ids[n],
        )
        for n, name in enumerate(names)
    )
    ids = dict(Product.objects.values_list("slug", "pk"))
    return [ids[f"item-{n}"] for n in range(len(names))]


def orders_create(baskets: list[Basket], product_ids: list[int], names: list[str]) -> None:
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
                        product_id=product_ids[item],
                        product_name=names[item][:200],
                        unit_price=zero,
                        quantity=1,
                        subtotal=zero,
                        total=zero,
                    )
                    for number, basket in zip(numbers, batch, strict=True)
                    for item in dict.fromkeys(basket)
                ),
                batch_size=ORDER_BATCH,
            )


@dataclass
class StoreRecommender:
    """Asks ``product_suggestions`` as the cart page does, and times each answer."""

    product_ids: list[int]
    categories: dict[int, int | None]

    def __post_init__(self) -> None:
        self.index = {pk: n for n, pk in enumerate(self.product_ids)}
        self.times_ms: list[float] = []

    def __call__(self, cart: list[int], k: int) -> Answer:
        from catalog.suggestions import REASON_BOUGHT_WITH, product_suggestions

        ids = [self.product_ids[item] for item in cart]
        start = time.perf_counter()
        found = product_suggestions(
            product_ids=ids, category_ids=[self.categories[pk] for pk in ids], limit=k
        )
        self.times_ms.append((time.perf_counter() - start) * 1000)
        chosen = sum(s.reason == REASON_BOUGHT_WITH for s in found)
        return Answer([self.index[s.product.pk] for s in found], chosen)


def store_run(
    names: list[str],
    baskets: list[Basket],
    categories: list[int | None],
    departments: list[str],
    eval_baskets: int | None,
) -> dict[str, Any]:
    from catalog.models import Product
    from orders.recommendations.ease import NEIGHBOURS, REGULARISATION
    from orders.recommendations.rebuild import recommendations_rebuild

    split = splits(baskets, seeds=())[0]
    test = split.test[:eval_baskets] if eval_baskets is not None else split.test
    product_ids = products_create(names, categories, departments)
    orders_create(split.train, product_ids, names)
    start = time.perf_counter()
    build = recommendations_rebuild()
    train_seconds = time.perf_counter() - start
    recommender = StoreRecommender(
        product_ids, dict(Product.objects.values_list("pk", "category_id"))
    )
    outcome = evaluate(recommender, test)
    times = recommender.times_ms or [0.0, 0.0]
    return {
        "settings": {"regularisation": REGULARISATION, "neighbours": NEIGHBOURS},
        "train orders": build.orders,
        "train lines": build.lines,
        "train seconds": round(train_seconds, 3),
        "neighbour rows": build.pairs,
        "queries": len(outcome.position),
        **{metric: round(metric_means(outcome, metric)[0], 4) for metric in METRICS},
        "hit@3 per basket": round(metric_means(outcome, "hit@3")[1], 4),
        "query ms median": round(statistics.median(times), 3),
        "query ms p95": round(statistics.quantiles(times, n=20)[18], 3),
    }


# --- Report -----------------------------------------------------------------------------------


def _pp(interval: list[float]) -> str:
    difference, low, high = (100 * value for value in interval)
    return f"{difference:+.1f} [{low:+.1f}, {high:+.1f}]"


def _params(params: dict[str, Any]) -> str:
    return " ".join(f"{key}={value}" for key, value in params.items()) or "-"


def report(summary_json: dict[str, Any]) -> None:
    compared = summary_json["compared"]
    print(
        f"Recommendations: {summary_json['file']}: {summary_json['baskets']} baskets, "
        f"{summary_json['products']} products; {SHOWN} shown, the first 3 on the page; "
        f"runner-up: {compared['runner-up']}"
    )
    for split in compared["splits"]:
        print(
            f"\n{split['split']}: {split['train baskets']} training baskets, "
            f"{split['test baskets']} test, {split['queries']} queries"
        )
        print(
            f"{'model':<32} {'hit@3':>6} {'/bskt':>6} {'hit@5':>6} {'MRR':>6} {'cover':>6} "
            f"{'none':>5} {'fill':>5}  {'Δ@3 vs popular, pp [95 %]':<26} {'per basket':<22} "
            "settings"
        )
        for row in split["rows"]:
            versus = _pp(row["vs popular"]) if "vs popular" in row else ""
            versus_basket = _pp(row["vs popular per basket"]) if "vs popular" in row else ""
            print(
                f"{row['model']:<32} {row['hit@3']:>6.1%} {row['hit@3 per basket']:>6.1%} "
                f"{row['hit@5']:>6.1%} {row['mrr']:>6.3f} {row['coverage']:>6.1%} "
                f"{row['no neighbours']:>5.1%} {row['fallback in 3']:>5.1%}  {versus:<26} "
                f"{versus_basket:<22} "
                f"{_params(row['params'])}"
            )
        print(
            f"{SHIPPED} - {compared['runner-up']}: Δ@3 {_pp(split['shipped vs runner-up'])} pp, "
            f"per basket {_pp(split['shipped vs runner-up per basket'])} pp"
        )
    print(f"\nOver the {len(compared['splits'])} split(s)")
    print(f"{'model':<32} {'hit@3':>6} {'/bskt':>6} {'hit@5':>6} {'MRR':>6}  above popular")
    for row in compared["summary"]:
        print(
            f"{row['model']:<32} {row['mean hit@3']:>6.1%} {row['mean hit@3 per basket']:>6.1%} "
            f"{row['mean hit@5']:>6.1%} {row['mean mrr']:>6.3f}  "
            f"{row['splits above popular']} per query, "
            f"{row['splits above popular per basket']} per basket"
        )
    store = summary_json.get("store")
    if store:
        print(
            f"\nThe store, file-order split ({_params(store['settings'])}): trained on "
            f"{store['train orders']} orders ({store['train lines']} lines) in "
            f"{store['train seconds']:.2f} s, {store['neighbour rows']} neighbour rows; "
            f"{store['queries']} queries: hit@3 {store['hit@3']:.1%} (per basket "
            f"{store['hit@3 per basket']:.1%}), hit@5 {store['hit@5']:.1%}, MRR "
            f"{store['mrr']:.3f}; query ms median {store['query ms median']:.3f}, "
            f"p95 {store['query ms p95']:.3f}"
        )
    print(json.dumps(summary_json))


def run(
    path: Path,
    *,
    departments: bool,
    als: bool,
    served: bool,
    eval_baskets: int | None,
    seeds: Sequence[int] = SEEDS,
) -> dict[str, Any]:
    import orders.recommendations.rebuild  # noqa: F401 - loaded now: a long run sees one version of the code

    names, baskets = baskets_index(baskets_read(path))
    groups, categories = departments_of(names) if departments else ([], [None] * len(names))
    result: dict[str, Any] = {
        "benchmark": "recommend",
        "file": str(path),
        "baskets": len(baskets),
        "products": len(names),
        "compared": compare(baskets, len(names), categories, models(als=als), seeds),
    }
    if served:
        result["store"] = store_run(names, baskets, categories, groups, eval_baskets)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baskets", type=Path, required=True, help="one basket per line")
    parser.add_argument(
        "--departments",
        action="store_true",
        help="put each item in its benchmarks.basket_files department (synthetic files)",
    )
    parser.add_argument("--no-als", action="store_true", help="leave the ALS model out")
    parser.add_argument(
        "--seeds",
        type=int,
        default=len(SEEDS),
        help=f"random splits besides the file order (default {len(SEEDS)}; 0 for a quick look)",
    )
    parser.add_argument(
        "--no-served", action="store_true", help="skip the run through the store's database"
    )
    parser.add_argument(
        "--eval-baskets",
        type=int,
        default=None,
        help="ask the store about only the first N test baskets (for very large files)",
    )
    args = parser.parse_args(argv)
    if not args.baskets.is_file():
        parser.error(f"{args.baskets} is not a file")
    with tempfile.TemporaryDirectory(prefix="smartcart-bench-") as directory:
        django_setup(Path(directory) / "bench.sqlite3")
        summary_json = run(
            args.baskets,
            departments=args.departments,
            als=not args.no_als,
            served=not args.no_served,
            eval_baskets=args.eval_baskets,
            seeds=SEEDS[: args.seeds],
        )
        report(summary_json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
