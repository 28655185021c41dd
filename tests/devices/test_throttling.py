"""The per-device budget (devices.throttling): a sliding window estimated from two counters,
constant in cost whatever the rate."""

import pytest
from django.core.cache import cache

from devices.throttling import device_throttle_wait, device_throttle_windows

START = 1_800_000_000.0  # a window boundary for one-minute windows (divisible by 60)


@pytest.fixture
def per_minute(settings):
    settings.DEVICE_THROTTLE_RATE = "3/min"
    cache.clear()


def request(at: float) -> int | None:
    """One request of device 7 at ``at`` (seconds since the epoch): None if let in."""
    windows = device_throttle_windows(7, at)
    return device_throttle_wait(windows, cache.get_many(windows.keys()))


def test_the_budget_is_counted_within_a_window(per_minute):
    assert [request(START + n) for n in range(3)] == [None, None, None]

    wait = request(START + 3)

    assert wait is not None and 0 < wait <= 60


def test_a_full_window_just_behind_still_counts(per_minute):
    for n in range(3):
        request(START + 57 + n)  # the last seconds of a window

    assert request(START + 61) is not None  # just past the boundary: still three recent
    assert request(START + 60 + 45) is None  # the earlier window has mostly faded


def test_retry_after_is_when_one_more_request_fits(per_minute):
    for n in range(3):
        request(START + 57 + n)

    wait = request(START + 61)

    assert wait is not None and 1 < wait < 60
    assert request(START + 61 + wait - 2) is not None  # (the second before may be the edge)
    assert request(START + 61 + wait) is None


def test_the_count_is_one_number_whatever_the_rate(settings):
    settings.DEVICE_THROTTLE_RATE = "100000/min"
    cache.clear()
    for n in range(500):
        assert request(START + n / 100) is None

    assert cache.get(device_throttle_windows(7, START).current) == 500


def test_no_budget_refuses_for_a_whole_period(settings):
    settings.DEVICE_THROTTLE_RATE = "0/min"

    assert request(START + 10) == 60
