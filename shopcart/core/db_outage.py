"""The database is away for a moment: answer 503 and "try again", never a 500 traceback.

MariaDB restarting, a failover, a dropped connection or SQLite's "database is locked" after
its timeout all end a request with ``OperationalError``/``InterfaceError``. Those requests get
503 with ``Retry-After``: JSON ``{"detail", "request_id"}`` under ``/api/`` (a cart retries
with the same ``scan_id``, which is safe), a friendly page for people. Three ways in, because
Django hands an exception to only one of them:

- ``DatabaseOutageMiddleware.process_exception`` for Django views and templates;
- ``api_outage_response``, through DRF's ``EXCEPTION_HANDLER`` (``shopcart.core.api_errors``), for
  DRF views, which catch their own exceptions before any middleware sees them;
- ``server_error`` (``handler500``) for an exception raised inside a middleware, e.g. the
  session or user lookup.

The next request gets a fresh connection: Django closes a connection that raised when the
request ends, and ``CONN_HEALTH_CHECKS`` tests a kept one before reuse.
"""

import logging
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.cache import add_never_cache_headers
from rest_framework.response import Response
from rest_framework.views import exception_handler

from shopcart.core.errors import API_PREFIX, plain_page
from shopcart.core.request_ids import request_id_current

logger = logging.getLogger(__name__)

ERROR_DATABASE_UNAVAILABLE = (
    "The store's database is unavailable for a moment. Retry the same request after "
    "Retry-After seconds."
)
RETRY_AFTER_SECONDS = 3
TEMPLATE = "503.html"

_Response = TypeVar("_Response", bound=HttpResponse)

# MySQL/MariaDB codes that mean "down, restarting or busy": the same request succeeds later.
# 1040 too many connections, 1053 shutdown in progress, 1205 lock wait timeout, 1213 deadlock,
# 1927 connection killed, 2002/2003 cannot connect, 2006 gone away, 2013 lost connection,
# 2055 lost connection (system error), 4031 disconnected for inactivity.
MYSQL_TRANSIENT_CODES = frozenset(
    {1040, 1053, 1205, 1213, 1927, 2002, 2003, 2006, 2013, 2055, 4031}
)
# SQLite: another writer held the lock past the timeout.
SQLITE_TRANSIENT_TEXTS = ("database is locked", "database table is locked")


def database_unavailable(exc: BaseException) -> bool:
    """True for a database error that a retry a few seconds later should get past.

    Other ``OperationalError``s (SQLite's "no such table", a bad column) stay 500s: they are
    bugs, and hiding them behind "try again" would only make them slower to find.
    """
    if isinstance(exc, InterfaceError):
        return True  # the connection is closed or unusable
    if not isinstance(exc, OperationalError):
        return False
    code = _server_error_code(exc)
    if code is not None:
        return code in MYSQL_TRANSIENT_CODES
    return any(text in str(exc) for text in SQLITE_TRANSIENT_TEXTS)


def _server_error_code(exc: BaseException) -> int | None:
    """The MySQL/MariaDB error number behind ``exc``; None for SQLite and the like."""
    driver_error = exc.__cause__ or exc
    code = driver_error.args[0] if driver_error.args else None
    return code if isinstance(code, int) else None


def _outage_logged(exc: BaseException) -> None:
    # The class and the server's error code only: a driver message may quote the SQL, and the
    # SQL may hold personal data.
    code = _server_error_code(exc)
    suffix = f" {code}" if code is not None else ""
    logger.warning("database unavailable: %s%s", type(exc).__name__, suffix)


def _finish(response: _Response) -> _Response:
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    add_never_cache_headers(response)
    # Our warning is this request's one log line; Django would add an ERROR for the 503.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


def outage_response(request: HttpRequest, exc: BaseException) -> HttpResponse:
    """The 503 answer for ``request`` (JSON under /api/, the page otherwise); logs once."""
    _outage_logged(exc)
    request_id = request_id_current()
    if request.path.startswith(API_PREFIX):
        body = {"detail": ERROR_DATABASE_UNAVAILABLE, "request_id": request_id}
        return _finish(JsonResponse(body, status=503))
    # Rendered without the request: context processors and the nav would query the database.
    context = {"STORE_NAME": settings.STORE_NAME, "request_id": request_id}
    page = loader.get_template(TEMPLATE).render(context)
    return _finish(HttpResponse(page, status=503))


class DatabaseOutageMiddleware:
    """Turns a database outage in a Django view or template into a 503."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not database_unavailable(exception):
            return None
        return outage_response(request, exception)


def api_outage_response(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus 503 with ``Retry-After`` for a database outage."""
    if not database_unavailable(exc):
        return exception_handler(exc, context)
    _outage_logged(exc)
    body = {"detail": ERROR_DATABASE_UNAVAILABLE, "request_id": request_id_current()}
    return _finish(Response(body, status=503))


def server_error(request: HttpRequest, template_name: str = "500.html") -> HttpResponse:
    """``handler500``: an outage raised in a middleware still gets the 503, anything else 500."""
    exc = sys.exc_info()[1]  # Django calls handler500 inside its ``except`` block
    if exc is not None and database_unavailable(exc):
        return outage_response(request, exc)
    return plain_page(template_name, status=500)
