"""Text the database can store: no surrogate code point (U+D800 to U+DFFF) on its own.

A Python string can hold a lone surrogate (JSON's ``"\\ud800"`` escape decodes to one, and so
does a query string or form field decoded with a charset such as UTF-7 that the client names),
but UTF-8 cannot encode it: SQLite and MariaDB fail the query, and a page echoing it fails to
render. Either way the request would end in a 500. It is refused where text comes in:

- JSON bodies (every API and the webhooks): ``shopcart.core.json_input.json_loads``;
- query strings and multipart form data: ``RequestCharsetMiddleware`` below. Django itself
  decodes URL-encoded form bodies only as UTF-8 (it refuses other charsets with 400), where
  undecodable bytes become U+FFFD, never a surrogate; this extends that rule to the two other
  ways a client-named charset reaches ``request.GET`` and ``request.POST``. A form field
  validator could not help: a refused form is shown again with what was typed, and that page
  cannot be encoded either.

DRF's ``CharField`` refuses surrogates too, so a query parameter of an API is refused twice.
"""

import codecs
import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

from shopcart.core.errors import API_PREFIX
from shopcart.core.request_ids import request_id_current

ERROR_SURROGATE = (
    "The text is not valid Unicode: it holds a surrogate code point (U+D800 to U+DFFF) on its "
    "own, which cannot be stored."
)
ERROR_CHARSET = (
    "Query strings and multipart form data must be UTF-8 encoded; this request names the "
    "charset {charset!r}."
)

_SURROGATE = re.compile("[\ud800-\udfff]")
UTF_8 = codecs.lookup("utf-8").name


def text_storable(value: str) -> bool:
    """False when ``value`` holds a surrogate code point, which UTF-8 cannot encode."""
    # isascii() reads a flag CPython keeps on the string: most text is never scanned.
    return value.isascii() or _SURROGATE.search(value) is None


def _charset_is_utf8(charset: str) -> bool:
    try:
        return codecs.lookup(charset).name == UTF_8
    except LookupError:
        return True  # Django ignores a charset it does not know and decodes UTF-8


class RequestCharsetMiddleware:
    """Refuses (400) a query string or multipart form data that Django would decode with a
    charset other than UTF-8 because the client named one in its ``Content-Type``.

    Browsers never do: they send forms in the page's UTF-8 and name no charset. Only the
    header is looked at; the body is left for the view to read.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        charset = request.encoding
        decodes_text = request.META.get("QUERY_STRING") or (
            request.content_type == "multipart/form-data"
        )
        if charset and decodes_text and not _charset_is_utf8(charset):
            return _refusal(request, ERROR_CHARSET.format(charset=charset))
        return self.get_response(request)


def _refusal(request: HttpRequest, detail: str) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": detail, "request_id": request_id_current()}, status=400)
    return HttpResponseBadRequest(detail, content_type="text/plain; charset=utf-8")
