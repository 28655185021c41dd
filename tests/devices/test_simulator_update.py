"""``manage.py simulate_cart --update``: the simulated cart follows the heartbeat's update offer,
downloads the release and checks its size, SHA-256 and signature, and installs nothing."""

import base64
import hashlib
import io

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.core.management import CommandError, call_command

from devices.services import device_register
from devices.simulator import SimulatorError
from devices.simulator_update import (
    ERROR_HASH,
    ERROR_SIGNATURE,
    ERROR_SIZE,
    update_verify,
)
from tests.devices.support import BINARY, release

PRIVATE = Ed25519PrivateKey.generate()
PUBLIC = base64.b64encode(PRIVATE.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


def offer_for(binary: bytes, private=PRIVATE) -> dict:
    digest = hashlib.sha256(binary).digest()
    return {
        "version": "1.2.0",
        "url": "/api/devices/v1/firmware/1.2.0/",
        "size": len(binary),
        "sha256": digest.hex(),
        "signature": base64.b64encode(private.sign(digest)).decode(),
    }


def test_a_release_that_is_what_was_offered_is_verified():
    verified = update_verify(offer=offer_for(BINARY), binary=BINARY, public_key=PUBLIC.decode())

    assert (verified.version, verified.size) == ("1.2.0", len(BINARY))


@pytest.mark.parametrize(
    ("binary", "offer", "error"),
    [
        (BINARY[:-1], offer_for(BINARY), ERROR_SIZE.split("{")[0]),
        (BINARY[:-1] + b"X", offer_for(BINARY), ERROR_HASH.format(version="1.2.0")),
        (
            BINARY,
            offer_for(BINARY, Ed25519PrivateKey.generate()),
            ERROR_SIGNATURE.format(version="1.2.0"),
        ),
    ],
    ids=["cut short", "changed", "signed by another key"],
)
def test_a_release_that_is_not_what_was_offered_is_refused(binary, offer, error):
    with pytest.raises(SimulatorError, match=error.split(":")[0]):
        update_verify(offer=offer, binary=binary, public_key=PUBLIC.decode())


def simulate(*args: str) -> str:
    out = io.StringIO()
    call_command("simulate_cart", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_the_simulator_follows_an_offer_and_checks_the_release(live_server, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.FIRMWARE_RELEASE_PUBLIC_KEY = PUBLIC.decode()
    device, key = device_register(name="Cart 30")
    release(PRIVATE, "1.2.0", devices=[device])
    common = ("--server", live_server.url, "--key", key, "--update")

    output = simulate(*common, "--firmware-version", "1.1.0")
    current = simulate(*common, "--firmware-version", "1.2.0")

    assert "update 1.2.0: " in output
    assert "SHA-256 and signature good" in output
    assert "update: none offered (running 1.2.0)" in current
    with pytest.raises(CommandError, match="not signed with the release key"):
        other = base64.b64encode(
            Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        ).decode()
        simulate(*common, "--firmware-version", "1.1.0", "--release-key", other)
