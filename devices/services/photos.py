"""Photos of failed scans: kept for staff when the store turns it on, deleted after some days.

Only a photo in which nothing was read (``no_barcode``) is ever kept, and only while
``settings.SCAN_STORE_FAILED_PHOTOS`` is on: staff can then see why carts fail to read
(glare, blur, a label the decoder does not know). Photos of scans that were read are never
written to disk. ``scan_photos_purge`` deletes kept photos after
``settings.SCAN_FAILED_PHOTO_DAYS`` days; Celery beat runs it every hour
(``devices.tasks.scan_photos_purge_task``), and ``manage.py scan_photos_purge`` by hand.
"""

import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import timezone

from devices.models import ScanEvent

logger = logging.getLogger(__name__)

PHOTO_SUFFIXES = {b"\xff\xd8\xff": ".jpg", b"\x89PNG": ".png"}


def scan_photo_keep(*, event: ScanEvent, image: bytes | None) -> bool:
    """Keep ``image`` with ``event`` when the setting is on and nothing was read in it.

    Call it after the scan's transaction has committed: writing a file must not hold the
    cart's lock. Returns whether the photo was kept; a photo that cannot be written (a full
    disk) is logged and dropped, never a reason to fail the scan.
    """
    if not settings.SCAN_STORE_FAILED_PHOTOS or image is None:
        return False
    if event.result != ScanEvent.Result.NO_BARCODE:
        return False
    suffix = next((ext for head, ext in PHOTO_SUFFIXES.items() if image.startswith(head)), "")
    try:
        event.photo.save(f"scan{suffix}", ContentFile(image), save=False)
    except OSError:
        logger.warning("photo of failed scan %s not kept", event.pk, exc_info=True)
        return False
    ScanEvent.objects.filter(pk=event.pk).update(photo=event.photo.name)
    return True


def scan_photos_purge(
    *, older_than_days: int, progress: Callable[[int, int], None] | None = None
) -> int:
    """Delete every kept photo of a scan older than ``older_than_days`` days; return how many.

    Each file goes first, then the reference to it: a purge stopped half-way leaves at worst a
    reference to a missing file, which the next run clears. ``progress(done, total)`` is
    called after each photo. Safe to run any number of times, and concurrently.
    """
    cutoff = timezone.now() - timedelta(days=older_than_days)
    old = ScanEvent.objects.filter(created_at__lt=cutoff).exclude(photo="")
    storage = ScanEvent._meta.get_field("photo").storage  # type: ignore[attr-defined]
    total = old.count()
    done = 0
    for pk, name in old.values_list("pk", "photo").iterator(chunk_size=500):
        storage.delete(name)
        ScanEvent.objects.filter(pk=pk).update(photo="")
        done += 1
        if progress is not None:
            progress(done, total)
    return done
