"""Provisioning by QR: staff start it (a single-use enrolment code, ten minutes, hashed at rest),
the cart exchanges the code for its device key at ``POST /api/devices/v1/enrol/``, once."""

import datetime as dt
import hashlib
import json
import logging

import pytest
import yaml
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from drf_spectacular.validation import validate_schema

from devices.api import ERROR_ENROL_INVALID
from devices.models import Device, EnrolmentToken
from devices.provisioning import (
    PROVISIONING_FORMAT,
    ProvisioningInvalid,
    provisioning_parse,
    provisioning_payload_for,
    provisioning_text,
)
from devices.services import (
    DeviceError,
    device_enrol,
    device_provisioning_start,
    device_register,
    device_revoke,
)
from devices.services.enrolment import (
    ERROR_ENROL_EXPIRED,
    ERROR_ENROL_REVOKED,
    ERROR_ENROL_UNKNOWN,
    ERROR_ENROL_USED,
)
from devices.throttling import enrol_throttle_windows

pytestmark = pytest.mark.django_db

URL = reverse("devices-api:enrol")
HEARTBEAT_URL = reverse("devices-api:heartbeat")
HEARTBEAT = {
    "firmware_version": "1.1.0",
    "uptime_seconds": 5,
    "wifi_rssi": -60,
    "free_heap": 100000,
    "queue_depth": 0,
}
NOW = dt.datetime(2026, 6, 10, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


def enrol(token: str, **extra):
    return Client().post(URL, {"token": token, **extra}, content_type="application/json")


def heartbeat_with(key: str):
    client = Client(headers={"Authorization": f"Device {key}"})
    return client.post(HEARTBEAT_URL, HEARTBEAT, content_type="application/json")


def test_adding_a_cart_creates_the_device_and_a_code_kept_only_as_a_hash():
    provisioning = device_provisioning_start(name="Cart 12")

    token = EnrolmentToken.objects.get(device=provisioning.device)
    assert provisioning.device.name == "Cart 12"
    assert provisioning.token.startswith("sce_")
    assert token.token_hash == hashlib.sha256(provisioning.token.encode()).hexdigest()
    assert provisioning.token not in json.dumps(list(EnrolmentToken.objects.values()), default=str)
    assert token.expires_at == NOW + dt.timedelta(minutes=10)
    assert token.used_at is None


def test_the_cart_enrols_once_and_its_key_works():
    provisioning = device_provisioning_start(name="Cart 12")

    response = enrol(provisioning.token, firmware_version="1.1.0")

    assert response.status_code == 201, response.content
    answer = response.json()
    assert set(answer) == {"device_key", "device_name", "server_time"}
    assert answer["device_name"] == "Cart 12"
    assert answer["device_key"].startswith("scd_")
    assert heartbeat_with(answer["device_key"]).status_code == 200
    assert EnrolmentToken.objects.get().used_at == NOW


def test_a_used_code_is_refused_and_the_first_key_keeps_working():
    provisioning = device_provisioning_start(name="Cart 12")
    first = enrol(provisioning.token).json()["device_key"]

    again = enrol(provisioning.token)

    assert again.status_code == 403
    assert again.json()["detail"] == ERROR_ENROL_USED
    assert "device_key" not in again.json()
    assert heartbeat_with(first).status_code == 200


def test_an_expired_code_is_refused(clock):
    provisioning = device_provisioning_start(name="Cart 12")
    clock.shift(dt.timedelta(minutes=10))

    response = enrol(provisioning.token)

    assert response.status_code == 403
    assert response.json()["detail"] == ERROR_ENROL_EXPIRED
    assert EnrolmentToken.objects.get().used_at is None


def test_a_code_just_inside_its_ten_minutes_works(clock):
    provisioning = device_provisioning_start(name="Cart 12")
    clock.shift(dt.timedelta(minutes=10) - dt.timedelta(seconds=1))

    assert enrol(provisioning.token).status_code == 201


def test_a_forged_code_is_refused():
    device_provisioning_start(name="Cart 12")

    response = enrol("sce_" + "A" * 32)

    assert response.status_code == 403
    assert response.json()["detail"] == ERROR_ENROL_UNKNOWN


def test_a_code_for_a_revoked_device_is_refused_and_stays_unused():
    provisioning = device_provisioning_start(name="Cart 12")
    device_revoke(device=provisioning.device)

    response = enrol(provisioning.token)

    assert response.status_code == 403
    assert response.json()["detail"] == ERROR_ENROL_REVOKED
    assert EnrolmentToken.objects.get().used_at is None


def test_a_new_qr_for_a_device_ends_its_earlier_unused_code():
    first = device_provisioning_start(name="Cart 12")
    second = device_provisioning_start(device=first.device)

    assert enrol(first.token).json()["detail"] == ERROR_ENROL_UNKNOWN
    assert enrol(second.token).status_code == 201


def test_reprovisioning_an_existing_device_refuses_its_old_key_once_enrolled(device, device_key):
    provisioning = device_provisioning_start(device=device)
    assert heartbeat_with(device_key).status_code == 200  # until the new cart enrols

    new_key = enrol(provisioning.token).json()["device_key"]

    assert heartbeat_with(device_key).status_code == 401
    assert heartbeat_with(new_key).status_code == 200
    assert Device.objects.count() == 1


def test_a_revoked_device_cannot_be_provisioned_again(device):
    device_revoke(device=device)

    with pytest.raises(DeviceError):
        device_provisioning_start(device=device)


def test_enrolling_logs_neither_the_code_nor_the_key(caplog):
    provisioning = device_provisioning_start(name="Cart 12")
    with caplog.at_level(logging.DEBUG):
        key = enrol(provisioning.token).json()["device_key"]
        enrol(provisioning.token)

    assert provisioning.token not in caplog.text
    assert key not in caplog.text


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"token": ""},
        {"token": "not-a-code"},
        {"token": "sce_short"},
        {"token": 12345},
        {"token": "sce_" + "A" * 32, "firmware_version": "with space"},
    ],
)
def test_a_malformed_request_is_400_naming_the_field(body):
    response = Client().post(URL, body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["detail"] == ERROR_ENROL_INVALID
    assert response.json()["errors"]


def test_a_body_that_is_not_json_is_415():
    response = Client().post(URL, "token=x", content_type="application/x-www-form-urlencoded")

    assert response.status_code == 415


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_wrong_method_is_405(method):
    response = getattr(Client(), method)(URL)

    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_a_device_key_is_not_needed_and_does_not_help(device_client):
    response = device_client.post(
        URL, {"token": "sce_" + "B" * 32}, content_type="application/json"
    )

    assert response.status_code == 403


def test_the_schema_documents_enrolment_without_a_device_key(client):
    schema = yaml.safe_load(client.get(reverse("api-schema")).content)

    validate_schema(schema)
    operation = schema["paths"]["/api/devices/v1/enrol/"]["post"]
    assert operation.get("security") in ([], [{}], None)
    assert {"201", "400", "403"} <= set(operation["responses"])


# --- The provisioning payload --------------------------------------------------------------------


def test_the_payload_holds_the_stores_settings_and_the_code_but_no_key(settings):
    settings.CART_WIFI_SSID = "Store-Carts"
    settings.CART_WIFI_PASSWORD = "hunter2 hunter2"
    settings.CART_SERVER_URL = "https://shop.example.com/"
    settings.CART_CA_SHA256 = "ab" * 32
    provisioning = device_provisioning_start(name="Cart 12")

    text = provisioning_text(provisioning_payload_for(token=provisioning.token))

    assert json.loads(text) == {
        "smartcart": PROVISIONING_FORMAT,
        "wifi_ssid": "Store-Carts",
        "wifi_password": "hunter2 hunter2",
        "server_url": "https://shop.example.com",
        "token": provisioning.token,
        "ca_sha256": "ab" * 32,
    }
    assert "scd_" not in text
    assert provisioning_parse(text).token == provisioning.token


@pytest.mark.parametrize(
    "text",
    ["SC1:abc", "[]", '{"smartcart":"provision/2","token":"sce_x"}', '{"smartcart":"provision/1"}'],
)
def test_text_that_is_no_provisioning_payload_is_refused(text):
    with pytest.raises(ProvisioningInvalid):
        provisioning_parse(text)


def test_device_enrol_is_the_service_behind_the_endpoint():
    provisioning = device_provisioning_start(name="Cart 12")
    _, existing = device_register(name="Cart 13")

    device, key = device_enrol(token=provisioning.token)

    assert device == provisioning.device
    assert key != existing


def test_enrolments_have_one_budget_for_the_store_then_429(settings):
    settings.DEVICE_ENROL_THROTTLE_RATE = "2/min"
    cache.delete_many(enrol_throttle_windows().keys())  # earlier tests ran at the same moment
    forged = "sce_" + "C" * 32

    answers = [enrol(forged) for _ in range(3)]

    assert [answer.status_code for answer in answers] == [403, 403, 429]
    assert int(answers[2]["Retry-After"]) >= 1
    assert "throttled" in answers[2].json()["detail"]
