"""deploy/nginx/smartcart-routes.conf under this machine's nginx, in front of two fake web nodes
on loopback: one that dies in the middle of every request (reads it, closes without a word)
and one that answers. What a web node's crash costs each kind of request:

* a cart's scan (a POST, idempotent by its scan_id) goes on to the other node: no error;
* a GET goes on to the other node too;
* a shopper's form POST does not (it might have been acted on): 502, and the shopper retries;
* the live stream goes to the stream pool, unbuffered.

Skipped where nginx is not installed (CI installs it).
"""

import shutil
import socket
import socketserver
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROUTES = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "smartcart-routes.conf"
NGINX = shutil.which("nginx", path="/usr/sbin:/usr/bin")

pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed")


class _Node(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, name: str, answers: bool) -> None:
        self.name, self.answers = name, answers
        self.seen: list[str] = []  # request lines received
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def port(self) -> int:
        return self.server_address[1]


class _Handler(socketserver.StreamRequestHandler):
    server: _Node

    def handle(self) -> None:
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            chunk = self.rfile.readline()
            if not chunk:
                return
            head += chunk
        self.server.seen.append(head.split(b"\r\n")[0].decode())
        lines = head.lower().split(b"\r\n")
        length = next((int(x.split(b":")[1]) for x in lines if x.startswith(b"content-length:")), 0)
        self.rfile.read(length)
        if not self.server.answers:
            # Dies mid-request: a reset, as a killed worker's socket gives.
            self.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
            return
        body = self.server.name.encode()
        self.wfile.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def proxy(tmp_path_factory) -> Iterator[tuple[int, _Node, _Node]]:
    dying, alive = _Node("dying", answers=False), _Node("alive", answers=True)
    for node in (dying, alive):
        threading.Thread(target=node.serve_forever, daemon=True).start()
    directory = tmp_path_factory.mktemp("nginx")
    port = _free_port()
    # max_fails=0: the dying node is tried first every time (no 10 s rest between tests).
    (directory / "nginx.conf").write_text(f"""
pid {directory}/nginx.pid;
error_log {directory}/error.log;
daemon off;
events {{}}
http {{
    access_log off;
    client_body_temp_path {directory}/body;
    proxy_temp_path {directory}/proxy;
    upstream smartcart_web {{
        server 127.0.0.1:{dying.port} max_fails=0;
        server 127.0.0.1:{alive.port} backup;
    }}
    upstream smartcart_stream {{ server 127.0.0.1:{alive.port}; }}
    server {{
        listen 127.0.0.1:{port};
        include {ROUTES};
    }}
}}
""")
    process = subprocess.Popen(  # noqa: S603 - this machine's nginx, our configuration
        [str(NGINX), "-p", str(directory), "-c", str(directory / "nginx.conf")],
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield port, dying, alive
    finally:
        process.terminate()
        process.wait(timeout=10)
        for node in (dying, alive):
            node.shutdown()
            node.server_close()


def _send(port: int, method: str, path: str, body: bytes | None = None) -> tuple[int, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""


def test_a_scan_the_dying_node_had_started_on_is_answered_by_the_other(proxy):
    port, dying, alive = proxy
    scan = b'{"scan_id": "7d1e5c1a-0000-4000-8000-000000000001", "code": "4000000000017"}'

    status, answered_by = _send(port, "POST", "/api/devices/v1/scans/", scan)

    assert (status, answered_by) == (200, "alive")
    assert "POST /api/devices/v1/scans/ HTTP/1.1" in dying.seen  # it had the request
    assert "POST /api/devices/v1/scans/ HTTP/1.1" in alive.seen


def test_a_page_the_dying_node_had_started_on_is_answered_by_the_other(proxy):
    port, _, _ = proxy

    assert _send(port, "GET", "/cart/") == (200, "alive")


def test_a_form_post_the_dying_node_had_started_on_is_not_sent_again(proxy):
    port, dying, alive = proxy

    status, _ = _send(port, "POST", "/orders/checkout/", b"version=3")

    assert status == 502
    assert "POST /orders/checkout/ HTTP/1.1" in dying.seen
    assert "POST /orders/checkout/ HTTP/1.1" not in alive.seen


def test_the_live_stream_goes_to_the_stream_pool(proxy):
    port, dying, _ = proxy

    assert _send(port, "GET", "/cart/events/") == (200, "alive")
    assert "GET /cart/events/ HTTP/1.1" not in dying.seen
