"""The provisioning QR: what a cart with no settings reads with its camera to join the store.

The QR holds compact JSON, read by the firmware's ``core/provisioning.cpp`` and by
``manage.py simulate_cart --enrol``::

    {"smartcart":"provision/1","wifi_ssid":...,"wifi_password":...,
     "server_url":"https://...","token":"sce_...","ca_sha256":"<64 hex>"}

The token is single-use and short-lived (``devices.services.enrolment``); there is no device
key in it. The Wi-Fi password is, so the page that shows the QR is never cached.
"""

import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from shopcart.core.qr import qr_png

PROVISIONING_FORMAT = "provision/1"
PROVISIONING_KEYS = ("wifi_ssid", "wifi_password", "server_url", "token", "ca_sha256")

ERROR_NOT_PROVISIONING = "This is not a smartcart provisioning QR."
ERROR_PROVISIONING_FIELD = "The provisioning QR has no valid “{field}”."
WARNING_NO_WIFI = "CART_WIFI_SSID is not set: the cart will not know which Wi-Fi to join."
WARNING_NOT_HTTPS = "CART_SERVER_URL (or SITE_URL) is not https://: a cart refuses it."
WARNING_NO_CA = "CART_CA_SHA256 is not set: the cart cannot check the server's certificate."


class ProvisioningInvalid(ValueError):
    """The text read is not a provisioning QR this version understands."""


@dataclass(frozen=True)
class ProvisioningPayload:
    wifi_ssid: str
    wifi_password: str
    server_url: str
    token: str
    ca_sha256: str


def provisioning_payload_for(*, token: str) -> ProvisioningPayload:
    """The payload for a cart of this store, from the CART_* settings."""
    return ProvisioningPayload(
        wifi_ssid=settings.CART_WIFI_SSID,
        wifi_password=settings.CART_WIFI_PASSWORD,
        server_url=str(settings.CART_SERVER_URL).rstrip("/"),
        token=token,
        ca_sha256=settings.CART_CA_SHA256,
    )


def provisioning_warnings(payload: ProvisioningPayload) -> list[str]:
    """What keeps a real cart from using this payload (the simulator does not mind)."""
    warnings = []
    if not payload.wifi_ssid:
        warnings.append(WARNING_NO_WIFI)
    if not payload.server_url.startswith("https://"):
        warnings.append(WARNING_NOT_HTTPS)
    if len(payload.ca_sha256) != 64:
        warnings.append(WARNING_NO_CA)
    return warnings


def provisioning_text(payload: ProvisioningPayload) -> str:
    fields: dict[str, Any] = {"smartcart": PROVISIONING_FORMAT}
    fields.update({key: getattr(payload, key) for key in PROVISIONING_KEYS})
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":"))


def provisioning_qr_png(payload: ProvisioningPayload) -> bytes:
    return qr_png(provisioning_text(payload), box_size=6)


def provisioning_parse(text: str) -> ProvisioningPayload:
    """The payload in a provisioning QR's text; raises ``ProvisioningInvalid``."""
    try:
        fields = json.loads(text)
    except ValueError:
        raise ProvisioningInvalid(ERROR_NOT_PROVISIONING) from None
    if not isinstance(fields, dict) or fields.get("smartcart") != PROVISIONING_FORMAT:
        raise ProvisioningInvalid(ERROR_NOT_PROVISIONING)
    values = {}
    for key in PROVISIONING_KEYS:
        value = fields.get(key)
        if not isinstance(value, str):
            raise ProvisioningInvalid(ERROR_PROVISIONING_FIELD.format(field=key))
        values[key] = value
    if not values["token"] or not values["server_url"]:
        missing = "token" if not values["token"] else "server_url"
        raise ProvisioningInvalid(ERROR_PROVISIONING_FIELD.format(field=missing))
    return ProvisioningPayload(**values)
