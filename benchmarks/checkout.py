"""Order placement under concurrent shoppers: ``order_place`` latency p50/p95 and throughput.

    .venv/bin/python -m benchmarks.checkout [--threads 1,4,8] [--orders 160] [--lines 5]

The database: a throwaway SQLite file in a temporary directory by default. With
``DATABASE_URL`` set (MySQL/MariaDB), a scratch database beside the configured one, made and
dropped the way Django's test runner does it (``test_<name>_checkout_bench``; CI's user may
create ``test_<name>*``): the configured database itself is never touched. ``REDIS_URL`` and
``CELERY_BROKER_URL`` are ignored (in-process events, eager tasks).

For each thread count, ``--orders`` shoppers each get a cart of ``--lines`` products drawn
from a shared pool of ``--products`` (so checkouts contend for the same product rows, as
popular goods do), with a 10 % coupon on every other cart. Then the threads, released
together, place those carts one after another; each ``order_place`` call is timed on its own
(it runs the whole durable transaction: locks, stock, coupon, snapshot). Throughput is the
orders placed divided by the wall time from release to the last thread's end.

Prints a table, then one JSON line. Exits 1 when a placement failed (stock is plentiful, so
none should).
"""

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

SCRATCH_SUFFIX = "_checkout_bench"
SEED = 20240601


@dataclass(frozen=True)
class Measure:
    threads: int
    orders: int
    failed: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    orders_per_s: float


# --- The database ---------------------------------------------------------------------------


def django_setup(directory: Path) -> str | None:
    """Configure Django on a scratch database; returns the name to restore on MySQL, else None."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopcart.settings")
    for name in ("REDIS_URL", "CELERY_BROKER_URL"):
        os.environ.pop(name, None)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    on_server = os.environ.get("DATABASE_URL", "").startswith("mysql")
    if not on_server:
        os.environ["DATABASE_URL"] = f"sqlite:///{directory / 'checkout.sqlite3'}"
    import django
    from django.core.management import call_command
    from django.db import connection

    django.setup()
    if not on_server:
        call_command("migrate", verbosity=0)
        return None
    configured = connection.settings_dict["NAME"]
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"test_{configured}{SCRATCH_SUFFIX}"
    # Creates the scratch database (dropping a leftover one of the same name), migrates it and
    # points every connection of this process at it.
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    return configured


def django_teardown(configured: str | None) -> None:
    from django.db import connection

    if configured is not None:
        connection.creation.destroy_test_db(configured, verbosity=0)


# --- Shoppers -------------------------------------------------------------------------------


def store_create(product_count: int) -> list[Any]:
    from catalog.models import Category, Coupon, Product

    category = Category.objects.create(name="Groceries", slug="groceries")
    Coupon.objects.create(code="BENCH10", percent_off=Decimal("10"))
    return [
        Product.objects.create(
            name=f"Product {n}",
            slug=f"product-{n}",
            category=category,
            price=Decimal("1.00") + Decimal(n) / 100,
            stock=1_000_000,
        )
        for n in range(product_count)
    ]


def carts_create(
    round_name: str, count: int, lines: int, products: list[Any], rng: random.Random
) -> list[tuple[Any, Any]]:
    """``count`` shoppers, each with a cart ready to check out: (cart, user) pairs."""
    from django.contrib.auth.models import User

    from carts.services import cart_add_product, cart_apply_coupon, cart_get_for_user

    carts = []
    for n in range(count):
        email = f"{round_name}-{n}@example.com"
        user = User.objects.create_user(username=email, email=email)
        cart = cart_get_for_user(user=user)
        for product in rng.sample(products, lines):
            cart_add_product(cart=cart, product=product, quantity=rng.randint(1, 3))
        if n % 2:
            cart_apply_coupon(cart=cart, code="BENCH10")
        carts.append((cart, user))
    return carts


# --- Measuring ------------------------------------------------------------------------------


def place_all(carts: list[tuple[Any, Any]], threads: int) -> tuple[list[float], int, float]:
    """Place every cart, ``threads`` at a time; returns per-call ms, failures and wall seconds."""
    from django.db import connection

    from orders.services import order_place

    chunks = [carts[n::threads] for n in range(threads)]
    barrier = threading.Barrier(threads + 1)
    times: list[float] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def shopper(chunk: list[tuple[Any, Any]]) -> None:
        try:
            barrier.wait()
            for cart, user in chunk:
                start = time.perf_counter()
                try:
                    order_place(cart=cart, user=user)
                except Exception as exc:  # counted and reported
                    with lock:
                        failures.append(exc)
                    continue
                with lock:
                    times.append((time.perf_counter() - start) * 1000)
        finally:
            connection.close()

    workers = [threading.Thread(target=shopper, args=(chunk,)) for chunk in chunks]
    for worker in workers:
        worker.start()
    barrier.wait()
    started = time.perf_counter()
    for worker in workers:
        worker.join()
    wall = time.perf_counter() - started
    for failure in failures[:3]:
        print(f"placement failed: {failure!r}", file=sys.stderr)
    return times, len(failures), wall


def measure(threads: int, carts: list[tuple[Any, Any]]) -> Measure:
    times, failed, wall = place_all(carts, threads)
    if len(times) >= 2:
        p95 = statistics.quantiles(times, n=20, method="inclusive")[18]
    else:
        p95 = max(times, default=0.0)
    return Measure(
        threads=threads,
        orders=len(times),
        failed=failed,
        p50_ms=round(statistics.median(times), 2) if times else 0.0,
        p95_ms=round(p95, 2),
        max_ms=round(max(times, default=0.0), 2),
        orders_per_s=round(len(times) / wall, 1) if wall else 0.0,
    )


def run(args: argparse.Namespace) -> list[Measure]:
    rng = random.Random(SEED)
    products = store_create(args.products)
    results = []
    for threads in args.threads:
        carts = carts_create(f"t{threads}", args.orders, args.lines, products, rng)
        results.append(measure(threads, carts))
    return results


def report(results: list[Measure], args: argparse.Namespace) -> bool:
    from django.conf import settings
    from django.db import connection

    database = connection.vendor
    print(
        f"Checkout: order_place with {args.lines} lines per cart over {args.products} shared "
        f"products, {args.orders} orders per row, {database}"
    )
    header = f"{'threads':>7} {'orders':>6} {'failed':>6} {'p50 ms':>8} {'p95 ms':>8}"
    print(f"{header} {'max ms':>8} {'orders/s':>9}")
    for r in results:
        print(
            f"{r.threads:>7} {r.orders:>6} {r.failed:>6} {r.p50_ms:>8.2f} {r.p95_ms:>8.2f} "
            f"{r.max_ms:>8.2f} {r.orders_per_s:>9.1f}"
        )
    summary = {
        "benchmark": "checkout",
        "database": database,
        "lines": args.lines,
        "products": args.products,
        "orders_per_row": args.orders,
        "debug": settings.DEBUG,
        "results": [asdict(result) for result in results],
    }
    print(json.dumps(summary))
    return not any(result.failed for result in results)


def thread_counts(text: str) -> list[int]:
    counts = [int(part) for part in text.split(",") if part.strip()]
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("give thread counts such as 1,4,8")
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--threads", type=thread_counts, default=[1, 4, 8], help="shoppers at once, per row"
    )
    parser.add_argument("--orders", type=int, default=160, help="orders placed per row")
    parser.add_argument("--lines", type=int, default=5, help="products in each cart")
    parser.add_argument("--products", type=int, default=20, help="products in the store")
    args = parser.parse_args(argv)
    if not 1 <= args.lines <= args.products:
        parser.error("--lines must be from 1 to --products")
    with tempfile.TemporaryDirectory(prefix="smartcart-bench-") as directory:
        configured = django_setup(Path(directory))
        try:
            results = run(args)
            ok = report(results, args)
        finally:
            django_teardown(configured)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
