"""How requests are served: Django's own WSGI and ASGI handlers behind nginx, no private Django
or asgiref method overridden, the live stream's pool holding no database connection between
reads, and what the app believes of the proxy's forwarded headers."""

import asyncio
import importlib
import inspect
import pkgutil
from concurrent.futures import ThreadPoolExecutor

import pytest
from allauth.core.internal.httpkit import get_client_ip
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.test import Client, RequestFactory

from carts import live
from carts.services import cart_get_for_user

PROJECT_PACKAGES = ("shopcart", "catalog", "carts", "orders", "devices")
# Whose private methods the project must not override: a patch release may rename them.
FRAMEWORKS = ("django", "asgiref")


def test_the_wsgi_and_asgi_applications_are_djangos_own_handlers():
    from shopcart.asgi import application as asgi_application
    from shopcart.wsgi import application as wsgi_application

    assert type(wsgi_application) is WSGIHandler
    assert type(asgi_application) is ASGIHandler


def _project_classes() -> list[type]:
    classes = []
    for package_name in PROJECT_PACKAGES:
        package = importlib.import_module(package_name)
        for module_info in pkgutil.walk_packages(package.__path__, f"{package_name}."):
            if ".migrations." in module_info.name:
                continue
            module = importlib.import_module(module_info.name)
            classes += [
                value
                for value in vars(module).values()
                if inspect.isclass(value) and value.__module__ == module.__name__
            ]
    return classes


def _private_overrides(cls: type) -> list[str]:
    """``Class.method`` for each private method ``cls`` defines that a Django or asgiref class
    among its ancestors defines too."""
    found = []
    for name in vars(cls):
        if not name.startswith("_") or name.startswith("__"):
            continue
        for ancestor in cls.__mro__[1:]:
            if ancestor.__module__.split(".")[0] in FRAMEWORKS and name in vars(ancestor):
                found.append(f"{cls.__qualname__}.{name} overrides {ancestor.__qualname__}")
                break
    return found


def test_no_project_class_overrides_a_private_django_or_asgiref_method():
    overrides = [found for cls in _project_classes() for found in _private_overrides(cls)]

    assert overrides == []


def test_the_private_override_check_finds_one():
    from django.db.backends.sqlite3.base import DatabaseWrapper

    class Overriding(DatabaseWrapper):
        def _commit(self) -> None: ...

        def _own_helper(self) -> None: ...

    [found] = _private_overrides(Overriding)

    assert found.endswith("Overriding._commit overrides BaseDatabaseWrapper")


# --- The live stream's ASGI pool --------------------------------------------------------------


def _connections_to_the_test_database() -> int:
    """The test database's connections but the one this asks on, which is closed after."""

    def count() -> int:
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT COUNT(*) FROM information_schema.PROCESSLIST "
                    "WHERE DB = %s AND ID != CONNECTION_ID()",
                    [connection.settings_dict["NAME"]],
                )
                return cursor.fetchone()[0]
        finally:
            connection.close()

    # On a thread of its own, as from inside the event loop below: the same count either way.
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(count).result()


def _scope(cookie: str) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/cart/events/",
        "raw_path": b"/cart/events/",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"cookie", cookie.encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


async def _listen(application, cookie: str, heard: asyncio.Queue) -> None:
    """One browser's stream through ``application``; each body chunk put on ``heard``."""

    async def receive() -> dict:
        if not hasattr(receive, "sent"):
            receive.sent = True  # type: ignore[attr-defined]
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # the browser stays
        raise AssertionError("unreachable")

    async def send(message: dict) -> None:
        if message["type"] == "http.response.body" and message.get("body"):
            await heard.put(message["body"])

    await application(_scope(cookie), receive, send)


async def _open_streams(cookies: list[str], reads_each: int) -> list[int]:
    """Open a stream per cookie, and count the test database's connections each time every
    stream has made one more read (the first event, then heartbeats)."""
    from shopcart.asgi import application

    queues: list[asyncio.Queue[bytes]] = [asyncio.Queue() for _ in cookies]
    tasks = [
        asyncio.create_task(_listen(application, cookie, queue))
        for cookie, queue in zip(cookies, queues, strict=True)
    ]
    counts = []
    try:
        for _ in range(reads_each):
            for queue in queues:
                await asyncio.wait_for(queue.get(), timeout=10)
            counts.append(await asyncio.to_thread(_connections_to_the_test_database))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return counts


@pytest.mark.skipif(
    connection.vendor != "mysql",
    reason="counts the server's connections; SQLite's in-memory test database is never closed",
)
@pytest.mark.django_db(transaction=True)
def test_open_streams_hold_no_database_connection_between_reads(alice, bob, monkeypatch):
    monkeypatch.setattr(live, "HEARTBEAT_SECONDS", 0.05)
    cart_get_for_user(user=alice)
    cookies = []
    for user in (alice, bob, None):  # bob has no cart yet; the last is a visitor
        client = Client()
        if user is not None:
            client.force_login(user)
        cookies.append(
            "; ".join(f"{name}={morsel.value}" for name, morsel in client.cookies.items())
        )
    idle = _connections_to_the_test_database()  # this test's own, and any left over

    counts = asyncio.run(_open_streams(cookies, reads_each=3))

    assert counts == [idle] * 3


# --- Behind the proxy ---------------------------------------------------------------------


def test_the_client_address_is_the_one_the_proxy_saw(settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    # nginx appends the address it saw ($proxy_add_x_forwarded_for) to whatever came in.
    request = RequestFactory().get(
        "/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.7"
    )

    assert get_client_ip(request) == "198.51.100.7"


def test_without_a_proxy_a_forwarded_address_is_not_believed(settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="1.2.3.4")

    assert get_client_ip(request) == "198.51.100.7"


def test_the_proxys_scheme_header_makes_a_request_secure(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

    assert RequestFactory().get("/", HTTP_X_FORWARDED_PROTO="https").is_secure()
    assert not RequestFactory().get("/").is_secure()
