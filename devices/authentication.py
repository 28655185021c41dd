"""``Authorization: Device <key>``: how a cart proves which device it is.

Shaped like DRF's ``TokenAuthentication``. A request without the header (or with another
scheme) is not authenticated, and ``IsDevice`` answers it 401 with ``WWW-Authenticate: Device``;
a malformed header or a key that matches no live device is 401 straight away. The key is
checked on every request (no cache), so a revoked device is refused on its next request.

On success ``request.user`` is an ``AnonymousUser`` (a cart is nobody's account) and
``request.auth`` is the ``Device``, whose ``last_seen_at`` moves (``device_mark_seen``): a cart
that makes any request, even one refused afterwards as malformed or throttled, is alive.
DRF authenticates before the permission check, the throttle and the view, so this is the one
place every request with a valid key passes.
"""

from typing import Any

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from devices.models import Device
from devices.selectors import device_authenticate
from devices.services import device_mark_seen

KEYWORD = "Device"

ERROR_HEADER_NO_KEY = "Invalid Device header: no key given."
ERROR_HEADER_SPACES = "Invalid Device header: the key must not contain spaces."
ERROR_HEADER_ENCODING = "Invalid Device header: the key must be ASCII."
ERROR_KEY_INVALID = "Invalid or revoked device key."


class DeviceAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[AnonymousUser, Device] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD.lower().encode():
            return None
        if len(parts) == 1:
            raise AuthenticationFailed(ERROR_HEADER_NO_KEY)
        if len(parts) > 2:
            raise AuthenticationFailed(ERROR_HEADER_SPACES)
        try:
            raw_key = parts[1].decode("ascii")
        except UnicodeError:
            raise AuthenticationFailed(ERROR_HEADER_ENCODING) from None
        device = device_authenticate(raw_key)
        if device is None:
            raise AuthenticationFailed(ERROR_KEY_INVALID)
        device_mark_seen(device=device)
        return AnonymousUser(), device

    def authenticate_header(self, request: Request) -> str:
        return KEYWORD


class IsDevice(BasePermission):
    """Only a request authenticated as a device (``request.auth`` is a ``Device``)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, Device)


class DeviceAuthenticationScheme(OpenApiAuthenticationExtension):
    """Describes the device key in the OpenAPI schema."""

    target_class = DeviceAuthentication
    name = "deviceKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'The device key, shown once at registration: "Device scd_…".',
        }
