"""Error pages: the shop's HTML pages for people, JSON for API clients.

400 and 500 are rendered without the request (``plain_page``): the request may be what is
broken (a Host header not allowed, a session that cannot be read), and the shop's layout
queries the database for the cart in the header. 403, 404, a failed CSRF check and a refusal
use the shop's layout, with the header and the menu.

A service's refusal (``shopcart.core.refusals.Refused``) that a view did not answer itself (views
that can show it beside a field or on their own page do) is answered here, by
``RefusalMiddleware``: its message on a page with its status, or ``{"detail", "code"}`` under
/api/, as the API's own handler answers it (``shopcart.core.api_errors``). Never a 500.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import REASON_NO_CSRF_COOKIE
from django.shortcuts import render
from django.template import loader
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import defaults

from shopcart.core.refusals import Refused

API_PREFIX = "/api/"

ERROR_CSRF = (
    "This page was opened before you signed in or out (perhaps in another tab), so the "
    "store could not tell that the form came from you. Nothing was changed: open the page "
    "again and send it once more."
)
ERROR_CSRF_NO_COOKIE = (
    "Your browser did not send the store's cookie with the form, so the store could not tell "
    "that it came from you. Nothing was changed: allow cookies for this site and try again."
)
ERROR_CSRF_API = "The form's security token is missing or out of date: reload the page and retry."


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": "You may not do that."}, status=403)
    return defaults.permission_denied(request, exception)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": "Bad request."}, status=400)
    return plain_page("400.html", status=400)


def plain_page(template_name: str, *, status: int) -> HttpResponse:
    """``template_name`` rendered without the request or the database (see the docstring)."""
    page = loader.get_template(template_name).render({"STORE_NAME": settings.STORE_NAME})
    return HttpResponse(page, status=status)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: a form from a stale page explains itself and offers to retry.

    Signing in on one tab renews the CSRF token, so a form left open on another tab fails the
    check; the retry link opens the page the form came from again, with a fresh token.
    """
    if request.path.startswith(API_PREFIX) or not request.accepts("text/html"):
        return JsonResponse({"detail": ERROR_CSRF_API}, status=403)
    message = ERROR_CSRF_NO_COOKIE if reason == REASON_NO_CSRF_COOKIE else ERROR_CSRF
    context = {"message": message, "retry_url": _page_the_form_came_from(request)}
    return render(request, "403_csrf.html", context, status=403)


def _page_the_form_came_from(request: HttpRequest) -> str:
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return reverse("catalog:home")


class RefusalMiddleware:
    """The one HTML error path for refusals: see the module's docstring."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, Refused):
            return None
        status = exception.http_status
        if request.path.startswith(API_PREFIX):
            return JsonResponse(exception.answer(), status=status)
        return render(request, "refused.html", {"message": str(exception)}, status=status)
