"""Per-device request budget. Never per IP: every cart in a store shares one NAT address.

``settings.DEVICE_THROTTLE_RATE`` requests per device ("600/min") over a sliding window,
estimated from two counters in the shared cache (Redis when configured, so every web node
counts against one budget): the requests of the current fixed window, and those of the
previous one weighted by how much of it the sliding window still covers. Constant cost
whatever the rate (a log of every request's time, as DRF keeps, grows with it: at the scan
benchmark's rates it cost a scan more than its SQL). Over the budget, 429 with
``Retry-After``: the whole seconds until the estimate lets one more request in, at most the
period.

The counters are read in the same round trip as the device key's stamp (``devices.api``) and
the current one written once. Two requests of one device at the same moment may count as one:
a budget, not a ledger.

Enrolment (``devices-api:enrol``) has no device yet: it has one budget for the whole store,
``settings.DEVICE_ENROL_THROTTLE_RATE``, the same way (``enrol_throttle_wait``). A store adds a
cart every few minutes at most; the budget keeps a flood of made-up codes off the database.
"""

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache

KEY_PREFIX = "devices:throttle:"
PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

ERROR_THROTTLED = "Request was throttled. Expected available in {wait} second{s}."


@dataclass(frozen=True)
class Windows:
    """The device's two fixed windows at ``now``: their cache keys, and where ``now`` is."""

    current: str
    previous: str
    elapsed: float  # seconds into the current window
    duration: int

    def keys(self) -> list[str]:
        return [self.current, self.previous]


def _rate(text: str) -> tuple[int, int]:
    count, _, period = text.partition("/")
    return int(count), PERIODS[period[0]]


def device_throttle_rate() -> tuple[int, int]:
    """(requests, seconds) of ``settings.DEVICE_THROTTLE_RATE``, read per request so that tests
    and operators can change it."""
    return _rate(settings.DEVICE_THROTTLE_RATE)


def _windows(name: str, duration: int, now: float | None) -> Windows:
    now = time.time() if now is None else now
    index, elapsed = divmod(now, duration)
    return Windows(
        current=f"{KEY_PREFIX}{name}:{int(index)}",
        previous=f"{KEY_PREFIX}{name}:{int(index) - 1}",
        elapsed=elapsed,
        duration=duration,
    )


def device_throttle_windows(device_pk: int, now: float | None = None) -> Windows:
    return _windows(str(device_pk), device_throttle_rate()[1], now)


def enrol_throttle_windows(now: float | None = None) -> Windows:
    return _windows("enrol", _rate(settings.DEVICE_ENROL_THROTTLE_RATE)[1], now)


def enrol_throttle_wait(now: float | None = None) -> int | None:
    """None when one more enrolment may be tried now (and it is counted); otherwise the whole
    seconds to wait. One budget for the store: ``settings.DEVICE_ENROL_THROTTLE_RATE``."""
    windows = enrol_throttle_windows(now)
    allowed = _rate(settings.DEVICE_ENROL_THROTTLE_RATE)[0]
    return _throttle_wait(windows, cache.get_many(windows.keys()), allowed)


def device_throttle_wait(windows: Windows, counts: Mapping[str, Any]) -> int | None:
    """None when the device may make this request, which is then counted (one cache write);
    otherwise the whole seconds to wait. ``counts`` is what the shared cache held under
    ``windows.keys()`` (a key missing: nothing counted)."""
    return _throttle_wait(windows, counts, device_throttle_rate()[0])


def _throttle_wait(windows: Windows, counts: Mapping[str, Any], allowed: int) -> int | None:
    duration = windows.duration
    current = int(counts.get(windows.current) or 0)
    previous = int(counts.get(windows.previous) or 0)
    left_of_previous = 1 - windows.elapsed / duration  # the part the sliding window covers
    if previous * left_of_previous + current + 1 > allowed:
        return _wait(allowed, current, previous, windows)
    cache.set(windows.current, current + 1, 2 * duration)
    return None


def _wait(allowed: int, current: int, previous: int, windows: Windows) -> int:
    """Seconds until ``previous * left + current + 1 <= allowed`` again, ``left`` shrinking
    from now on, and this window's count becoming the previous one when it ends."""
    duration = windows.duration
    if allowed <= 0:  # no request at all
        return duration
    if current + 1 > allowed:  # this window alone: wait for it to end, then for it to fade
        fade = duration * (1 - (allowed - 1) / current)
        seconds = duration - windows.elapsed + fade
    else:
        seconds = duration * (1 - (allowed - 1 - current) / previous) - windows.elapsed
    # The estimate spreads the previous window's requests evenly; by the time a whole period
    # has passed every request counted now has left the sliding window, whatever it says.
    return max(1, min(duration, math.ceil(seconds)))


def device_throttled_detail(wait: int) -> str:
    return ERROR_THROTTLED.format(wait=wait, s="" if wait == 1 else "s")
