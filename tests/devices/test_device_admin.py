"""The devices admin: the list, registering a cart (key shown once), and the revoke and
rotate-key actions, each asking for confirmation first."""

from datetime import datetime, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from devices.admin import (
    CONFIRMATION_TEMPLATE,
    MESSAGE_KEY_ISSUED,
    MESSAGE_KEY_NOT_SHOWN_AGAIN,
    MESSAGE_REVOKED,
)
from devices.models import Device, DeviceRestart, ScanEvent
from devices.selectors import device_authenticate
from devices.services import ERROR_DEVICE_REVOKED, device_register, device_revoke

pytestmark = pytest.mark.django_db

LIST_URL = reverse("admin:devices_device_changelist")
ADD_URL = reverse("admin:devices_device_add")


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def _key_from(messages: list[str], name: str) -> str:
    prefix = MESSAGE_KEY_ISSUED.format(name=name, key="")
    (key,) = [message.removeprefix(prefix) for message in messages if message.startswith(prefix)]
    return key


def _act(client, action: str, devices: list[Device], *, confirmed: bool):
    data = {"action": action, ACTION_CHECKBOX_NAME: [device.pk for device in devices]}
    if confirmed:
        data["post"] = "yes"
    return client.post(LIST_URL, data, follow=confirmed)


def test_the_list_shows_each_devices_health(staff_client, device):
    Device.objects.filter(pk=device.pk).update(
        last_seen_at=timezone.now(), firmware_version="1.4.2", wifi_rssi=-61, free_heap=141312
    )
    device_register(name="Cart 2")  # never heard from: offline

    response = staff_client.get(LIST_URL)

    assert response.status_code == 200
    page = response.content.decode()
    for text in ("Cart 1", "Cart 2", "1.4.2", "-61", "141312", "Online", "Revoked"):
        assert text in page
    online = {d.name: d.is_online for d in response.context["cl"].result_list}
    assert online == {"Cart 1": True, "Cart 2": False}


def test_the_list_costs_the_same_queries_for_many_devices(staff_client):
    device_register(name="Cart 1")
    with CaptureQueriesContext(connection) as one:
        assert staff_client.get(LIST_URL).status_code == 200
    for number in range(2, 12):
        device_register(name=f"Cart {number}")

    with CaptureQueriesContext(connection) as many:
        assert staff_client.get(LIST_URL).status_code == 200

    assert len(many) == len(one)


def test_a_store_clerk_cannot_open_the_devices_admin(clerk_client, device):
    assert clerk_client.get(LIST_URL).status_code == 403


def test_the_add_form_asks_only_for_the_name(staff_client):
    response = staff_client.get(ADD_URL)

    assert response.status_code == 200
    assert list(response.context["adminform"].form.fields) == ["name"]


def test_adding_a_device_shows_its_key_once_and_stores_only_its_hash(staff_client):
    response = staff_client.post(ADD_URL, {"name": "Cart 12"}, follow=True)

    assert response.status_code == 200
    messages = _messages(response)
    key = _key_from(messages, "Cart 12")
    assert MESSAGE_KEY_NOT_SHOWN_AGAIN in messages
    device = Device.objects.get(name="Cart 12")
    assert device_authenticate(key) == device
    assert key not in str(Device.objects.filter(pk=device.pk).values().get())
    assert key not in staff_client.get(LIST_URL).content.decode()  # shown once, not again


def test_adding_a_duplicate_name_is_refused_by_the_form(staff_client, device):
    response = staff_client.post(ADD_URL, {"name": device.name})

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["name"]
    assert Device.objects.count() == 1


def test_the_change_page_shows_the_health_read_only(staff_client, device):
    response = staff_client.get(reverse("admin:devices_device_change", args=[device.pk]))

    assert response.status_code == 200
    assert list(response.context["adminform"].form.fields) == ["name"]


def test_the_change_page_shows_the_carts_health_and_its_recent_starts(staff_client, device):
    booted = timezone.now() - timedelta(hours=1)
    Device.objects.filter(pk=device.pk).update(
        reset_reason=Device.ResetReason.TASK_WATCHDOG,
        booted_at=booted,
        free_psram=3407872,
        failed_captures=4,
        camera_ok=False,
    )
    DeviceRestart.objects.create(
        device=device, reason=Device.ResetReason.TASK_WATCHDOG, booted_at=booted
    )

    page = staff_client.get(reverse("admin:devices_device_change", args=[device.pk])).content
    page = page.decode()

    assert "task watchdog (a hung loop)" in page
    assert "3407872" in page
    assert "Free PSRAM (bytes)" in page
    assert "Failed captures" in page
    assert "Camera working" in page
    assert f"<li>{timezone.localtime(booted):%Y-%m-%d %H:%M} — task watchdog" in page


def test_revoke_asks_for_confirmation_first(staff_client, device):
    response = _act(staff_client, "revoke", [device], confirmed=False)

    assert response.status_code == 200
    assert CONFIRMATION_TEMPLATE in [t.name for t in response.templates]
    assert device.name in response.content.decode()
    device.refresh_from_db()
    assert device.revoked_at is None


def test_revoke_once_confirmed_refuses_the_key(staff_client, device, device_key):
    other, other_key = device_register(name="Cart 2")

    response = _act(staff_client, "revoke", [device], confirmed=True)

    assert MESSAGE_REVOKED.format(count=1) in _messages(response)
    assert device_authenticate(device_key) is None
    assert device_authenticate(other_key) == other


def test_rotate_key_asks_for_confirmation_first(staff_client, device):
    response = _act(staff_client, "rotate_key", [device], confirmed=False)

    assert response.status_code == 200
    assert CONFIRMATION_TEMPLATE in [t.name for t in response.templates]
    device.refresh_from_db()
    assert device.previous_key_hash == ""


def test_rotate_key_once_confirmed_shows_the_new_key_once(staff_client, device, device_key):
    response = _act(staff_client, "rotate_key", [device], confirmed=True)

    messages = _messages(response)
    new_key = _key_from(messages, device.name)
    assert MESSAGE_KEY_NOT_SHOWN_AGAIN in messages
    assert device_authenticate(new_key) == device
    assert device_authenticate(device_key) == device  # still in its grace
    device.refresh_from_db()
    assert device.previous_key_valid_until > timezone.now() + timedelta(seconds=1)


def test_rotating_a_revoked_device_is_reported_not_done(staff_client, device):
    device_revoke(device=device)

    response = _act(staff_client, "rotate_key", [device], confirmed=True)

    assert ERROR_DEVICE_REVOKED.format(name=device.name) in _messages(response)
    device.refresh_from_db()
    assert device.previous_key_hash == ""


@override_settings(TIME_ZONE="Europe/Berlin")
def test_todays_scans_are_counted_from_the_stores_midnight(staff_client, device, time_machine):
    time_machine.move_to(datetime(2026, 6, 10, 0, 2, tzinfo=ZoneInfo("Europe/Berlin")), tick=False)
    for minutes_ago in (1, 4):  # 00:01 today and 23:58 yesterday, on the store's clock
        event = ScanEvent.objects.create(device=device, scan_id=uuid4(), body_hash="x")
        ago = timezone.now() - timedelta(minutes=minutes_ago)
        ScanEvent.objects.filter(pk=event.pk).update(created_at=ago)

    page = staff_client.get("/admin/devices/device/").content.decode()

    assert '<td class="field-scans_today">1</td>' in page


def test_device_list_counts_todays_scans(staff_client, device):
    for _ in range(3):
        ScanEvent.objects.create(device=device, scan_id=uuid4(), body_hash="x", status=201)
    old = ScanEvent.objects.create(device=device, scan_id=uuid4(), body_hash="x", status=201)
    ScanEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))

    page = staff_client.get("/admin/devices/device/").content.decode()

    assert '<td class="field-scans_today">3</td>' in page
