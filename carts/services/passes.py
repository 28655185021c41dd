"""Writes for carts: issuing, replacing and emailing the shopper's cart pass."""

import io

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from carts.models import Cart, CartPass
from carts.services.carts import cart_pairing_changed
from shopcart.core.mail import email_attach_inline_image, email_queue
from shopcart.core.qr import qr_png

EMAIL_KIND_CART_PASS = "cart_pass"  # noqa: S105 - an email kind, not a secret

ERROR_NO_EMAIL = "Your account has no email address to send the cart pass to."


class CartPassError(ValueError):
    pass


def cart_pass_issue(*, user: User) -> CartPass:
    """The shopper's active pass, created when there is none. Idempotent and race-safe.

    Locks the user's row when it has to create, so concurrent callers wait and then find the
    pass the first one made; the unique (user, active) pair is the backstop.
    """
    existing = CartPass.objects.active().filter(user=user).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            _user_lock(user)
            existing = CartPass.objects.active().filter(user=user).first()
            return existing or CartPass.objects.create(user=user)
    except IntegrityError:
        # Only where row locks are not real (SQLite without IMMEDIATE transactions).
        return CartPass.objects.active().get(user=user)


@transaction.atomic
def cart_pass_replace(*, user: User) -> CartPass:
    """Revoke the shopper's active pass (it stops working at once) and issue a new one.

    Runs in one transaction holding the user's row lock, so a concurrent issue or replace
    waits and never sees the shopper with two active passes or none.
    """
    _user_lock(user)
    CartPass.objects.active().filter(user=user).update(active=None, revoked_at=timezone.now())
    # A pairing made with the old pass ends with it (``devices.models.Pairing``): the page of
    # the shopper's cart stops saying a device scans into it.
    current = Cart.objects.filter(owner=user, current=True).values_list("pk", flat=True)
    cart_pairing_changed(cart_ids=list(current))
    return CartPass.objects.create(user=user)


def _user_lock(user: User) -> None:
    User.objects.select_for_update().filter(pk=user.pk).values_list("pk").first()


def cart_pass_email(*, user: User) -> CartPass:
    """Issue the shopper's pass if needed and queue an email holding it as an inline QR image.

    The email is sent after the caller's transaction commits. Raises ``CartPassError`` when the
    account has no email address.
    """
    if not user.email:
        raise CartPassError(ERROR_NO_EMAIL)
    with transaction.atomic():
        cart_pass = cart_pass_issue(user=user)
        email_queue(
            message=_cart_pass_message(user, cart_pass), kind=EMAIL_KIND_CART_PASS, user=user
        )
    return cart_pass


def _cart_pass_message(user: User, cart_pass: CartPass) -> EmailMultiAlternatives:
    context = {
        "user": user,
        "store_name": settings.STORE_NAME,
        "pass_url": settings.SITE_URL.rstrip("/") + reverse("carts:pass"),
    }
    subject = render_to_string("emails/cart_pass_subject.txt", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=render_to_string("emails/cart_pass.txt", context),
        to=[user.email],
    )
    png = qr_png(cart_pass.text)
    cid = email_attach_inline_image(message, data=png, name="cart-pass")
    # Shown at its own pixel size: scaled QR modules blur in mail programs.
    qr_size = Image.open(io.BytesIO(png)).width
    html = render_to_string("emails/cart_pass.html", {**context, "qr_cid": cid, "qr_size": qr_size})
    message.attach_alternative(html, "text/html")
    return message
