"""shopcart/asgi_handler.py: a web worker runs its requests on ASGI_REQUEST_CONCURRENCY threads of
its own, which keep their database connections; an open stream does not take a turn."""

import asyncio
import threading
import time

import asgiref.sync
import pytest
from django.core.handlers.asgi import ASGIHandler
from django.core.signals import request_started
from django.db import connection, connections
from django.http import HttpResponse, StreamingHttpResponse
from django.test import override_settings
from django.urls import path

from shopcart import asgi_handler
from shopcart.asgi_handler import PooledASGIHandler, SpareThreads


class Gauge:
    """How many requests are inside the view now, and the most there ever were."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = self.most = 0

    def view(self, request):
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        time.sleep(0.05)
        with self.lock:
            self.now -= 1
        return HttpResponse("ok")


gauge = Gauge()
stream_open = threading.Event()


async def endless_stream(request):
    async def chunks():
        stream_open.set()
        while True:
            yield "data: {}\n\n"
            await asyncio.sleep(0.01)

    return StreamingHttpResponse(chunks(), content_type="text/event-stream")


seen: list[tuple[str, object]] = []  # (what, on which thread or connection), in order


def where_am_i(request):
    seen.append(("view", threading.current_thread()))
    return HttpResponse("ok")


def which_connection(request):
    connection.ensure_connection()
    seen.append(("connection", connection.connection))
    return HttpResponse("ok")


urlpatterns = [
    path("slow/", gauge.view),
    path("stream/", endless_stream),
    path("where/", where_am_i),
    path("connection/", which_connection),
]


def scope(url: str) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": url,
        "raw_path": url.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


async def request(app, url: str) -> int:
    """The status ``app`` answers ``url`` with (a client that stays connected)."""
    sent: list[dict] = []
    delivered = False

    async def receive() -> dict:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # never disconnects
        raise AssertionError("unreachable")

    async def send(message: dict) -> None:
        sent.append(message)

    await app(scope(url), receive, send)
    return sent[0]["status"]


async def burst(app, count: int) -> list[int]:
    return await asyncio.gather(*(request(app, "/slow/") for _ in range(count)))


async def one_after_another(app, url: str, count: int) -> list[int]:
    return [await request(app, url) for _ in range(count)]


def seen_of(what: str) -> list[object]:
    return [thing for kind, thing in seen if kind == what]


def distinct(things: list[object]) -> int:
    return len({id(thing) for thing in things})  # the objects are kept alive in ``seen``


@pytest.fixture(autouse=True)
def reset_gauge():
    gauge.now = gauge.most = 0
    stream_open.clear()
    seen.clear()


@override_settings(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["testserver"])
def test_a_worker_runs_no_more_requests_at_once_than_its_bound():
    statuses = asyncio.run(burst(PooledASGIHandler(concurrency=2), 6))

    assert statuses == [200] * 6
    assert gauge.most == 2


@override_settings(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["testserver"])
def test_without_the_bound_every_request_runs_at_once():
    # What the bound is for: Django's own handler gives each request a thread of its own.
    asyncio.run(burst(ASGIHandler(), 6))

    assert gauge.most == 6


@override_settings(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["testserver"])
def test_an_open_stream_does_not_hold_a_turn():
    async def scenario() -> list[int]:
        app = PooledASGIHandler(concurrency=1)
        stream = asyncio.create_task(request(app, "/stream/"))
        while not stream_open.is_set():
            await asyncio.sleep(0.01)
        try:
            return await asyncio.wait_for(burst(app, 2), timeout=5)
        finally:
            stream.cancel()

    assert asyncio.run(scenario()) == [200, 200]


def test_the_bound_must_let_a_request_in():
    with pytest.raises(ValueError, match="at least 1"):
        PooledASGIHandler(concurrency=0)


def test_the_project_application_is_bounded_by_the_setting(settings):
    from shopcart.asgi import application

    assert isinstance(application, PooledASGIHandler)
    assert application.concurrency == settings.ASGI_REQUEST_CONCURRENCY


@override_settings(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["testserver"])
def test_requests_run_on_the_workers_own_threads_again_and_again():
    asyncio.run(one_after_another(PooledASGIHandler(concurrency=2), "/where/", 6))

    threads = seen_of("view")
    assert len(threads) == 6
    assert distinct(threads) == 1  # one at a time: the first free thread each time
    assert threads[0].name.startswith("asgi-request-")


@override_settings(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["testserver"])
def test_djangos_own_handler_starts_threads_for_every_request():
    asyncio.run(one_after_another(ASGIHandler(), "/where/", 6))

    assert distinct(seen_of("view")) == 6


@override_settings(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["testserver"])
def test_the_thread_closes_broken_connections_before_each_request(monkeypatch):
    def close_old_connections() -> None:
        seen.append(("close_old_connections", threading.current_thread()))

    monkeypatch.setattr(asgi_handler, "close_old_connections", close_old_connections)

    asyncio.run(one_after_another(PooledASGIHandler(concurrency=1), "/where/", 2))

    kinds = [kind for kind, _ in seen]
    assert kinds == ["close_old_connections", "view"] * 2
    assert distinct([thread for _, thread in seen]) == 1


def _close_connections_of(app: PooledASGIHandler) -> None:
    for thread in list(app._threads()._queue):  # type: ignore[attr-defined]
        thread.submit(connections.close_all).result()


@pytest.mark.django_db(transaction=True)
@override_settings(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["testserver"])
def test_a_request_thread_keeps_its_database_connection():
    app = PooledASGIHandler(concurrency=1)
    try:
        asyncio.run(one_after_another(app, "/connection/", 3))
    finally:
        _close_connections_of(app)

    assert distinct(seen_of("connection")) == 1


@pytest.mark.django_db(transaction=True)
@override_settings(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["testserver"])
def test_djangos_own_handler_connects_for_every_request():
    asyncio.run(one_after_another(ASGIHandler(), "/connection/", 3))

    assert distinct(seen_of("connection")) == 3


def count_hops_to_the_loop(monkeypatch) -> list[int]:
    hops: list[int] = []
    call = asgiref.sync.AsyncToSync.__call__

    def counted(self, *args, **kwargs):
        hops.append(1)
        return call(self, *args, **kwargs)

    monkeypatch.setattr(asgiref.sync.AsyncToSync, "__call__", counted)
    return hops


@override_settings(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["testserver"])
def test_middleware_and_view_run_in_one_hop_from_the_event_loop(monkeypatch):
    hops = count_hops_to_the_loop(monkeypatch)

    assert asyncio.run(request(PooledASGIHandler(concurrency=1), "/where/")) == 200

    assert hops == []


@override_settings(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["testserver"])
def test_djangos_own_chain_hops_back_to_the_event_loop(monkeypatch):
    # What the one hop saves: the project's mix of sync and async middleware.
    hops = count_hops_to_the_loop(monkeypatch)

    asyncio.run(request(ASGIHandler(), "/where/"))

    assert hops


@override_settings(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["testserver"])
def test_signals_run_on_a_spare_thread_that_is_reused():
    def started(**kwargs) -> None:
        seen.append(("signal", threading.current_thread()))

    request_started.connect(started)
    try:
        asyncio.run(one_after_another(PooledASGIHandler(concurrency=1), "/where/", 3))
    finally:
        request_started.disconnect(started)

    signal_threads = seen_of("signal")
    assert len(signal_threads) == 3
    assert distinct(signal_threads) == 1
    assert signal_threads[0].name.startswith("asgi-spare")


def test_spare_threads_are_lent_again_and_the_extra_let_go():
    spare = SpareThreads(keep=1)
    first, second = spare.take(), spare.take()
    assert first is not second  # none idle: a new one

    spare.give_back(first)
    spare.give_back(second)  # one more than it keeps

    assert spare.take() is first
    assert second._shutdown  # type: ignore[attr-defined]
    assert not first._shutdown  # type: ignore[attr-defined]
