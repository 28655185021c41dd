"""The live cart stream: Server-Sent Events saying which stamp the cart is at.

A stamp (``carts.events.CartStamp``) is the cart's version (contents and status), its count of
scans and its count of pairings: every part of the cart's state the page shows moves one of
them. The stream opens with the cart's current stamp, then sends one event per change heard from
``carts.events``. After ``HEARTBEAT_SECONDS`` without one it reads the stamp from the
database — a change made in another process (a management command, a second server process
without Redis) or a lost pub/sub message still reaches the page — and otherwise sends a comment
line as a heartbeat (so proxies and browsers keep the connection). It ends after
``STREAM_SECONDS``; the browser's EventSource then
reconnects by itself ``RETRY_MILLISECONDS`` later. Events carry no cart contents: the page fetches
the re-rendered cart when the version or the scan count differs from the one it shows.

Under WSGI (runserver, the tests' live server) the stream is a plain generator that holds its
worker thread; under ASGI (the stream pool in production, to which nginx sends
``/cart/events/``) it is an async generator that holds nothing but a coroutine. The two cannot
be swapped: WSGI would buffer an async stream forever, and ASGI would run a sync one in a
thread per chunk.

A visitor without a cart gets a stream that says version 0 and then only keeps the connection.

When the broker cannot be reached (Redis down) the stream ends at once, before its first event,
asking the browser to come back in ``UNAVAILABLE_RETRY_MILLISECONDS``: the page polls the cart
meanwhile and goes live again by itself once Redis is back.
"""

import asyncio
import json
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterator

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.db import connection
from django.http import HttpRequest, StreamingHttpResponse

from carts.events import CartStamp, EventsUnavailable, Subscription, cart_event_subscribe
from carts.models import Cart

logger = logging.getLogger(__name__)

# Module constants, read at each use, so tests can shorten them.
HEARTBEAT_SECONDS = 5.0
STREAM_SECONDS = 180.0
RETRY_MILLISECONDS = 2000
UNAVAILABLE_RETRY_MILLISECONDS = 30_000

HEARTBEAT = ": heartbeat\n\n"


def cart_event_stream(request: HttpRequest, cart_id: int | None) -> StreamingHttpResponse:
    """The SSE response for ``cart_id`` (None: no cart yet), sync or async as the server needs."""
    stream: Iterator[str] | AsyncIterator[str] = (
        _stream_async(cart_id) if isinstance(request, ASGIRequest) else _stream_sync(cart_id)
    )
    response = StreamingHttpResponse(stream, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response


def cart_event(cart_id: int | None, stamp: CartStamp) -> str:
    """One SSE event: ``data: {"cart": 12, "version": 7, "scans": 3, "pairings": 1}``."""
    data = {
        "cart": cart_id,
        "version": stamp.version,
        "scans": stamp.scans,
        "pairings": stamp.pairings,
    }
    return f"data: {json.dumps(data)}\n\n"


def _stream_sync(cart_id: int | None) -> Iterator[str]:
    try:
        yield from _stream_sync_events(cart_id)
    except EventsUnavailable as exc:
        yield _unavailable(exc)


async def _stream_async(cart_id: int | None) -> AsyncIterator[str]:
    stream = _stream_async_events(cart_id)
    try:
        async for chunk in stream:
            yield chunk
    except EventsUnavailable as exc:
        yield _unavailable(exc)
    finally:
        await stream.aclose()  # unlike ``yield from``, ``async for`` does not pass a close on


def _unavailable(exc: EventsUnavailable) -> str:
    """The stream's last words when the broker is down: come back later (poll meanwhile)."""
    logger.warning("cart stream ended: live events unavailable (%s)", exc)
    return f"retry: {UNAVAILABLE_RETRY_MILLISECONDS}\n\n"


def _stream_sync_events(cart_id: int | None) -> Iterator[str]:
    subscription = cart_event_subscribe(cart_id=cart_id) if cart_id else None
    try:
        if subscription is not None:
            subscription.get(timeout=0)  # listening starts now (Redis subscribes on first use)
        # Read after listening began: a change in between is in the stamp or in an event.
        stamp = _stamp_now(cart_id)
        yield f"retry: {RETRY_MILLISECONDS}\n" + cart_event(cart_id, stamp)
        deadline = time.monotonic() + STREAM_SECONDS
        while (left := deadline - time.monotonic()) > 0:
            wait = min(HEARTBEAT_SECONDS, left)
            heard = subscription.get(timeout=wait) if subscription else _quiet(wait)
            if heard is None and cart_id is not None:
                heard = _stamp_now(cart_id)
            if (newest := stamp.newest(heard)) != stamp:
                stamp = newest
                yield cart_event(cart_id, stamp)
            else:
                yield HEARTBEAT
    finally:
        if subscription is not None:
            subscription.close()


async def _stream_async_events(cart_id: int | None) -> AsyncGenerator[str]:
    subscription = cart_event_subscribe(cart_id=cart_id) if cart_id else None
    try:
        if subscription is not None:
            await subscription.aget(timeout=0)
        stamp = await _astamp_now(cart_id)
        yield f"retry: {RETRY_MILLISECONDS}\n" + cart_event(cart_id, stamp)
        deadline = time.monotonic() + STREAM_SECONDS
        while (left := deadline - time.monotonic()) > 0:
            wait = min(HEARTBEAT_SECONDS, left)
            if subscription is None:
                await asyncio.sleep(wait)
                heard = None
            else:
                heard = await subscription.aget(timeout=wait)
            if heard is None and cart_id is not None:
                heard = await _astamp_now(cart_id)
            if (newest := stamp.newest(heard)) != stamp:
                stamp = newest
                yield cart_event(cart_id, stamp)
            else:
                yield HEARTBEAT
    finally:
        if subscription is not None:
            await _aclose(subscription)


def _stamp_now(cart_id: int | None) -> CartStamp:
    try:
        if cart_id is None:
            return CartStamp(0, 0)
        row = (
            Cart.objects.filter(pk=cart_id)
            .values_list("version", "scan_count", "pairing_count")
            .first()
        )
        return CartStamp(*row) if row else CartStamp(0, 0)
    finally:
        # Also for a visitor's stream: the session was read on this connection.
        _connection_release()


async def _astamp_now(cart_id: int | None) -> CartStamp:
    return await sync_to_async(_stamp_now)(cart_id)


def _connection_release() -> None:
    """A stream lives for minutes and reads the database only now and then: close its
    connection after each read, whatever CONN_MAX_AGE says, so that open cart pages do not each
    hold one of the server's connections for the whole stream."""
    if not connection.in_atomic_block:
        connection.close()


def _quiet(seconds: float) -> CartStamp | None:
    """What a stream without a cart hears in ``seconds``: nothing."""
    time.sleep(seconds)
    return None


async def _aclose(subscription: Subscription) -> None:
    aclose = getattr(subscription, "aclose", None)  # Redis: its async connection
    if aclose is not None:
        await aclose()
    subscription.close()
