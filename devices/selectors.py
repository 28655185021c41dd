"""Reads about devices: finding the device a raw key belongs to; what the carts are doing."""

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import TruncHour
from django.utils import timezone

from catalog.models import Barcode
from devices.firmware import rollout_bucket, version_key
from devices.models import (
    WATCHDOG_RESETS,
    Device,
    DeviceRestart,
    FirmwareRelease,
    Pairing,
    ScanEvent,
    UnknownCode,
)
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
    # No ORDER BY (the model's is by name): at most one device holds the presented key, so
    # the order the candidates come in changes nothing, and ordering costs every request.
    candidates = Device.objects.filter(
        Q(key_prefix=prefix) | Q(previous_key_prefix=prefix), revoked_at__isnull=True
    ).order_by()
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
    """The device's pairing in force (``PairingQuerySet.in_force``), with its cart and the
    cart's shopper, or None."""
    pairings = Pairing.objects.in_force().select_related("cart__owner")
    return pairings.filter(device=device).first()


def pairing_get_for_cart(*, cart_id: int) -> Pairing | None:
    """The cart's pairing in force, with its device, or None."""
    return Pairing.objects.in_force().select_related("device").filter(cart_id=cart_id).first()


@dataclass(frozen=True)
class ScanActivity:
    """What the carts did since a moment, for the staff dashboard."""

    per_hour: list[tuple[datetime, int]]  # (start of the hour, scans), oldest first
    scans: int
    photo_scans: int  # scans that sent a photo (a pre-decoded code has decode_ms None)
    unread_photos: int  # photos in which no barcode was found
    unknown_products: int

    @property
    def decode_failure_rate(self) -> float | None:
        """Share of photos in which nothing was read; None before any photo came in."""
        return self.unread_photos / self.photo_scans if self.photo_scans else None


def scan_activity(*, since: datetime) -> ScanActivity:
    """Scans since ``since``, counted in the database (two queries, whatever the volume)."""
    events = ScanEvent.objects.filter(created_at__gte=since)
    totals = events.aggregate(
        scans=Count("pk"),
        photo_scans=Count("pk", filter=Q(decode_ms__isnull=False)),
        unread_photos=Count("pk", filter=Q(result=ScanEvent.Result.NO_BARCODE)),
        unknown_products=Count("pk", filter=Q(result=ScanEvent.Result.UNKNOWN_PRODUCT)),
    )
    hours = (
        events.annotate(hour=TruncHour("created_at"))
        .values("hour")
        .annotate(scans=Count("pk"))
        .order_by("hour")
    )
    return ScanActivity(per_hour=[(row["hour"], row["scans"]) for row in hours], **totals)


def devices_online_count(*, now: datetime | None = None) -> tuple[int, int]:
    """(carts online, carts registered and not revoked): online means heard from lately."""
    now = now or timezone.now()
    active = Device.objects.filter(revoked_at__isnull=True)
    online_since = now - timedelta(seconds=settings.DEVICE_OFFLINE_AFTER)
    counts = active.aggregate(
        online=Count("pk", filter=Q(last_seen_at__gte=online_since)), registered=Count("pk")
    )
    return counts["online"], counts["registered"]


@dataclass(frozen=True)
class FleetHealth:
    watchdog_restarts: int  # carts (not restarts) a watchdog restarted since the given time
    camera_faults: int  # carts whose last heartbeat said the camera did not start


def fleet_health(*, since: datetime) -> FleetHealth:
    """The health of the carts in service (not revoked), for the staff dashboard."""
    active = Device.objects.filter(revoked_at__isnull=True)
    restarted = DeviceRestart.objects.filter(
        device__in=active, booted_at__gte=since, reason__in=WATCHDOG_RESETS
    )
    return FleetHealth(
        watchdog_restarts=restarted.values("device").distinct().count(),
        camera_faults=active.filter(camera_ok=False).count(),
    )


def device_restart_list(*, device: Device, limit: int = 10) -> list[DeviceRestart]:
    """The device's latest starts, newest first."""
    return list(DeviceRestart.objects.filter(device=device)[:limit])


def _releases_for(device: Device) -> QuerySet[FirmwareRelease]:
    """Releases rolling out, each annotated ``chosen`` (staff chose this device): one query."""
    chosen = FirmwareRelease.target_devices.through.objects.filter(
        firmwarerelease=OuterRef("pk"), device=device
    )
    return FirmwareRelease.objects.annotate(chosen=Exists(chosen)).filter(
        Q(rollout_percent__gt=0) | Q(chosen=True)
    )


def _meant_for(release: FirmwareRelease, device: Device) -> bool:
    bucket = rollout_bucket(version=release.version, device_id=device.pk)
    return bool(getattr(release, "chosen", False)) or bucket < release.rollout_percent


def firmware_update_for(*, device: Device, running_version: str) -> FirmwareRelease | None:
    """The newest release meant for ``device`` (chosen for it, or its share of the fleet) that
    is newer than ``running_version``; None when there is none, or the cart runs a build
    whose version is not a release's (a developer's, the simulator's)."""
    running = version_key(running_version)
    if running is None:
        return None
    best, best_key = None, running
    for release in _releases_for(device):
        key = version_key(release.version)
        if key is not None and key > best_key and _meant_for(release, device):
            best, best_key = release, key
    return best


def firmware_release_for_device(*, device: Device, version: str) -> FirmwareRelease | None:
    """The release ``version`` if it is meant for ``device`` (it may download it), else None."""
    release = _releases_for(device).filter(version=version).first()
    return release if release is not None and _meant_for(release, device) else None


def firmware_rollout_progress(release: FirmwareRelease) -> tuple[int, int]:
    """(carts running the release, carts it is meant for), among the carts in service."""
    devices = Device.objects.filter(revoked_at__isnull=True).only("pk", "firmware_version")
    chosen = set(release.target_devices.values_list("pk", flat=True))
    meant = [
        device
        for device in devices
        if device.pk in chosen
        or rollout_bucket(version=release.version, device_id=device.pk) < release.rollout_percent
    ]
    return sum(device.firmware_version == release.version for device in meant), len(meant)


def unknown_code_list_open() -> QuerySet[UnknownCode]:
    """Codes carts scanned that no product has (yet): what staff still have to add.

    A code leaves the list once a product has its barcode, and comes back, with its count, if
    that barcode is removed: the row is kept either way. A NOT EXISTS on the barcodes' unique
    GTIN inside the one query, whatever the number of codes.
    """
    has_product = Barcode.objects.filter(gtin=OuterRef("gtin"))
    return UnknownCode.objects.filter(~Exists(has_product))


def unknown_codes_count() -> int:
    """How many codes ``unknown_code_list_open`` lists (the dashboard's figure)."""
    return unknown_code_list_open().count()
