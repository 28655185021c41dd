"""The store's day: "today" on staff pages is the day on the store's clock (``TIME_ZONE``)."""

from datetime import datetime

from django.utils import timezone


def local_day_start(now: datetime | None = None) -> datetime:
    """The store's last local midnight before ``now`` (default: now), as an aware datetime.

    On a day the clocks change, midnight keeps the offset it had (Python's zone rules give the
    wall time 00:00 its own offset), so the day is 23 or 25 hours long, as the store lives it.
    """
    local = timezone.localtime(now)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    return timezone.make_aware(midnight, local.tzinfo)
