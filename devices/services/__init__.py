"""Device writes: the registry and keys (``registry``), pairing a device with a shopper's
cart (``pairing``), processing the scans a device sends (``scans``), and the photos of failed
scans (``photos``), and what carts report about their health (``health``)."""

from devices.services.enrolment import (
    EnrolmentRefused,
    Provisioning,
    device_enrol,
    device_provisioning_start,
)
from devices.services.health import device_heartbeat_record
from devices.services.pairing import cart_pairing_end, device_pair, device_unpair
from devices.services.photos import scan_photo_keep, scan_photos_purge
from devices.services.registry import (
    ERROR_DEVICE_REVOKED,
    KEY_PREFIX_BYTES,
    KEY_SCHEME,
    KEY_SECRET_BYTES,
    LAST_SEEN_WRITE_INTERVAL,
    DeviceError,
    IssuedKey,
    device_delete,
    device_key_hash,
    device_key_replace,
    device_mark_seen,
    device_register,
    device_revoke,
    device_rotate_key,
)
from devices.services.scans import ScanAnswer, ScanConflict, ScanInput, scan_process

__all__ = [
    "ERROR_DEVICE_REVOKED",
    "KEY_PREFIX_BYTES",
    "KEY_SCHEME",
    "KEY_SECRET_BYTES",
    "LAST_SEEN_WRITE_INTERVAL",
    "DeviceError",
    "EnrolmentRefused",
    "IssuedKey",
    "Provisioning",
    "ScanAnswer",
    "ScanConflict",
    "ScanInput",
    "cart_pairing_end",
    "device_delete",
    "device_enrol",
    "device_heartbeat_record",
    "device_key_hash",
    "device_key_replace",
    "device_mark_seen",
    "device_pair",
    "device_provisioning_start",
    "device_register",
    "device_revoke",
    "device_rotate_key",
    "device_unpair",
    "scan_photo_keep",
    "scan_photos_purge",
    "scan_process",
]
