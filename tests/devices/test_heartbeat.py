"""``POST /api/devices/v1/heartbeat/``: the cart reports its health and learns the server time
and what to show on its display."""

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.validation import validate_schema

from devices.api import DISPLAY_LINE_MAX, DISPLAY_UNPAIRED, ERROR_HEARTBEAT_INVALID
from devices.models import Device, DeviceRestart

pytestmark = pytest.mark.django_db

URL = reverse("devices-api:heartbeat")
# What firmware 1.0.0 sends; carts still running it must keep being understood.
HEARTBEAT_1_0 = {
    "firmware_version": "1.0.0",
    "uptime_seconds": 86400,
    "wifi_rssi": -61,
    "free_heap": 141312,
    "queue_depth": 2,
}
HEARTBEAT = {
    **HEARTBEAT_1_0,
    "firmware_version": "1.4.2",
    "reset_reason": "task_watchdog",
    "free_psram": 3407872,
    "failed_captures": 3,
    "camera_ok": True,
}
RESET_REASONS = (
    Path(__file__).resolve().parents[1] / "fixtures" / "devices" / "cart" / "reset_reasons.json"
)


def _post(client, body=HEARTBEAT, content_type="application/json"):
    return client.post(URL, body, content_type=content_type)


def test_a_heartbeat_is_recorded_and_answered_with_time_pairing_and_display(device_client, device):
    response = _post(device_client)

    assert response.status_code == 200
    answer = response.json()
    assert set(answer) == {"server_time", "paired", "display", "update"}
    assert answer["update"] is None  # no release rolling out
    assert answer["server_time"].endswith("Z")
    server_time = dt.datetime.fromisoformat(answer["server_time"])
    assert abs(server_time - timezone.now()) < dt.timedelta(seconds=5)
    assert answer["paired"] is False
    assert answer["display"] == list(DISPLAY_UNPAIRED)
    assert all(len(line) <= DISPLAY_LINE_MAX for line in answer["display"])
    device.refresh_from_db()
    reported = {field: getattr(device, field) for field in HEARTBEAT}
    assert reported == HEARTBEAT
    assert device.is_online


def test_server_time_is_utc_whatever_the_store_time_zone(device_client, settings):
    settings.TIME_ZONE = "Europe/Berlin"

    assert _post(device_client).json()["server_time"].endswith("Z")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"wifi_rssi": 5}, "wifi_rssi"),
        ({"wifi_rssi": -200}, "wifi_rssi"),
        ({"uptime_seconds": -1}, "uptime_seconds"),
        ({"uptime_seconds": 2**32}, "uptime_seconds"),
        ({"free_heap": 2**31}, "free_heap"),
        ({"queue_depth": -3}, "queue_depth"),
        ({"queue_depth": "lots"}, "queue_depth"),
        ({"firmware_version": "x" * 33}, "firmware_version"),
        ({"firmware_version": "1.4 beta"}, "firmware_version"),
        ({"firmware_version": ""}, "firmware_version"),
        ({"free_heap": None}, "free_heap"),
        ({"reset_reason": "gremlins"}, "reset_reason"),
        ({"reset_reason": ""}, "reset_reason"),
        ({"reset_reason": 6}, "reset_reason"),
        ({"free_psram": -1}, "free_psram"),
        ({"free_psram": 2**31}, "free_psram"),
        ({"failed_captures": -1}, "failed_captures"),
        ({"failed_captures": "many"}, "failed_captures"),
        ({"camera_ok": "maybe"}, "camera_ok"),
        ({"camera_ok": None}, "camera_ok"),
    ],
)
def test_bad_input_is_400_with_a_json_reason_and_records_no_health(
    device_client, device, change, field
):
    response = _post(device_client, {**HEARTBEAT, **change})

    assert response.status_code == 400
    assert response.json()["detail"] == ERROR_HEARTBEAT_INVALID
    assert field in response.json()["errors"]
    device.refresh_from_db()
    assert (device.firmware_version, device.uptime_seconds, device.wifi_rssi) == ("", None, None)
    assert device.last_seen_at is not None  # the cart sent something: it is alive


def test_a_missing_field_is_400_naming_it(device_client):
    body = {key: value for key, value in HEARTBEAT.items() if key != "wifi_rssi"}

    response = _post(device_client, body)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["wifi_rssi"]


@pytest.mark.parametrize("body", ["[1, 2]", '"hello"', "null"])
def test_json_that_is_not_an_object_is_400(device_client, body):
    response = _post(device_client, body)

    assert response.status_code == 400
    assert response.json()["detail"] == ERROR_HEARTBEAT_INVALID


def test_malformed_json_is_400_with_a_json_reason(device_client):
    response = _post(device_client, '{"firmware_version": ')

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "JSON parse error" in response.json()["detail"]


@pytest.mark.parametrize(
    "content_type", ["text/plain", "image/jpeg", "application/x-www-form-urlencoded"]
)
def test_a_body_that_is_not_json_is_415(device_client, content_type):
    response = _post(device_client, "firmware_version=1.4.2", content_type=content_type)

    assert response.status_code == 415
    assert "detail" in response.json()


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_wrong_method_is_405(device_client, method):
    response = getattr(device_client, method)(URL)

    assert response.status_code == 405
    assert "detail" in response.json()


def test_a_heartbeat_costs_a_fixed_number_of_queries(
    device_client, django_assert_max_num_queries, time_machine
):
    time_machine.move_to(dt.datetime(2026, 6, 10, 12, 0, tzinfo=dt.UTC), tick=False)
    # The first heartbeat of a start also records the restart (an UPDATE and an INSERT in a
    # savepoint).
    with django_assert_max_num_queries(9):
        assert _post(device_client).status_code == 200
    time_machine.shift(dt.timedelta(seconds=60))
    # A running cart's: find the device by key, mark it seen (at most every 30 s), store its
    # health, its pairing, the releases rolling out (for the update offer).
    with django_assert_max_num_queries(5):
        body = {**HEARTBEAT, "uptime_seconds": 86400 + 60}
        assert _post(device_client, body).status_code == 200


def test_the_schema_documents_the_heartbeat_with_an_example_and_the_device_key(client):
    schema = yaml.safe_load(client.get(reverse("api-schema")).content)

    validate_schema(schema)
    operation = schema["paths"]["/api/devices/v1/heartbeat/"]["post"]
    example = operation["requestBody"]["content"]["application/json"]["examples"]["Heartbeat"]
    assert set(example["value"]) == set(HEARTBEAT)
    assert operation["security"] == [{"deviceKey": []}]
    assert {"200", "400", "401", "415", "429"} <= set(operation["responses"])
    answer = schema["components"]["schemas"]["DeviceHeartbeatAnswer"]
    assert set(answer["required"]) == {"server_time", "paired", "display", "update"}


def test_a_heartbeat_from_firmware_1_0_is_still_taken(device_client, device):
    response = _post(device_client, HEARTBEAT_1_0)

    assert response.status_code == 200
    device.refresh_from_db()
    assert device.firmware_version == "1.0.0"
    assert (device.reset_reason, device.free_psram, device.camera_ok) == ("", None, None)


def test_the_reset_reasons_are_the_firmwares_in_its_order():
    assert json.loads(RESET_REASONS.read_text()) == [
        value for value, _ in Device.ResetReason.choices
    ]


@pytest.fixture
def at_noon(time_machine):
    time_machine.move_to(dt.datetime(2026, 6, 10, 12, 0, tzinfo=dt.UTC), tick=False)
    return time_machine


def _beat(client, uptime, **fields):
    assert _post(client, {**HEARTBEAT, "uptime_seconds": uptime, **fields}).status_code == 200


def test_the_first_heartbeat_of_a_start_records_the_restart_and_its_reason(
    device_client, device, at_noon
):
    _beat(device_client, 90, reset_reason="task_watchdog")

    restart = DeviceRestart.objects.get(device=device)
    assert restart.reason == Device.ResetReason.TASK_WATCHDOG
    assert restart.booted_at == timezone.now() - dt.timedelta(seconds=90)
    device.refresh_from_db()
    assert device.booted_at == restart.booted_at
    assert device.reset_reason == "task_watchdog"


def test_later_heartbeats_of_the_same_start_record_nothing_more(device_client, device, at_noon):
    _beat(device_client, 90)
    for minute in range(1, 4):
        at_noon.shift(dt.timedelta(seconds=61))  # a little late each time
        _beat(device_client, 90 + minute * 60)

    assert DeviceRestart.objects.filter(device=device).count() == 1


def test_an_uptime_that_went_down_is_a_new_start(device_client, device, at_noon):
    _beat(device_client, 40, reset_reason="power_on")
    at_noon.shift(dt.timedelta(seconds=60))
    _beat(device_client, 15, reset_reason="wifi_watchdog")

    reasons = list(DeviceRestart.objects.filter(device=device).values_list("reason", flat=True))
    assert reasons == ["wifi_watchdog", "power_on"]


def test_a_start_after_a_long_silence_is_seen_even_with_a_longer_uptime(
    device_client, device, at_noon
):
    _beat(device_client, 30, reset_reason="power_on")
    at_noon.shift(dt.timedelta(hours=2))  # the cart restarted an hour ago and was offline since
    _beat(device_client, 3600, reset_reason="brownout")

    assert DeviceRestart.objects.filter(device=device, reason="brownout").exists()
