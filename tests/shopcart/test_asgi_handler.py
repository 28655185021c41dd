"""shopcart/asgi_handler.py: a web worker runs at most ASGI_REQUEST_CONCURRENCY requests at once,
and an open stream does not take a turn."""

import asyncio
import threading
import time

import pytest
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpResponse, StreamingHttpResponse
from django.test import override_settings
from django.urls import path

from shopcart.asgi_handler import BoundedASGIHandler


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


urlpatterns = [path("slow/", gauge.view), path("stream/", endless_stream)]


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


@pytest.fixture(autouse=True)
def reset_gauge():
    gauge.now = gauge.most = 0
    stream_open.clear()


@override_settings(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["testserver"])
def test_a_worker_runs_no_more_requests_at_once_than_its_bound():
    statuses = asyncio.run(burst(BoundedASGIHandler(concurrency=2), 6))

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
        app = BoundedASGIHandler(concurrency=1)
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
        BoundedASGIHandler(concurrency=0)


def test_the_project_application_is_bounded_by_the_setting(settings):
    from shopcart.asgi import application

    assert isinstance(application, BoundedASGIHandler)
    assert application.concurrency == settings.ASGI_REQUEST_CONCURRENCY
