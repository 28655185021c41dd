"""DRF's ``EXCEPTION_HANDLER``: how every API answers what its views raise.

A service's refusal (``shopcart.core.refusals.Refused``: a cart, order or coupon error) is answered
``{"detail": <message>, "code": <code>}`` with the refusal's own status; a database outage 503
with ``Retry-After`` (``shopcart.core.db_outage``); anything else as DRF answers it.
"""

from typing import Any

from rest_framework.response import Response

from shopcart.core.db_outage import api_outage_response
from shopcart.core.refusals import Refused


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, Refused):
        return Response(exc.answer(), status=exc.http_status)
    return api_outage_response(exc, context)
