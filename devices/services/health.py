"""What carts report about themselves in their heartbeat, and the restarts it reveals.

A heartbeat carries the cart's uptime, so the server knows when the running firmware started
(``booted_at``: the heartbeat's time less the uptime). A heartbeat whose start is clearly later
than the one stored, or whose uptime went down, is the first of a new start: it is recorded as
a ``DeviceRestart`` with the reason the cart gives (the staff dashboard counts the carts a
watchdog restarted today).
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from devices.models import Device, DeviceRestart

# How far two estimates of one start may lie apart: the request's time in flight, and the
# cart's crystal drifting between two heartbeats (some 20 ppm). A restart moves the estimate by
# the whole uptime before it.
BOOT_TOLERANCE = timedelta(seconds=60)


def device_heartbeat_record(
    *,
    device: Device,
    firmware_version: str,
    uptime_seconds: int,
    wifi_rssi: int,
    free_heap: int,
    queue_depth: int,
    reset_reason: str = "",
    free_psram: int | None = None,
    failed_captures: int | None = None,
    camera_ok: bool | None = None,
) -> bool:
    """Store what the cart reported and when; True when this heartbeat is the first of a new
    start (then recorded as a ``DeviceRestart``). The fields absent from an older firmware's
    heartbeat are stored as unknown.

    One UPDATE while the cart keeps running (concurrent heartbeats cannot mix rows); a new
    start adds a second UPDATE and the restart row, in one transaction.
    """
    now = timezone.now()
    booted_at = now - timedelta(seconds=uptime_seconds)
    health = {
        "last_seen_at": now,
        "firmware_version": firmware_version,
        "uptime_seconds": uptime_seconds,
        "wifi_rssi": wifi_rssi,
        "free_heap": free_heap,
        "queue_depth": queue_depth,
        "reset_reason": reset_reason,
        "free_psram": free_psram,
        "failed_captures": failed_captures,
        "camera_ok": camera_ok,
        "booted_at": booted_at,
    }
    device.last_seen_at = now
    same_start = Q(booted_at__gte=booted_at - BOOT_TOLERANCE, uptime_seconds__lte=uptime_seconds)
    if Device.objects.filter(pk=device.pk).filter(same_start).update(**health):
        return False
    with transaction.atomic():
        Device.objects.filter(pk=device.pk).update(**health)
        DeviceRestart.objects.create(device=device, reason=reset_reason, booted_at=booted_at)
    return True
