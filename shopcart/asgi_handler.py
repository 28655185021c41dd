"""Django's ASGI handler with a bound on the requests one web worker runs at once.

Under ASGI, Django runs each request's synchronous code (views, middleware, the ORM) on a
thread of its own, and each such thread opens its own database connection. Nothing limits how
many run together: a burst of 200 carts pairing at once became 200 threads and 200 MariaDB
connections, past the server's ``max_connections`` (151 by default), and the requests over it
failed with 503s. Here at most ``concurrency`` requests of a worker are inside Django at a time;
the others wait their turn on the worker's event loop, which costs no thread and no connection.

Only producing the response is bounded. A streaming response (the live cart page's event
stream) is sent after its request has left the bound, so open streams never take a turn away
from other requests; they hand their connection back between reads (``carts.live``).
"""

import asyncio
from typing import Any

from django.core.handlers.asgi import ASGIHandler
from django.http import HttpResponseBase


class BoundedASGIHandler(ASGIHandler):
    def __init__(self, concurrency: int) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        super().__init__()
        self.concurrency = concurrency
        self._turns: asyncio.Semaphore | None = None  # made on the worker's own event loop

    async def run_get_response(self, request: Any) -> HttpResponseBase:
        if self._turns is None:
            self._turns = asyncio.Semaphore(self.concurrency)
        async with self._turns:
            return await super().run_get_response(request)
