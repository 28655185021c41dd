"""``Authorization: Device <key>``: how a cart proves which device it is.

A request without the header (or with another scheme) is not authenticated: 401 with
``WWW-Authenticate: Device``, as is a malformed header or a key that matches no live device.
A shopper's or staff session, or a staff API token, never counts.

Keys found once are remembered by the process (``devices.key_cache``: a few seconds at most,
less when the key is rotated or revoked), so a scanning cart's requests need no query to find
their device. A rotated key's grace period is checked on every request.

On success the device's ``last_seen_at`` moves (``device_mark_seen``, at most once every 30 s,
decided from the remembered device, which it updates): a cart that makes any request, even one
refused afterwards as malformed or throttled, is alive.
"""

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.http import HttpRequest
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from devices import key_cache
from devices.key_cache import KnownKey, device_key_remember, device_key_stamp_key, device_known
from devices.models import Device
from devices.selectors import device_authenticate
from devices.services import device_key_hash, device_mark_seen

KEYWORD = "Device"

ERROR_NOT_AUTHENTICATED = "Authentication credentials were not provided."
ERROR_HEADER_NO_KEY = "Invalid Device header: no key given."
ERROR_HEADER_SPACES = "Invalid Device header: the key must not contain spaces."
ERROR_HEADER_ENCODING = "Invalid Device header: the key must be ASCII."
ERROR_KEY_INVALID = "Invalid or revoked device key."


class DeviceAuthError(Exception):
    """The request is refused 401; the message says why."""


def device_raw_key(request: HttpRequest) -> str | None:
    """The key of a ``Device`` Authorization header; None when there is no such header.

    Raises ``DeviceAuthError`` for a malformed one. The scheme is case-insensitive and the
    header is read as Latin-1, as DRF's ``TokenAuthentication`` does."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    parts = header.encode("iso-8859-1", "replace").split()
    if not parts or parts[0].lower() != KEYWORD.lower().encode():
        return None
    if len(parts) == 1:
        raise DeviceAuthError(ERROR_HEADER_NO_KEY)
    if len(parts) > 2:
        raise DeviceAuthError(ERROR_HEADER_SPACES)
    try:
        return parts[1].decode("ascii")
    except UnicodeError:
        raise DeviceAuthError(ERROR_HEADER_ENCODING) from None


def device_load(raw_key: str, key_hash: str, stamp: str | None) -> Device | None:
    """The device of ``raw_key`` read from the database (``device_authenticate``), remembered
    under ``key_hash`` with ``stamp``, the key's stamp read before the database was; None for
    a key of no live device (never remembered)."""
    loaded_at = key_cache.clock()
    device = device_authenticate(raw_key)
    if device is None:
        return None
    previous = device.key_hash != key_hash
    grace_until = device.previous_key_valid_until if previous else None
    device_key_remember(key_hash, KnownKey(device, grace_until, loaded_at, stamp))
    return device


def device_authenticated(
    request: HttpRequest, *, shared_keys: Callable[[int], list[str]] = lambda pk: []
) -> tuple[Device, dict[str, Any]]:
    """The device whose key ``request`` carries, and what the shared cache holds under
    ``shared_keys(device.pk)`` (the throttle's counters), read in the same round trip as the
    key's stamp when this process knows the key. Moves the device's last-seen time. Raises
    ``DeviceAuthError`` (no Device header, a malformed one, or a key of no live device).

    Queries: none while the key is known and its stamp unchanged; otherwise the device's."""
    raw_key = device_raw_key(request)
    if raw_key is None:
        raise DeviceAuthError(ERROR_NOT_AUTHENTICATED)
    key_hash = device_key_hash(raw_key)
    stamp_key = device_key_stamp_key(key_hash)
    known = device_known(key_hash)
    if known is not None:
        shared = cache.get_many([stamp_key, *shared_keys(known.device.pk)])
        stamp = shared.pop(stamp_key, None)
        if stamp == known.stamp:
            device_mark_seen(device=known.device)
            return known.device, shared
    else:
        stamp = cache.get(stamp_key)
    device = device_load(raw_key, key_hash, stamp)
    if device is None:
        raise DeviceAuthError(ERROR_KEY_INVALID)
    device_mark_seen(device=device)
    keys = shared_keys(device.pk)
    return device, cache.get_many(keys) if keys else {}


# --- DRF ------------------------------------------------------------------------------------


class DeviceAuthentication(BaseAuthentication):
    """The same check for DRF views; the device API's OpenAPI description names it."""

    def authenticate(self, request: Request) -> tuple[AnonymousUser, Device] | None:
        try:
            if device_raw_key(request) is None:
                return None
            return AnonymousUser(), device_authenticated(request)[0]
        except DeviceAuthError as exc:
            raise AuthenticationFailed(str(exc)) from None

    def authenticate_header(self, request: Request) -> str:
        return KEYWORD


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
