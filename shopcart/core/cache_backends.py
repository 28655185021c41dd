"""A Redis cache that fails soft: while Redis is unreachable, every operation is a cache miss.

The cache holds nothing the store cannot lose (throttle and rate-limit histories, short
"already done" markers), so an outage must not turn requests into error pages. Each operation
that cannot reach Redis logs a warning (at most one every ``WARNING_INTERVAL_SECONDS`` per
process, never the URL, which may carry a password) and answers as an empty cache would:

- ``get`` and ``get_many`` return the default / nothing; ``has_key`` is False;
- ``add`` returns True, as if the key was absent and is now stored: allauth's rate limits take
  a lock with ``add`` and would refuse every sign-in if it failed, and ``add`` markers such as
  the cart pass email's "once a minute" let the action through;
- ``set``, ``touch``, ``delete`` and the ``*_many`` writes do nothing (``touch``/``delete``
  return False); ``incr`` raises ``ValueError``, as Django does for a missing key.

Every device request reads the shared cache once (``get_many``: its key's stamp and its
throttle counters) and writes it once (``set``: the counter). Django's ``RedisCache`` builds a
new ``redis.Redis`` client object for every operation, which cost those two calls about 0.2 ms
of CPU a request (a device scan's whole web work is about 1.5 ms; benchmarks/README.md, "Scan
CPU"). So these two go through one client this cache keeps for its life, on a connection pool
of its own, with Django's serializer and keys: the same Redis commands, the same values. The
other operations are Django's.

The trade-off: throttles and rate limits (the devices' scan throttle, allauth's sign-in and
sign-up limits, the AI tips budget) fail open while Redis is down. After a failure the backend
does not try Redis again for ``RETRY_AFTER_SECONDS``, so a blackholed Redis costs one socket
timeout (``REDIS_TIMEOUT``, set in OPTIONS) per process every few seconds, not one per call.
"""

import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisSerializer

logger = logging.getLogger(__name__)

WARNING_INTERVAL_SECONDS = 60.0
RETRY_AFTER_SECONDS = 5.0

# What "Redis is unreachable" looks like: refused or dropped connections and socket timeouts.
UNREACHABLE = (redis.ConnectionError, redis.TimeoutError)

T = TypeVar("T")


class _Outage:
    """Per process and per cache location: when Redis last failed, when that was last logged."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.down_until = 0.0
        self.warned_at: float | None = None


_outages: dict[str, _Outage] = {}
_outages_lock = threading.Lock()


def _outage_for(location: str) -> _Outage:
    with _outages_lock:
        return _outages.setdefault(location, _Outage())


class FailSoftRedisCache(RedisCache):
    """Django's ``RedisCache``; unreachable Redis reads as an empty cache (module docstring)."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        # Cache instances are per thread: the outage state is shared through the module.
        self._outage = _outage_for(str(server))
        self._kept_client = _client_for(server, params.get("OPTIONS", {}))
        self._serializer = RedisSerializer()

    def _soft(self, operation: Callable[[], T], fallback: T) -> T:
        if time.monotonic() < self._outage.down_until:
            return fallback
        try:
            return operation()
        except UNREACHABLE as exc:
            self._unreachable(exc)
            return fallback

    def _unreachable(self, exc: Exception) -> None:
        now = time.monotonic()
        with self._outage.lock:
            self._outage.down_until = now + RETRY_AFTER_SECONDS
            warned_at = self._outage.warned_at
            if warned_at is not None and now - warned_at < WARNING_INTERVAL_SECONDS:
                return
            self._outage.warned_at = now
        # The class name only: redis errors quote the host and port.
        logger.warning(
            "cache: Redis unreachable (%s); answering as an empty cache", type(exc).__name__
        )

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        return self._soft(lambda: RedisCache.add(self, key, value, timeout, version), True)

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        return self._soft(lambda: RedisCache.get(self, key, default, version), default)

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> None:
        client = self._kept_client
        if client is None:
            self._soft(lambda: RedisCache.set(self, key, value, timeout, version), None)
            return
        made = self.make_and_validate_key(key, version=version)
        expiry = self.get_backend_timeout(timeout)
        if expiry == 0:  # as Django's: no time to live is no value
            self._soft(lambda: client.delete(made), None)
            return
        data = self._serializer.dumps(value)
        seconds = None if expiry is None else int(expiry)  # None: kept until deleted
        self._soft(lambda: client.set(made, data, ex=seconds), None)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        return self._soft(lambda: RedisCache.touch(self, key, timeout, version), False)

    def delete(self, key: Any, version: Any = None) -> Any:
        return self._soft(lambda: RedisCache.delete(self, key, version), False)

    def get_many(self, keys: Any, version: Any = None) -> Any:
        client = self._kept_client
        if client is None:
            return self._soft(lambda: RedisCache.get_many(self, keys, version), {})
        made = {self.make_and_validate_key(key, version=version): key for key in keys}
        if not made:
            return {}
        values: list[Any] | None = self._soft(lambda: client.mget(list(made)), None)
        if values is None:  # Redis unreachable
            return {}
        loads = self._serializer.loads
        pairs = zip(made.values(), values, strict=True)
        return {key: loads(value) for key, value in pairs if value is not None}

    def has_key(self, key: Any, version: Any = None) -> Any:
        return self._soft(lambda: RedisCache.has_key(self, key, version), False)

    def incr(self, key: Any, delta: int = 1, version: Any = None) -> Any:
        missing = object()
        result = self._soft(lambda: RedisCache.incr(self, key, delta, version), missing)
        if result is missing:
            raise ValueError(f"Key '{key}' not found")
        return result

    def set_many(self, data: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        return self._soft(lambda: RedisCache.set_many(self, data, timeout, version), [])

    def delete_many(self, keys: Any, version: Any = None) -> None:
        self._soft(lambda: RedisCache.delete_many(self, keys, version), None)

    def clear(self) -> None:
        self._soft(lambda: RedisCache.clear(self), None)


# What Django's RedisCache takes from OPTIONS for its client rather than its connection pool.
_CLIENT_OPTIONS = ("serializer", "pool_class", "parser_class")


def _client_for(server: Any, options: dict[str, Any]) -> redis.Redis | None:
    """A client to keep, on a pool made as Django makes its own; None (Django's way for every
    operation) for several servers or client options of Django's, which this does not do."""
    servers = re.split("[;,]", server) if isinstance(server, str) else list(server)
    if len(servers) != 1 or any(name in options for name in _CLIENT_OPTIONS):
        return None
    pool = redis.ConnectionPool.from_url(servers[0], **options)
    return redis.Redis(connection_pool=pool)
