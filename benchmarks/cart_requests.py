"""The cart page and the cart JSON with 1, 10 and 50 lines: queries per request, server time.

    .venv/bin/python -m benchmarks.cart_requests [--requests 50]

Builds a throwaway SQLite database in a temporary directory (the environment's
``DATABASE_URL``, ``REDIS_URL`` and ``CELERY_BROKER_URL`` are ignored), one shopper per cart size
with a coupon applied, and sends each request through Django's test client in this process:
the time is the server's whole handling (middleware, view, queries, rendering), no network.
Queries are counted on one request; times are over ``--requests`` more after a warm-up.

Prints a table, then one JSON line. Exits 1 when a request's query count grows with the lines.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

LINE_COUNTS = (1, 10, 50)
WARM_UP = 3


@dataclass(frozen=True)
class Measure:
    endpoint: str
    lines: int
    queries: int
    median_ms: float
    p95_ms: float


def django_setup(database: Path) -> None:
    """Point the settings at ``database`` (before Django reads them) and migrate it quietly."""
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopcart.settings")
    os.environ["ALLOWED_HOSTS"] = "testserver"  # the test client's host name
    for name in ("REDIS_URL", "CELERY_BROKER_URL"):  # in-process events and eager tasks
        os.environ.pop(name, None)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def shoppers_create() -> dict[int, Any]:
    """One shopper per size, each with a cart of that many lines and a 10 % coupon."""
    from django.contrib.auth.models import User

    from carts.services import cart_add_product, cart_apply_coupon, cart_get_for_user
    from catalog.models import Category, Coupon, Product

    category = Category.objects.create(name="Groceries", slug="groceries")
    products = [
        Product.objects.create(
            name=f"Product {n}",
            slug=f"product-{n}",
            category=category,
            price=Decimal("1.00") + Decimal(n) / 100,
            stock=1000,
        )
        for n in range(max(LINE_COUNTS))
    ]
    Coupon.objects.create(code="BENCH10", percent_off=Decimal("10"))
    shoppers = {}
    for count in LINE_COUNTS:
        email = f"shopper{count}@example.com"
        user = User.objects.create_user(username=email, email=email)
        cart = cart_get_for_user(user=user)
        for product in products[:count]:
            cart_add_product(cart=cart, product=product, quantity=2)
        cart_apply_coupon(cart=cart, code="BENCH10")
        shoppers[count] = user
    return shoppers


def measure(
    client: Any, endpoint: str, url: str, lines: int, requests: int, **headers: str
) -> Measure:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    expected = 304 if "If-None-Match" in headers else 200
    for _ in range(WARM_UP):
        client.get(url, headers=headers)
    # Django empties the query log when a request starts; empty it first so the context's
    # starting index (taken before the request) is 0 and the request's queries land after it.
    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
    if response.status_code != expected:
        raise SystemExit(f"{endpoint}: {url} answered {response.status_code}, not {expected}")
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        client.get(url, headers=headers)
        times.append((time.perf_counter() - start) * 1000)
    p95 = statistics.quantiles(times, n=20, method="inclusive")[18]
    return Measure(endpoint, lines, len(queries), round(statistics.median(times), 2), round(p95, 2))


def cart_page_url() -> str | None:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("carts:detail")
    except NoReverseMatch:
        return None


def run(requests: int) -> tuple[list[Measure], list[str]]:
    from django.test import Client
    from django.urls import reverse

    shoppers = shoppers_create()
    page_url = cart_page_url()
    json_url = reverse("carts-api:detail")
    skipped = [] if page_url else ["cart page: carts:detail does not resolve yet"]
    results = []
    for lines, user in shoppers.items():
        client = Client()
        client.force_login(user)
        if page_url:
            results.append(measure(client, "cart page", page_url, lines, requests))
        results.append(measure(client, "cart JSON", json_url, lines, requests))
        etag = client.get(json_url)["ETag"]
        results.append(
            measure(client, "cart JSON 304", json_url, lines, requests, **{"If-None-Match": etag})
        )
    return results, skipped


def queries_constant(results: list[Measure]) -> dict[str, bool]:
    by_endpoint: dict[str, set[int]] = {}
    for result in results:
        by_endpoint.setdefault(result.endpoint, set()).add(result.queries)
    return {endpoint: len(counts) == 1 for endpoint, counts in by_endpoint.items()}


def report(results: list[Measure], skipped: list[str], requests: int) -> bool:
    from django.conf import settings

    print(f"Cart requests: {requests} timed requests each, Django test client, SQLite")
    print(f"{'endpoint':<15} {'lines':>5} {'queries':>7} {'median ms':>10} {'p95 ms':>8}")
    for r in results:
        print(f"{r.endpoint:<15} {r.lines:>5} {r.queries:>7} {r.median_ms:>10.2f} {r.p95_ms:>8.2f}")
    for note in skipped:
        print(f"skipped: {note}")
    constant = queries_constant(results)
    for endpoint, ok in constant.items():
        print(f"{endpoint}: queries {'constant' if ok else 'GROW'} in the number of lines")
    summary = {
        "benchmark": "cart_requests",
        "requests": requests,
        "debug": settings.DEBUG,
        "results": [asdict(result) for result in results],
        "queries_constant": constant,
        "skipped": skipped,
    }
    print(json.dumps(summary))
    return all(constant.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50, help="timed requests per row")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="smartcart-bench-") as directory:
        django_setup(Path(directory) / "bench.sqlite3")
        results, skipped = run(args.requests)
        ok = report(results, skipped, args.requests)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
