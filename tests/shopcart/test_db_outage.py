"""A database outage answers 503 "retry" (JSON for API clients, a friendly page for people).

These tests raise the driver's errors from views and a middleware; the real outage (MariaDB
cut off mid-burst) is tests/faults/test_database_restart.py.
"""

import logging
import sqlite3
import uuid

import pytest
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import path
from rest_framework.views import APIView

from shopcart.core.db_outage import (
    ERROR_DATABASE_UNAVAILABLE,
    RETRY_AFTER_SECONDS,
    database_unavailable,
)
from shopcart.core.request_ids import HEADER

pytestmark = pytest.mark.django_db


def mysql_error(code: int, message: str) -> OperationalError:
    """As Django raises it: its own class, the driver's error as the cause."""
    error = OperationalError(code, message)
    error.__cause__ = Exception(code, message)
    return error


GONE_AWAY = mysql_error(2006, "MySQL server has gone away")
LOST = mysql_error(2013, "Lost connection to server during query")
SECRET_SQL = "SELECT * FROM accounts_user WHERE email = 'alice@example.com'"


def sqlite_error(message: str) -> OperationalError:
    error = OperationalError(message)
    error.__cause__ = sqlite3.OperationalError(message)
    return error


# --- Views for this module's URLs (pytest.mark.urls) ----------------------------------------

raised: dict[str, BaseException] = {"error": GONE_AWAY}


def shop_page(request: HttpRequest) -> HttpResponse:
    raise raised["error"]


class ThingApi(APIView):
    authentication_classes: list = []
    permission_classes: list = []

    def get(self, request):
        raise raised["error"]


def fine_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse("fine")


urlpatterns = [
    path("shop/", shop_page),
    path("api/v1/thing/", ThingApi.as_view()),
    path("api/v1/plain/", shop_page),
    path("fine/", fine_page),
]


class OutageInMiddleware:
    """Like a session or user lookup in a middleware when the database is away."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        raise GONE_AWAY


@pytest.fixture
def raising():
    def set_error(error: BaseException) -> None:
        raised["error"] = error

    yield set_error
    raised["error"] = GONE_AWAY


def assert_json_503(response) -> None:
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response.json() == {
        "detail": ERROR_DATABASE_UNAVAILABLE,
        "request_id": response[HEADER],
    }


def assert_friendly_page(response) -> None:
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert "no-cache" in response["Cache-Control"]
    page = response.content.decode()
    assert "We'll be right back" in page
    assert settings.STORE_NAME in page
    assert response[HEADER] in page  # small, for the support desk
    assert "Traceback" not in page and "gone away" not in page


# --- Classification --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        GONE_AWAY,
        LOST,
        mysql_error(2003, "Can't connect to server on '127.0.0.1'"),
        mysql_error(1213, "Deadlock found when trying to get lock"),
        sqlite_error("database is locked"),
        InterfaceError(0, ""),
    ],
    ids=["gone-away", "lost", "cannot-connect", "deadlock", "sqlite-locked", "interface"],
)
def test_outages_are_recognised(error):
    assert database_unavailable(error)


@pytest.mark.parametrize(
    "error",
    [
        sqlite_error("no such table: catalog_product"),
        mysql_error(1054, "Unknown column 'x' in 'field list'"),
        ValueError("not a database error"),
    ],
    ids=["sqlite-no-table", "mysql-bad-column", "other"],
)
def test_bugs_are_not_outages(error):
    assert not database_unavailable(error)


# --- Answers ---------------------------------------------------------------------------------


@pytest.mark.urls(__name__)
@override_settings(DEBUG=False)
@pytest.mark.parametrize("url", ["/api/v1/thing/", "/api/v1/plain/"], ids=["drf", "django"])
@pytest.mark.parametrize("error", [GONE_AWAY, LOST, InterfaceError(0, "")], ids=str)
def test_api_outage_answers_json_503_with_retry_after(client, raising, url, error):
    raising(error)

    assert_json_503(client.get(url))


@pytest.mark.urls(__name__)
@override_settings(DEBUG=False)
def test_shop_page_outage_answers_the_friendly_page(client):
    assert_friendly_page(client.get("/shop/"))


@pytest.mark.urls(__name__)
@override_settings(DEBUG=True)
def test_the_friendly_page_is_shown_with_debug_on_too(client):
    assert_friendly_page(client.get("/shop/"))


@override_settings(DEBUG=False)
def test_an_outage_in_a_middleware_answers_503_too():
    # The store's own URLs: handler500 in shopcart/urls.py is what catches this one.
    client = Client(raise_request_exception=False)
    middleware = ["tests.shopcart.test_db_outage.OutageInMiddleware"]
    with override_settings(MIDDLEWARE=settings.MIDDLEWARE + middleware):
        assert_friendly_page(client.get("/"))
        assert_json_503(client.get("/api/v1/products/"))


@pytest.mark.urls(__name__)
@override_settings(DEBUG=False)
def test_a_bug_still_answers_500(raising):
    client = Client(raise_request_exception=False)
    raising(sqlite_error("no such table: catalog_product"))

    for url in ["/shop/", "/api/v1/thing/"]:
        response = client.get(url)
        assert response.status_code == 500, url
        assert "Retry-After" not in response


def test_a_device_scan_during_an_outage_answers_json_503(device_client, monkeypatch):
    def scan_process(**kwargs):
        raise LOST

    monkeypatch.setattr("devices.api.scan_process", scan_process)
    body = {"scan_id": str(uuid.uuid4()), "mode": "add", "qty": 1, "code": "4006381333931"}

    response = device_client.post(
        "/api/devices/v1/scans/", body | {"symbology": "EAN13"}, content_type="application/json"
    )

    assert_json_503(response)


def test_the_shop_home_page_during_an_outage_answers_the_friendly_page(client, monkeypatch):
    def product_search(**kwargs):
        raise GONE_AWAY

    monkeypatch.setattr("catalog.selectors.product_search", product_search)

    assert_friendly_page(client.get("/"))


# --- Logging ---------------------------------------------------------------------------------


@pytest.mark.urls(__name__)
@override_settings(DEBUG=False)
@pytest.mark.parametrize("url", ["/shop/", "/api/v1/thing/"])
def test_an_outage_is_logged_once_with_its_code_and_without_sql(client, raising, caplog, url):
    raising(mysql_error(2013, f"Lost connection during query: {SECRET_SQL}"))

    with caplog.at_level(logging.INFO):
        client.get(url)

    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == [
        ("shopcart.core.db_outage", "WARNING", "database unavailable: OperationalError 2013")
    ]
    assert "alice" not in caplog.text


def test_a_dead_connection_is_checked_before_reuse():
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True
