"""Device keys remembered per process (devices.key_cache): a scanning cart's requests read no
device row, and rotating or revoking a key still takes effect at once in the process that did
it, on the next request in every other process that shares the cache, and within
``DEVICE_KEY_CACHE_SECONDS`` in any process.

"Another process" is played here by this process's own memory put back as it was before the
change: the change reached the database and the shared cache, as it does from another process,
but not this process's entries."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from devices import key_cache
from devices.authentication import ERROR_KEY_INVALID
from devices.models import Device
from devices.services import device_key_hash, device_revoke, device_rotate_key
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


def post(key: str):
    return Client().post(
        URL, HEARTBEAT, content_type="application/json", headers={"Authorization": f"Device {key}"}
    )


def device_reads(queries: CaptureQueriesContext) -> list[str]:
    """The SELECTs of devices_device among ``queries`` (the key's look-up)."""
    return [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].startswith("SELECT") and "devices_device" in query["sql"]
    ]


def assert_refused(response) -> None:
    assert response.status_code == 401
    assert response.json() == refusal(response, ERROR_KEY_INVALID)


@pytest.fixture
def clock(monkeypatch):
    """The key cache's clock, moved by hand (Django's clock is not touched)."""

    class Clock:
        now = 1000.0

        def advance(self, seconds: float) -> None:
            self.now += seconds

    moving = Clock()
    monkeypatch.setattr(key_cache, "clock", lambda: moving.now)
    return moving


def remembered(key: str) -> key_cache.KnownKey:
    known = key_cache.device_known(device_key_hash(key))
    assert known is not None, "the key is not remembered"
    return known


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Runs a change as if its transaction committed (the test's own never does)."""

    def run(change, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return change(**kwargs)

    return run


def as_another_process(*entries: tuple[str, key_cache.KnownKey]) -> None:
    """Put back entries this process had before a change made "elsewhere"."""
    for key, known in entries:
        key_cache.device_key_remember(device_key_hash(key), known)


# --- What is remembered -------------------------------------------------------------------------


def test_a_known_key_reads_no_device_row(device, device_key, clock):
    with CaptureQueriesContext(connection) as first:
        assert post(device_key).status_code == 200
    with CaptureQueriesContext(connection) as second:
        assert post(device_key).status_code == 200

    assert len(device_reads(first)) == 1
    assert device_reads(second) == []


def test_the_device_is_read_again_after_the_cache_seconds(device, device_key, clock, settings):
    assert post(device_key).status_code == 200
    clock.advance(settings.DEVICE_KEY_CACHE_SECONDS)

    with CaptureQueriesContext(connection) as queries:
        assert post(device_key).status_code == 200

    assert len(device_reads(queries)) == 1


def test_a_wrong_key_is_never_remembered(device, device_key):
    forged = device_key[:-4] + ("AAAA" if not device_key.endswith("AAAA") else "BBBB")

    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            assert_refused(post(forged))
        assert len(device_reads(queries)) == 1
    assert key_cache.device_known(device_key_hash(forged)) is None


# --- Revoking -----------------------------------------------------------------------------------


def test_revoking_refuses_the_key_in_this_process_from_the_next_request(device, device_key):
    assert post(device_key).status_code == 200  # remembered

    device_revoke(device=device)

    assert_refused(post(device_key))


def test_revoking_elsewhere_refuses_the_key_on_the_next_request_through_the_shared_cache(
    device, device_key, clock, committed
):
    assert post(device_key).status_code == 200
    before = remembered(device_key)

    committed(device_revoke, device=device)  # another process: the database and the shared cache
    as_another_process((device_key, before))  # this one still has its entry

    assert_refused(post(device_key))


def test_without_a_shared_cache_a_key_revoked_elsewhere_is_refused_within_the_cache_seconds(
    device, device_key, clock, settings, committed
):
    assert post(device_key).status_code == 200
    before = remembered(device_key)
    committed(device_revoke, device=device)
    cache.clear()  # no Redis, or Redis down: the stamp never reaches this process
    as_another_process((device_key, before))

    clock.advance(settings.DEVICE_KEY_CACHE_SECONDS - 0.5)
    assert post(device_key).status_code == 200  # the bound, not beyond it

    clock.advance(0.5)
    assert_refused(post(device_key))


def test_the_stamp_is_written_once_the_change_commits(
    device, device_key, django_capture_on_commit_callbacks
):
    stamp_key = key_cache.device_key_stamp_key(device_key_hash(device_key))

    with django_capture_on_commit_callbacks(execute=True):
        device_revoke(device=device)
        assert cache.get(stamp_key) is None

    assert cache.get(stamp_key) is not None


@pytest.mark.parametrize("how", ["page", "action"])
def test_deleting_a_device_in_the_admin_refuses_its_key_at_once(
    device, device_key, staff_client, how
):
    assert post(device_key).status_code == 200  # remembered

    if how == "page":
        url = reverse("admin:devices_device_delete", args=[device.pk])
        response = staff_client.post(url, {"post": "yes"})
    else:
        data = {"action": "delete_selected", "post": "yes", "_selected_action": [device.pk]}
        response = staff_client.post(reverse("admin:devices_device_changelist"), data)

    assert response.status_code == 302
    assert not Device.objects.exists()
    assert_refused(post(device_key))


# --- Rotating -----------------------------------------------------------------------------------


def test_a_key_rotated_elsewhere_keeps_its_grace_and_loses_it_when_time_is_up(
    device, device_key, settings, time_machine, committed
):
    assert post(device_key).status_code == 200  # remembered as the current key, no deadline
    before = remembered(device_key)

    new_key = committed(device_rotate_key, device=device)
    as_another_process((device_key, before))

    assert post(device_key).status_code == 200  # read again: the previous key, in its grace
    assert remembered(device_key).grace_until == Device.objects.get().previous_key_valid_until
    assert post(new_key).status_code == 200
    time_machine.move_to(timezone.now(), tick=True)
    time_machine.shift(timedelta(seconds=settings.DEVICE_KEY_ROTATION_GRACE + 1))
    assert_refused(post(device_key))


def test_rotating_twice_refuses_the_first_key_at_once_even_where_it_is_remembered(
    device, device_key, committed
):
    second = committed(device_rotate_key, device=device)
    assert post(device_key).status_code == 200  # in its grace, remembered as such
    before = remembered(device_key)

    third = committed(device_rotate_key, device=device)  # the first key's grace ends now
    as_another_process((device_key, before))

    assert_refused(post(device_key))
    assert post(second).status_code == 200
    assert post(third).status_code == 200
