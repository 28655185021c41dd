"""``python -m benchmarks.scan_cpu``: server CPU and SQL statements per scan, in one process.

Scans go through Django's WSGI application as gunicorn hands them over (an environ, the
response read and closed), one after another from one paired cart device, so the figure is
the CPU one web worker spends on a scan, whatever else the machine runs (``process_time``,
not wall time). The cart holds ``--lines`` lines; each scan adds one of them, or takes one
out again, so it keeps its size and every answer is ``added`` or ``removed``.

    .venv/bin/python -m benchmarks.scan_cpu [--scans 2000] [--kind code|image|both]
    DATABASE_URL=mysql://... [REDIS_URL=redis://...] .venv/bin/python -m benchmarks.scan_cpu \\
        --server-pid <mariadbd pid> --server-pid <redis-server pid>

SQLite in a temporary directory by default; with ``DATABASE_URL`` naming MySQL/MariaDB, a
database of its own (``<name>_scancpu``, dropped at the end). ``REDIS_URL`` is kept when set
(throttle and device-key stamps then go through Redis, as on the production stack).
``--server-pid`` adds the CPU of those processes (the database and Redis servers) over the
measured scans, so the last column counts every process of the stack but the proxy.
``--profile`` prints where the web worker's CPU goes (cProfile, after the measured run).
Prints a table, then one JSON line.
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import tempfile
import time
import uuid
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.scan_load.store import BenchmarkError, Database, database_create, photos_render

URL = "/api/devices/v1/scans/"


def django_setup(database: Database) -> None:
    os.environ["DATABASE_URL"] = database.url
    os.environ["DJANGO_SETTINGS_MODULE"] = "shopcart.settings"
    os.environ["DEBUG"] = "false"  # no query log: the figure is production's
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["DEVICE_THROTTLE_RATE"] = "1000000/min"  # still checked on every scan
    os.environ.pop("CELERY_BROKER_URL", None)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


@dataclass(frozen=True)
class Store:
    device_key: str
    codes: list[str]  # the EAN-13s of the cart's lines
    photos: list[bytes]  # a photo of each, when image scans are measured


def store_create(lines: int, with_photos: bool) -> Store:
    """One shopper, one device paired with their cart, which holds ``lines`` lines."""
    from decimal import Decimal

    from django.contrib.auth.models import User

    from benchmarks.scan_load.store import ean13
    from carts.services import cart_add_product, cart_get_for_user, cart_pass_issue
    from catalog.services import product_create
    from devices.services import device_pair, device_register

    user = User.objects.create_user(username="cpu@example.com", first_name="Cpu")
    cart = cart_get_for_user(user=user)
    device, key = device_register(name="Cart CPU")
    device_pair(device=device, cart_pass=cart_pass_issue(user=user))
    catalog = {}
    for n in range(lines):
        product = product_create(
            name=f"Product {n:03d}",
            price=Decimal("1.00") + Decimal(n) / 100,
            stock=10_000_000,
            barcodes=[ean13(n)],
        )
        cart_add_product(cart=cart, product=product, scanned=True)
        catalog[product.pk] = ean13(n)
    photos = photos_render(catalog, seed=1) if with_photos else {}
    if with_photos and len(photos) < len(catalog):
        raise BenchmarkError(f"only {len(photos)} of {len(catalog)} photos read back")
    return Store(key, list(catalog.values()), [photos[pk] for pk in catalog] if photos else [])


def scan_environ(store: Store, kind: str, n: int) -> dict[str, Any]:
    """The n-th scan: the lines in turn, added on even rounds and taken out on odd ones."""
    index, mode = n % len(store.codes), ("add" if (n // len(store.codes)) % 2 == 0 else "remove")
    scan_id = str(uuid.uuid4())
    headers: dict[str, str] = {}
    if kind == "code":
        body = json.dumps(
            {"scan_id": scan_id, "mode": mode, "qty": 1, "code": store.codes[index],
             "symbology": "EAN13"}
        ).encode()  # fmt: skip
        content_type = "application/json"
    else:
        body = store.photos[index]
        content_type = "image/jpeg"
        headers = {"HTTP_X_SCAN_ID": scan_id, "HTTP_X_SCAN_MODE": mode}
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": URL,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": "127.0.0.1",
        "HTTP_AUTHORIZATION": f"Device {store.device_key}",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        **headers,
    }


def scan_send(application: Any, environ: dict[str, Any]) -> int:
    """One request as gunicorn serves it: the body read, the response closed; its status."""
    status: list[str] = []
    response = application(environ, lambda s, headers, exc_info=None: status.append(s))
    try:
        body = b"".join(response)
    finally:
        response.close()
    code = int(status[0].split()[0])
    if code not in (200, 201):
        raise BenchmarkError(f"scan answered {status[0]}: {body[:300]!r}")
    result = json.loads(body)["result"]
    if result not in ("added", "removed"):
        raise BenchmarkError(f"scan came to {result}: {body[:300]!r}")
    return code


def servers_cpu_s(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        total += int(fields[11]) + int(fields[12])
    return total / ticks


@dataclass(frozen=True)
class Figures:
    kind: str
    scans: int
    cpu_ms: float  # the web worker's CPU per scan
    servers_cpu_ms: float | None  # the --server-pid processes' CPU per scan
    queries: float  # SQL statements per scan (BEGIN and COMMIT included)


def queries_count(application: Any, store: Store, kind: str, start: int, scans: int) -> float:
    """SQL statements per scan, BEGIN and COMMIT included (as the query-count tests count)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        for n in range(start, start + scans):
            scan_send(application, scan_environ(store, kind, n))
    return len(queries.captured_queries) / scans


def measure(application: Any, store: Store, kind: str, args: argparse.Namespace) -> Figures:
    scans, warm_up, pids = args.scans, args.warmup, args.server_pid
    for n in range(warm_up):
        scan_send(application, scan_environ(store, kind, n))
    environs = [scan_environ(store, kind, warm_up + n) for n in range(scans)]
    servers_before = servers_cpu_s(pids) if pids else None
    started = time.process_time()
    for environ in environs:
        scan_send(application, environ)
    cpu = time.process_time() - started
    servers = servers_cpu_s(pids) - servers_before if servers_before is not None else None
    queries = queries_count(application, store, kind, warm_up + scans, min(scans, 50))
    if args.profile:
        profiler = cProfile.Profile()
        environs = [scan_environ(store, kind, n) for n in range(300)]
        profiler.enable()
        for environ in environs:
            scan_send(application, environ)
        profiler.disable()
        stats = pstats.Stats(profiler).sort_stats("cumulative")
        print(f"--- profile, {kind} scans (300), cumulative ---")
        stats.print_stats(45)
        stats.sort_stats("tottime").print_stats(30)
    return Figures(
        kind=kind,
        scans=scans,
        cpu_ms=cpu * 1000 / scans,
        servers_cpu_ms=servers * 1000 / scans if servers is not None else None,
        queries=queries,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scans", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=100, help="scans before measuring")
    parser.add_argument("--kind", choices=["code", "image", "both"], default="both")
    parser.add_argument("--lines", type=int, default=20, help="lines in the cart")
    parser.add_argument("--server-pid", type=int, action="append", default=[])
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    kinds = ["code", "image"] if args.kind == "both" else [args.kind]
    with tempfile.TemporaryDirectory(prefix="scan-cpu-") as directory:
        database = database_create(Path(directory), "scan_cpu")
        try:
            django_setup(database)
            from django.core.wsgi import get_wsgi_application

            application = get_wsgi_application()
            store = store_create(args.lines, with_photos="image" in kinds)
            results = [measure(application, store, kind, args) for kind in kinds]
        finally:
            from django.db import connections

            connections.close_all()
            with suppress(Exception):
                database.drop()
    redis = "Redis" if os.environ.get("REDIS_URL") else "in-process cache"
    print(f"\n{database.vendor}, {redis}, {args.lines} lines in the cart, {os.cpu_count()} cores,"
          f" load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    print("| kind | scans | web worker CPU ms/scan | servers CPU ms/scan | statements/scan |")
    print("|---|---|---|---|---|")
    for r in results:
        servers = f"{r.servers_cpu_ms:.2f}" if r.servers_cpu_ms is not None else "-"
        print(f"| {r.kind} | {r.scans} | {r.cpu_ms:.2f} | {servers} | {r.queries:.1f} |")
    print(
        json.dumps(
            {
                "benchmark": "scan_cpu",
                "database": database.vendor,
                "redis": bool(os.environ.get("REDIS_URL")),
                "lines": args.lines,
                "results": [r.__dict__ for r in results],
            }
        )
    )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchmarkError as exc:
        print(f"scan_cpu: {exc}", file=sys.stderr)
        sys.exit(1)
