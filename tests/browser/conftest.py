"""Browser harness: Playwright drives the machine's Chromium against pytest-django's live_server.

No browser is ever downloaded. Chromium is found through ``CHROMIUM_PATH``, then ``chromium`` or
``chromium-browser`` on the PATH, then ``/usr/bin/chromium``; when there is none, every browser
test is skipped with the reason.

Browser tests use ``live_server`` and carry two marks, as ``test_smoke.py`` does: ``browser``
and ``django_db(transaction=True)``. Transactional tests start from an emptied database; the
staff personas put their groups back themselves (``tests/conftest.py``).

Fixtures:

* ``chromium_path`` - the executable, or a skip;
* ``browser`` - one headless Chromium per test module;
* ``new_page(width=..., height=...)`` - a page in a fresh context (own cookies), closed after
  the test; ``page`` is a 1280x800 desktop one, ``phone_page`` a 375x812 phone one;
* ``oidc_provider`` - the OpenID Connect provider of ``tests/oidc_provider`` running in its own
  process on a free 127.0.0.1 port, one per module, with one user and a client whose callback
  is the live_server's. Its cookies have their own names: browsers keep cookies per host, not
  per port, and both servers may be on 127.0.0.1.
"""

import http.client
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.db import connections
from django.urls import reverse

from tests.support import process_stop

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

playwright_sync = pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is not installed"
)

CHROMIUM_NAMES = ("chromium", "chromium-browser")
CHROMIUM_FALLBACK = "/usr/bin/chromium"
# Headless, as root, with the network closed: nothing may phone home or wait for a GPU.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TIMEOUT_MS = 10_000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}


def chromium_find() -> tuple[str | None, str]:
    """The Chromium executable to use and, when there is none, why."""
    configured = os.environ.get("CHROMIUM_PATH")
    if configured:
        if os.access(configured, os.X_OK):
            return configured, ""
        return None, f"CHROMIUM_PATH={configured} is not an executable file"
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found, ""
    if os.access(CHROMIUM_FALLBACK, os.X_OK):
        return CHROMIUM_FALLBACK, ""
    return None, (
        f"no Chromium found (set CHROMIUM_PATH, or install {' or '.join(CHROMIUM_NAMES)}; "
        "browser tests never download one)"
    )


def is_png(path: Path) -> bool:
    return path.is_file() and path.read_bytes()[: len(PNG_SIGNATURE)] == PNG_SIGNATURE


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path, reason = chromium_find()
    if path is None:
        pytest.skip(reason)
    return path


@pytest.fixture(scope="module")
def browser(chromium_path: str, django_db_setup: None) -> Iterator["Browser"]:
    # While Playwright's sync API is started it keeps an asyncio loop running in this thread.
    # Django then (1) refuses ORM calls from "async" code, and (2) looks connections up in a
    # per-task store, where it would open fresh ones that know nothing of the test database's
    # transaction and serialized state. The tests' ORM calls are plain synchronous ones: lift
    # the check and keep the thread's own connections (the test database is set up on them
    # first: hence django_db_setup), exactly while Playwright runs.
    thread_connections = {alias: connections[alias] for alias in connections}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with playwright_sync.sync_playwright() as playwright:
            for alias, connection in thread_connections.items():
                connections[alias] = connection
            chromium = playwright.chromium.launch(
                executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
            )
            yield chromium
            chromium.close()


@pytest.fixture
def new_page(browser) -> Iterator[Callable[..., "Page"]]:
    contexts = []

    def make(width: int = DESKTOP["width"], height: int = DESKTOP["height"]):
        context = browser.new_context(viewport={"width": width, "height": height})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page(**DESKTOP)


@pytest.fixture
def phone_page(new_page):
    return new_page(**PHONE)


# --- the loopback OpenID Connect provider ---------------------------------------------------

IDP_MANAGE = Path(__file__).resolve().parent.parent / "oidc_provider" / "manage.py"
IDP_HOST = "127.0.0.1"
IDP_DISCOVERY_PATH = "/o/.well-known/openid-configuration"
IDP_START_TIMEOUT_S = 30


@dataclass(frozen=True)
class OidcProvider:
    """A running loopback provider: where it is, its client for smartcart, and its one user."""

    port: int
    provider_id: str
    client_id: str
    client_secret: str
    username: str
    password: str
    email: str
    first_name: str
    last_name: str

    @property
    def url(self) -> str:
        return f"http://{IDP_HOST}:{self.port}"

    @property
    def server_url(self) -> str:
        """What allauth's ``server_url`` setting wants: discovery is below it."""
        return f"{self.url}/o"


def free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def log_tail(path: Path, lines: int = 40) -> str:
    text = path.read_text(errors="replace") if path.is_file() else ""
    return "\n".join(text.splitlines()[-lines:])


def discovery_answers(port: int) -> bool:
    # http.client rather than urllib: a proxy set in the environment must not get in the way.
    connection = http.client.HTTPConnection(IDP_HOST, port, timeout=2)
    try:
        connection.request("GET", IDP_DISCOVERY_PATH)
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def idp_setup_args(provider: OidcProvider, redirect_uri: str) -> list[str]:
    return [
        "idp_setup",
        f"--client-id={provider.client_id}",
        f"--client-secret={provider.client_secret}",
        f"--redirect-uri={redirect_uri}",
        f"--username={provider.username}",
        f"--password={provider.password}",
        f"--email={provider.email}",
        f"--first-name={provider.first_name}",
        f"--last-name={provider.last_name}",
    ]


def idp_wait(server: subprocess.Popen, port: int, log: Path) -> None:
    """Wait until the provider's discovery document answers; fail with its log otherwise."""
    deadline = time.monotonic() + IDP_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the OIDC provider exited with {server.returncode}:\n{log_tail(log)}")
        if discovery_answers(port):
            return
        time.sleep(0.1)
    pytest.fail(
        f"the OIDC provider did not answer {IDP_DISCOVERY_PATH} on port {port} within "
        f"{IDP_START_TIMEOUT_S} s:\n{log_tail(log)}"
    )


@pytest.fixture(scope="module")
def oidc_provider(live_server, tmp_path_factory) -> Iterator[OidcProvider]:
    pytest.importorskip(
        "oauth2_provider", reason="django-oauth-toolkit (the loopback provider) is not installed"
    )
    state = tmp_path_factory.mktemp("oidc-provider")
    provider = OidcProvider(
        port=free_port(IDP_HOST),
        provider_id="loopback",
        client_id="smartcart-loopback",
        client_secret=secrets.token_urlsafe(24),
        username="carol",
        password=secrets.token_urlsafe(12),
        email="carol@example.org",
        first_name="Carol",
        last_name="Shopper",
    )
    callback = reverse("openid_connect_callback", kwargs={"provider_id": provider.provider_id})
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "idp.settings", "LOOPBACK_IDP_DIR": str(state)}
    setup = subprocess.run(  # noqa: S603 - our interpreter and script, arguments made here
        [sys.executable, str(IDP_MANAGE), *idp_setup_args(provider, live_server.url + callback)],
        env=env,
        cwd=state,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if setup.returncode != 0:
        pytest.fail(f"the OIDC provider's setup failed:\n{setup.stdout}{setup.stderr}")

    log = state / "server.log"
    address = f"{IDP_HOST}:{provider.port}"
    with log.open("w") as log_file:
        server = subprocess.Popen(  # noqa: S603 - as above
            [sys.executable, str(IDP_MANAGE), "runserver", address, "--noreload"],
            env=env,
            cwd=state,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        idp_wait(server, provider.port, log)
        yield provider
    finally:
        process_stop(server)
