"""Registering cart devices, rotating and revoking their keys, recording that they are alive.

A raw key exists only in the return value of ``device_register`` and ``device_rotate_key``:
the caller shows it once (admin message, ``manage.py register_device``) and it is gone.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from devices.key_cache import device_keys_changed
from devices.models import Device

KEY_SCHEME = "scd"  # "smartcart device": keys read "scd_<prefix>_<secret>"
KEY_PREFIX_BYTES = 4  # 8 hex characters: finds the row, proves nothing
KEY_SECRET_BYTES = 32  # 256 bits of entropy, so a fast hash (SHA-256) is enough

# Every authenticated request moves a device's ``last_seen_at``, but writes it at most this
# often: a scanning cart would otherwise write its row on every scan, and SQLite has one writer.
# Keep it well under ``settings.DEVICE_OFFLINE_AFTER``, or a busy cart could flicker offline.
LAST_SEEN_WRITE_INTERVAL = timedelta(seconds=30)

ERROR_DEVICE_REVOKED = "“{name}” is revoked; register a new device instead."


class DeviceError(Exception):
    """A device operation refused; the message is for staff."""


@dataclass(frozen=True)
class IssuedKey:
    raw: str
    prefix: str
    hash: str


def device_key_hash(raw_key: str) -> str:
    """The SHA-256 hex digest stored for ``raw_key``."""
    return hashlib.sha256(raw_key.encode()).hexdigest()


def _key_issue() -> IssuedKey:
    prefix = secrets.token_hex(KEY_PREFIX_BYTES)
    raw = f"{KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(KEY_SECRET_BYTES)}"
    return IssuedKey(raw=raw, prefix=prefix, hash=device_key_hash(raw))


def device_register(*, name: str) -> tuple[Device, str]:
    """Create a device named ``name`` and return it with its raw key (shown once, never stored).

    Raises ``IntegrityError`` when the name is taken.
    """
    key = _key_issue()
    device = Device.objects.create(name=name, key_prefix=key.prefix, key_hash=key.hash)
    return device, key.raw


def device_rotate_key(*, device: Device) -> str:
    """Give ``device`` a new key and return it; the old one works for the rotation grace.

    The grace is ``settings.DEVICE_KEY_ROTATION_GRACE`` seconds. Rotating twice within it ends
    the first key's grace at once (only one previous key is kept). Raises ``DeviceError`` for
    a revoked device.
    """
    key = _key_issue()
    with transaction.atomic():
        locked = Device.objects.select_for_update().get(pk=device.pk)
        if locked.is_revoked:
            raise DeviceError(ERROR_DEVICE_REVOKED.format(name=locked.name))
        # The old key now has a deadline, and a key in its grace loses it: every process
        # reads both again (devices.key_cache).
        device_keys_changed(key_hashes=[locked.key_hash, locked.previous_key_hash])
        grace = timedelta(seconds=settings.DEVICE_KEY_ROTATION_GRACE)
        locked.previous_key_prefix, locked.previous_key_hash = locked.key_prefix, locked.key_hash
        locked.previous_key_valid_until = timezone.now() + grace
        locked.key_prefix, locked.key_hash = key.prefix, key.hash
        locked.save()
    device.refresh_from_db()
    return key.raw


def device_key_replace(*, device: Device) -> str:
    """Give ``device`` a new key and return it; every earlier key is refused at once (no
    grace: the cart that enrols is the one to use the device from now on). Call inside the
    caller's transaction with the device row locked. Raises ``DeviceError`` for a revoked
    device."""
    if device.is_revoked:
        raise DeviceError(ERROR_DEVICE_REVOKED.format(name=device.name))
    key = _key_issue()
    device_keys_changed(key_hashes=[device.key_hash, device.previous_key_hash])
    device.key_prefix, device.key_hash = key.prefix, key.hash
    device.previous_key_prefix, device.previous_key_hash = "", ""
    device.previous_key_valid_until = None
    device.save(
        update_fields=[
            "key_prefix",
            "key_hash",
            "previous_key_prefix",
            "previous_key_hash",
            "previous_key_valid_until",
        ]
    )
    return key.raw


def device_revoke(*, device: Device) -> None:
    """Refuse every key of ``device`` from its next request on: at once in this process, in
    the others as ``devices.key_cache`` says. Idempotent."""
    Device.objects.filter(pk=device.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    device.refresh_from_db(fields=["revoked_at", "key_hash", "previous_key_hash"])
    device_keys_changed(key_hashes=[device.key_hash, device.previous_key_hash])


def device_delete(*, device: Device) -> None:
    """Delete ``device`` with its pairings and scan events; its keys are refused from the next
    request on, as ``device_revoke`` says (staff revoke first to keep its history)."""
    device_keys_changed(key_hashes=[device.key_hash, device.previous_key_hash])
    device.delete()


def device_mark_seen(*, device: Device) -> None:
    """Move ``device.last_seen_at`` to now, unless it was written less than
    ``LAST_SEEN_WRITE_INTERVAL`` ago.

    Decided from ``device`` as the caller loaded it (no query when it is fresh); otherwise one
    UPDATE of that row, and ``device`` is updated too. Not locked: two requests at once may both
    write, each its own "now", which is harmless.
    """
    now = timezone.now()
    if device.last_seen_at is not None and now - device.last_seen_at < LAST_SEEN_WRITE_INTERVAL:
        return
    Device.objects.filter(pk=device.pk).update(last_seen_at=now)
    device.last_seen_at = now
