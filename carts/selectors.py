"""Reads for carts: whose cart pass is this?"""

from dataclasses import dataclass

from django.contrib.auth.models import User

from carts import pass_codes
from carts.models import CartPass

REASON_OK = "ok"
REASON_BAD_SIGNATURE = "bad_signature"  # also: malformed, or not a pass at all
REASON_UNKNOWN = "unknown"
REASON_REVOKED = "revoked"

REASON_MESSAGES = {
    REASON_OK: "Cart pass accepted.",
    REASON_BAD_SIGNATURE: "This is not a valid cart pass.",
    REASON_UNKNOWN: "This cart pass does not exist.",
    REASON_REVOKED: "This cart pass was replaced and no longer works.",
}


@dataclass(frozen=True)
class CartPassResolution:
    """Whose pass a scanned text is: ``user`` when ``reason`` is ``REASON_OK``, else None."""

    user: User | None
    reason: str

    @property
    def ok(self) -> bool:
        return self.reason == REASON_OK

    @property
    def message(self) -> str:
        return REASON_MESSAGES[self.reason]


def cart_pass_text_is_pass(text: str) -> bool:
    """Whether scanned ``text`` is meant as a cart pass (and so must never be a product code).

    Says nothing about validity: resolve it with ``cart_pass_resolve``.
    """
    return pass_codes.pass_text_is_pass(text)


def cart_pass_resolve(text: str) -> CartPassResolution:
    """The shopper whose active pass ``text`` is, or the reason it is not one.

    The signature is checked before the database is asked, so forged texts cost no query. A
    pass of a deactivated account counts as revoked.
    """
    token = pass_codes.pass_token_from_text(text)
    if token is None:
        return CartPassResolution(user=None, reason=REASON_BAD_SIGNATURE)
    cart_pass = CartPass.objects.select_related("user").filter(token=token).first()
    if cart_pass is None:
        return CartPassResolution(user=None, reason=REASON_UNKNOWN)
    if not cart_pass.active or not cart_pass.user.is_active:
        return CartPassResolution(user=None, reason=REASON_REVOKED)
    return CartPassResolution(user=cart_pass.user, reason=REASON_OK)


def cart_pass_get_active(*, user: User) -> CartPass | None:
    return CartPass.objects.active().filter(user=user).first()
