"""Two-factor authentication for staff: who must have it, and the admin gate that enforces it.

Staff sign in to ``/admin/`` through allauth (see ``shopcart/urls.py``), so an account with an
authenticator app (TOTP) is always asked for its code after the password; allauth's login
stages do that for every way in (password, email confirmation, social login). What allauth
cannot know is that some staff *must* have one: members of ``settings.STAFF_MFA_REQUIRED_GROUPS``
("Store manager"), and superusers, who can do everything a manager can. ``StaffMfaMiddleware``
sends such a person who has no TOTP authenticator from any admin page (and the staff dashboard
beside it) to allauth's activation page, with ``MESSAGE_MFA_REQUIRED`` saying why. Only admin
URLs are gated, so the account and two-factor pages they need stay reachable.

A middleware rather than an ``AdminSite`` subclass: the default ``admin.site`` and every
``ModelAdmin`` registered on it keep working unchanged, and the rule sits in one place.
"""

import time
from collections.abc import Callable
from typing import Any

from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from allauth.mfa.utils import decrypt, encrypt
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Exists, OuterRef, Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

MESSAGE_MFA_REQUIRED = (
    "Store managers must use two-factor authentication to open the store admin. Set it up "
    "now: scan the QR code with an authenticator app (for example Google Authenticator, "
    "Aegis or 1Password) and enter the 6-digit code it shows. You may be asked for your "
    "password first. From then on the admin asks for a code each time you sign in."
)

# Signing out of the admin must always work, even for a manager who has not set up TOTP yet.
ADMIN_URLS_NOT_GATED = frozenset({"admin:logout"})
# Admin pages that live outside the admin's own URL namespace.
ADMIN_URLS_OUTSIDE_THE_NAMESPACE = frozenset({"admin-dashboard"})

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


def staff_mfa_missing(user: AbstractBaseUser) -> bool:
    """True when ``user`` must use TOTP (a superuser, or in a group that requires it) and has
    no TOTP authenticator.

    One query, so admin pages with a query budget stay within it.
    """
    groups = settings.STAFF_MFA_REQUIRED_GROUPS
    if not user.is_authenticated or not groups:
        return False
    totp = Authenticator.objects.filter(user=OuterRef("pk"), type=Authenticator.Type.TOTP)
    must = Q(groups__name__in=groups) | Q(is_superuser=True)
    return get_user_model().objects.filter(must, pk=user.pk).filter(~Exists(totp)).exists()


class StaffMfaMiddleware:
    """Sends staff who must use two-factor but have not set it up from the admin to TOTP setup.

    Place it after the authentication and message middleware.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        match = request.resolver_match
        if match is None:
            return None
        if "admin" not in match.namespaces and match.view_name not in (
            ADMIN_URLS_OUTSIDE_THE_NAMESPACE
        ):
            return None
        if match.view_name in ADMIN_URLS_NOT_GATED or not request.user.is_staff:
            return None
        if not staff_mfa_missing(request.user):
            return None
        messages.warning(request, MESSAGE_MFA_REQUIRED)
        return HttpResponseRedirect(reverse("mfa_activate_totp"))


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
