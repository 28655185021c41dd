"""Background work of the devices app: deleting the kept photos of failed scans."""

from celery import shared_task
from django.conf import settings

from devices.services.photos import scan_photos_purge


@shared_task
def scan_photos_purge_task() -> int:
    """Delete kept scan photos older than ``settings.SCAN_FAILED_PHOTO_DAYS``; run by beat.

    Idempotent: a run that overlaps another, or follows a failed one, deletes what is left.
    """
    return scan_photos_purge(older_than_days=settings.SCAN_FAILED_PHOTO_DAYS)
