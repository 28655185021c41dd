"""Request ids: sent back, kept from a proxy when sane, on every log line, JSON logs."""

import contextvars
import json
import logging

import pytest

from shopcart.core.log_formats import JsonFormatter
from shopcart.core.request_ids import HEADER, RequestIdLogFilter, request_id_current


def test_every_response_carries_a_fresh_request_id(client):
    first = client.get("/healthz")[HEADER]
    second = client.get("/healthz")[HEADER]

    assert len(first) == 32 and first != second


def test_a_proxys_request_id_is_kept(client):
    response = client.get("/healthz", headers={"X-Request-ID": "proxy-abc-123456"})

    assert response[HEADER] == "proxy-abc-123456"


@pytest.mark.parametrize("offered", ["short", "has spaces in it ok", "x" * 65, "new\nline-0000"])
def test_an_odd_request_id_is_replaced(client, offered):
    response = client.get("/healthz", headers={"X-Request-ID": offered})

    assert response[HEADER] != offered and len(response[HEADER]) == 32


def test_outside_a_request_the_id_is_a_dash():
    # A fresh context, as a worker thread or Celery task starts with.
    assert contextvars.Context().run(request_id_current) == "-"


def test_djangos_own_log_of_a_failed_request_carries_its_id(client, caplog):
    caplog.set_level(logging.WARNING, logger="django.request")

    response = client.get("/no-such-page/")

    records = [r for r in caplog.records if r.name == "django.request"]
    assert records and RequestIdLogFilter().filter(records[-1])
    assert records[-1].request_id == response[HEADER]


def record(message: str, **extra) -> logging.LogRecord:
    entry = logging.LogRecord("smartcart.test", logging.WARNING, __file__, 1, message, (), None)
    entry.__dict__.update(extra)
    return entry


def test_the_log_filter_adds_the_current_request_id(client):
    response = client.get("/healthz")
    entry = record("hello")

    assert RequestIdLogFilter().filter(entry) is True
    assert entry.request_id == response[HEADER]


def test_json_log_lines_hold_message_level_and_extras():
    line = JsonFormatter().format(record("scan %s", request_id="abc12345", device=7))

    entry = json.loads(line)
    assert entry["message"] == "scan %s"
    assert entry["level"] == "WARNING" and entry["logger"] == "smartcart.test"
    assert entry["request_id"] == "abc12345" and entry["device"] == 7
    assert entry["time"].endswith("+00:00")


def test_json_log_lines_include_the_exception():
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        import sys

        entry = record("failed")
        entry.exc_info = sys.exc_info()

    assert "RuntimeError: boom" in json.loads(JsonFormatter().format(entry))["exception"]
