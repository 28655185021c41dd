"""How django-allauth fits the store: adapters that hook shopper accounts into the cart pass.

* Every email allauth sends (confirmation, password reset, ...) goes through the outbox and
  Celery, after the request's data is committed, instead of over SMTP inside the request. It
  speaks as the store: its name (``STORE_NAME``) where allauth would name the request's host,
  and a greeting by first name, or "there" (``templates/account/email/``).
* Confirming an email address emails the shopper their cart pass, once.
* A social sign-up whose provider vouches for the email address gets the pass straight away
  (there is no confirmation step to wait for).
"""

from typing import Any
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from allauth.core import context as allauth_context
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialLogin
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest

from carts.services import cart_pass_email
from shopcart.core.mail import KIND_ACCOUNT, email_queue


class StoreSite:
    """What allauth's email templates call the site: the store by name, not the request's host
    (without django.contrib.sites allauth would say "127.0.0.1:8100")."""

    @property
    def name(self) -> str:
        return str(settings.STORE_NAME)

    @property
    def domain(self) -> str:
        return urlsplit(settings.SITE_URL).netloc


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        """Render allauth's message as allauth would, and queue it instead of sending it."""
        request = allauth_context.request
        full_context = {
            "request": request,
            "email": email,
            "current_site": StoreSite(),
            "store_name": settings.STORE_NAME,
            "site_url": settings.SITE_URL.rstrip("/"),
        }
        full_context.update(context)
        message = self.render_mail(template_prefix, email, full_context)
        user = context.get("user")
        kind = f"{KIND_ACCOUNT}:{template_prefix.rsplit('/', 1)[-1]}"
        email_queue(message=message, kind=kind, user=user if getattr(user, "pk", None) else None)

    def confirm_email(self, request: HttpRequest, email_address: EmailAddress) -> bool:
        """Mark the address verified and, the first time it is, email the shopper's cart pass.

        The address row is locked first, so two confirmations racing each other (a double
        click, a mail scanner following the link) send one pass email between them.
        """
        with transaction.atomic():
            was_verified = _email_address_verified_locked(email_address)
            confirmed = super().confirm_email(request, email_address)
            if confirmed and not was_verified:
                cart_pass_email(user=email_address.user)
        return confirmed


def _email_address_verified_locked(email_address: EmailAddress) -> bool:
    if email_address.pk is None:
        return email_address.verified
    row = EmailAddress.objects.select_for_update().filter(pk=email_address.pk)
    return bool(row.values_list("verified", flat=True).first())


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def save_user(self, request: HttpRequest, sociallogin: SocialLogin, form: Any = None) -> Any:
        """Save the new shopper; when the provider verified their email, send the cart pass.

        An address the provider did not verify is confirmed by email first, and
        ``AccountAdapter.confirm_email`` sends the pass then.
        """
        user = super().save_user(request, sociallogin, form)
        if (
            user.email
            and EmailAddress.objects.filter(
                user=user, email__iexact=user.email, verified=True
            ).exists()
        ):
            cart_pass_email(user=user)
        return user
