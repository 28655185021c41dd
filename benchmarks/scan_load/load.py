"""The carts' side: a lean HTTP/1.1 client, the closed scan loops, and the checks after."""

import asyncio
import json
import random
import ssl
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from benchmarks.scan_load.server import HOST
from benchmarks.scan_load.store import BenchmarkError, Cart, Sent, pass_photo

SCAN_PATH = "/api/devices/v1/scans/"
HEARTBEAT_PATH = "/api/devices/v1/heartbeat/"
ADD_SHARE = 0.85  # the rest are removes of an item the cart holds
TWO_ITEMS_SHARE = 0.1  # of the adds
# Each cart adds from its own list of this many products, so a cart holds as many lines as a
# shopper's (the answer to every scan prices the whole cart).
SHOPPING_LIST = 25
RETRIED_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
ATTEMPTS = 4
REQUEST_TIMEOUT_S = 30.0
IDEMPOTENCY_SAMPLES = 5


# --- HTTP client ----------------------------------------------------------------------------


class TransportError(Exception):
    """No HTTP answer: refused, reset, closed or timed out."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()  # lower-case names, in the order received

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key == name), None)

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class Connection:
    """One persistent HTTP/1.1 connection, over TLS with ``tls`` (the prod-local stack's
    nginx); opened again when the server closes it."""

    def __init__(self, port: int, tls: ssl.SSLContext | None = None) -> None:
        self.port = port
        self.tls = tls
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def exchange(self, request: bytes) -> Answer:
        """The answer to ``request``. A kept-alive connection the server has closed meanwhile
        (its idle timeout) is opened again and the request sent once more, as browsers and
        HTTP libraries do: the server never saw the first one."""
        reused = self.writer is not None
        try:
            return await asyncio.wait_for(self._exchange(request), REQUEST_TIMEOUT_S)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            self.close()
            if reused and _closed_before_answering(exc):
                return await self.exchange(request)
            raise TransportError(type(exc).__name__) from exc
        except TimeoutError as exc:
            self.close()
            raise TransportError("timeout") from exc

    async def _exchange(self, request: bytes) -> Answer:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port, ssl=self.tls)
        assert self.reader is not None
        self.writer.write(request)
        status, headers = await response_head(self.reader)
        fields = dict(headers)
        close = fields.get("connection", "").lower() == "close"
        if "content-length" in fields:
            body = await self.reader.readexactly(int(fields["content-length"]))
        elif fields.get("transfer-encoding", "").lower() == "chunked":
            body = await chunked_body(self.reader)
        else:
            body, close = await self.reader.read(), True
        if close:
            self.close()
        return Answer(status, body, headers)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def _closed_before_answering(exc: BaseException) -> bool:
    if isinstance(exc, asyncio.IncompleteReadError):
        return not exc.partial  # not a byte of the answer came
    return isinstance(exc, (BrokenPipeError, ConnectionResetError))


async def response_head(reader: asyncio.StreamReader) -> tuple[int, tuple[tuple[str, str], ...]]:
    """The status and the headers (names in lower case) of the response ``reader`` is at."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name:
            headers.append((name.strip().lower(), value.strip()))
    return int(lines[0][9:12]), tuple(headers)


async def chunked_body(reader: asyncio.StreamReader) -> bytes:
    chunks = []
    while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)
    await reader.readuntil(b"\r\n")  # no trailers are sent here: the empty line
    return b"".join(chunks)


def request_head(
    port: int, key: str, content_type: str, length: int, extra: str = "", path: str = SCAN_PATH
) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
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
    tls: ssl.SSLContext | None = None  # through nginx (prod-local), else plain HTTP
    # --rate: each cart sends a scan every this many seconds, answered or not yet (its next
    # scan waits for the answer, then goes at once); None: closed loop, one after another.
    scan_period_s: float | None = None

    def measured(self, started: float) -> bool:
        return self.window[0] <= started < self.window[1]


async def send(
    run: Run, connection: Connection, request: bytes, due: float | None = None
) -> Answer | None:
    """``request`` until it is answered (the same bytes each time, as the firmware retries).

    ``due``: when a paced cart meant to send it; its latency counts from then, so a scan held
    back by a slow answer to the one before is not measured as if it had not waited.
    """
    for attempt in range(1, ATTEMPTS + 1):
        started = due if due is not None and attempt == 1 else time.monotonic()
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


@dataclass(frozen=True)
class Scan:
    """What a scan asks for: ``qty`` of ``product_id``, to ``mode`` ("add" or "remove")."""

    product_id: int
    mode: str
    qty: int


def _scan_pick(cart: Cart, rng: random.Random) -> Scan:
    """Mostly adds from the cart's shopping list, else removing one of what the cart holds."""
    held = [product_id for product_id, quantity in cart.expected.items() if quantity > 0]
    if held and rng.random() >= ADD_SHARE:
        return Scan(rng.choice(held), "remove", 1)
    return Scan(rng.choice(cart.shopping_list), "add", 2 if rng.random() < TWO_ITEMS_SHARE else 1)


def scan_next(
    *,
    port: int,
    cart: Cart,
    kind: str,
    catalog: dict[int, str],
    photos: dict[int, bytes],
    rng: random.Random,
) -> tuple[Scan, bytes]:
    """The cart's next scan and its request: the product's photo as a JPEG body (``kind``
    "image"), else its EAN-13 as JSON."""
    scan = _scan_pick(cart, rng)
    if kind == "image":
        request = image_request(port, cart, photos[scan.product_id], scan.mode, scan.qty)
    else:
        request = code_request(port, cart, catalog[scan.product_id], "EAN13", scan.mode, scan.qty)
    return scan, request


def pass_request(port: int, cart: Cart, kind: str) -> bytes:
    """The shopper's pass scanned to pair: a photo of its QR code, or its text as a code."""
    if kind == "image":
        return image_request(port, cart, pass_photo(cart.pass_text), "add", 1)
    return code_request(port, cart, cart.pass_text, "QRCODE", "add", 1)


def answer_judge(cart: Cart, scan: Scan, answer: Answer) -> str | None:
    """What is wrong with ``answer`` to ``scan``; None when it is right (``expected`` updated).

    200 is right too: the stored answer to a retry whose first attempt the server processed.
    """
    body = answer.json() or {}
    product = body.get("product") or {}
    wanted = "added" if scan.mode == "add" else "removed"
    right = answer.status in (200, 201) and body.get("result") == wanted
    if not right or product.get("id") != scan.product_id:
        return (
            f"cart {cart.index}: {scan.mode} {scan.qty} of product {scan.product_id} answered "
            f"{answer.status} {body.get('result')} for product {product.get('id')}"
        )
    held = cart.expected[scan.product_id]
    cart.expected[scan.product_id] += scan.qty if scan.mode == "add" else -min(scan.qty, held)
    return None


async def cart_drive(run: Run, cart: Cart, rng: random.Random) -> None:
    """Scan one request after another (or one every ``run.scan_period_s``, starting at a random
    point of the first period) until the measured window ends."""
    connection = Connection(run.port, run.tls)
    period = run.scan_period_s
    due = time.monotonic() + rng.uniform(0, period) if period else None
    try:
        while (time.monotonic() if due is None else due) < run.window[1]:
            if due is not None:
                await asyncio.sleep(max(0.0, due - time.monotonic()))
            scan, request = scan_next(
                port=run.port,
                cart=cart,
                kind=run.kind,
                catalog=run.catalog,
                photos=run.photos,
                rng=rng,
            )
            answer = await send(run, connection, request, due)
            if period and due is not None:
                due += period
            if answer is None:
                run.tally.wrong_answers.append(f"cart {cart.index}: a scan got no answer")
                continue
            problem = answer_judge(cart, scan, answer)
            if problem:
                run.tally.wrong_answers.append(problem)
            elif len(cart.kept) < 2:
                cart.kept.append(Sent(request, answer.json()))
    finally:
        connection.close()


async def carts_pair(
    port: int, carts: list[Cart], kind: str, tls: ssl.SSLContext | None = None
) -> None:
    """Every device posts its shopper's pass, as a code or as a photo; all must pair."""

    async def pair(cart: Cart) -> None:
        request = pass_request(port, cart, kind)
        connection = Connection(port, tls)
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


async def idempotency_check(
    port: int, carts: list[Cart], tls: ssl.SSLContext | None = None
) -> list[str]:
    """A few answered scans sent again: 200, the same body, and no cart changed."""
    samples = [cart.kept[0] for cart in carts if cart.kept][:IDEMPOTENCY_SAMPLES]
    if not samples:
        return ["no answered scan to send again"]
    before = await asyncio.to_thread(cart_lines, carts)
    problems = []
    connection = Connection(port, tls)
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
