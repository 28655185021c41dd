"""The Celery app in shopcart/celery.py: configured from Django settings, eager when embedded.

A real worker round trip belongs to the tests of the first real task; here a task defined in
this module proves the wiring.
"""

import pytest
from celery.result import EagerResult
from django.conf import settings

from shopcart.celery import app

needs_broker = pytest.mark.skipif(
    not settings.CELERY_BROKER_URL,
    reason="no CELERY_BROKER_URL: the embedded mode runs tasks eagerly without a broker",
)


class ProbeError(Exception):
    pass


@app.task(name="tests.test_celery_app.double")
def double(number: int) -> int:
    return number * 2


@app.task(name="tests.test_celery_app.fail")
def fail() -> None:
    raise ProbeError("raised inside the task")


def test_celery_app_is_configured_from_django_settings():
    # Values that differ from Celery's own defaults, so they can only come from settings.
    assert app.main == "shopcart"
    assert app.conf.broker_url == settings.CELERY_BROKER_URL
    assert app.conf.task_acks_late is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.accept_content == ["json"]


# tests/conftest.py makes every test run tasks eagerly, whatever the broker setting.
def test_task_runs_eagerly_in_tests():
    result = double.delay(21)

    assert isinstance(result, EagerResult)
    assert result.get() == 42


def test_eager_task_errors_reach_the_caller():
    with pytest.raises(ProbeError):
        fail.delay()


@needs_broker
def test_broker_answers():
    assert app.conf.broker_url == settings.CELERY_BROKER_URL
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1)

        assert conn.connected
