"""``manage.py scan_photos_purge``: delete the kept photos of failed scans that are old enough."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from devices.services.photos import scan_photos_purge

ERROR_DAYS_NEGATIVE = "--days must be 0 or more (0 deletes every kept photo); it was {days}."
MESSAGE_PROGRESS = "Deleted {done} of {total} photo(s)…"
MESSAGE_DONE = "Deleted {count} photo(s) of failed scans older than {days} day(s)."
PROGRESS_EVERY = 100


class Command(BaseCommand):
    help = "Delete photos of failed scans older than SCAN_FAILED_PHOTO_DAYS days (or --days)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="Keep photos younger than this many days. Default: SCAN_FAILED_PHOTO_DAYS.",
        )

    def handle(self, *args: Any, days: int | None, **options: Any) -> None:
        if days is not None and days < 0:
            raise CommandError(ERROR_DAYS_NEGATIVE.format(days=days))
        days = settings.SCAN_FAILED_PHOTO_DAYS if days is None else days

        def progress(done: int, total: int) -> None:
            if done % PROGRESS_EVERY == 0 or done == total:
                self.stdout.write(MESSAGE_PROGRESS.format(done=done, total=total))

        count = scan_photos_purge(older_than_days=days, progress=progress)
        self.stdout.write(self.style.SUCCESS(MESSAGE_DONE.format(count=count, days=days)))
