"""Scan throughput: carts scanning closed-loop against gunicorn, then every cart checked.

    .venv/bin/python -m benchmarks.scan_load --carts 32 --seconds 20 --kind code|image
        [--worker-class gthread|sync|uvicorn] [--threads 4] [--products 100]

1. **Database.** A fresh SQLite file in a temporary directory. When ``DATABASE_URL`` names
   MySQL/MariaDB, a database of its own on that server instead, ``<name>_scanload`` (created
   for the run, dropped afterwards); the database the URL names is never opened. Migrated
   first, with Django's progress lines.
2. **The store.** ``--products`` products, each with an EAN-13 and stock enough that no scan
   is a stock mismatch; per cart a shopper with a cart pass and a device registered through
   ``devices.services.device_register``.
3. **The server.** gunicorn, 2 workers, on a free loopback port (``--worker-class``), DEBUG
   off, logs at WARNING. Each cart here scans far faster than a shopper does (a few carts
   stand for a store's worth), so the per-device throttle is raised to ``THROTTLE_RATE``: it
   still runs on every request. The server is stopped by its pid at the end, also after
   Ctrl-C or a failure.
4. **Pairing.** Every device posts its shopper's pass as a scan, as the firmware does: the QR
   text as a code (``--kind code``) or a JPEG photo of the QR code (``--kind image``).
5. **Load.** Each cart is one closed loop: one request at a time on its own persistent HTTP/1.1
   connection (asyncio streams in this single process, request heads built once: the client
   shares the 2 cores with the server and must stay lean). ``ADD_SHARE`` of the scans add one
   item (sometimes two) from the cart's own shopping list of ``SHOPPING_LIST`` products, the
   others remove one of something the cart holds. ``--kind code``
   posts JSON with ``code`` and ``symbology`` (a scanner module); ``--kind image`` posts raw
   ``image/jpeg`` bodies with ``X-Scan-Id``/``X-Scan-Mode`` headers: 640x480 photos of the
   products' EAN-13s at JPEG quality 12, rendered once here (bars from zxing-cpp's writer on a
   label, turned a little, unevenly lit, blurred), and only those the project's decoder reads.
   The first ``--warmup`` seconds are not measured (but are checked). A failed request (no
   answer, 429, 5xx) is counted and sent again with the same ``scan_id``, as the firmware does.
6. **Checks.** Every answer must be 201 with the result asked for and the scanned product;
   afterwards every cart's lines must equal what the answers said, product by product; and a
   few scans sent again must answer 200 with the same body and change no cart.

Prints a table, the issue's targets and one JSON line. Exits 1 when a check fails (errors,
wrong answers, wrong or missing lines, idempotency); speed targets are reported, not enforced.

**Worker class.** Measured with 32 carts on the 2-core development machine (see
benchmarks/README.md for the figures): the default, ``gthread`` with 4 threads per worker,
served the most scans at the lowest p95. A scan is CPU work (Django, DRF, SQLite, decoding),
so two processes keep both cores busy; threads let one worker go on while another of its
requests waits for SQLite's write lock, and keep connections alive, which ``sync`` workers do
not (each scan then pays a new TCP connection). ``uvicorn`` workers (the production plan:
gunicorn with uvicorn workers, ASGI) run Django's synchronous views on one thread per worker
through ``sync_to_async``: the same work plus an event loop and a thread hop per request.
"""

import argparse
import asyncio
import io
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

HOST = "127.0.0.1"
BASE_DIR = Path(__file__).resolve().parent.parent
RESERVED_PORT = 8000
SCAN_PATH = "/api/devices/v1/scans/"
HEARTBEAT_PATH = "/api/devices/v1/heartbeat/"
WORKERS = 2
WORKER_CLASSES = {
    "gthread": ("gthread", "shopcart.wsgi:application"),
    "sync": ("sync", "shopcart.wsgi:application"),
    "uvicorn": ("uvicorn_worker.UvicornWorker", "shopcart.asgi:application"),
}
DEFAULT_WORKER_CLASS = "gthread"
THROTTLE_RATE = "100000/min"
ADD_SHARE = 0.85  # the rest are removes of an item the cart holds
TWO_ITEMS_SHARE = 0.1  # of the adds
# Each cart adds from its own list of this many products, so a cart holds as many lines as a
# shopper's (the answer to every scan prices the whole cart).
SHOPPING_LIST = 25
RETRIED_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
ATTEMPTS = 4
SERVER_START_TIMEOUT_S = 60.0
REQUEST_TIMEOUT_S = 30.0
IDEMPOTENCY_SAMPLES = 5
PHOTO_SIZE = (640, 480)
PHOTO_QUALITY = 12
# The issue's targets, for 32 carts on a 2-core machine.
TARGET_SCANS_PER_S = {"code": 400.0, "image": 200.0}
TARGET_P95_MS = 100.0
TARGET_CARTS = 32


class BenchmarkError(Exception):
    """The run cannot go on; the message says why."""


# --- Database -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Database:
    url: str
    vendor: str  # "sqlite" or "mysql"
    drop: Callable[[], None]


def database_create(directory: Path) -> Database:
    """The run's own database: SQLite in ``directory``, or ``<name>_scanload`` on the MySQL
    server ``DATABASE_URL`` names. Never the database the URL itself names."""
    url = os.environ.get("DATABASE_URL", "")
    if not url or url.startswith("sqlite:"):
        return Database(f"sqlite:///{directory / 'scan_load.sqlite3'}", "sqlite", lambda: None)
    if urlsplit(url).scheme in ("mysql", "mysql2", "mariadb", "mysqlgis"):
        return _mysql_database_create(url)
    raise BenchmarkError(f"DATABASE_URL must name SQLite or MySQL/MariaDB, not {url.split(':')[0]}")


def _mysql_database_create(url: str) -> Database:
    import environ
    import MySQLdb

    config = environ.Env.db_url_config(url)
    name = f"{config['NAME']}_scanload"
    server = MySQLdb.connect(
        host=config.get("HOST") or "localhost",
        port=int(config.get("PORT") or 3306),
        user=config.get("USER", ""),
        password=config.get("PASSWORD", ""),
    )

    def execute(statement: str) -> None:
        with server.cursor() as cursor:
            cursor.execute(statement)

    # A leftover of an interrupted run is this benchmark's by its name: start afresh.
    execute(f"DROP DATABASE IF EXISTS `{name}`")
    execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_520_ci")
    print(f"database: {name} on {config.get('HOST') or 'localhost'} (dropped at the end)")
    parts = urlsplit(url)
    own_url = urlunsplit(parts._replace(path=f"/{name}"))

    def drop() -> None:
        execute(f"DROP DATABASE IF EXISTS `{name}`")
        server.close()

    return Database(own_url, "mysql", drop)


def django_setup(database: Database) -> None:
    """Point this process's settings at the run's database and migrate it, showing progress."""
    os.environ["DATABASE_URL"] = database.url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopcart.settings")
    for name in ("REDIS_URL", "CELERY_BROKER_URL"):  # in-process events, eager tasks
        os.environ.pop(name, None)
    os.environ["LOG_LEVEL"] = "WARNING"
    import django
    from django.core.management import call_command

    django.setup()
    print(f"migrating the {database.vendor} database")
    call_command("migrate", verbosity=1, interactive=False)


# --- The store ------------------------------------------------------------------------------


@dataclass
class Cart:
    index: int
    device_key: str
    pass_text: str
    user_id: int
    shopping_list: list[int] = field(default_factory=list)  # product ids it adds from
    expected: Counter[int] = field(default_factory=Counter)  # product id -> quantity
    kept: list["Sent"] = field(default_factory=list)  # answered scans, for re-sending


@dataclass(frozen=True)
class Sent:
    request: bytes
    answer: Any  # the parsed JSON body


def ean13(n: int) -> str:
    from catalog.barcodes import gs1_check_digit

    payload = f"400{n:09d}"  # GS1 Germany: a prefix the decoder believes at once
    return payload + str(gs1_check_digit(payload))


def store_create(carts: int, products: int) -> tuple[list[Cart], dict[int, str]]:
    """The shoppers with their passes and devices, and the catalog as product id -> EAN-13."""
    from django.contrib.auth.models import User

    from carts import pass_codes
    from carts.services import cart_get_for_user, cart_pass_issue
    from catalog.services import product_create
    from devices.services import device_register

    catalog = {}
    for n in range(products):
        product = product_create(
            name=f"Product {n:03d}",
            price=Decimal("1.00") + Decimal(n % 400) / 100,
            stock=10_000_000,
            barcodes=[ean13(n)],
        )
        catalog[product.pk] = ean13(n)
    shoppers = []
    for n in range(carts):
        email = f"shopper{n}@example.com"
        user = User.objects.create_user(username=email, email=email, first_name=f"Cart{n}")
        cart_get_for_user(user=user)
        pass_text = pass_codes.pass_text(cart_pass_issue(user=user).token)
        _, key = device_register(name=f"Cart {n:03d}")
        shoppers.append(Cart(index=n, device_key=key, pass_text=pass_text, user_id=user.pk))
    return shoppers, catalog


# --- Photos ---------------------------------------------------------------------------------


def photo_render(code: str, rng: random.Random) -> bytes:
    """A 640x480 JPEG (quality 12) of ``code``'s EAN-13 on a label, as a cart camera sees it."""
    import zxingcpp
    from PIL import Image, ImageChops, ImageFilter, ImageOps

    symbol = zxingcpp.create_barcode(code, zxingcpp.BarcodeFormat.EAN13)
    written: Any = zxingcpp.write_barcode_to_image(symbol, scale=rng.choice((3, 4)))
    height, width = written.shape
    bars = Image.frombytes("L", (width, height), memoryview(written).tobytes())
    label = ImageOps.expand(bars, border=24, fill=255)
    page = Image.new("L", PHOTO_SIZE, rng.randint(90, 170))
    angle = rng.uniform(-12, 12)
    turned = label.rotate(angle, Image.Resampling.BILINEAR, expand=True, fillcolor=0)
    shape = Image.new("L", label.size, 255).rotate(angle, expand=True, fillcolor=0)
    x = rng.randint(0, max(0, PHOTO_SIZE[0] - turned.width))
    y = rng.randint(0, max(0, PHOTO_SIZE[1] - turned.height))
    page.paste(turned, (x, y), shape)
    light = Image.linear_gradient("L").rotate(rng.choice((0, 90, 180, 270))).resize(PHOTO_SIZE)
    page = ImageChops.multiply(page, light.point(lambda v: 150 + v * 105 // 255))
    page = page.filter(ImageFilter.GaussianBlur(rng.uniform(0.6, 1.2)))
    buffer = io.BytesIO()
    page.convert("RGB").save(buffer, format="JPEG", quality=PHOTO_QUALITY)
    return buffer.getvalue()


def photos_render(catalog: dict[int, str], seed: int) -> dict[int, bytes]:
    """A photo per product, kept only when the project's decoder reads that product (alone)."""
    from devices.decoding import decode_image

    rng = random.Random(seed)
    photos = {}
    for product_id, code in catalog.items():
        photo = photo_render(code, rng)
        if [found.text for found in decode_image(photo)] == [code]:
            photos[product_id] = photo
    return photos


def pass_photo(text: str) -> bytes:
    """The shopper's pass QR code as a cart photographs it (a phone screen held up): JPEG."""
    from PIL import Image

    from shopcart.qr import qr_png

    qr = Image.open(io.BytesIO(qr_png(text, box_size=6))).convert("L")
    page = Image.new("L", PHOTO_SIZE, 140)
    page.paste(qr, ((PHOTO_SIZE[0] - qr.width) // 2, (PHOTO_SIZE[1] - qr.height) // 2))
    buffer = io.BytesIO()
    page.convert("RGB").save(buffer, format="JPEG", quality=30)
    return buffer.getvalue()


# --- The server -----------------------------------------------------------------------------


def free_port() -> int:
    """A free loopback port chosen by the system, never 8000 (``make run``'s)."""
    while True:
        with socket.socket() as probe:
            probe.bind((HOST, 0))
            port = probe.getsockname()[1]
        if port != RESERVED_PORT:
            return port


def server_start(worker_class: str, threads: int, port: int, log: Path) -> subprocess.Popen:
    """gunicorn with ``WORKERS`` workers on ``port``, its output in ``log``."""
    worker, app = WORKER_CLASSES[worker_class]
    command = [
        sys.executable, "-m", "gunicorn", app,
        "--workers", str(WORKERS),
        "--worker-class", worker,
        "--bind", f"{HOST}:{port}",
        "--log-level", "warning",
        "--graceful-timeout", "5",
        # Load the project before forking: both workers answer from the first request on, and
        # a slow start (a busy machine takes seconds to import Django) is not measured.
        "--preload",
        "--backlog", "256",
    ]  # fmt: skip
    if worker_class == "gthread":
        command += ["--threads", str(threads)]
    env = {
        **os.environ,
        "DEBUG": "false",
        "DEVICE_THROTTLE_RATE": THROTTLE_RATE,
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    with log.open("w") as out:
        return subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=out, stderr=out)


def server_stop(process: subprocess.Popen) -> None:
    """Stop gunicorn by its pid: TERM (graceful, it stops its workers), KILL if it lingers."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def process_tree_cpu_s(pid: int) -> float | None:
    """CPU seconds used so far by ``pid`` and its children (gunicorn's workers); Linux only."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    try:
        entries = [entry for entry in os.listdir("/proc") if entry.isdigit()]
    except FileNotFoundError:
        return None
    for entry in entries:
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue  # ended meanwhile
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (name) "
        if int(entry) == pid or int(fields[1]) == pid:
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


# --- HTTP client ----------------------------------------------------------------------------


class TransportError(Exception):
    """No HTTP answer: refused, reset, closed or timed out."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class Connection:
    """One persistent HTTP/1.1 connection; opened again when the server closes it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def exchange(self, request: bytes) -> Answer:
        try:
            return await asyncio.wait_for(self._exchange(request), REQUEST_TIMEOUT_S)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            self.close()
            raise TransportError(type(exc).__name__) from exc
        except TimeoutError as exc:
            self.close()
            raise TransportError("timeout") from exc

    async def _exchange(self, request: bytes) -> Answer:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        assert self.reader is not None
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length, close = None, False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection":
                close = value.strip().lower() == b"close"
        body = await (self.reader.readexactly(length) if length is not None else self.reader.read())
        if close or length is None:
            self.close()
        return Answer(status, body)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def request_head(port: int, key: str, content_type: str, length: int, extra: str = "") -> bytes:
    return (
        f"POST {SCAN_PATH} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
        f"Authorization: Device {key}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {length}\r\n{extra}\r\n"
    ).encode()


def code_request(port: int, cart: Cart, code: str, symbology: str, mode: str, qty: int) -> bytes:
    body = json.dumps(
        {
            "scan_id": str(uuid.uuid4()),
            "mode": mode,
            "qty": qty,
            "code": code,
            "symbology": symbology,
        }
    ).encode()
    return request_head(port, cart.device_key, "application/json", len(body)) + body


def image_request(port: int, cart: Cart, photo: bytes, mode: str, qty: int) -> bytes:
    extra = f"X-Scan-Id: {uuid.uuid4()}\r\nX-Scan-Mode: {mode}\r\nX-Scan-Qty: {qty}\r\n"
    return request_head(port, cart.device_key, "image/jpeg", len(photo), extra) + photo


# --- Load -----------------------------------------------------------------------------------


@dataclass
class Tally:
    """What the measured window saw, and every problem seen at any time."""

    latencies_ms: list[float] = field(default_factory=list)
    scans: int = 0  # answered 2xx within the window
    errors: Counter[str] = field(default_factory=Counter)  # status or transport error -> count
    wrong_answers: list[str] = field(default_factory=list)


@dataclass
class Run:
    port: int
    kind: str
    catalog: dict[int, str]
    photos: dict[int, bytes]
    window: tuple[float, float]  # monotonic start and end of the measured window
    tally: Tally = field(default_factory=Tally)

    def measured(self, started: float) -> bool:
        return self.window[0] <= started < self.window[1]


async def send(run: Run, connection: Connection, request: bytes) -> Answer | None:
    """``request`` until it is answered (the same bytes each time, as the firmware retries)."""
    for attempt in range(1, ATTEMPTS + 1):
        started = time.monotonic()
        try:
            answer = await connection.exchange(request)
        except TransportError as exc:
            run.tally.errors[f"no answer ({exc})"] += 1
            await asyncio.sleep(0.05 * attempt)
            continue
        if run.measured(started):
            run.tally.latencies_ms.append((time.monotonic() - started) * 1000)
        if answer.status in RETRIED_STATUSES:
            run.tally.errors[str(answer.status)] += 1
            await asyncio.sleep(0.05 * attempt)
            continue
        if 200 <= answer.status < 300 and run.measured(started):
            run.tally.scans += 1
        return answer
    return None


def scan_pick(cart: Cart, rng: random.Random) -> tuple[int, str, int]:
    """(product id, mode, quantity): mostly adds from the cart's shopping list, else removing
    one of what the cart holds."""
    held = [product_id for product_id, quantity in cart.expected.items() if quantity > 0]
    if held and rng.random() >= ADD_SHARE:
        return rng.choice(held), "remove", 1
    return rng.choice(cart.shopping_list), "add", 2 if rng.random() < TWO_ITEMS_SHARE else 1


def scan_request(run: Run, cart: Cart, product_id: int, mode: str, qty: int) -> bytes:
    if run.kind == "image":
        return image_request(run.port, cart, run.photos[product_id], mode, qty)
    return code_request(run.port, cart, run.catalog[product_id], "EAN13", mode, qty)


def answer_judge(cart: Cart, product_id: int, mode: str, qty: int, answer: Answer) -> str | None:
    """What is wrong with ``answer`` to a scan; None when it is right (``expected`` updated)."""
    body = answer.json() or {}
    product = body.get("product") or {}
    wanted = "added" if mode == "add" else "removed"
    if answer.status != 201 or body.get("result") != wanted or product.get("id") != product_id:
        return (
            f"cart {cart.index}: {mode} {qty} of product {product_id} answered {answer.status} "
            f"{body.get('result')} for product {product.get('id')}"
        )
    cart.expected[product_id] += qty if mode == "add" else -min(qty, cart.expected[product_id])
    return None


async def cart_drive(run: Run, cart: Cart, rng: random.Random) -> None:
    """Scan one request after another until the measured window ends."""
    connection = Connection(run.port)
    try:
        while time.monotonic() < run.window[1]:
            product_id, mode, qty = scan_pick(cart, rng)
            request = scan_request(run, cart, product_id, mode, qty)
            answer = await send(run, connection, request)
            if answer is None:
                run.tally.wrong_answers.append(f"cart {cart.index}: a scan got no answer")
                continue
            problem = answer_judge(cart, product_id, mode, qty, answer)
            if problem:
                run.tally.wrong_answers.append(problem)
            elif len(cart.kept) < 2:
                cart.kept.append(Sent(request, answer.json()))
    finally:
        connection.close()


async def carts_pair(port: int, carts: list[Cart], kind: str) -> None:
    """Every device posts its shopper's pass, as a code or as a photo; all must pair."""

    async def pair(cart: Cart) -> None:
        if kind == "image":
            photo = pass_photo(cart.pass_text)
            request = image_request(port, cart, photo, "add", 1)
        else:
            request = code_request(port, cart, cart.pass_text, "QRCODE", "add", 1)
        connection = Connection(port)
        try:
            answer = await connection.exchange(request)
        finally:
            connection.close()
        result = (answer.json() or {}).get("result")
        if answer.status != 201 or result != "paired":
            raise BenchmarkError(f"cart {cart.index} did not pair: {answer.status} {result}")

    await asyncio.gather(*(pair(cart) for cart in carts))


async def load_run(run: Run, carts: list[Cart], seed: int) -> None:
    rngs = [random.Random(seed * 1000 + cart.index) for cart in carts]
    for cart, rng in zip(carts, rngs, strict=True):
        cart.shopping_list = rng.sample(sorted(run.catalog), min(SHOPPING_LIST, len(run.catalog)))
    await asyncio.gather(
        *(cart_drive(run, cart, rng) for cart, rng in zip(carts, rngs, strict=True))
    )


# --- Checks ---------------------------------------------------------------------------------


def cart_lines(carts: list[Cart]) -> dict[int, Counter[int]]:
    """Each cart's quantity per product, read from the database (cart index -> counter)."""
    from carts.models import Cart as CartModel
    from carts.models import CartLine

    cart_ids = dict(
        CartModel.objects.filter(owner_id__in=[c.user_id for c in carts], current=True).values_list(
            "owner_id", "pk"
        )
    )
    by_user = {cart.user_id: cart.index for cart in carts}
    index_by_cart = {cart_id: by_user[owner_id] for owner_id, cart_id in cart_ids.items()}
    lines: dict[int, Counter[int]] = {cart.index: Counter() for cart in carts}
    rows = CartLine.objects.filter(cart_id__in=index_by_cart).values_list(
        "cart_id", "product_id", "quantity"
    )
    for cart_id, product_id, quantity in rows:
        lines[index_by_cart[cart_id]][product_id] += quantity
    return lines


def lines_check(carts: list[Cart]) -> list[str]:
    """Every difference between what the answers said and what the carts hold."""
    problems = []
    actual = cart_lines(carts)
    for cart in carts:
        expected = +cart.expected  # the unary plus drops zero quantities
        found = +actual[cart.index]
        for product_id in sorted(expected.keys() | found.keys()):
            want, have = expected[product_id], found[product_id]
            if want != have:
                what = "missing" if have == 0 else "unexpected" if want == 0 else "wrong"
                problems.append(
                    f"cart {cart.index}: product {product_id} {what}: expected {want}, found {have}"
                )
    return problems


async def idempotency_check(port: int, carts: list[Cart]) -> list[str]:
    """A few answered scans sent again: 200, the same body, and no cart changed."""
    samples = [cart.kept[0] for cart in carts if cart.kept][:IDEMPOTENCY_SAMPLES]
    if not samples:
        return ["no answered scan to send again"]
    before = await asyncio.to_thread(cart_lines, carts)
    problems = []
    connection = Connection(port)
    try:
        for sent in samples:
            answer = await connection.exchange(sent.request)
            if answer.status != 200 or answer.json() != sent.answer:
                problems.append(f"re-sent scan answered {answer.status}: {answer.body[:120]!r}")
    finally:
        connection.close()
    if await asyncio.to_thread(cart_lines, carts) != before:
        problems.append("re-sent scans changed a cart")
    return problems


# --- Report ---------------------------------------------------------------------------------


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


@dataclass(frozen=True)
class Outcome:
    scans_per_s: float
    p50: float
    p95: float
    p99: float
    server_cpu_percent: float | None
    client_cpu_percent: float
    wrong_lines: list[str]
    idempotency: list[str]


def report(args: argparse.Namespace, run: Run, outcome: Outcome, extra: dict[str, Any]) -> bool:
    tally, seconds = run.tally, run.window[1] - run.window[0]
    errors = sum(tally.errors.values())
    cpu = outcome.server_cpu_percent
    per_scan = cpu * 10 * seconds / tally.scans if cpu is not None and tally.scans else None
    print(
        f"\nScan load: {args.carts} carts, --kind {args.kind}, {seconds:.1f} s measured, gunicorn "
        f"{WORKERS} x {args.worker_class}, {extra['database']}"
    )
    rows = [
        ("scans/s", f"{outcome.scans_per_s:.1f}"),
        ("scans measured", tally.scans),
        ("latency p50 ms", f"{outcome.p50:.1f}"),
        ("latency p95 ms", f"{outcome.p95:.1f}"),
        ("latency p99 ms", f"{outcome.p99:.1f}"),
        ("errors", ", ".join(f"{k}: {v}" for k, v in tally.errors.items()) or "0"),
        ("wrong answers", len(tally.wrong_answers)),
        ("wrong/missing lines", len(outcome.wrong_lines)),
        ("idempotent re-sends", "ok" if not outcome.idempotency else "FAILED"),
        ("server CPU %", "n/a" if cpu is None else f"{cpu:.0f} (of {os.cpu_count()}00)"),
        ("server CPU ms/scan", "n/a" if per_scan is None else f"{per_scan:.2f}"),
        ("client CPU %", f"{outcome.client_cpu_percent:.0f}"),
    ]
    for label, value in rows:
        print(f"  {label:<22} {value}")
    for problem in (tally.wrong_answers + outcome.wrong_lines + outcome.idempotency)[:20]:
        print(f"  ! {problem}")
    target_rate = TARGET_SCANS_PER_S[args.kind]
    checks = {
        "scans_per_s": outcome.scans_per_s >= target_rate,
        "p95": outcome.p95 <= TARGET_P95_MS,
        "errors": errors == 0,
        "lines": not outcome.wrong_lines and not tally.wrong_answers,
    }
    print(f"\ntargets ({TARGET_CARTS} carts, 2-core machine; this run: {args.carts} carts)")
    labels = {
        "scans_per_s": f"{outcome.scans_per_s:.0f} scans/s >= {target_rate:.0f}",
        "p95": f"p95 {outcome.p95:.1f} ms <= {TARGET_P95_MS:.0f} ms",
        "errors": f"{errors} errors == 0",
        "lines": f"{len(outcome.wrong_lines) + len(tally.wrong_answers)} wrong lines/answers == 0",
    }
    for key, met in checks.items():
        print(f"  {labels[key]:<40} {'met' if met else 'MISSED'}")
    summary = {
        "benchmark": "scan_load",
        "kind": args.kind,
        "carts": args.carts,
        "seconds": round(seconds, 2),
        "worker_class": args.worker_class,
        **extra,
        "scans": tally.scans,
        "scans_per_s": round(outcome.scans_per_s, 1),
        "latency_ms": {
            "p50": round(outcome.p50, 2),
            "p95": round(outcome.p95, 2),
            "p99": round(outcome.p99, 2),
        },
        "errors": dict(tally.errors),
        "wrong_answers": len(tally.wrong_answers),
        "wrong_lines": len(outcome.wrong_lines),
        "idempotency_ok": not outcome.idempotency,
        "server_cpu_percent": None if cpu is None else round(cpu, 1),
        "server_cpu_ms_per_scan": None if per_scan is None else round(per_scan, 2),
        "client_cpu_percent": round(outcome.client_cpu_percent, 1),
        "targets": checks,
    }
    print(json.dumps(summary))
    return errors == 0 and checks["lines"] and not outcome.idempotency


# --- Main -----------------------------------------------------------------------------------


@contextmanager
def server_running(args: argparse.Namespace, directory: Path) -> Iterator[tuple[int, int]]:
    """(port, pid) of a started, answering gunicorn; stopped when the block ends, however."""
    port = free_port()
    log = directory / "gunicorn.log"
    process = server_start(args.worker_class, args.threads, port, log)
    print(f"server: gunicorn pid {process.pid}, {WORKERS} x {args.worker_class}, port {port}")
    try:
        server_wait(process, port, log)
        yield port, process.pid
    except Exception:
        print(f"--- {log.name} (last lines) ---\n{tail(log)}", file=sys.stderr)
        raise
    finally:
        server_stop(process)


def tail(path: Path, lines: int = 30) -> str:
    with suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


def server_wait(process: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchmarkError(f"gunicorn exited with {process.returncode}")
        with suppress(OSError), socket.create_connection((HOST, port), timeout=1):
            return
        time.sleep(0.1)
    raise BenchmarkError(f"gunicorn did not listen on port {port} within {SERVER_START_TIMEOUT_S}s")


async def measure(args: argparse.Namespace, port: int, pid: int, run_carts: list[Cart], run: Run):
    await carts_pair(port, run_carts, args.kind)
    started = time.monotonic()
    run.window = (started + args.warmup, started + args.warmup + args.seconds)
    task = asyncio.create_task(load_run(run, run_carts, args.seed))
    await asyncio.sleep(args.warmup)
    server_before, client_before = process_tree_cpu_s(pid), time.process_time()
    await asyncio.sleep(args.seconds)
    server_after, client_after = process_tree_cpu_s(pid), time.process_time()
    await task
    seconds = run.window[1] - run.window[0]
    server_cpu = (
        100 * (server_after - server_before) / seconds
        if server_before is not None and server_after is not None
        else None
    )
    wrong_lines = await asyncio.to_thread(lines_check, run_carts)
    idempotency = await idempotency_check(port, run_carts)
    latencies = run.tally.latencies_ms
    return Outcome(
        scans_per_s=run.tally.scans / seconds,
        p50=percentile(latencies, 50),
        p95=percentile(latencies, 95),
        p99=percentile(latencies, 99),
        server_cpu_percent=server_cpu,
        client_cpu_percent=100 * (client_after - client_before) / seconds,
        wrong_lines=wrong_lines,
        idempotency=idempotency,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--carts", type=int, default=TARGET_CARTS)
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds")
    parser.add_argument("--kind", choices=("code", "image"), default="code")
    parser.add_argument("--worker-class", choices=WORKER_CLASSES, default=DEFAULT_WORKER_CLASS)
    parser.add_argument("--threads", type=int, default=4, help="per gthread worker")
    parser.add_argument("--products", type=int, default=100)
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds not measured")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    # Like Ctrl-C: unwind, so that the server is stopped and the database dropped.
    signal.signal(signal.SIGTERM, _terminated)
    with tempfile.TemporaryDirectory(prefix="smartcart-scanload-") as name:
        directory = Path(name)
        try:
            database = database_create(directory)
        except BenchmarkError as exc:
            print(f"scan_load: {exc}", file=sys.stderr)
            return 2
        try:
            return _run(args, directory, database)
        except BenchmarkError as exc:
            print(f"scan_load: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("scan_load: interrupted; the server is stopped", file=sys.stderr)
            return 130
        finally:
            database.drop()


def _terminated(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def _run(args: argparse.Namespace, directory: Path, database: Database) -> int:
    django_setup(database)
    carts, catalog = store_create(args.carts, args.products)
    photos: dict[int, bytes] = {}
    extra: dict[str, Any] = {"database": database.vendor}
    if args.kind == "image":
        photos = photos_render(catalog, args.seed)
        catalog = {product_id: catalog[product_id] for product_id in photos}
        sizes = [len(photo) for photo in photos.values()]
        print(
            f"photos: {len(photos)} of {args.products} rendered photos read by the decoder, "
            f"{statistics.fmean(sizes) / 1024:.1f} KiB on average"
        )
        extra["photos"] = len(photos)
        if not photos:
            raise BenchmarkError("the decoder read none of the rendered photos")
    from django.db import connections

    connections.close_all()  # the server's workers write; this process only reads from now on
    with server_running(args, directory) as (port, pid):
        run = Run(port=port, kind=args.kind, catalog=catalog, photos=photos, window=(0, 0))
        outcome = asyncio.run(measure(args, port, pid, carts, run))
    return 0 if report(args, run, outcome, extra) else 1


if __name__ == "__main__":
    sys.exit(main())
