"""The staff dashboard: today's orders and revenue, carts online, scans and decode failures."""

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from devices.models import Device, DeviceRestart, ScanEvent, UnknownCode
from devices.selectors import devices_online_count, fleet_health, scan_activity
from devices.services import device_register
from orders.models import Order, order_number_new
from orders.selectors import sales_summary
from tests.factories import BarcodeFactory

pytestmark = pytest.mark.django_db

URL = "/admin/dashboard/"
# The tests own their clock: a figure about "today" must not depend on the hour they run at.
NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


def scan(device: Device, result: str, *, photo: bool = True, ago: timedelta = timedelta()):
    event = ScanEvent.objects.create(
        device=device,
        scan_id=uuid.uuid4(),
        body_hash="0" * 64,
        result=result,
        decode_ms=4.0 if photo else None,
    )
    ScanEvent.objects.filter(pk=event.pk).update(created_at=timezone.now() - ago)


def order(status: str, total: str, *, paid_ago: timedelta | None, refunded: str = "0.00"):
    return Order.objects.create(
        number=order_number_new(),
        cart_version=1,
        status=status,
        currency="EUR",
        subtotal=Decimal(total),
        total=Decimal(total),
        refunded_amount=Decimal(refunded),
        expires_at=timezone.now() + timedelta(minutes=30),
        paid_at=timezone.now() - paid_ago if paid_ago is not None else None,
    )


def test_scan_activity_counts_failures_among_photos_only(device):
    scan(device, ScanEvent.Result.ADDED)
    scan(device, ScanEvent.Result.NO_BARCODE)
    scan(device, ScanEvent.Result.UNKNOWN_PRODUCT, photo=False)
    scan(device, ScanEvent.Result.ADDED, photo=False, ago=timedelta(hours=2))
    scan(device, ScanEvent.Result.NO_BARCODE, ago=timedelta(days=2))  # too old

    activity = scan_activity(since=NOW - timedelta(hours=12))

    assert (activity.scans, activity.photo_scans, activity.unread_photos) == (4, 2, 1)
    assert activity.unknown_products == 1
    assert activity.decode_failure_rate == 0.5
    assert sum(count for _, count in activity.per_hour) == 4
    assert [count for _, count in activity.per_hour][-1] == 3


def test_no_photos_means_no_failure_rate():
    assert scan_activity(since=NOW).decode_failure_rate is None


def test_carts_online_are_those_heard_from_lately(device, settings):
    quiet, _ = device_register(name="Cart 2")
    revoked, _ = device_register(name="Cart 3")
    Device.objects.filter(pk=device.pk).update(last_seen_at=NOW)
    Device.objects.filter(pk=quiet.pk).update(
        last_seen_at=NOW - timedelta(seconds=settings.DEVICE_OFFLINE_AFTER + 1)
    )
    Device.objects.filter(pk=revoked.pk).update(last_seen_at=NOW, revoked_at=NOW)

    assert devices_online_count(now=NOW) == (1, 2)


def test_sales_count_what_was_paid_since_less_refunds():
    order(Order.Status.PAID, "10.00", paid_ago=timedelta(hours=1))
    order(Order.Status.PARTIALLY_REFUNDED, "20.00", paid_ago=timedelta(hours=2), refunded="5.00")
    order(Order.Status.PAID, "99.00", paid_ago=timedelta(days=2))
    order(Order.Status.PENDING, "7.00", paid_ago=None)

    summary = sales_summary(since=NOW - timedelta(hours=12))

    assert summary.orders_paid == 2
    assert summary.revenue == Decimal("25.00")
    assert summary.orders_pending == 1


def test_staff_see_the_figures(staff_client, device):
    scan(device, ScanEvent.Result.NO_BARCODE)
    scan(device, ScanEvent.Result.ADDED)
    UnknownCode.objects.create(gtin="04006381333931")
    order(Order.Status.PAID, "12.50", paid_ago=timedelta(minutes=5))

    response = staff_client.get(URL)

    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="orders-paid">1<' in page
    assert "€12.50" in page
    assert 'id="decode-failures">50 %<' in page
    assert 'id="scans">2<' in page
    assert ">1</a>" in page  # unknown codes, linked to their list


def test_unknown_codes_a_product_has_since_been_given_are_not_counted(staff_client):
    UnknownCode.objects.create(gtin="04006381333931")
    UnknownCode.objects.create(gtin="00000096385074")
    BarcodeFactory(gtin="04006381333931")

    page = staff_client.get(URL).content.decode()

    unknown_codes = reverse("admin:devices_unknowncode_changelist")
    assert f'id="unknown-codes"><a href="{unknown_codes}">1</a>' in page


@override_settings(TIME_ZONE="Europe/Berlin")
def test_today_is_the_stores_local_day_just_after_its_midnight(staff_client, clock):
    just_after_midnight = datetime(2026, 6, 10, 0, 2, tzinfo=BERLIN)  # 22:02 UTC the day before
    clock.move_to(just_after_midnight, tick=False)
    order(Order.Status.PAID, "9.00", paid_ago=timedelta(minutes=5))  # yesterday, in Berlin
    order(Order.Status.PAID, "4.00", paid_ago=timedelta(minutes=1))

    page = staff_client.get(URL).content.decode()

    assert 'id="orders-paid">1<' in page
    assert "€4.00" in page


@override_settings(TIME_ZONE="Europe/Berlin")
def test_today_spans_the_morning_the_clocks_go_forward(staff_client, clock):
    # 29 March 2026: Berlin goes from 02:00 to 03:00; the day began at 00:00 +01:00.
    clock.move_to(datetime(2026, 3, 29, 10, 0, tzinfo=BERLIN), tick=False)
    order(Order.Status.PAID, "7.00", paid_ago=timedelta(hours=8, minutes=30))  # 00:30 today
    order(Order.Status.PAID, "3.00", paid_ago=timedelta(hours=9, minutes=30))  # 23:30 before

    page = staff_client.get(URL).content.decode()

    assert 'id="orders-paid">1<' in page
    assert "€7.00" in page


def test_the_admin_index_links_to_the_dashboard(staff_client):
    assert 'id="dashboard-link"' in staff_client.get("/admin/").content.decode()


def test_clerks_may_look_too(clerk_client):
    assert clerk_client.get(URL).status_code == 200


def test_shoppers_and_visitors_are_kept_out(alice_client, client):
    assert alice_client.get(URL).status_code == 302  # to the admin login
    assert client.get(URL).status_code == 302


def restart(device: Device, reason: str, *, ago: timedelta) -> None:
    DeviceRestart.objects.create(device=device, reason=reason, booted_at=NOW - ago)


def test_carts_restarted_by_a_watchdog_today_are_counted_once_each(device):
    other, _ = device_register(name="Cart 2")
    powered, _ = device_register(name="Cart 3")
    revoked, _ = device_register(name="Cart 4")
    restart(device, Device.ResetReason.TASK_WATCHDOG, ago=timedelta(hours=1))
    restart(device, Device.ResetReason.TASK_WATCHDOG, ago=timedelta(hours=2))  # the same cart again
    restart(other, Device.ResetReason.WIFI_WATCHDOG, ago=timedelta(hours=3))
    restart(other, Device.ResetReason.TASK_WATCHDOG, ago=timedelta(days=1))  # yesterday
    restart(powered, Device.ResetReason.POWER_ON, ago=timedelta(hours=1))  # not a watchdog
    restart(revoked, Device.ResetReason.PANIC, ago=timedelta(hours=1))
    restart(revoked, Device.ResetReason.TASK_WATCHDOG, ago=timedelta(hours=1))
    Device.objects.filter(pk=revoked.pk).update(revoked_at=NOW)

    assert fleet_health(since=NOW - timedelta(hours=12)).watchdog_restarts == 2


def test_staff_see_the_watchdog_restarts_and_camera_faults(staff_client, device):
    restart(device, Device.ResetReason.INTERRUPT_WATCHDOG, ago=timedelta(hours=1))
    faulty, _ = device_register(name="Cart 2")
    Device.objects.filter(pk=faulty.pk).update(camera_ok=False)
    device_register(name="Cart 3")  # camera unknown: an older firmware

    page = staff_client.get(URL).content.decode()

    devices = reverse("admin:devices_device_changelist")
    assert f'id="watchdog-restarts"><a href="{devices}">1</a>' in page
    assert "carts restarted by a watchdog today" in page
    assert f'id="camera-faults"><a href="{devices}?camera_ok__exact=0">1</a>' in page
