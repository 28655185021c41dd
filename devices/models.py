"""Registered cart devices: who may call the device API, and how each cart last said it was.

A device's key is shown once, when staff register it; the database keeps only a short prefix
(to find the row) and the SHA-256 of the whole key (to check it). Rotating a key keeps the
previous prefix and hash valid until ``previous_key_valid_until``, so a cart that is offline
during the rotation can still fetch its new key. Keys are checked in ``devices.selectors``.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone


class Device(models.Model):
    name = models.CharField(max_length=80, unique=True, help_text="For example “Cart 12”.")
    key_prefix = models.CharField(max_length=16, db_index=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)  # sha256 hex of the whole key
    previous_key_prefix = models.CharField(max_length=16, blank=True, db_index=True, editable=False)
    previous_key_hash = models.CharField(max_length=64, blank=True, editable=False)
    previous_key_valid_until = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    # What the cart reported in its last heartbeat.
    last_seen_at = models.DateTimeField(null=True, blank=True, editable=False)
    firmware_version = models.CharField(max_length=32, blank=True, editable=False)
    uptime_seconds = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    wifi_rssi = models.SmallIntegerField(
        null=True, blank=True, editable=False, verbose_name="Wi-Fi RSSI (dBm)"
    )
    free_heap = models.PositiveIntegerField(
        null=True, blank=True, editable=False, verbose_name="free heap (bytes)"
    )
    queue_depth = models.PositiveIntegerField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_online(self) -> bool:
        """Heard from within ``settings.DEVICE_OFFLINE_AFTER`` seconds."""
        if self.last_seen_at is None:
            return False
        silent_for = timezone.now() - self.last_seen_at
        return silent_for <= timedelta(seconds=settings.DEVICE_OFFLINE_AFTER)
