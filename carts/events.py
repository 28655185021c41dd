"""Live cart events: "cart N is now at stamp (V, S)", published only after the change commits.

A cart's stamp is its ``version`` (its contents and its status: open, being paid for, closed),
its ``scan_count`` (the scans its device sent, whatever they came to: the cart page shows the
last one's outcome) and its ``pairing_count`` (devices that paired with it or left it: the page
says which device is scanning). All three only ever grow, each under the cart's row lock, so of
two stamps of one cart the newer is the greater in each.
The cart page listens through Server-Sent Events and re-reads the cart when its stamp moves.
Events carry no cart contents, only the stamp, so a listener always reads the truth from the
database and a lost or repeated event does no harm.

Two brokers: in-process (the embedded default: one server process) and Redis pub/sub (when
``REDIS_URL`` is set: every web node hears every change). A broker that fails to publish logs
and carries on: the page falls back to polling, and the change itself is already committed.
A subscription that cannot reach Redis raises ``EventsUnavailable``, so the stream can end and
the page poll instead.
"""

import asyncio
import contextlib
import logging
import threading
import time
from collections import defaultdict
from functools import cache
from typing import NamedTuple, Protocol

import redis
import redis.asyncio
from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

CHANNEL_PREFIX = "smartcart:cart:"


class CartStamp(NamedTuple):
    """Where a cart is: the version of its contents and status, how many scans it has heard,
    and how many times a device paired with it or left it."""

    version: int
    scans: int = 0
    pairings: int = 0

    def newest(self, other: "CartStamp | None") -> "CartStamp":
        """The newer of the two: each counter only grows, so the greater of each."""
        if other is None:
            return self
        return CartStamp(*(max(mine, theirs) for mine, theirs in zip(self, other, strict=True)))

    def text(self) -> str:
        """As sent through Redis: ``"7:3:1"``."""
        return f"{self.version}:{self.scans}:{self.pairings}"

    @classmethod
    def parse(cls, text: bytes | str) -> "CartStamp":
        """``text()`` read back; counters a node from before them does not send are 0 (a bare
        ``"7"`` is version 7)."""
        raw = text.decode() if isinstance(text, bytes) else text
        return cls(*(int(part) for part in raw.split(":")[:3]))


class EventsUnavailable(Exception):
    """The broker cannot be reached (Redis down): listen again later, poll meanwhile."""


class Subscription(Protocol):
    """Stamps published for one cart after the subscription began."""

    def get(self, timeout: float) -> CartStamp | None:
        """The newest stamp published since the last call, waiting up to ``timeout`` s."""

    async def aget(self, timeout: float) -> CartStamp | None:
        """``get`` for async code."""

    def close(self) -> None: ...


class Broker(Protocol):
    def publish(self, cart_id: int, stamp: CartStamp) -> None: ...

    def subscribe(self, cart_id: int) -> Subscription: ...


def cart_event_publish_on_commit(
    *, cart_id: int, version: int, scans: int, pairings: int = 0
) -> None:
    """Tell listeners of ``cart_id`` about its new stamp once the current transaction commits
    (never, when it rolls back)."""
    stamp = CartStamp(version, scans, pairings)
    # robust: whatever goes wrong in publishing, the request that made the change succeeds.
    transaction.on_commit(lambda: broker().publish(cart_id, stamp), robust=True)


def cart_event_subscribe(*, cart_id: int) -> Subscription:
    return broker().subscribe(cart_id)


@cache
def broker() -> Broker:
    """The process's broker, chosen by settings (``broker.cache_clear()`` re-reads them)."""
    if settings.REDIS_URL:
        return RedisBroker(settings.REDIS_URL)
    return InProcessBroker()


# --- In-process -----------------------------------------------------------------------------


class _LocalSubscription:
    def __init__(self, owner: "InProcessBroker", cart_id: int) -> None:
        self._owner, self._cart_id = owner, cart_id
        self._changed = threading.Condition()
        self._pending: CartStamp | None = None
        self._async_waiter: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None

    def push(self, stamp: CartStamp) -> None:
        with self._changed:
            self._pending = stamp.newest(self._pending)
            self._changed.notify_all()
            waiter = self._async_waiter
        if waiter is not None:
            loop, event = waiter
            loop.call_soon_threadsafe(event.set)

    def get(self, timeout: float) -> CartStamp | None:
        with self._changed:
            self._changed.wait_for(lambda: self._pending is not None, timeout=timeout)
            return self._take()

    async def aget(self, timeout: float) -> CartStamp | None:
        event = asyncio.Event()
        with self._changed:
            if self._pending is not None:
                return self._take()
            self._async_waiter = (asyncio.get_running_loop(), event)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)
        with self._changed:
            self._async_waiter = None
            return self._take()

    def _take(self) -> CartStamp | None:
        stamp, self._pending = self._pending, None
        return stamp

    def close(self) -> None:
        self._owner.unsubscribe(self._cart_id, self)


class InProcessBroker:
    """Listeners in this process only: right for one server process (the embedded default)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: dict[int, set[_LocalSubscription]] = defaultdict(set)

    def publish(self, cart_id: int, stamp: CartStamp) -> None:
        with self._lock:
            listeners = list(self._listeners.get(cart_id, ()))
        for listener in listeners:
            listener.push(stamp)

    def subscribe(self, cart_id: int) -> Subscription:
        subscription = _LocalSubscription(self, cart_id)
        with self._lock:
            self._listeners[cart_id].add(subscription)
        return subscription

    def unsubscribe(self, cart_id: int, subscription: _LocalSubscription) -> None:
        with self._lock:
            self._listeners[cart_id].discard(subscription)
            if not self._listeners[cart_id]:
                del self._listeners[cart_id]


# --- Redis pub/sub --------------------------------------------------------------------------


class _RedisSubscription:
    """A pub/sub subscription opened lazily, synchronous or asynchronous by first use."""

    def __init__(self, url: str, channel: str) -> None:
        self._url, self._channel = url, channel
        self._sync: redis.client.PubSub | None = None
        self._async: redis.asyncio.client.PubSub | None = None

    def get(self, timeout: float) -> CartStamp | None:
        try:
            return self._get(timeout)
        except redis.RedisError as exc:
            raise EventsUnavailable(type(exc).__name__) from None  # its message names the host

    async def aget(self, timeout: float) -> CartStamp | None:
        try:
            return await self._aget(timeout)
        except redis.RedisError as exc:
            raise EventsUnavailable(type(exc).__name__) from None

    def _get(self, timeout: float) -> CartStamp | None:
        if self._sync is None:
            # One expression: a Redis client object left alive past ``subscribe`` would close
            # the subscription's connection when it is garbage-collected.
            self._sync = redis.Redis.from_url(
                self._url, socket_connect_timeout=_connect_timeout()
            ).pubsub(ignore_subscribe_messages=True)
            self._sync.subscribe(self._channel)
        newest: CartStamp | None = None
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            message = self._sync.get_message(timeout=left if newest is None else 0)
            if message is None:
                if newest is not None:
                    break
                continue
            newest = CartStamp.parse(message["data"]).newest(newest)
        return newest

    async def _aget(self, timeout: float) -> CartStamp | None:
        if self._async is None:
            client = redis.asyncio.Redis.from_url(
                self._url, socket_connect_timeout=_connect_timeout()
            )
            self._async = client.pubsub(ignore_subscribe_messages=True)
            await self._async.subscribe(self._channel)
        newest: CartStamp | None = None
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            message = await self._async.get_message(
                ignore_subscribe_messages=True, timeout=left if newest is None else 0
            )
            if message is None:
                if newest is not None:
                    break
                continue
            newest = CartStamp.parse(message["data"]).newest(newest)
        return newest

    def close(self) -> None:
        if self._sync is not None:
            self._sync.close()

    async def aclose(self) -> None:
        if self._async is not None:
            await self._async.aclose()


class RedisBroker:
    """Listeners on every web node, through Redis pub/sub."""

    def __init__(self, url: str) -> None:
        self._url = url
        timeout = _connect_timeout()
        self._client = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )

    def publish(self, cart_id: int, stamp: CartStamp) -> None:
        try:
            self._client.publish(f"{CHANNEL_PREFIX}{cart_id}", stamp.text())
        except redis.RedisError:
            # The change is committed; pages fall back to polling until Redis is back.
            logger.warning("could not publish a cart event: Redis unavailable")

    def subscribe(self, cart_id: int) -> Subscription:
        return _RedisSubscription(self._url, f"{CHANNEL_PREFIX}{cart_id}")


def _connect_timeout() -> float:
    # Short (REDIS_TIMEOUT): with Redis down, a publish or a new stream gives up quickly.
    return float(getattr(settings, "REDIS_TIMEOUT", 0.5))
