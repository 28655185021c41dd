"""Django's ASGI handler, running each web worker's requests on a fixed set of threads.

Django's own handler gives every request new threads for its synchronous code (middleware,
views, the ORM) and, with them, a new database connection; all are thrown away when the
request ends. Measured with ``benchmarks.store_load`` that had two costs:

* nothing bounded them: a burst of 200 carts pairing at once became 200 threads and 200 MariaDB
  connections, past the server's ``max_connections``, and the requests over it failed with 503s;
* they were slow: starting and joining threads, connecting to MariaDB, and three hops between
  the event loop and a thread (our middleware chain mixes sync and async middleware) made a
  device's heartbeat cost 10.5 to 12 ms of CPU in process, against 7.3 ms here.

Here a worker has ``concurrency`` request threads, made once. A request borrows one for its
synchronous part; the others wait their turn on the event loop, holding no thread and no
connection. The thread keeps its database connection from one request to the next
(``CONN_MAX_AGE``, health-checked; Django's ``close_old_connections`` runs at the start of each
request on it), and the middleware chain and the view run on it in one hop, as under WSGI.

Only producing the response takes a turn. A streaming response (the live cart page's event
stream) is sent after its request has given its thread back; the stream's own database reads
run on a spare thread, which it keeps while it lives, closing its connection after each read
(``carts.live``). Spare threads are reused too, instead of being started and joined per request.
"""

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.db import close_old_connections
from django.http import HttpRequest, HttpResponseBase

# Spare threads a worker keeps idle for the next requests; beyond these they are let go.
SPARE_THREADS_KEPT = 16


def _thread(name: str) -> ThreadPoolExecutor:
    # One thread per executor: asgiref runs a context's synchronous calls one at a time on it.
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)


class SpareThreads:
    """Single-thread executors lent out one per user and taken back for the next one.

    Used from the worker's event loop only, so it needs no lock.
    """

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self._idle: list[ThreadPoolExecutor] = []

    def take(self) -> ThreadPoolExecutor:
        return self._idle.pop() if self._idle else _thread("asgi-spare")

    def give_back(self, executor: ThreadPoolExecutor) -> None:
        if len(self._idle) < self.keep:
            self._idle.append(executor)
        else:
            executor.shutdown(wait=False)  # its thread ends once idle; nobody waits for it


def _starting_each_request_fresh(chain: Callable[[HttpRequest], Any]) -> Callable[..., Any]:
    def respond(request: HttpRequest) -> Any:
        # Django closes broken and expired connections when a request starts and ends, but
        # on the thread that runs its signals, not on this one, which keeps its connection.
        close_old_connections()
        return chain(request)

    return respond


class PooledASGIHandler(ASGIHandler):
    _middleware_chain: Callable[..., Any]  # set by BaseHandler.load_middleware

    def __init__(self, concurrency: int) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        super().__init__()
        self.concurrency = concurrency
        self.spare_threads = SpareThreads(keep=SPARE_THREADS_KEPT)
        self._request_threads: asyncio.LifoQueue[ThreadPoolExecutor] | None = None

    def load_middleware(self, is_async: bool = False) -> None:
        # The chain all synchronous, as under WSGI, entered from the event loop in one hop;
        # Django's asynchronous chain would hop to a thread and back around every change of
        # kind. Async views still work: Django's synchronous path runs them with async_to_sync.
        super().load_middleware(is_async=False)
        self._middleware_chain = sync_to_async(_starting_each_request_fresh(self._middleware_chain))

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)  # Django's own refusal
            return
        executor = self.spare_threads.take()
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        finally:
            self.spare_threads.give_back(executor)

    async def run_get_response(self, request: HttpRequest) -> HttpResponseBase:
        threads = self._threads()
        executor = await threads.get()
        try:
            async with ThreadSensitiveContext(executor=executor):
                return await super().run_get_response(request)
        finally:
            threads.put_nowait(executor)

    def _threads(self) -> asyncio.LifoQueue[ThreadPoolExecutor]:
        # Made on first use, on the worker's own event loop. Last in, first out: the thread
        # used last is lent first, so a quiet worker keeps using one warm thread.
        if self._request_threads is None:
            self._request_threads = asyncio.LifoQueue()
            for number in range(self.concurrency):
                self._request_threads.put_nowait(_thread(f"asgi-request-{number}"))
        return self._request_threads
