"""Photos of failed scans: kept only when the store turns it on, only when nothing was read,
under an unguessable name, shown to staff who may view scan events, deleted after some days."""

import re
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from carts.services import cart_pass_issue
from devices.models import ScanEvent
from devices.services import device_pair, scan_photos_purge
from devices.tasks import scan_photos_purge_task
from shopcart.celery import app as celery_app
from tests.devices.support import (
    EAN13_GTIN,
    b64,
    check_answer,
    ean13_image,
    encoded,
    post_json,
    scan_body,
)
from tests.factories import BarcodeFactory

pytestmark = pytest.mark.django_db

# A dated folder and a random name of 32 URL-safe characters: nothing to guess.
PHOTO_NAME = re.compile(r"^scan-photos/\d{4}/\d{2}/\d{2}/[A-Za-z0-9_-]{32}\.(jpg|png)$")


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


@pytest.fixture
def keep_photos(settings):
    settings.SCAN_STORE_FAILED_PHOTOS = True


@pytest.fixture
def alice_cart(alice, device):
    return device_pair(device=device, cart_pass=cart_pass_issue(user=alice)).cart


def blank_photo(image_format: str = "PNG") -> bytes:
    return encoded(Image.new("RGB", (320, 240), "white"), image_format)


def scan_photo(client, photo: bytes) -> ScanEvent:
    body = scan_body(image=b64(photo))
    check_answer(post_json(client, body))
    return ScanEvent.objects.get(scan_id=body["scan_id"])


def files_under(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


def test_photos_are_not_kept_by_default(device_client, alice_cart, media):
    assert django_settings.SCAN_STORE_FAILED_PHOTOS is False

    event = scan_photo(device_client, blank_photo())

    assert event.result == "no_barcode"
    assert not event.photo
    assert files_under(media) == []


@pytest.mark.parametrize(("image_format", "suffix"), [("PNG", ".png"), ("JPEG", ".jpg")])
def test_when_on_a_photo_in_which_nothing_was_read_is_kept(
    keep_photos, device_client, alice_cart, media, image_format, suffix, time_machine
):
    time_machine.move_to("2026-06-10T23:59:59.999Z", tick=False)  # the day's folder, not the next
    photo = blank_photo(image_format)

    event = scan_photo(device_client, photo)

    assert event.result == "no_barcode"
    name = event.photo.name or ""
    assert PHOTO_NAME.match(name), name
    assert name.endswith(suffix)
    assert "/2026/06/10/" in name
    assert (media / event.photo.name).read_bytes() == photo


def test_when_on_a_photo_that_was_read_is_never_kept(keep_photos, device_client, alice_cart, media):
    BarcodeFactory(gtin=EAN13_GTIN)

    event = scan_photo(device_client, encoded(ean13_image()))

    assert event.result == "added"
    assert not event.photo
    assert files_under(media) == []


def test_when_on_a_photo_sent_to_an_unpaired_device_is_not_kept(keep_photos, device_client, media):
    event = scan_photo(device_client, blank_photo())

    assert event.result == "not_paired"
    assert files_under(media) == []


def test_a_retried_scan_keeps_its_photo_once(keep_photos, device_client, alice_cart, media):
    body = scan_body(image=b64(blank_photo()))

    check_answer(post_json(device_client, body))
    check_answer(post_json(device_client, body), status=200)

    assert len(files_under(media)) == 1


def test_two_kept_photos_get_different_names(keep_photos, device_client, alice_cart):
    first = scan_photo(device_client, blank_photo())
    second = scan_photo(device_client, blank_photo())

    assert first.photo.name != second.photo.name


def test_a_photo_that_cannot_be_written_does_not_fail_the_scan(
    keep_photos, settings, device_client, alice_cart, media
):
    blocked = media / "not-a-folder"
    blocked.write_text("a file where the media folder should be")
    settings.MEDIA_ROOT = str(blocked)

    event = scan_photo(device_client, blank_photo())

    assert event.result == "no_barcode"
    assert not event.photo


# --- Purging ----------------------------------------------------------------------------------


def kept_photo(client, *, days_ago: float) -> ScanEvent:
    event = scan_photo(client, blank_photo())
    created = timezone.now() - timedelta(days=days_ago)
    ScanEvent.objects.filter(pk=event.pk).update(created_at=created)
    return event


def test_purge_deletes_old_photos_and_keeps_new_ones(keep_photos, device_client, alice_cart, media):
    old = kept_photo(device_client, days_ago=8)
    new = kept_photo(device_client, days_ago=6)

    assert scan_photos_purge(older_than_days=7) == 1

    old.refresh_from_db()
    new.refresh_from_db()
    assert not old.photo
    assert new.photo
    assert files_under(media) == [media / new.photo.name]
    assert ScanEvent.objects.count() == 2  # the scan itself stays logged


def test_purge_clears_a_reference_whose_file_is_already_gone(
    keep_photos, device_client, alice_cart, media
):
    old = kept_photo(device_client, days_ago=8)
    (media / old.photo.name).unlink()

    assert scan_photos_purge(older_than_days=7) == 1

    old.refresh_from_db()
    assert not old.photo


def test_purge_command_reports_progress_and_uses_the_setting(
    keep_photos, settings, device_client, alice_cart, media
):
    settings.SCAN_FAILED_PHOTO_DAYS = 3
    kept_photo(device_client, days_ago=4)
    kept_photo(device_client, days_ago=5)
    kept_photo(device_client, days_ago=1)
    out = StringIO()

    call_command("scan_photos_purge", stdout=out)

    assert "Deleted 2 of 2 photo(s)…" in out.getvalue()
    assert "Deleted 2 photo(s) of failed scans older than 3 day(s)." in out.getvalue()
    assert len(files_under(media)) == 1


def test_purge_command_takes_the_days_as_an_option(keep_photos, device_client, alice_cart, media):
    kept_photo(device_client, days_ago=2)
    out = StringIO()

    call_command("scan_photos_purge", "--days", "1", stdout=out)

    assert "older than 1 day(s)" in out.getvalue()
    assert files_under(media) == []


def test_purge_command_refuses_negative_days_and_deletes_nothing(
    keep_photos, device_client, alice_cart, media
):
    kept_photo(device_client, days_ago=2)

    with pytest.raises(CommandError, match="--days must be 0 or more"):
        call_command("scan_photos_purge", "--days", "-30", stdout=StringIO())

    assert len(files_under(media)) == 1


def test_purge_task_uses_the_setting_and_is_scheduled_by_beat(
    keep_photos, settings, device_client, alice_cart, media
):
    settings.SCAN_FAILED_PHOTO_DAYS = 7
    kept_photo(device_client, days_ago=10)

    assert scan_photos_purge_task.delay().get() == 1

    assert files_under(media) == []
    scheduled = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert scan_photos_purge_task.name in scheduled
    assert scan_photos_purge_task.name in celery_app.tasks


# --- Admin ------------------------------------------------------------------------------------


def photo_url(event: ScanEvent) -> str:
    return reverse("admin:devices_scanevent_photo", args=[event.pk])


def test_staff_see_a_kept_photo_in_the_scan_event_admin(
    keep_photos, staff_client, device_client, alice_cart
):
    photo = blank_photo()
    event = scan_photo(device_client, photo)

    listing = staff_client.get(reverse("admin:devices_scanevent_changelist"))
    page = staff_client.get(reverse("admin:devices_scanevent_change", args=[event.pk]))
    image = staff_client.get(photo_url(event))

    assert listing.status_code == 200
    assert "no barcode" in listing.content.decode()
    assert f'<img src="{photo_url(event)}"' in page.content.decode()
    assert event.photo.name not in page.content.decode()  # the media address stays unknown
    assert image.status_code == 200
    assert image["Content-Type"] == "image/png"
    assert "no-store" in image["Cache-Control"]
    assert b"".join(image.streaming_content) == photo


def test_scan_events_are_read_only_in_the_admin(
    keep_photos, staff_client, device_client, alice_cart
):
    event = scan_photo(device_client, blank_photo())

    assert staff_client.get(reverse("admin:devices_scanevent_add")).status_code == 403
    delete = reverse("admin:devices_scanevent_delete", args=[event.pk])
    assert staff_client.post(delete, {"post": "yes"}).status_code == 403
    assert ScanEvent.objects.filter(pk=event.pk).exists()


def test_staff_without_the_view_permission_cannot_see_photos(
    keep_photos, clerk_client, device_client, alice_cart
):
    event = scan_photo(device_client, blank_photo())

    assert clerk_client.get(reverse("admin:devices_scanevent_changelist")).status_code == 403
    assert clerk_client.get(photo_url(event)).status_code == 404


def test_shoppers_and_visitors_are_sent_to_the_admin_login_for_photos(
    keep_photos, client, alice_client, device_client, alice_cart
):
    event = scan_photo(device_client, blank_photo())

    for someone in (client, alice_client):
        response = someone.get(photo_url(event))
        assert response.status_code == 302
        assert "login" in response["Location"]


def test_a_purged_photo_is_gone_from_the_admin(
    keep_photos, staff_client, device_client, alice_cart
):
    event = kept_photo(device_client, days_ago=30)
    scan_photos_purge(older_than_days=7)

    assert staff_client.get(photo_url(event)).status_code == 404
