"""MariaDB goes away in the middle of a scan burst, then comes back (issue 9, item 3).

The app runs under gunicorn in a subprocess, both as production serves requests (WSGI workers,
each keeping its connection) and on Django's ASGI handler (as the live stream's pool runs it),
and reaches MariaDB through a TCP proxy on loopback. Cutting the proxy (every open connection
closed, new ones reset) is, from the app's side, the same as a database restart, without
touching the MariaDB other tests share.

Several carts scan at once the way the firmware does: each scan is resent with the same
``scan_id`` and body until it is answered 200/201, waiting ``Retry-After`` after a 503.
"""

import http.client
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection
from django.test import Client

from carts.models import CartLine
from carts.services import cart_pass_issue
from catalog.models import Barcode
from devices.services import device_pair, device_register
from shopcart.core.db_outage import ERROR_DATABASE_UNAVAILABLE
from tests.factories import BarcodeFactory, UserFactory
from tests.shopcart.celery_workers import database_url
from tests.support import process_stop

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "mysql",
        reason="needs MySQL/MariaDB reached over TCP, which the test cuts and restores; "
        f"this run uses {connection.vendor}",
    ),
    pytest.mark.django_db(transaction=True),
]

BASE_DIR = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")
CARTS = 4
PRODUCTS = 3
CUT_SECONDS = 2.0
RETRY_AFTER_CAP = 3.0  # the firmware waits at most this long between two tries
SCAN_DEADLINE = 30.0  # a scan not answered 200/201 by then fails the test
START_SECONDS = 30.0
# Sync workers, fewer than the carts, like a busy node. No control socket: several test runs
# on one machine would share its default path.
GUNICORN_OPTIONS = ["--workers=3", "--timeout=30", "--graceful-timeout=5", "--no-control-socket"]
# The application and worker class of each way the app is served.
SERVED_AS = {
    "asgi": ["shopcart.asgi:application", "--worker-class=uvicorn_worker.UvicornWorker"],
    "wsgi": ["shopcart.wsgi"],
}


class FaultProxy:
    """TCP proxy 127.0.0.1:<port> -> ``target`` that can be cut (like a restart) and restored."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.open: set[socket.socket] = set()
        self.is_cut = False
        self.refused = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self) -> None:
        with self.lock:
            self.is_cut = True
            for sock in self.open:
                _reset(sock)
            self.open.clear()

    def restore(self) -> None:
        with self.lock:
            self.is_cut = False

    def close(self) -> None:
        self.cut()
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            with self.lock:
                if self.is_cut:
                    self.refused += 1
                    _reset(client)
                    continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _reset(client)
                continue
            upstream.settimeout(None)
            with self.lock:
                self.open.update({client, upstream})
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        with self.lock:
            self.open.discard(source)
            self.open.discard(sink)
        _reset(source)
        _reset(sink)


def _reset(sock: socket.socket) -> None:
    """Close with a TCP reset, as a server that went down leaves its clients."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # shutdown first: close() alone would not wake a pump blocked in recv() on it, and the
        # connection would live on.
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AppServer:
    """gunicorn serving the app ``served_as`` on a free loopback port, its database at
    ``database_url``."""

    def __init__(self, database_url: str, log_path: Path, served_as: str) -> None:
        self.port = _free_port()
        self._log = log_path.open("wb")
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "shopcart.settings",
            "DATABASE_URL": database_url,
            "DEBUG": "false",
            "CONN_MAX_AGE": "60",  # kept connections die in the cut: the health check must notice
            "CELERY_BROKER_URL": "",  # after-commit work runs in the request; no broker needed
        }
        self.process = subprocess.Popen(  # noqa: S603 - this venv's gunicorn, fixed arguments
            [GUNICORN, *SERVED_AS[served_as], f"--bind=127.0.0.1:{self.port}", *GUNICORN_OPTIONS],
            cwd=BASE_DIR,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "gunicorn exited during start-up"
            try:
                if request(self.port, "GET", "/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"gunicorn did not answer within {START_SECONDS} s")

    def stop(self) -> None:
        process_stop(self.process)
        self._log.close()


def request(
    port: int, method: str, path: str, body: dict | None = None, headers: dict | None = None
) -> tuple[int, Message, bytes]:
    """Status, headers (names in any case: uvicorn sends them in lower case) and body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        data = json.dumps(body) if body is not None else None
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        conn.request(method, path, body=data, headers=all_headers)
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


@dataclass
class Cart:
    """One cart of the burst: its device key and what it sent and was answered."""

    key: str
    cart_id: int
    codes: list[str]
    sent: Counter = field(default_factory=Counter)  # scan_ids answered 200/201, per code
    # status, Content-Type, Retry-After, JSON body of every answer
    answers: list[tuple[int, str, str, dict]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # no answer at all, or a scan gave up

    def scan(self, port: int, code: str) -> None:
        """Send one scan until it is answered 200/201, like the firmware."""
        body = {"scan_id": str(uuid.uuid4()), "mode": "add", "qty": 1, "code": code}
        body["symbology"] = "EAN13"
        headers = {"Authorization": f"Device {self.key}"}
        deadline = time.monotonic() + SCAN_DEADLINE
        while time.monotonic() < deadline:
            try:
                status, answer_headers, content = request(port, "POST", SCAN_PATH, body, headers)
            except OSError as exc:
                self.errors.append(f"no answer: {type(exc).__name__}")
                time.sleep(0.5)
                continue
            kind = answer_headers.get("Content-Type", "")
            retry_after = answer_headers.get("Retry-After", "")
            answer = json.loads(content) if "json" in kind else {}
            self.answers.append((status, kind, retry_after, answer))
            if status in (200, 201):
                self.sent[code] += 1
                return
            time.sleep(min(float(retry_after or 1), RETRY_AFTER_CAP))
        self.errors.append(f"scan {body['scan_id']} not answered 200/201 in {SCAN_DEADLINE} s")

    def run(self, port: int, stop: threading.Event) -> None:
        turn = 0
        while not stop.is_set():
            self.scan(port, self.codes[turn % len(self.codes)])
            turn += 1


SCAN_PATH = "/api/devices/v1/scans/"


def _carts_prepared() -> tuple[list[Cart], str]:
    """The carts of the burst, paired with their shoppers, and the first shopper's cookie."""
    BarcodeFactory.create_batch(PRODUCTS, product__stock=1000)
    codes = list(_codes_by_product().values())
    carts, shoppers = [], []
    for number in range(CARTS):
        device, key = device_register(name=f"Fault cart {number}")
        shoppers.append(UserFactory())
        pairing = device_pair(device=device, cart_pass=cart_pass_issue(user=shoppers[-1]))
        carts.append(Cart(key=key, cart_id=pairing.cart_id, codes=codes))
    browser = Client()
    browser.force_login(shoppers[0])  # the session row is committed: the server can read it
    return carts, f"sessionid={browser.cookies['sessionid'].value}"


def _friendly_page(answer: tuple[int, Message, bytes]) -> bool:
    status, headers, content = answer
    page = content.decode()
    return (
        status == 503
        and headers["Content-Type"].startswith("text/html")
        and "We'll be right back" in page
        and headers["X-Request-ID"] in page
    )


def _codes_by_product() -> dict[int, str]:
    """What a cart's scanner reads for each product: the EAN-13 inside the stored GTIN-14."""
    return {product: gtin[1:] for product, gtin in Barcode.objects.values_list("product", "gtin")}


def _scans_done(carts: list[Cart]) -> int:
    return sum(sum(cart.sent.values()) for cart in carts)


def _wait_for_scans(carts: list[Cart], count: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while _scans_done(carts) < count:
        assert time.monotonic() < deadline, f"the burst stalled below {count} scans"
        time.sleep(0.05)


@pytest.fixture
def proxy():
    url = urlsplit(database_url() or "")
    fault_proxy = FaultProxy((url.hostname or "127.0.0.1", url.port or 3306))
    yield fault_proxy
    fault_proxy.close()


@pytest.fixture(params=sorted(SERVED_AS))
def app_server(request, proxy, tmp_path):
    url = urlsplit(database_url() or "")
    netloc = url.netloc.rsplit("@", 1)[0] + f"@127.0.0.1:{proxy.port}"
    database = urlunsplit(url._replace(netloc=netloc))
    server = AppServer(database, tmp_path / "gunicorn.log", served_as=request.param)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def test_scans_retried_through_a_database_restart_land_exactly_once(proxy, app_server):
    carts, shopper_cookie = _carts_prepared()
    port = app_server.port
    stop = threading.Event()
    threads = [threading.Thread(target=c.run, args=(port, stop), daemon=True) for c in carts]
    for thread in threads:
        thread.start()

    try:
        _wait_for_scans(carts, 20)
        before_cut = _scans_done(carts)
        proxy.cut()
        time.sleep(CUT_SECONDS / 2)
        home_page = request(port, "GET", "/")
        cart_page = request(port, "GET", "/cart/", headers={"Cookie": shopper_cookie})
        time.sleep(CUT_SECONDS / 2)
        proxy.restore()
        restored_at = time.monotonic()
        _wait_for_scans(carts, _scans_done(carts) + 20)
        back_in = time.monotonic() - restored_at
    finally:
        proxy.restore()
        stop.set()
        for thread in threads:
            thread.join(SCAN_DEADLINE + 5)

    # Shoppers saw the friendly page, not a traceback, and their cart once it was back.
    assert _friendly_page(home_page), home_page
    assert _friendly_page(cart_page), cart_page
    assert request(port, "GET", "/cart/", headers={"Cookie": shopper_cookie})[0] == 200
    # The cut hit the burst, and every failed answer was the JSON 503 the firmware retries on.
    answers = [answer for cart in carts for answer in cart.answers]
    failed = [answer for answer in answers if answer[0] not in (200, 201)]
    assert failed, "no scan was refused during the cut: the test proved nothing"
    for status, kind, retry_after, body in failed:
        assert (status, kind, retry_after) == (503, "application/json", "3"), body
        assert body["detail"] == ERROR_DATABASE_UNAVAILABLE and body["request_id"] != "-"
    assert [error for cart in carts for error in cart.errors] == []
    assert not any(thread.is_alive() for thread in threads)
    # Nothing doubled, nothing lost: each cart holds one unit per scan_id it sent.
    code_of = _codes_by_product()
    for cart in carts:
        lines = CartLine.objects.filter(cart_id=cart.cart_id).values_list("product", "quantity")
        held = {code_of[product]: quantity for product, quantity in lines}
        assert held == dict(cart.sent)
    print(
        f"\nscans: {before_cut} before the cut, {_scans_done(carts)} in all; "
        f"{len(failed)} answers 503; burst back {back_in:.1f} s after the restore; "
        f"{proxy.refused} database connections refused during the cut"
    )
