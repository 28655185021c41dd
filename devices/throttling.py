"""Per-device request budget. Never per IP: every cart in a store shares one NAT address."""

from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from devices.models import Device


class DeviceRateThrottle(SimpleRateThrottle):
    """``settings.DEVICE_THROTTLE_RATE`` requests per device; over it, 429 with Retry-After."""

    scope = "device"

    def get_rate(self) -> str:
        # Read per request (not from DRF's import-time settings) so tests and ops can change it.
        return settings.DEVICE_THROTTLE_RATE

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        device = request.auth
        if not isinstance(device, Device):
            return None  # IsDevice refuses the request anyway
        return self.cache_format % {"scope": self.scope, "ident": device.pk}
