"""The store's day, from outside: carts scanning at a shopper's pace, shoppers with their cart
page open, and checkouts paid on the test gateway. One asyncio process, no HTTP library.

Size: kept in one module: the simulated store's every client (carts, live pages, checkouts)
shares one clock and one tally.
"""

import asyncio
import json
import random
import re
import ssl
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from benchmarks.scan_load.load import (
    HEARTBEAT_PATH,
    RETRIED_STATUSES,
    SHOPPING_LIST,
    Answer,
    Connection,
    TransportError,
    answer_judge,
    pass_request,
    request_head,
    response_head,
    scan_next,
)
from benchmarks.scan_load.server import HOST
from benchmarks.scan_load.store import Cart

# A shopper takes something off a shelf every THINK_MEAN_S seconds on average (exponential
# gaps); now and then several in a row (a burst: BURST_SIZES items, BURST_GAP_S apart).
THINK_MEAN_S = 15.0
BURST_SHARE = 0.15
BURST_SIZES = (2, 6)
BURST_GAP_S = (0.5, 1.5)
HEARTBEAT_S = 60.0  # firmware/core/config.h HEARTBEAT_INTERVAL_MS
DEVICE_ATTEMPTS = 4  # the firmware's retries of one scan (same bytes, same scan_id)
# A page not refreshed this long after a scan missed the update: the stream also reads the
# cart's version at each of its heartbeats (carts.live.HEARTBEAT_SECONDS, 5 s), so even an
# event lost on the way is late by no more than that.
LIVE_TIMEOUT_S = 15.0
STREAM_RECONNECT_S = 0.5
CHECKOUT_ATTEMPTS = 3
CHECKOUT_RETRY_S = 0.5
TEST_CARD = "4242 4242 4242 4242"
CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
VERSION_FIELD = re.compile(rb'name="version" value="(\d+)"')
SHOWN_VERSION = re.compile(rb'data-cart-version="(\d+)"')
ETAG = re.compile(rb'data-etag="([^"]*)"')
ORDER_NUMBER = re.compile(r"/orders/([A-Z0-9-]+)/payment/done/")


@dataclass
class Stats:
    """Everything the run saw. Latencies only in the measured window; requests, errors and
    problems over the whole run."""

    window: tuple[float, float] = (0.0, 0.0)
    latencies_ms: dict[str, list[float]] = field(default_factory=dict)
    requests: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)  # "endpoint: reason" -> count
    problems: list[str] = field(default_factory=list)
    live_delays_ms: list[float] = field(default_factory=list)
    live_missed: int = 0
    checkouts: int = 0

    def record(self, endpoint: str, started: float, answer: Answer | None, error: str) -> None:
        self.requests[endpoint] += 1
        if error:
            self.errors[f"{endpoint}: {error}"] += 1
        if answer is not None and self.window[0] <= started < self.window[1]:
            elapsed = (time.monotonic() - started) * 1000
            self.latencies_ms.setdefault(endpoint, []).append(elapsed)

    def problem(self, text: str) -> None:
        self.problems.append(text)


@dataclass
class Store:
    """What every shopper shares: the server, the catalog and the tallies."""

    port: int
    catalog: dict[int, str]  # product id -> EAN-13
    photos: dict[int, bytes]  # product id -> a cart's photo of it
    stats: Stats
    end: float = 0.0  # monotonic time the shopping stops
    tls: ssl.SSLContext | None = None  # through nginx over HTTPS (prod-local), else plain HTTP

    def connection(self) -> Connection:
        return Connection(self.port, self.tls)

    @property
    def origin(self) -> str:
        return f"{'https' if self.tls else 'http'}://{HOST}:{self.port}"


class Shopper:
    """A shopper with a cart: its device, its browser and its orders."""

    def __init__(
        self,
        store: Store,
        cart: Cart,
        session: tuple[str, str],
        *,
        kind: str,
        watched: bool,
        seed: int,
    ) -> None:
        self.store, self.cart, self.kind, self.watched = store, cart, kind, watched
        self.rng = random.Random(seed)
        cart.shopping_list = self.rng.sample(
            sorted(store.catalog), min(SHOPPING_LIST, len(store.catalog))
        )
        self.cookies = {session[0]: session[1]}
        self.device = store.connection()
        self.device_lock = asyncio.Lock()  # the firmware sends one request at a time
        self.browser = store.connection()
        self.orders: list[tuple[str, Counter[int]]] = []  # number, what the device put in
        self.checkouts_abandoned = 0  # failed and went back to the cart
        self.busy = False
        self.checkout_wanted = asyncio.Event()
        self.page: LivePage | None = None

    # --- the device ---

    async def device_send(self, endpoint: str, request: bytes) -> Answer | None:
        """``request`` as the firmware sends it: again, the same bytes, after a failure."""
        async with self.device_lock:
            for attempt in range(1, DEVICE_ATTEMPTS + 1):
                started = time.monotonic()
                try:
                    answer = await self.device.exchange(request)
                except TransportError as exc:
                    self.store.stats.record(endpoint, started, None, f"no answer ({exc})")
                    await asyncio.sleep(0.2 * attempt)
                    continue
                failed = answer.status in RETRIED_STATUSES
                self.store.stats.record(endpoint, started, answer, str(answer.status) * failed)
                if not failed:
                    return answer
                await asyncio.sleep(0.2 * attempt)
        self.store.stats.problem(f"cart {self.cart.index}: {endpoint} unanswered after retries")
        return None

    async def pair(self) -> bool:
        store, cart = self.store, self.cart
        answer = await self.device_send("pair", pass_request(store.port, cart, self.kind))
        result = (answer.json() or {}).get("result") if answer else None
        if result != "paired":
            self.store.stats.problem(f"cart {cart.index}: pairing answered {result}")
        return result == "paired"

    async def scan(self) -> None:
        store, cart = self.store, self.cart
        scan, request = scan_next(
            port=store.port,
            cart=cart,
            kind=self.kind,
            catalog=store.catalog,
            photos=store.photos,
            rng=self.rng,
        )
        refreshes = self.page.refreshes if self.page else 0
        answer = await self.device_send(f"scan {self.kind}", request)
        if answer is None:
            return
        answered = time.monotonic()
        problem = answer_judge(cart, scan, answer)
        if problem:
            store.stats.problem(problem)
        elif self.page is not None:
            await self.page.refreshed_after(refreshes, answered)

    async def heartbeats(self) -> None:
        await asyncio.sleep(self.rng.uniform(0, HEARTBEAT_S))
        body = json.dumps(
            {
                "firmware_version": "1.4.2",
                "uptime_seconds": 600,
                "wifi_rssi": -60,
                "free_heap": 140000,
                "queue_depth": 0,
            }
        ).encode()
        head = request_head(
            self.store.port,
            self.cart.device_key,
            "application/json",
            len(body),
            path=HEARTBEAT_PATH,
        )
        while time.monotonic() < self.store.end:
            answer = await self.device_send("heartbeat", head + body)
            if answer is not None and answer.status != 200:
                self.store.stats.problem(f"cart {self.cart.index}: heartbeat {answer.status}")
            await asyncio.sleep(HEARTBEAT_S)

    # --- the browser ---

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None, extra: str = ""
    ) -> bytes:
        port = self.store.port
        cookie = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        head = f"{method} {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nCookie: {cookie}\r\n{extra}"
        if form is None:
            return f"{head}\r\n".encode()
        body = urlencode(form).encode()
        return (
            f"{head}Origin: {self.store.origin}\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body

    async def browse(
        self,
        endpoint: str,
        request: bytes,
        *expect: int,
        connection: Connection | None = None,
        attempts: int = 1,
    ) -> Answer | None:
        """A page or a form post (on ``connection``, else the browser's main one): the answer
        when its status is one of ``expect``, else None. Sent up to ``attempts`` times while
        the server answers "try again" (a shopper pressing the button again)."""
        for attempt in range(1, attempts + 1):
            started = time.monotonic()
            try:
                answer = await (connection or self.browser).exchange(request)
            except TransportError as exc:
                self.store.stats.record(endpoint, started, None, f"no answer ({exc})")
            else:
                for name, value in answer.headers:
                    if name == "set-cookie":
                        cookie_name, _, rest = value.partition("=")
                        self.cookies[cookie_name] = rest.split(";")[0]
                wrong = answer.status not in expect
                self.store.stats.record(endpoint, started, answer, str(answer.status) * wrong)
                if not wrong:
                    return answer
                if answer.status not in RETRIED_STATUSES:
                    return None
            if attempt < attempts:
                await asyncio.sleep(CHECKOUT_RETRY_S * attempt)
        return None

    async def page_open(self) -> None:
        answer = await self.browse("cart page", self.request("GET", "/cart/"), 200)
        if answer is None:
            return
        shown = SHOWN_VERSION.search(answer.body)
        etag = ETAG.search(answer.body)
        self.page = LivePage(self, int(shown[1]) if shown else 0, etag[1].decode() if etag else "")
        self.page.start()

    def page_close(self) -> None:
        if self.page is not None:
            self.page.stop()
        self.page = None

    async def checkout(self) -> None:
        """Checkout page, pay, test card, the success page; then the device pairs again.

        A step the server failed is tried again, as a shopper would; a checkout that still
        fails goes back to the cart ("Back to cart" cancels the pending order)."""
        stats, cart = self.store.stats, self.cart
        page = await self.step("checkout page", "GET", "/orders/checkout/", None, 200)
        fields = _form_fields(page, VERSION_FIELD)
        if fields is None:
            stats.problem(f"cart {cart.index}: no checkout form")
            return
        token, version = fields
        form = {"csrfmiddlewaretoken": token, "version": version}
        pay_path = _path(await self.step("place order", "POST", "/orders/checkout/", form, 302))
        card_page = await self.step("payment page", "GET", pay_path, None, 200)
        card_token = _form_fields(card_page, None)
        year = time.gmtime().tm_year % 100 + 2
        card = {"number": TEST_CARD, "expiry": f"12/{year:02d}", "cvc": "123"}
        paid = card_token and await self.step(
            "pay", "POST", pay_path, {"csrfmiddlewaretoken": card_token[0], **card}, 302
        )
        number = ORDER_NUMBER.search(_path(paid) or "")
        if number is None:
            stats.problem(f"cart {cart.index}: checkout failed; back to the cart")
            self.checkouts_abandoned += 1
            back = {"csrfmiddlewaretoken": token}
            await self.step("checkout back", "POST", "/orders/checkout/back/", back, 302)
            return
        await self.step("payment done page", "GET", _path(paid), None, 200)
        self.orders.append((number[1], +cart.expected))
        cart.expected = Counter()
        stats.checkouts += 1
        self.page_close()
        if await self.pair() and self.watched:
            await self.page_open()

    async def step(
        self,
        endpoint: str,
        method: str,
        path: str | None,
        form: dict[str, str] | None,
        expect: int,
    ) -> Answer | None:
        """One step of the checkout; None when an earlier one failed (``path`` is None)."""
        if path is None:
            return None
        request = self.request(method, path, form)
        return await self.browse(endpoint, request, expect, attempts=CHECKOUT_ATTEMPTS)

    # --- the whole visit ---

    async def shop(self) -> None:
        """Pair, open the page (watched shoppers), then scan at a shopper's pace until the end,
        checking out when the store's checkout clock picks this shopper."""
        heartbeat = asyncio.create_task(self.heartbeats())
        try:
            if not await self.pair():
                return
            if self.watched:
                await self.page_open()
            while time.monotonic() < self.store.end:
                think = min(
                    self.rng.expovariate(1 / THINK_MEAN_S), self.store.end - time.monotonic()
                )
                if await _set_within(self.checkout_wanted, max(think, 0)):
                    self.busy = True
                    await self.checkout()
                    self.checkout_wanted.clear()
                    self.busy = False
                    continue
                if time.monotonic() >= self.store.end:
                    break
                self.busy = True
                burst = self.rng.randint(*BURST_SIZES) if self.rng.random() < BURST_SHARE else 1
                for number in range(burst):
                    if number:
                        await asyncio.sleep(self.rng.uniform(*BURST_GAP_S))
                    await self.scan()
                self.busy = False
        finally:
            heartbeat.cancel()
            self.page_close()
            self.device.close()
            self.browser.close()


class LivePage:
    """The cart page's script: the event stream, and the cart block fetched again whenever the
    stream tells of a version the page does not show (``static/js/cart.js``)."""

    def __init__(self, shopper: Shopper, shown: int, etag: str) -> None:
        self.shopper, self.shown, self.etag = shopper, shown, etag
        self.refreshes = 0  # cart blocks fetched since the page opened
        self.refreshed = asyncio.Condition()
        self.refreshed_at = 0.0
        self.task: asyncio.Task | None = None
        self.connection = shopper.store.connection()  # the page's fetches

    def start(self) -> None:
        self.task = asyncio.create_task(self.run())

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
        self.connection.close()

    async def refreshed_after(self, refreshes: int, answered: float) -> None:
        """Wait for the page to show the change a device's answer reported at ``answered``."""
        stats = self.shopper.store.stats
        try:
            async with self.refreshed:
                await asyncio.wait_for(
                    self.refreshed.wait_for(lambda: self.refreshes > refreshes), LIVE_TIMEOUT_S
                )
        except TimeoutError:
            stats.live_missed += 1
            return
        if stats.window[0] <= answered < stats.window[1]:
            stats.live_delays_ms.append(max(0.0, self.refreshed_at - answered) * 1000)

    async def run(self) -> None:
        stats = self.shopper.store.stats
        while True:  # until the shopper leaves the page (``stop``)
            started = time.monotonic()
            try:
                await self.listen(started)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
                stats.record("live stream", started, None, type(exc).__name__)
            await asyncio.sleep(STREAM_RECONNECT_S)  # EventSource reconnects by itself

    async def listen(self, started: float) -> None:
        """One stream, until the server ends it (every few minutes)."""
        shopper = self.shopper
        reader, writer = await asyncio.open_connection(
            HOST, shopper.store.port, ssl=shopper.store.tls
        )
        try:
            accept = "Accept: text/event-stream\r\n"
            writer.write(shopper.request("GET", "/cart/events/", extra=accept))
            status, _ = await response_head(reader)
            failed = str(status) * (status != 200)
            shopper.store.stats.record("live stream", started, Answer(status, b""), failed)
            if failed:
                return
            # The stream's chunks hold whole lines; "0" alone is the last chunk's size: the
            # server ended the stream (and keeps the connection open for the next request).
            while (line := await reader.readline()) and line != b"0\r\n":
                if line.startswith(b"data: "):
                    version = json.loads(line[6:]).get("version")
                    if version != self.shown:
                        await self.refresh(version)
        finally:
            writer.close()

    async def refresh(self, version: int) -> None:
        shopper = self.shopper
        extra = "X-Requested-With: fetch\r\n" + (
            f"If-None-Match: {self.etag}\r\n" * bool(self.etag)
        )
        answer = await shopper.browse(
            "cart fragment",
            shopper.request("GET", "/cart/fragment/", extra=extra),
            200,
            304,
            connection=self.connection,
        )
        if answer is None:
            return
        etag = answer.header("etag")
        self.etag, self.shown = etag or "", version
        async with self.refreshed:
            self.refreshes += 1
            self.refreshed_at = time.monotonic()
            self.refreshed.notify_all()


def _form_fields(page: Answer | None, second: re.Pattern[bytes] | None) -> tuple[str, str] | None:
    """The page's CSRF token and, with ``second``, that field's value."""
    if page is None:
        return None
    token = CSRF_FIELD.search(page.body)
    other = second.search(page.body) if second else None
    if token is None or (second is not None and other is None):
        return None
    return token[1].decode(), other[1].decode() if other else ""


def _path(answer: Answer | None) -> str | None:
    """Where a redirect points, as a path on this site."""
    location = answer.header("location") if answer else None
    if not location:
        return None
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def _set_within(event: asyncio.Event, seconds: float) -> bool:
    try:
        await asyncio.wait_for(event.wait(), seconds)
    except TimeoutError:
        return False
    return True


async def checkout_clock(store: Store, shoppers: list[Shopper], every_s: float, seed: int) -> None:
    """Every ``every_s`` seconds one shopper with something in the cart goes to pay."""
    rng = random.Random(seed)
    while time.monotonic() + every_s < store.end:
        await asyncio.sleep(every_s)
        ready = [
            s
            for s in shoppers
            if +s.cart.expected and not s.busy and not s.checkout_wanted.is_set()
        ]
        if ready:
            rng.choice(ready).checkout_wanted.set()


def day_start(
    store: Store, shoppers: list[Shopper], checkout_every: float, seed: int
) -> list[asyncio.Task]:
    """Every shopper's visit and the checkout clock, started; they end by ``store.end``."""
    tasks = [asyncio.create_task(shopper.shop()) for shopper in shoppers]
    tasks.append(asyncio.create_task(checkout_clock(store, shoppers, checkout_every, seed)))
    return tasks
