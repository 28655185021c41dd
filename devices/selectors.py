"""Reads about devices: finding the device a raw key belongs to."""

import hmac

from django.db.models import Q
from django.utils import timezone

from devices.models import Device, Pairing
from devices.services import KEY_SCHEME, device_key_hash


def device_key_prefix(raw_key: str) -> str | None:
    """The prefix part of a key shaped "scd_<prefix>_<secret>", or None for any other shape."""
    scheme, _, rest = raw_key.partition("_")
    prefix, _, secret = rest.partition("_")
    if scheme != KEY_SCHEME or not prefix or not secret:
        return None
    return prefix


def device_authenticate(raw_key: str) -> Device | None:
    """The unrevoked device whose current key, or previous key still in its grace, is ``raw_key``.

    Rows are found by prefix; the hashes are compared in constant time, so response timing
    tells nothing about how much of a guessed key was right.
    """
    prefix = device_key_prefix(raw_key)
    if prefix is None:
        return None
    presented = device_key_hash(raw_key)
    now = timezone.now()
    candidates = Device.objects.filter(
        Q(key_prefix=prefix) | Q(previous_key_prefix=prefix), revoked_at__isnull=True
    )
    for device in candidates:
        if hmac.compare_digest(device.key_hash, presented):
            return device
        in_grace = (
            device.previous_key_valid_until is not None and device.previous_key_valid_until > now
        )
        if in_grace and hmac.compare_digest(device.previous_key_hash, presented):
            return device
    return None


def pairing_get_active(*, device: Device) -> Pairing | None:
    """The device's active pairing, with its cart and the cart's shopper, or None."""
    return Pairing.objects.active().select_related("cart__owner").filter(device=device).first()


def pairing_get_for_cart(*, cart_id: int) -> Pairing | None:
    """The cart's active pairing, with its device, or None."""
    return Pairing.objects.active().select_related("device").filter(cart_id=cart_id).first()
