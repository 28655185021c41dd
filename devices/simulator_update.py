"""The simulated cart follows an update offer: download the release, check it, do not flash.

What the firmware is to do with the heartbeat's ``update`` (firmware/README.md, "Updating carts
over the air"), short of writing it to the other OTA slot: download it with the device key,
check its size, its SHA-256 and the Ed25519 signature of that digest against the store's
release public key. So the whole offer-download-verify path runs in CI.
"""

import base64
import binascii
import hashlib
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from devices.simulator import (
    USER_AGENT,
    Cart,
    HttpAnswer,
    SimulatorError,
    _detail,
    http_exchange,
)

ERROR_DOWNLOAD = "The release {version} could not be downloaded: HTTP {status}: {detail}"
ERROR_SIZE = "The release {version} is {got} bytes, the offer said {expected}: not installed."
ERROR_HASH = "The release {version} does not have the offered SHA-256: not installed."
ERROR_SIGNATURE = "The release {version} is not signed with the release key: not installed."
ERROR_PUBLIC_KEY = "The release public key is not an Ed25519 key (32 bytes, base64)."
MESSAGE_NO_UPDATE = "update: none offered (running {version})"
MESSAGE_VERIFIED = (
    "update {version}: {size} bytes downloaded, SHA-256 and signature good "
    "(a simulator: not installed)"
)

Fetch = Callable[[str, dict[str, str]], HttpAnswer]


def urllib_fetch(url: str, headers: dict[str, str]) -> HttpAnswer:
    """GET ``url`` (``devices.simulator.http_exchange``)."""
    return http_exchange(urllib.request.Request(url, headers=headers, method="GET"))  # noqa: S310


@dataclass(frozen=True)
class VerifiedUpdate:
    version: str
    size: int


def update_verify(*, offer: dict[str, Any], binary: bytes, public_key: str) -> VerifiedUpdate:
    """The offer's release, when ``binary`` is it; raises ``SimulatorError`` otherwise."""
    version = offer["version"]
    if len(binary) != offer["size"]:
        raise SimulatorError(
            ERROR_SIZE.format(version=version, got=len(binary), expected=offer["size"])
        )
    digest = hashlib.sha256(binary).digest()
    if digest.hex() != offer["sha256"]:
        raise SimulatorError(ERROR_HASH.format(version=version))
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key, validate=True))
    except (binascii.Error, ValueError):
        raise SimulatorError(ERROR_PUBLIC_KEY) from None
    try:
        key.verify(base64.b64decode(offer["signature"]), digest)
    except (InvalidSignature, binascii.Error, ValueError):
        raise SimulatorError(ERROR_SIGNATURE.format(version=version)) from None
    return VerifiedUpdate(version=version, size=len(binary))


def update_follow(
    cart: Cart, *, public_key: str, fetch: Fetch = urllib_fetch
) -> VerifiedUpdate | None:
    """One heartbeat; the offered release downloaded and checked, or None when none is."""
    offer = cart.heartbeat().json().get("update")
    if offer is None:
        cart.out(MESSAGE_NO_UPDATE.format(version=cart.firmware_version))
        return None
    headers = {"Authorization": f"Device {cart.key}", "User-Agent": USER_AGENT}
    answer = fetch(cart.server.rstrip("/") + offer["url"], headers)
    if answer.status != 200:
        raise SimulatorError(
            ERROR_DOWNLOAD.format(
                version=offer["version"], status=answer.status, detail=_detail(answer)
            )
        )
    verified = update_verify(offer=offer, binary=answer.body, public_key=public_key)
    cart.out(MESSAGE_VERIFIED.format(version=verified.version, size=verified.size))
    return verified
