"""Provisioning a cart by QR: staff start it in the admin, the cart finishes it by enrolling.

``device_provisioning_start`` creates the device (or takes an existing one) and a single-use
enrolment token that expires after ``settings.DEVICE_ENROLMENT_TTL`` seconds; the raw token
goes into the provisioning QR (``devices.provisioning``) and is gone, the database keeps its
SHA-256. ``device_enrol`` exchanges the token, once, for a new device key, which replaces the
device's keys at once. The QR never holds a device key.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from devices.models import Device, EnrolmentToken
from devices.services.registry import (
    ERROR_DEVICE_REVOKED,
    DeviceError,
    device_key_replace,
    device_register,
)

ENROLMENT_SCHEME = "sce"  # "smartcart enrolment": tokens read "sce_<secret>"
ENROLMENT_SECRET_BYTES = 24  # 192 bits: not guessable within the ten minutes, nor ever

ERROR_ENROL_UNKNOWN = "This enrolment code is not known: ask staff for a new provisioning QR."
ERROR_ENROL_EXPIRED = "This enrolment code has expired: ask staff for a new provisioning QR."
ERROR_ENROL_USED = "This enrolment code was used already: ask staff for a new provisioning QR."
ERROR_ENROL_REVOKED = "This cart's device is revoked: staff must add the cart again."


class EnrolmentRefused(Exception):
    """The token does not give a key; the message is for the cart's installer."""


@dataclass(frozen=True)
class Provisioning:
    device: Device
    token: str  # raw: for the QR only, never stored or logged
    expires_at: datetime


def enrolment_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def device_provisioning_start(
    *,
    name: str = "",
    device: Device | None = None,
    created_by: User | None = None,
) -> Provisioning:
    """A new enrolment token for ``device``, or for a new device called ``name`` (its first key
    is never shown: the cart gets one when it enrols). The device's earlier tokens not used
    yet stop working. Raises ``DeviceError`` for a revoked device and ``IntegrityError`` when
    ``name`` is taken.
    """
    token = f"{ENROLMENT_SCHEME}_{secrets.token_urlsafe(ENROLMENT_SECRET_BYTES)}"
    now = timezone.now()
    expires_at = now + timedelta(seconds=settings.DEVICE_ENROLMENT_TTL)
    with transaction.atomic():
        if device is None:
            device, _unused_key = device_register(name=name)
        elif device.is_revoked:
            raise DeviceError(ERROR_DEVICE_REVOKED.format(name=device.name))
        EnrolmentToken.objects.filter(device=device, used_at__isnull=True).delete()
        EnrolmentToken.objects.create(
            device=device,
            token_hash=enrolment_token_hash(token),
            created_at=now,
            expires_at=expires_at,
            created_by=created_by,
        )
    return Provisioning(device=device, token=token, expires_at=expires_at)


def device_enrol(*, token: str) -> tuple[Device, str]:
    """The device ``token`` enrols, and its new raw key (shown once, to the cart).

    Works once: the token is marked used in the transaction that replaces the key, by a
    conditional UPDATE, so two carts racing with one token get one key between them. Raises
    ``EnrolmentRefused`` for a token that is unknown, used, expired, or whose device is revoked.
    """
    now = timezone.now()
    with transaction.atomic(durable=True):
        row = (
            EnrolmentToken.objects.select_for_update()
            .select_related("device")
            .filter(token_hash=enrolment_token_hash(token))
            .first()
        )
        if row is None:
            raise EnrolmentRefused(ERROR_ENROL_UNKNOWN)
        if row.used_at is not None:
            raise EnrolmentRefused(ERROR_ENROL_USED)
        if row.expires_at <= now:
            raise EnrolmentRefused(ERROR_ENROL_EXPIRED)
        device = Device.objects.select_for_update().get(pk=row.device_id)
        if device.is_revoked:
            raise EnrolmentRefused(ERROR_ENROL_REVOKED)
        if not EnrolmentToken.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=now):
            raise EnrolmentRefused(ERROR_ENROL_USED)
        raw_key = device_key_replace(device=device)
    return device, raw_key
