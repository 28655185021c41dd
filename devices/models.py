"""Registered cart devices: who may call the device API, and how each cart last said it was.

A device's key is shown once, when staff register it; the database keeps only a short prefix
(to find the row) and the SHA-256 of the whole key (to check it). Rotating a key keeps the
previous prefix and hash valid until ``previous_key_valid_until``, so a cart that is offline
during the rotation can still fetch its new key. Keys are checked in ``devices.selectors``.
"""

import secrets
from datetime import timedelta
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef
from django.utils import timezone

from carts.models import CartPass

# What staff read when a form breaks one of the constraints below (in words, not by name).
ERROR_PAIRING_ONE_PER_DEVICE = "This cart device is already paired: end that pairing first."
ERROR_PAIRING_ONE_PER_CART = (
    "This shopper's cart is already paired with a device: end that pairing first."
)
ERROR_PAIRING_ACTIVE_OR_ENDED = (
    "A pairing is either active or ended (with the time it ended), never both."
)
ERROR_PAIRING_NEEDS_PASS = "An active pairing needs its cart pass."  # noqa: S105 - a message
ERROR_SCAN_EVENT_ONCE = "This device already sent a scan with this scan id."


class Device(models.Model):
    class ResetReason(models.TextChoices):
        """Why a cart last started, as its heartbeat names it (firmware/core/health.h; the list is
        tests/fixtures/devices/cart/reset_reasons.json, in the firmware's order)."""

        UNKNOWN = "unknown", "unknown"
        POWER_ON = "power_on", "power on"
        EXTERNAL = "external", "reset button"
        SOFTWARE = "software", "restart asked for"
        PANIC = "panic", "crash"
        INTERRUPT_WATCHDOG = "interrupt_watchdog", "interrupt watchdog"
        TASK_WATCHDOG = "task_watchdog", "task watchdog (a hung loop)"
        OTHER_WATCHDOG = "other_watchdog", "other watchdog"
        DEEP_SLEEP = "deep_sleep", "wake from deep sleep"
        BROWNOUT = "brownout", "brown-out (weak supply)"
        WIFI_WATCHDOG = "wifi_watchdog", "Wi-Fi watchdog (no network for minutes)"

    name = models.CharField(max_length=80, unique=True, help_text="For example “Cart 12”.")
    key_prefix = models.CharField(max_length=16, db_index=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)  # sha256 hex of the whole key
    previous_key_prefix = models.CharField(max_length=16, blank=True, db_index=True, editable=False)
    previous_key_hash = models.CharField(max_length=64, blank=True, editable=False)
    previous_key_valid_until = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    # When the cart last made a request (written at most every 30 s, ``device_mark_seen``), and
    # what it reported in its last heartbeat.
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
    reset_reason = models.CharField(
        max_length=24, choices=ResetReason.choices, blank=True, editable=False
    )
    # When the running firmware started: the heartbeat's time less its uptime.
    booted_at = models.DateTimeField(null=True, blank=True, editable=False)
    free_psram = models.PositiveIntegerField(
        null=True, blank=True, editable=False, verbose_name="free PSRAM (bytes)"
    )
    failed_captures = models.PositiveIntegerField(
        null=True, blank=True, editable=False, help_text="Presses that gave no photo, since start."
    )
    camera_ok = models.BooleanField(
        null=True, blank=True, editable=False, verbose_name="camera working"
    )

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


# The restarts a watchdog made: the cart hung, or lost the network for minutes.
WATCHDOG_RESETS = frozenset(
    {
        Device.ResetReason.TASK_WATCHDOG,
        Device.ResetReason.INTERRUPT_WATCHDOG,
        Device.ResetReason.OTHER_WATCHDOG,
        Device.ResetReason.WIFI_WATCHDOG,
    }
)


class DeviceRestart(models.Model):
    """A start of a cart's firmware, recorded from the first heartbeat after it."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="restarts")
    reason = models.CharField(max_length=24, choices=Device.ResetReason.choices, blank=True)
    booted_at = models.DateTimeField(db_index=True)
    reported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-booted_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.device} started {self.booted_at:%Y-%m-%d %H:%M} ({self.reason or 'unknown'})"


class EnrolmentToken(models.Model):
    """The one-time code in a cart's provisioning QR: shown to the enrolment endpoint, it gives
    the cart its device key, once, within ``settings.DEVICE_ENROLMENT_TTL`` seconds.

    Only the SHA-256 of the token is kept (``devices.services.enrolment``); the QR holds the
    token itself, never a device key.
    """

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="enrolment_tokens")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(editable=False)
    used_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        state = "used" if self.used_at else "unused"
        return f"enrolment of {self.device} ({state}, until {self.expires_at:%H:%M})"


def firmware_path(release: "FirmwareRelease", filename: str) -> str:
    """Where a release's binary goes under MEDIA_ROOT: its version and a random name."""
    return f"firmware/{release.version}/{secrets.token_urlsafe(16)}.bin"


ERROR_ROLLOUT_PERCENT = "The rollout reaches 0 to 100 percent of the fleet."


class FirmwareRelease(models.Model):
    """A cart firmware build, signed offline with the store's release key and checked on upload
    (``devices.firmware``), and which carts it is offered to: the ones chosen, and a share of
    the fleet (``rollout_percent``, the same carts each time for one release)."""

    version = models.CharField(max_length=32, unique=True, help_text="For example 1.2.0.")
    binary = models.FileField(upload_to=firmware_path)
    size = models.PositiveIntegerField(editable=False)
    sha256 = models.CharField(max_length=64, help_text="SHA-256 of the binary, hex.")
    signature = models.CharField(
        max_length=100, help_text="Ed25519 signature of the binary's SHA-256 digest, base64."
    )
    notes = models.TextField(blank=True)
    rollout_percent = models.PositiveSmallIntegerField(
        default=0, help_text="Offer it to this share of the carts (0 to 100)."
    )
    target_devices = models.ManyToManyField(
        Device, blank=True, related_name="firmware_targets", help_text="And to these carts."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rollout_percent__lte=100),
                name="firmware_rollout_percent_at_most_100",
                violation_error_message=ERROR_ROLLOUT_PERCENT,
            )
        ]

    def __str__(self) -> str:
        return f"firmware {self.version}"


class PairingQuerySet(models.QuerySet["Pairing"]):
    def active(self) -> "PairingQuerySet":
        """Pairings not ended yet, including those whose pass no longer works (``in_force``)."""
        return self.filter(active=True)

    def in_force(self) -> "PairingQuerySet":
        """Active pairings whose pass still works: the ones a device scans through."""
        return self.active().filter(cart_pass__in=CartPass.objects.in_force())

    def with_pass_state(self) -> "PairingQuerySet":
        """Annotate ``pass_in_force`` and ``shopper_active`` (booleans), as subqueries: a
        ``select_for_update`` of pairings then locks no pass or user row."""
        passes = CartPass.objects.filter(pk=OuterRef("cart_pass_id"))
        return self.annotate(
            pass_in_force=Exists(passes.in_force()),
            shopper_active=Exists(passes.filter(user__is_active=True)),
        )


class Pairing(models.Model):
    """A device scanning into a shopper's cart, from a cart-pass scan until it ends.

    One active pairing per device and per cart. ``active`` is True while the pairing lasts,
    then NULL: the unique pairs (device, active) and (cart, active) allow any number of ended
    pairings but one active one (as ``Cart.current``; MariaDB ignores conditional constraints).

    A pairing keeps the pass it was made with, and counts only while that pass is in force
    (``CartPass.in_force``): replacing or revoking the shopper's pass, or deactivating their
    account, ends it at once for every reader (``in_force()``), and the device's next scan
    marks it ended and tells the cart why (``devices.services.scans``). Checked on use rather
    than written from ``carts``, which must not import devices, and whatever changed the pass or
    the account (the shopper's page, an admin action, a shell).
    """

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="pairings")
    cart = models.ForeignKey("carts.Cart", on_delete=models.CASCADE, related_name="pairings")
    # Null only for pairings ended before passes were kept (a constraint says so).
    cart_pass = models.ForeignKey(
        CartPass, on_delete=models.CASCADE, related_name="pairings", null=True, editable=False
    )
    active = models.BooleanField(null=True, default=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = PairingQuerySet.as_manager()

    # Only on pairings read through ``PairingQuerySet.with_pass_state``.
    pass_in_force: bool
    shopper_active: bool

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["device", "active"],
                name="pairing_one_per_device",
                violation_error_message=ERROR_PAIRING_ONE_PER_DEVICE,
            ),
            models.UniqueConstraint(
                fields=["cart", "active"],
                name="pairing_one_per_cart",
                violation_error_message=ERROR_PAIRING_ONE_PER_CART,
            ),
            models.CheckConstraint(
                # "active IS NOT NULL" spelled out: a CHECK lets the unknown "NULL = true" pass.
                condition=(
                    models.Q(active__isnull=False, active=True, ended_at__isnull=True)
                    | models.Q(active__isnull=True, ended_at__isnull=False)
                ),
                name="pairing_active_or_ended",
                violation_error_message=ERROR_PAIRING_ACTIVE_OR_ENDED,
            ),
            models.CheckConstraint(
                condition=models.Q(active__isnull=True) | models.Q(cart_pass__isnull=False),
                name="pairing_active_has_its_pass",
                violation_error_message=ERROR_PAIRING_NEEDS_PASS,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.device} → cart {self.cart_id} ({'active' if self.active else 'ended'})"


def scan_photo_path(event: "ScanEvent", filename: str) -> str:
    """Where a kept photo goes under MEDIA_ROOT: a folder per day, a random name (media may be
    served to anyone who has the address, so the address must not be guessable)."""
    suffix = PurePath(filename).suffix.lower()
    return f"scan-photos/{timezone.now():%Y/%m/%d}/{secrets.token_urlsafe(24)}{suffix}"


class ScanEvent(models.Model):
    """One scan a device sent, stored by its ``scan_id`` so a retried request changes nothing.

    The unique pair (device, scan_id) decides which of several identical requests processes
    the scan; the others answer ``answer`` again (same ``body_hash``) or 409 (another body).

    ``photo`` is kept only for a scan in which nothing was read, and only while
    ``settings.SCAN_STORE_FAILED_PHOTOS`` is on (``devices.services.photos``).
    """

    class Result(models.TextChoices):
        ADDED = "added", "added"
        REMOVED = "removed", "removed"
        PAIRED = "paired", "paired"
        NO_BARCODE = "no_barcode", "no barcode"
        AMBIGUOUS = "ambiguous", "two codes"
        UNKNOWN_PRODUCT = "unknown_product", "unknown product"
        NOT_IN_CART = "not_in_cart", "not in cart"
        NOT_PAIRED = "not_paired", "not paired"
        CART_CLOSED = "cart_closed", "cart closed"

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="scan_events")
    scan_id = models.UUIDField()
    body_hash = models.CharField(max_length=64)  # sha256 hex of the request body
    cart = models.ForeignKey(
        "carts.Cart", on_delete=models.SET_NULL, related_name="scan_events", null=True, blank=True
    )
    result = models.CharField(max_length=16, choices=Result.choices, blank=True)
    code = models.CharField(max_length=128, blank=True)  # what was read; blank for a cart pass
    gtin = models.CharField(max_length=14, blank=True)
    decode_ms = models.FloatField(null=True, blank=True)
    status = models.PositiveSmallIntegerField(default=201)
    answer = models.JSONField(default=dict)
    photo = models.FileField(upload_to=scan_photo_path, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["device", "scan_id"],
                name="scan_event_once_per_device",
                violation_error_message=ERROR_SCAN_EVENT_ONCE,
            )
        ]

    def __str__(self) -> str:
        return f"{self.device} scan {self.scan_id}: {self.result}"


class UnknownCode(models.Model):
    """A valid GTIN that carts scanned but the catalog does not know: staff may add it."""

    gtin = models.CharField(max_length=14, unique=True)
    count = models.PositiveIntegerField(default=1)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-last_seen_at", "-pk"]

    def __str__(self) -> str:
        return self.gtin
