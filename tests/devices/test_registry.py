"""Device registry: keys issued once and stored only as prefix + hash, rotation, revocation,
heartbeat records, online state, the register_device command and the managers' permissions."""

import hashlib
import re
from datetime import timedelta
from io import StringIO
from unittest import mock

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection
from django.utils import timezone

from catalog.staff_groups import STORE_MANAGER
from devices import selectors
from devices.management.commands.register_device import (
    ERROR_NAME_TAKEN,
    MESSAGE_WHERE_TO_PUT_IT,
)
from devices.models import Device
from devices.selectors import device_authenticate
from devices.services import (
    ERROR_DEVICE_REVOKED,
    DeviceError,
    device_heartbeat_record,
    device_register,
    device_revoke,
    device_rotate_key,
)

pytestmark = pytest.mark.django_db

KEY_SHAPE = re.compile(r"^scd_([0-9a-f]{8})_([A-Za-z0-9_-]{43,})$")  # 43 chars = 32 bytes


def _row_values(device: Device) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {Device._meta.db_table} WHERE id = %s", [device.pk])  # noqa: S608
        return [str(value) for value in cursor.fetchone()]


def test_register_returns_a_high_entropy_key_of_the_documented_shape():
    device, key = device_register(name="Cart 7")
    _, other_key = device_register(name="Cart 8")

    match = KEY_SHAPE.match(key)
    assert match, key
    assert match.group(1) == device.key_prefix
    assert key != other_key


def test_the_raw_key_is_stored_in_no_column():
    device, key = device_register(name="Cart 7")
    secret = key.rsplit("_", 1)[1]

    values = _row_values(device)

    assert not any(key in value or secret in value for value in values)
    assert device.key_hash == hashlib.sha256(key.encode()).hexdigest()


def test_register_refuses_a_duplicate_name():
    device_register(name="Cart 7")

    with pytest.raises(IntegrityError):
        device_register(name="Cart 7")


def test_authenticate_finds_the_device_of_its_current_key(device, device_key):
    assert device_authenticate(device_key) == device


@pytest.mark.parametrize(
    "presented",
    [
        "",
        "scd_",
        "scd_deadbeef",
        "token_deadbeef_secret",
        "scd_00000000_" + "A" * 43,  # unknown prefix
    ],
)
def test_authenticate_refuses_malformed_and_unknown_keys(device, presented):
    assert device_authenticate(presented) is None


def test_authenticate_refuses_a_wrong_secret_behind_a_right_prefix(device, device_key):
    forged = device_key[:-4] + ("AAAA" if not device_key.endswith("AAAA") else "BBBB")

    assert device_authenticate(forged) is None


def test_authenticate_compares_hashes_in_constant_time(device, device_key):
    with mock.patch.object(
        selectors.hmac, "compare_digest", wraps=selectors.hmac.compare_digest
    ) as compare:
        assert device_authenticate(device_key) == device

    compare.assert_called_with(device.key_hash, hashlib.sha256(device_key.encode()).hexdigest())


def test_a_revoked_device_is_refused_and_revoking_again_keeps_the_first_time(device, device_key):
    device_revoke(device=device)
    revoked_at = device.revoked_at
    device_revoke(device=device)

    assert device_authenticate(device_key) is None
    device.refresh_from_db()
    assert device.revoked_at == revoked_at is not None


def test_rotation_gives_a_new_key_and_keeps_the_old_one_for_the_grace(device, device_key, settings):
    settings.DEVICE_KEY_ROTATION_GRACE = 600

    new_key = device_rotate_key(device=device)

    assert new_key != device_key
    assert device_authenticate(new_key) == device
    assert device_authenticate(device_key) == device
    expected_end = timezone.now() + timedelta(seconds=600)
    assert abs(device.previous_key_valid_until - expected_end) < timedelta(seconds=5)
    assert new_key not in _row_values(device)


def test_the_old_key_is_refused_once_the_grace_is_over(device, device_key):
    device_rotate_key(device=device)
    Device.objects.filter(pk=device.pk).update(
        previous_key_valid_until=timezone.now() - timedelta(seconds=1)
    )

    assert device_authenticate(device_key) is None


def test_the_old_key_is_refused_when_time_passes_the_grace(device, device_key, settings):
    settings.DEVICE_KEY_ROTATION_GRACE = 60
    device_rotate_key(device=device)
    later = timezone.now() + timedelta(seconds=61)

    with mock.patch("django.utils.timezone.now", return_value=later):
        assert device_authenticate(device_key) is None


def test_rotating_twice_ends_the_first_keys_grace(device, device_key):
    second = device_rotate_key(device=device)
    third = device_rotate_key(device=device)

    assert device_authenticate(device_key) is None
    assert device_authenticate(second) == device
    assert device_authenticate(third) == device


def test_a_revoked_device_cannot_be_rotated_back_to_life(device):
    device_revoke(device=device)

    with pytest.raises(DeviceError) as refused:
        device_rotate_key(device=device)

    assert str(refused.value) == ERROR_DEVICE_REVOKED.format(name=device.name)


def test_heartbeat_record_stores_the_reported_health_and_the_time(device):
    device_heartbeat_record(
        device=device,
        firmware_version="1.4.2",
        uptime_seconds=3600,
        wifi_rssi=-61,
        free_heap=141312,
        queue_depth=3,
    )

    device.refresh_from_db()
    assert (device.firmware_version, device.uptime_seconds, device.wifi_rssi) == (
        "1.4.2",
        3600,
        -61,
    )
    assert (device.free_heap, device.queue_depth) == (141312, 3)
    assert timezone.now() - device.last_seen_at < timedelta(seconds=5)


def test_a_device_is_online_until_it_has_been_silent_for_the_offline_limit(device, settings):
    settings.DEVICE_OFFLINE_AFTER = 180
    assert device.is_online is False  # never heard from

    device.last_seen_at = timezone.now() - timedelta(seconds=170)
    assert device.is_online is True

    device.last_seen_at = timezone.now() - timedelta(seconds=190)
    assert device.is_online is False


def test_register_device_command_prints_the_key_once_with_where_to_put_it(capsys):
    call_command("register_device", "Cart 9")

    output = capsys.readouterr().out
    keys = [line for line in output.splitlines() if KEY_SHAPE.match(line)]
    assert len(keys) == 1
    assert device_authenticate(keys[0]) == Device.objects.get(name="Cart 9")
    assert MESSAGE_WHERE_TO_PUT_IT in output
    assert "cannot be shown again" in MESSAGE_WHERE_TO_PUT_IT
    assert "provisioning" in MESSAGE_WHERE_TO_PUT_IT


def test_register_device_command_refuses_a_duplicate_name(device):
    with pytest.raises(CommandError) as refused:
        call_command("register_device", device.name)

    assert str(refused.value) == ERROR_NAME_TAKEN.format(name=device.name)
    assert Device.objects.filter(name=device.name).count() == 1


@pytest.mark.parametrize(
    ("name", "error"),
    [("   ", "This field cannot be blank."), ("C" * 81, "at most 80 characters (it has 81)")],
)
def test_register_device_command_refuses_a_blank_or_too_long_name(name, error):
    with pytest.raises(CommandError, match=r"^The device's name: .*" + re.escape(error)):
        call_command("register_device", name)

    assert not Device.objects.exists()


def test_register_device_command_takes_the_name_without_surrounding_spaces():
    call_command("register_device", "  Cart 10 ", stdout=StringIO())

    assert Device.objects.get().name == "Cart 10"


def test_store_managers_hold_every_device_permission():
    # The test database is built by the migrations, so this is what the migration left.
    codenames = set(
        Group.objects.get(name=STORE_MANAGER)
        .permissions.filter(content_type__app_label="devices")
        .values_list("codename", flat=True)
    )

    assert codenames >= {"add_device", "change_device", "delete_device", "view_device"}
