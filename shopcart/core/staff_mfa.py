"""Two-factor authentication for staff: who must use it, and the one gate all staff surfaces share.

Who: members of ``settings.STAFF_MFA_REQUIRED_GROUPS`` ("Store manager"), and superusers, who can
do everything a manager can. What: an authenticator app (TOTP) set up, *and* a second factor
given in this session. allauth records every step of a sign-in in the session
(``get_authentication_records``); a code typed at sign-in or at ``mfa_reauthenticate`` leaves an
``"mfa"`` record. Having TOTP is not enough on its own: a session signed in with the password
before TOTP was set up (by the manager, or by someone who learnt the password) has none.

The gate (``staff_second_factor_missing``) has one adapter per kind of staff surface:

* the admin: ``StaffMfaMiddleware`` (a middleware, so the default ``admin.site`` and every
  ``ModelAdmin`` on it stay unchanged); signing out is never gated;
* staff pages outside the admin (the exit check, the dashboard, any new one):
  ``@staff_page_required(permission)``;
* staff APIs: ``staff_api_second_factor_check``, called by
  ``catalog.api_permissions.IsStaffWithModelPermission``.

HTML pages send a person without TOTP to allauth's activation page and one without a code in
this session to allauth's code page, each with a message saying why; APIs answer 403 with a
detail saying the same. An API token stands in for the session's code: tokens are issued in the
admin, behind this gate, so a request with a token needs only the token owner's TOTP (a token of
a manager who has none, or removed it, opens nothing).
"""

import time
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from allauth.account.authentication import get_authentication_records
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from allauth.mfa.utils import decrypt, encrypt
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from rest_framework import exceptions as api_exceptions
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request

MESSAGE_MFA_REQUIRED = (
    "Store managers must use two-factor authentication on every staff page: the store admin, "
    "the dashboard, the exit check and the staff API. Set it up now: scan the QR code with an "
    "authenticator app (for example Google Authenticator, Aegis or 1Password) and enter the "
    "6-digit code it shows. You may be asked for your password first. From then on every "
    "sign-in asks for a code."
)
MESSAGE_MFA_AUTHENTICATE = (
    "Staff pages need the code from your authenticator app once per sign-in. Enter the 6-digit "
    "code it shows now to go on."
)
ERROR_API_MFA_REQUIRED = (
    "Store managers must set up two-factor authentication (an authenticator app) before using "
    "the staff API: sign in to the store admin, which takes you through it."
)
ERROR_API_MFA_AUTHENTICATE = (
    "This session has not given a two-factor code: sign in to the store admin with your "
    "authenticator code first, or send an API token issued there."
)

SETUP = "setup"  # must use TOTP and has none
AUTHENTICATE = "authenticate"  # has TOTP, but gave no second factor in this session

# Signing out of the admin must always work, even for a manager who has not set up TOTP yet.
ADMIN_URLS_NOT_GATED = frozenset({"admin:logout"})

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"

View = Callable[..., HttpResponse]
User = AbstractBaseUser | AnonymousUser


def _totp_state(user: User) -> bool | None:
    """None when ``user`` need not use TOTP; else whether they have a TOTP authenticator.

    One query (none for an anonymous user), so admin pages with a query budget stay within it.
    """
    groups = settings.STAFF_MFA_REQUIRED_GROUPS
    if not user.is_authenticated or not groups:
        return None
    totp = Authenticator.objects.filter(user=OuterRef("pk"), type=Authenticator.Type.TOTP)
    must = Q(groups__name__in=groups) | Q(is_superuser=True)
    rows = get_user_model().objects.filter(must, pk=user.pk).annotate(has_totp=Exists(totp))
    return rows.values_list("has_totp", flat=True).first()


def staff_mfa_missing(user: User) -> bool:
    """True when ``user`` must use TOTP (a superuser, or in a group that requires it) and has
    no TOTP authenticator. One query."""
    return _totp_state(user) is False


def staff_second_factor_missing(request: HttpRequest, *, by_token: bool = False) -> str | None:
    """What ``request.user`` lacks before any staff surface: ``SETUP``, ``AUTHENTICATE`` or None.

    None also for everyone the rule does not cover (shoppers, clerks). ``by_token``: the request
    came with an API token instead of a session, and needs only the TOTP. One query.
    """
    user = request.user
    has_totp = _totp_state(user)
    if has_totp is None:
        return None
    if not has_totp:
        return SETUP
    if by_token or _second_factor_given(request, user):
        return None
    return AUTHENTICATE


def _second_factor_given(request: HttpRequest, user: User) -> bool:
    if not isinstance(user, AbstractBaseUser):
        return False
    records = get_authentication_records(request, user)
    return any(record.get("method") == "mfa" for record in records)


def staff_mfa_refusal(request: HttpRequest) -> HttpResponse | None:
    """For an HTML staff page: a redirect to set up TOTP or to give a code, with a message
    saying why; None when the person may go on."""
    missing = staff_second_factor_missing(request)
    if missing is None:
        return None
    if missing == SETUP:
        messages.warning(request, MESSAGE_MFA_REQUIRED)
        return HttpResponseRedirect(reverse("mfa_activate_totp"))
    messages.info(request, MESSAGE_MFA_AUTHENTICATE)
    query = urlencode({"next": request.get_full_path()})
    return HttpResponseRedirect(f"{reverse('mfa_reauthenticate')}?{query}")


def staff_page_required(permission: str) -> Callable[[View], View]:
    """Decorator for a staff page outside the admin: signed in (else to the sign-in page),
    staff (else 403), two factors as ``staff_mfa_refusal`` asks, then ``permission`` (else 403).

    Two factors come before the permission, so a manager who lacks them is told what to do
    rather than refused.
    """

    def decorate(view: View) -> View:
        @wraps(view)
        def check(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_staff:
                raise PermissionDenied
            refusal = staff_mfa_refusal(request)
            if refusal is not None:
                return refusal
            if not request.user.has_perm(permission):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return login_required(check)

    return decorate


def staff_api_second_factor_check(request: Request) -> None:
    """For a staff API, once the caller is known to be staff: raises ``PermissionDenied`` (403)
    with a detail saying what is missing, or returns."""
    by_token = not isinstance(request.successful_authenticator, SessionAuthentication)
    # DRF sets the user it authenticated on the Django request it wraps too.
    missing = staff_second_factor_missing(request._request, by_token=by_token)
    if missing == SETUP:
        raise api_exceptions.PermissionDenied(ERROR_API_MFA_REQUIRED, code="mfa_required")
    if missing == AUTHENTICATE:
        raise api_exceptions.PermissionDenied(ERROR_API_MFA_AUTHENTICATE, code="mfa_required")


class StaffMfaMiddleware:
    """Applies the gate to every admin page but signing out (staff only: the admin itself turns
    everyone else away). Place it after the authentication and message middleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        match = request.resolver_match
        if match is None or "admin" not in match.namespaces:
            return None
        if match.view_name in ADMIN_URLS_NOT_GATED or not request.user.is_staff:
            return None
        return staff_mfa_refusal(request)


def totp_secret_set(*, user: AbstractBaseUser, secret: str) -> str:
    """Give ``user`` a TOTP authenticator with ``secret``; returns created/updated/unchanged.

    Idempotent: an authenticator that already holds ``secret`` is left alone. The row is the
    one allauth's own activation creates (``TOTP.activate``), so allauth's login accepts its codes.
    """
    current = Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.TOTP).first()
    if current is None:
        TOTP.activate(user, secret)
        return CREATED
    if decrypt(current.data["secret"]) == secret:
        return UNCHANGED
    current.data = {**current.data, "secret": encrypt(secret)}
    current.save(update_fields=["data"])
    return UPDATED


def totp_code_current(secret: str, *, at: float | None = None) -> tuple[str, int]:
    """The code an authenticator app shows for ``secret`` now (or at ``at``), and seconds left."""
    now = time.time() if at is None else at
    period = mfa_settings.TOTP_PERIOD
    code = format_hotp_value(hotp_value(secret, int(now) // period))
    return code, period - int(now) % period
