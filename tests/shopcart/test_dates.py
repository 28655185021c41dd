"""shopcart.core.dates: the store's day on its own clock."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.test import override_settings

from shopcart.core.dates import local_day_start

BERLIN = ZoneInfo("Europe/Berlin")


def elapsed(start: datetime, end: datetime) -> timedelta:
    # In one zone Python subtracts wall-clock times; in UTC, the time that passed.
    return end.astimezone(UTC) - start.astimezone(UTC)


@override_settings(TIME_ZONE="Europe/Berlin")
def test_just_after_the_stores_midnight_the_day_has_just_begun():
    now = datetime(2026, 6, 9, 22, 2, tzinfo=UTC)  # 00:02 on 10 June in Berlin

    assert local_day_start(now) == datetime(2026, 6, 10, 0, 0, tzinfo=BERLIN)


@override_settings(TIME_ZONE="Europe/Berlin")
def test_the_day_the_clocks_go_forward_began_an_hour_earlier_in_utc():
    now = datetime(2026, 3, 29, 10, 0, tzinfo=BERLIN)  # after 02:00 became 03:00

    start = local_day_start(now)

    assert start.utcoffset() == timedelta(hours=1)
    assert elapsed(start, now) == timedelta(hours=9)  # ten hours on the clock, nine elapsed


@override_settings(TIME_ZONE="Europe/Berlin")
def test_the_day_the_clocks_go_back_is_25_hours_long():
    day = datetime(2026, 10, 25, 23, 59, tzinfo=BERLIN)

    assert elapsed(local_day_start(day), day) == timedelta(hours=24, minutes=59)


def test_in_utc_the_day_starts_at_utc_midnight():
    assert local_day_start(datetime(2026, 6, 10, 0, 1, tzinfo=UTC)) == datetime(
        2026, 6, 10, tzinfo=UTC
    )
