"""Cart firmware releases: checking a signed binary, comparing versions, choosing the carts.

A release is signed offline with the store's Ed25519 release key: the signature is over the
32-byte SHA-256 digest of the binary, so the cart checks it with the digest it computes while
downloading (its public key compiled in) and the server with the one it computes on upload
(``settings.FIRMWARE_RELEASE_PUBLIC_KEY``). Signing, on the machine that holds the key::

    openssl dgst -sha256 -binary firmware.bin > firmware.sha256
    openssl pkeyutl -sign -inkey release-key.pem -rawin -in firmware.sha256 | base64 -w0
"""

import base64
import binascii
import hashlib
import re

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings

VERSION_PATTERN = re.compile(r"^(\d{1,4})\.(\d{1,4})\.(\d{1,4})$")

ERROR_VERSION = "A release version is three numbers, as 1.2.0."
ERROR_NO_RELEASE_KEY = (
    "FIRMWARE_RELEASE_PUBLIC_KEY is not set: no release can be checked, so none is taken."
)
ERROR_RELEASE_KEY_INVALID = (
    "FIRMWARE_RELEASE_PUBLIC_KEY is not an Ed25519 public key (32 bytes, base64)."
)
ERROR_SHA256_FORMAT = "The SHA-256 is 64 hexadecimal digits."
ERROR_SHA256_MISMATCH = "The SHA-256 given is not the binary's: was the right file uploaded?"
ERROR_SIGNATURE_MISSING = "The release is not signed: sign its SHA-256 with the release key."
ERROR_SIGNATURE_FORMAT = "The signature is 64 bytes in base64."
ERROR_SIGNATURE_INVALID = "The signature does not match: not signed with the store's release key."
ERROR_EMPTY = "The binary is empty."


class ReleaseInvalid(ValueError):
    """The upload is refused; the message is for staff."""


def version_key(version: str) -> tuple[int, int, int] | None:
    """(major, minor, patch) of a release version; None for anything else (a test build)."""
    match = VERSION_PATTERN.match(version)
    if match is None:
        return None
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def release_public_key() -> Ed25519PublicKey:
    configured = settings.FIRMWARE_RELEASE_PUBLIC_KEY
    if not configured:
        raise ReleaseInvalid(ERROR_NO_RELEASE_KEY)
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(configured, validate=True))
    except (binascii.Error, ValueError):
        raise ReleaseInvalid(ERROR_RELEASE_KEY_INVALID) from None


def release_check(*, binary: bytes, sha256: str, signature: str) -> str:
    """The binary's SHA-256 (hex) when ``sha256`` is it and ``signature`` is the release key's
    signature of its digest; raises ``ReleaseInvalid`` saying what is wrong otherwise."""
    key = release_public_key()
    if not binary:
        raise ReleaseInvalid(ERROR_EMPTY)
    given = sha256.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{64}", given):
        raise ReleaseInvalid(ERROR_SHA256_FORMAT)
    digest = hashlib.sha256(binary).digest()
    if digest.hex() != given:
        raise ReleaseInvalid(ERROR_SHA256_MISMATCH)
    if not signature.strip():
        raise ReleaseInvalid(ERROR_SIGNATURE_MISSING)
    try:
        raw_signature = base64.b64decode(signature.strip(), validate=True)
    except binascii.Error:
        raise ReleaseInvalid(ERROR_SIGNATURE_FORMAT) from None
    if len(raw_signature) != 64:
        raise ReleaseInvalid(ERROR_SIGNATURE_FORMAT)
    try:
        key.verify(raw_signature, digest)
    except InvalidSignature:
        raise ReleaseInvalid(ERROR_SIGNATURE_INVALID) from None
    return given


def rollout_bucket(*, version: str, device_id: int) -> int:
    """The device's place (0-99) in a release's rollout: a share of ``p`` percent is the
    devices whose bucket is below ``p``. Stable for one release (raising the share only adds
    carts), and a different order for each release (not always the same carts first)."""
    digest = hashlib.sha256(f"{version}:{device_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100
