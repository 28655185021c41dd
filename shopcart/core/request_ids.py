"""A request id on every request: in the response header, in every log line, in API errors.

A proxy's ``X-Request-ID`` is kept when it looks like an id (so one id follows a request
through proxy, app and logs); anything else is replaced by a fresh one, so a client cannot
inject text into the logs.
"""

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
_META_KEY = "HTTP_X_REQUEST_ID"
_ACCEPTABLE = re.compile(r"[A-Za-z0-9._-]{8,64}")

_current: ContextVar[str] = ContextVar("request_id", default="-")


def request_id_current() -> str:
    """The id of the request being served ("-" outside a request, e.g. in a worker)."""
    return _current.get()


def _request_id_for(request: HttpRequest) -> str:
    offered = request.META.get(_META_KEY, "")
    if _ACCEPTABLE.fullmatch(offered):
        return offered
    return uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = _request_id_for(request)
        request.request_id = request_id  # type: ignore[attr-defined]
        # Not reset on the way out: Django logs a failed request ("django.request") after the
        # middleware has returned, and that line needs the id too. The next request sets its own.
        _current.set(request_id)
        response = self.get_response(request)
        response[HEADER] = request_id
        return response


class RequestIdLogFilter(logging.Filter):
    """Puts ``request_id`` on every log record, for both log formats."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_current()
        return True
