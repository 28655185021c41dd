"""Live cart latency: from a committed cart change to its event arriving on the SSE stream.

    .venv/bin/python -m benchmarks.live_latency [--changes 200] [--server thread|process]

Builds a throwaway SQLite database in a temporary directory, a shopper with a cart, and serves
the site on a free loopback port. A plain HTTP client (http.client, reading lines) holds the
cart's event stream open while this process makes ``--changes`` committed changes through
``carts.services``, one at a time; each is timed from its commit (an ``on_commit`` callback
registered before the service's own) to its event's arrival, and then to the re-rendered cart
fragment arriving too (what the page does next).

Brokers: without ``REDIS_URL`` events are in-process, so the server must run as a thread of this
process (``--server thread``, the default then). With ``REDIS_URL`` set, events go through Redis
pub/sub and the server may also run as its own process (``--server process``: Django's
runserver), as web nodes do in production. Its streams end after ``carts.live.STREAM_SECONDS``
(3 minutes) and this client does not reconnect: keep such runs shorter (200 changes take ~10 s).

Prints a table, then one JSON line. Exits 1 when events were lost or p95 is over the target.
"""

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
TARGET_P95_MS = 1000.0
EVENT_TIMEOUT_S = 5.0
SERVER_START_TIMEOUT_S = 30.0
BASE_DIR = Path(__file__).resolve().parent.parent


def django_setup(database: Path) -> None:
    """Point the settings at ``database`` (before Django reads them) and migrate it quietly."""
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopcart.settings")
    os.environ["ALLOWED_HOSTS"] = f"{HOST},testserver"
    os.environ.pop("CELERY_BROKER_URL", None)  # eager tasks; REDIS_URL is left as it is
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def shopper_create() -> tuple[Any, Any, str]:
    """A shopper's cart with one line, a product to change it with, and a signed-in session."""
    from django.contrib.auth.models import User
    from django.test import Client

    from carts.services import cart_add_product, cart_get_for_user
    from catalog.models import Product

    user = User.objects.create_user(username="bench@example.com", email="bench@example.com")
    product = Product.objects.create(name="Oat milk", slug="oat-milk", price="2.00", stock=1000)
    cart = cart_get_for_user(user=user)
    cart_add_product(cart=cart, product=product)
    client = Client()
    client.force_login(user)
    return cart, product, client.cookies["sessionid"].value


# --- The server -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def server_start_thread() -> tuple[int, Any]:
    """Django's threaded WSGI server in a daemon thread of this process."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

    class QuietHandler(WSGIRequestHandler):
        # As production servers do; else Nagle's algorithm holds each response's body back
        # until the client's delayed ACK of the headers (about 40 ms on Linux loopback).
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadedWSGIServer((HOST, 0), QuietHandler, allow_reuse_address=True)
    server.set_app(WSGIHandler())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1], server.shutdown


def server_start_process(log: Path) -> tuple[int, Any]:
    """``manage.py runserver`` in its own process (events must then go through Redis)."""
    port = free_port()
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"{HOST}:{port}", "--noreload"],
            cwd=BASE_DIR,
            env=os.environ.copy(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )

    def stop() -> None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    return port, stop


def server_wait(port: int) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        connection = http.client.HTTPConnection(HOST, port, timeout=1)
        try:
            connection.request("GET", "/cart/fragment/")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.1)
        finally:
            connection.close()
    raise SystemExit(f"the server on port {port} did not answer within {SERVER_START_TIMEOUT_S} s")


# --- The stream reader ----------------------------------------------------------------------


class StreamReader:
    """Reads the SSE stream in a thread; remembers when each version first arrived."""

    def __init__(self, port: int, session: str) -> None:
        self.arrived: dict[int, float] = {}
        self.changed = threading.Condition()
        self._connection = http.client.HTTPConnection(HOST, port, timeout=60)
        self._connection.request("GET", "/cart/events/", headers={"Cookie": f"sessionid={session}"})
        self._response = self._connection.getresponse()
        if self._response.status != 200:
            raise SystemExit(f"/cart/events/ answered {self._response.status}")
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            while line := self._response.readline():
                if line.startswith(b"data: "):
                    version = json.loads(line[len(b"data: ") :])["version"]
                    with self.changed:
                        self.arrived.setdefault(version, time.perf_counter())
                        self.changed.notify_all()
        except OSError:
            pass  # closed at the end

    def wait_for(self, version: int, timeout: float) -> float | None:
        with self.changed:
            self.changed.wait_for(lambda: version in self.arrived, timeout=timeout)
            return self.arrived.get(version)

    def close(self) -> None:
        self._connection.close()


def fragment_get(port: int, session: str) -> None:
    """What the page does on an event: GET the re-rendered cart (a new connection each time:
    runserver does not turn Nagle's algorithm off, which would add ~40 ms to a kept-alive one)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        connection.request("GET", "/cart/fragment/", headers={"Cookie": f"sessionid={session}"})
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    if response.status != 200:
        raise SystemExit(f"/cart/fragment/ answered {response.status}")


# --- The run --------------------------------------------------------------------------------


def change_committed(cart: Any, product: Any, add: bool) -> tuple[int, float]:
    """One cart change; its new version and when it committed."""
    from django.db import transaction

    from carts.services import cart_add_product, cart_remove_product

    committed: list[float] = []
    with transaction.atomic():
        # Registered before the service's own callback (the publish): runs first at commit.
        transaction.on_commit(lambda: committed.append(time.perf_counter()))
        service = cart_add_product if add else cart_remove_product
        version = service(cart=cart, product=product).cart.version
    return version, committed[0]


def run(changes: int, server_mode: str, workdir: Path) -> dict[str, Any]:
    cart, product, session = shopper_create()
    if server_mode == "process":
        port, stop = server_start_process(workdir / "server.log")
    else:
        from carts import live

        live.STREAM_SECONDS = 24 * 3600.0  # one stream for the whole run, however long
        port, stop = server_start_thread()
    try:
        server_wait(port)
        reader = StreamReader(port, session)
        cart.refresh_from_db()
        if reader.wait_for(cart.version, EVENT_TIMEOUT_S) is None:
            raise SystemExit("the stream never sent the cart's current version")
        to_event, to_fragment, missed = [], [], 0
        for n in range(changes):
            version, committed = change_committed(cart, product, add=n % 2 == 0)
            arrived = reader.wait_for(version, EVENT_TIMEOUT_S)
            if arrived is None:
                missed += 1
                continue
            fragment_get(port, session)
            to_event.append((arrived - committed) * 1000)
            to_fragment.append((time.perf_counter() - committed) * 1000)
            time.sleep(random.uniform(0.005, 0.03))  # changes a moment apart, like scans
        reader.close()
    finally:
        stop()
    return {"to_event": to_event, "to_fragment": to_fragment, "missed": missed}


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50_ms": float("nan"), "p95_ms": float("nan"), "max_ms": float("nan")}
    p95 = (
        statistics.quantiles(values, n=20, method="inclusive")[18] if len(values) > 1 else values[0]
    )
    return {
        "p50_ms": round(statistics.median(values), 2),
        "p95_ms": round(p95, 2),
        "max_ms": round(max(values), 2),
    }


def report(results: dict[str, Any], changes: int, broker: str, server_mode: str) -> bool:
    event, fragment = percentiles(results["to_event"]), percentiles(results["to_fragment"])
    server = "thread of this process" if server_mode == "thread" else "runserver process"
    print(f"Live cart latency: {changes} changes, broker {broker}, server {server}, SQLite")
    print(f"{'measure':<32}{'N':>6}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    for name, values, figures in (
        ("commit -> event", results["to_event"], event),
        ("commit -> event -> fragment", results["to_fragment"], fragment),
    ):
        print(
            f"{name:<32}{len(values):>6}{figures['p50_ms']:>10.2f}"
            f"{figures['p95_ms']:>10.2f}{figures['max_ms']:>10.2f}"
        )
    ok = results["missed"] == 0 and event["p95_ms"] <= TARGET_P95_MS
    print(
        f"events lost: {results['missed']}; target p95 <= {TARGET_P95_MS:.0f} ms: "
        f"{'met' if ok else 'NOT met'}"
    )
    summary = {
        "benchmark": "live_latency",
        "changes": changes,
        "received": len(results["to_event"]),
        "lost": results["missed"],
        "broker": broker,
        "server": server_mode,
        **event,
        "fragment_p50_ms": fragment["p50_ms"],
        "fragment_p95_ms": fragment["p95_ms"],
        "target_p95_ms": TARGET_P95_MS,
        "ok": ok,
    }
    print(json.dumps(summary))
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=200, help="cart changes to time")
    parser.add_argument(
        "--server",
        choices=["thread", "process"],
        help="where the server runs (default: process with REDIS_URL, else thread)",
    )
    args = parser.parse_args()
    redis = bool(os.environ.get("REDIS_URL"))
    server_mode = args.server or ("process" if redis else "thread")
    if server_mode == "process" and not redis:
        parser.error("--server process needs REDIS_URL: in-process events stay in this process")
    with tempfile.TemporaryDirectory(prefix="smartcart-live-") as workdir:
        django_setup(Path(workdir) / "bench.sqlite3")
        results = run(args.changes, server_mode, Path(workdir))
    ok = report(results, args.changes, "Redis pub/sub" if redis else "in-process", server_mode)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
