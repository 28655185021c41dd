"""``Authorization: Device <key>`` on the device API: who gets in, who gets 401, and the
per-device throttle. Exercised through the heartbeat endpoint, the simplest device call."""

import json
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from devices.authentication import (
    ERROR_HEADER_ENCODING,
    ERROR_HEADER_NO_KEY,
    ERROR_HEADER_SPACES,
    ERROR_KEY_INVALID,
)
from devices.services import device_register, device_revoke, device_rotate_key
from tests.devices.refusals import refusal

pytestmark = pytest.mark.django_db

URL = reverse("devices-api:heartbeat")
HEARTBEAT = {
    "firmware_version": "1.4.2",
    "uptime_seconds": 60,
    "wifi_rssi": -60,
    "free_heap": 120000,
    "queue_depth": 0,
}
NOT_AUTHENTICATED = "Authentication credentials were not provided."


def _post(client: Client, **headers: str):
    return client.post(URL, HEARTBEAT, content_type="application/json", headers=headers)


def _post_with_key(key: str):
    return _post(Client(), Authorization=f"Device {key}")


def _assert_refused(response, detail: str) -> None:
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Device"
    assert response["Content-Type"] == "application/json"
    assert response.json() == refusal(response, detail)


def test_a_registered_key_is_let_in_as_its_device(device_client, device):
    other, _ = device_register(name="Cart 2")

    response = _post(device_client)

    assert response.status_code == 200
    device.refresh_from_db()
    other.refresh_from_db()
    assert device.last_seen_at is not None
    assert other.last_seen_at is None


def test_a_request_without_the_header_is_401_asking_for_a_device_key(device):
    _assert_refused(_post(Client()), NOT_AUTHENTICATED)


@pytest.mark.parametrize("scheme", ["Token", "Bearer", "Basic"])
def test_another_scheme_is_401_asking_for_a_device_key(device, device_key, scheme):
    _assert_refused(_post(Client(), Authorization=f"{scheme} {device_key}"), NOT_AUTHENTICATED)


def test_a_wrong_key_is_401(device, device_key):
    forged = device_key[:-4] + ("AAAA" if not device_key.endswith("AAAA") else "BBBB")

    _assert_refused(_post_with_key(forged), ERROR_KEY_INVALID)


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        ("Device", ERROR_HEADER_NO_KEY),
        ("Device scd_a_b extra", ERROR_HEADER_SPACES),
        ("Device scd_é_b", ERROR_HEADER_ENCODING),
        ("Device not-a-device-key", ERROR_KEY_INVALID),
    ],
)
def test_a_malformed_header_is_401(device, header, detail):
    _assert_refused(_post(Client(), Authorization=header), detail)


def test_the_scheme_is_case_insensitive_like_drf_token_auth(device, device_key):
    assert _post(Client(), Authorization=f"device {device_key}").status_code == 200


def test_a_revoked_key_is_refused_on_the_very_next_request(device_client, device):
    assert _post(device_client).status_code == 200

    device_revoke(device=device)

    _assert_refused(_post(device_client), ERROR_KEY_INVALID)


def test_a_rotated_key_works_within_the_grace_and_is_refused_after(
    device, device_key, settings, time_machine
):
    new_key = device_rotate_key(device=device)
    assert _post_with_key(device_key).status_code == 200  # both keys are now remembered
    assert _post_with_key(new_key).status_code == 200

    time_machine.move_to(timezone.now(), tick=True)
    time_machine.shift(timedelta(seconds=settings.DEVICE_KEY_ROTATION_GRACE + 1))

    _assert_refused(_post_with_key(device_key), ERROR_KEY_INVALID)
    assert _post_with_key(new_key).status_code == 200


@pytest.mark.parametrize("persona", ["staff_client", "alice_client"])
def test_a_signed_in_session_cannot_call_the_device_api(device, persona, request):
    client = request.getfixturevalue(persona)

    _assert_refused(_post(client), NOT_AUTHENTICATED)


def test_a_staff_api_token_cannot_call_the_device_api(device, staff):
    token = Token.objects.create(user=staff)

    _assert_refused(_post(Client(), Authorization=f"Token {token.key}"), NOT_AUTHENTICATED)


def test_the_throttle_answers_429_with_retry_after_per_device(device_client, settings):
    settings.DEVICE_THROTTLE_RATE = "2/min"
    cache.clear()  # throttle history of earlier tests, whose devices may have had the same id
    _, other_key = device_register(name="Cart 2")

    assert [_post(device_client).status_code for _ in range(2)] == [200, 200]
    throttled = _post(device_client)

    assert throttled.status_code == 429
    assert 0 < int(throttled["Retry-After"]) <= 60
    assert "detail" in json.loads(throttled.content)
    # The same address, another cart: its own budget (carts share the store's NAT address).
    assert _post_with_key(other_key).status_code == 200
