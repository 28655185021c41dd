"""Per-device request budget. Never per IP: every cart in a store shares one NAT address.

``settings.DEVICE_THROTTLE_RATE`` requests per device ("600/min"), counted over a sliding
window as DRF's ``SimpleRateThrottle`` counts (the times of the requests within it, kept in
the shared cache: Redis when configured, so every web node counts against one budget). Over
it, 429 with ``Retry-After``: the seconds until the oldest counted request leaves the window.
The history is read in the same round trip as the device key's stamp (``devices.api``), and
written back once.
"""

import math
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache

KEY_PREFIX = "devices:throttle:"
PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

ERROR_THROTTLED = "Request was throttled. Expected available in {wait} second{s}."


def device_throttle_key(device_pk: int) -> str:
    return f"{KEY_PREFIX}{device_pk}"


def device_throttle_rate() -> tuple[int, int]:
    """(requests, seconds) of ``settings.DEVICE_THROTTLE_RATE``, read per request so that tests
    and operators can change it."""
    count, _, period = settings.DEVICE_THROTTLE_RATE.partition("/")
    return int(count), PERIODS[period[0]]


def device_throttle_wait(*, device_pk: int, history: Any) -> int | None:
    """None when the device may make this request, which is then counted (one cache write);
    otherwise the whole seconds to wait. ``history`` is what the shared cache held under
    ``device_throttle_key`` (None when nothing)."""
    allowed, duration = device_throttle_rate()
    now = time.time()
    recent = [moment for moment in history or () if moment > now - duration]
    if len(recent) >= allowed:
        return max(1, math.ceil(duration - (now - recent[-1])))
    recent.insert(0, now)
    cache.set(device_throttle_key(device_pk), recent, duration)
    return None


def device_throttled_detail(wait: int) -> str:
    return ERROR_THROTTLED.format(wait=wait, s="" if wait == 1 else "s")
