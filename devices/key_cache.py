"""Device keys a web process remembers, so a scanning cart's requests need no query to find
their device (``devices.authentication``).

An entry is keyed by the SHA-256 of the presented key (the hash the database keeps; a wrong
key is never remembered) and holds the device as it was read. It is trusted for at most
``settings.DEVICE_KEY_CACHE_SECONDS`` (5 s), and less when the key changes:

- in the process that rotates or revokes a key, the key's entries are forgotten before the
  service returns (and again when its transaction commits): a revoked key is refused from
  that process's next request on;
- every other process learns it on its device's next request through the shared cache (Redis
  when ``REDIS_URL`` is set): rotating or revoking puts a new stamp under each of the device's
  key hashes (``device_keys_changed``), and an entry made under another stamp is read again
  from the database. A request reads the stamp in the same round trip as its throttle
  counters (``devices.api``), so the check costs no round trip of its own;
- when the shared cache cannot say (no Redis: each process has a cache of its own; Redis
  down: every read is a miss), an entry still lives at most ``DEVICE_KEY_CACHE_SECONDS``: the
  bound after which every process refuses a revoked key.

The stamp is read before the database: a key revoked between the two reads is stored with
the new stamp but read as revoked, or read as live with the old stamp and read again on the
next request.
"""

import time
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from devices.models import Device

STAMP_PREFIX = "devices:key-stamp:"
# Entries kept per process at most: far more than a store's carts (each has one key, two
# during a rotation); past it the process starts afresh rather than grow.
ENTRIES_MAX = 10_000


@dataclass(frozen=True)
class KnownKey:
    """A key this process found a device for, and when that stops being enough."""

    device: Device
    grace_until: datetime | None  # a previous key: valid until then; the current key: None
    loaded_at: float  # time.monotonic() when the device was read
    stamp: str | None  # the key's stamp in the shared cache when it was read

    def usable(self, now: datetime, clock: float) -> bool:
        fresh = clock - self.loaded_at < settings.DEVICE_KEY_CACHE_SECONDS
        return fresh and (self.grace_until is None or self.grace_until > now)


_known: dict[str, KnownKey] = {}


def device_key_stamp_key(key_hash: str) -> str:
    """The shared cache's key for the stamp of the key whose hash is ``key_hash``."""
    return STAMP_PREFIX + key_hash


def device_known(key_hash: str) -> KnownKey | None:
    """This process's entry for the key hashed ``key_hash``, while it may be trusted."""
    known = _known.get(key_hash)
    if known is None or not known.usable(timezone.now(), clock()):
        return None
    return known


def device_key_remember(key_hash: str, known: KnownKey) -> None:
    if len(_known) >= ENTRIES_MAX:
        _known.clear()
    _known[key_hash] = known


def device_keys_changed(*, key_hashes: list[str]) -> None:
    """Make every process read again the device of each of ``key_hashes`` (the keys of a
    device whose keys were just rotated or revoked): forgotten here at once, and, once the
    caller's transaction commits, forgotten again and given a new stamp in the shared cache.
    """
    hashes = [key_hash for key_hash in key_hashes if key_hash]
    _forget(hashes)

    def stamp() -> None:
        _forget(hashes)
        # Kept longer than any entry lives: every entry made before the change sees it.
        timeout = 2 * settings.DEVICE_KEY_CACHE_SECONDS + 1
        new = uuid.uuid4().hex
        cache.set_many({device_key_stamp_key(key_hash): new for key_hash in hashes}, timeout)

    transaction.on_commit(stamp)


def device_keys_forget_all() -> None:
    """Forget every key this process knows (tests start from nothing)."""
    _known.clear()


def _forget(hashes: list[str]) -> None:
    for key_hash in hashes:
        _known.pop(key_hash, None)


def clock() -> float:
    """Seconds on a clock that only moves forward (tests move it)."""
    return time.monotonic()
