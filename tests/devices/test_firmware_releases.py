"""Over-the-air updates, the server side: a signed release uploaded in the admin (the signature
checked against the store's release key), rolled out to chosen carts or a share of the fleet,
offered in the heartbeat's answer and downloaded by the carts it is meant for only."""

import base64
import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from devices.firmware import (
    ERROR_NO_RELEASE_KEY,
    ERROR_SHA256_MISMATCH,
    ERROR_SIGNATURE_INVALID,
    ERROR_SIGNATURE_MISSING,
    ERROR_VERSION,
    rollout_bucket,
    version_key,
)
from devices.models import Device, FirmwareRelease
from devices.selectors import firmware_rollout_progress, firmware_update_for
from devices.services import device_register
from tests.devices.golden import shape
from tests.devices.support import BINARY, release, signed

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:devices_firmwarerelease_add")
HEARTBEAT_URL = reverse("devices-api:heartbeat")
OFFER = Path(__file__).resolve().parents[1] / "fixtures/devices/cart/heartbeat_update_offer.json"


@pytest.fixture
def release_key(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    private = Ed25519PrivateKey.generate()
    raw_public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    settings.FIRMWARE_RELEASE_PUBLIC_KEY = base64.b64encode(raw_public).decode()
    return private


def upload(client, private, **changes):
    sha256, signature = signed(private)
    data = {
        "version": "1.2.0",
        "binary": SimpleUploadedFile("firmware.bin", BINARY),
        "sha256": sha256,
        "signature": signature,
        "notes": "",
        "rollout_percent": "0",
        **changes,
    }
    return client.post(ADD_URL, data)


def beat(device_key: str, version: str = "1.1.0"):
    client = Client(headers={"Authorization": f"Device {device_key}"})
    body = {
        "firmware_version": version,
        "uptime_seconds": 100,
        "wifi_rssi": -60,
        "free_heap": 100000,
        "queue_depth": 0,
    }
    return client.post(HEARTBEAT_URL, body, content_type="application/json")


# --- Upload --------------------------------------------------------------------------------------


def test_a_signed_release_is_taken(staff_client, release_key):
    response = upload(staff_client, release_key)

    assert response.status_code == 302, response.context["adminform"].form.errors
    made = FirmwareRelease.objects.get()
    assert (made.version, made.size) == ("1.2.0", len(BINARY))
    assert made.sha256 == hashlib.sha256(BINARY).hexdigest()
    assert made.binary.read() == BINARY


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"signature": ""}, ERROR_SIGNATURE_MISSING),
        ({"signature": base64.b64encode(b"\0" * 64).decode()}, ERROR_SIGNATURE_INVALID),
        ({"sha256": "0" * 64}, ERROR_SHA256_MISMATCH),
        (
            {"binary": SimpleUploadedFile("firmware.bin", BINARY + b"tampered")},
            ERROR_SHA256_MISMATCH,
        ),
    ],
    ids=["unsigned", "mis-signed", "wrong hash", "other binary"],
)
def test_an_unsigned_or_mis_signed_release_is_refused_on_the_form(
    staff_client, release_key, changes, error
):
    response = upload(staff_client, release_key, **changes)

    assert response.status_code == 200
    assert error in response.context["adminform"].form.non_field_errors()
    assert not FirmwareRelease.objects.exists()


def test_a_release_signed_with_another_key_is_refused(staff_client, release_key):
    response = upload(staff_client, Ed25519PrivateKey.generate())

    assert ERROR_SIGNATURE_INVALID in response.context["adminform"].form.non_field_errors()


def test_without_a_release_key_nothing_is_taken(staff_client, release_key, settings):
    settings.FIRMWARE_RELEASE_PUBLIC_KEY = ""

    response = upload(staff_client, release_key)

    assert ERROR_NO_RELEASE_KEY in response.context["adminform"].form.non_field_errors()


def test_a_version_must_be_three_numbers(staff_client, release_key):
    response = upload(staff_client, release_key, version="1.2-beta")

    assert response.context["adminform"].form.errors["version"] == [ERROR_VERSION]


def test_a_clerk_cannot_upload(clerk_client, release_key):
    assert upload(clerk_client, release_key).status_code in (302, 403)
    assert not FirmwareRelease.objects.exists()


def test_the_list_shows_the_rollout_progress(staff_client, release_key, device):
    made = release(release_key, "1.2.0", devices=[device])
    Device.objects.filter(pk=device.pk).update(firmware_version="1.2.0")

    page = staff_client.get(reverse("admin:devices_firmwarerelease_changelist")).content.decode()

    assert firmware_rollout_progress(made) == (1, 1)
    assert "1 / 1" in page


# --- Targeting and the offer ---------------------------------------------------------------------


def test_versions_compare_as_numbers():
    assert version_key("1.10.0") == (1, 10, 0)
    assert (1, 10, 0) > (1, 9, 9)
    assert version_key("simulator") is None


def test_a_release_goes_to_the_carts_chosen_for_it(release_key, device, device_key):
    _, other_key = device_register(name="Cart 2")
    release(release_key, "1.2.0", devices=[device])

    assert beat(device_key).json()["update"]["version"] == "1.2.0"
    assert beat(other_key).json()["update"] is None


def test_a_share_of_the_fleet_gets_it_and_the_same_carts_each_time(release_key):
    devices = [device_register(name=f"Cart {n}")[0] for n in range(40)]
    made = release(release_key, "1.2.0", percent=50)

    offered = {d.pk for d in devices if firmware_update_for(device=d, running_version="1.1.0")}

    expected = {d.pk for d in devices if rollout_bucket(version="1.2.0", device_id=d.pk) < 50}
    assert offered == expected
    assert 0 < len(offered) < 40
    made.rollout_percent = 100
    made.save()
    assert all(firmware_update_for(device=d, running_version="1.1.0") for d in devices)


def test_nothing_is_offered_to_a_cart_running_it_or_newer_or_a_test_build(release_key, device):
    release(release_key, "1.2.0", percent=100)

    for running in ("1.2.0", "1.3.0", "simulator"):
        assert firmware_update_for(device=device, running_version=running) is None


def test_the_newest_release_meant_for_the_cart_is_offered(release_key, device):
    release(release_key, "1.2.0", percent=100)
    release(release_key, "1.4.0", percent=0)  # uploaded, not rolled out yet
    release(release_key, "1.3.0", devices=[device])

    offered = firmware_update_for(device=device, running_version="1.1.0")
    assert offered is not None
    assert offered.version == "1.3.0"


def test_the_offer_has_the_golden_shape_and_a_url_the_cart_can_download(
    release_key, device, device_key
):
    made = release(release_key, "1.2.0", devices=[device])

    offer = beat(device_key).json()["update"]

    assert shape(offer) == shape(json.loads(OFFER.read_text()))
    assert (offer["sha256"], offer["signature"], offer["size"]) == (
        made.sha256,
        made.signature,
        len(BINARY),
    )
    client = Client(headers={"Authorization": f"Device {device_key}"})
    download = client.get(offer["url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == BINARY


def test_a_release_not_meant_for_the_cart_is_not_served(release_key, device):
    _, other_key = device_register(name="Cart 2")
    made = release(release_key, "1.2.0", devices=[device])
    url = reverse("devices-api:firmware", kwargs={"version": made.version})

    other = Client(headers={"Authorization": f"Device {other_key}"}).get(url)
    anonymous = Client().get(url)
    unknown = Client(headers={"Authorization": f"Device {other_key}"}).get(
        reverse("devices-api:firmware", kwargs={"version": "9.9.9"})
    )

    assert other.status_code == 404
    assert anonymous.status_code == 401
    assert unknown.status_code == 404


def test_a_download_is_get_only(release_key, device, device_key):
    release(release_key, "1.2.0", devices=[device])
    url = reverse("devices-api:firmware", kwargs={"version": "1.2.0"})

    response = Client(headers={"Authorization": f"Device {device_key}"}).post(url)

    assert response.status_code == 405
    assert response["Allow"] == "GET"
