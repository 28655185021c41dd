"""Whether a coupon may be used: the rules beside ``Coupon``, for the cart and for checkout.

The cart checks them when a shopper applies a code (``carts.services.cart_apply_coupon``), and
checkout again under the coupon's row lock (``orders.services.placement``); each turns a
refusal into its own error, keeping ``code``.

A shopper's earlier uses are the orders' coupon redemptions (``orders.CouponRedemption``),
counted through ``Coupon.redemptions``, the reverse side of their foreign key: catalog imports
nothing from orders.
"""

from enum import StrEnum

from django.contrib.auth.models import User
from django.utils import timezone

from catalog.models import Coupon
from shopcart.core.refusals import Refused

ERROR_COUPON_UNKNOWN = "There is no coupon “{code}”."
ERROR_COUPON_NOT_YET = "Coupon “{code}” is not valid yet."
ERROR_COUPON_EXPIRED = "Coupon “{code}” has expired."
ERROR_COUPON_USED_UP = "Coupon “{code}” has been used up."
ERROR_COUPON_USED_BY_YOU = "You have already used coupon “{code}”."

CODE_SHOWN_MAX = 40  # of what the shopper typed, in a message


class CouponRefusalCode(StrEnum):
    """Why a coupon may not be used: ``CouponRefused.code``, kept by the cart's and checkout's
    errors."""

    UNKNOWN = "coupon_unknown"
    NOT_YET = "coupon_not_yet"
    EXPIRED = "coupon_expired"
    USED_UP = "coupon_used_up"
    USED_BY_YOU = "coupon_used_by_you"


class CouponRefused(Refused):
    """The coupon may not be used now; the message says why, ``code`` for APIs."""


def coupon_check(*, coupon: Coupon | None, code: str, user: User | None) -> None:
    """Raise ``CouponRefused`` unless ``coupon`` (found by ``code``) may be used now by
    ``user``: active, within its dates, not used up in all nor by this shopper."""
    shown = Coupon.normalise_code(code)[:CODE_SHOWN_MAX]
    if coupon is None or not coupon.active:
        raise CouponRefused(ERROR_COUPON_UNKNOWN.format(code=shown), code=CouponRefusalCode.UNKNOWN)
    now = timezone.now()
    if coupon.valid_from and now < coupon.valid_from:
        raise CouponRefused(ERROR_COUPON_NOT_YET.format(code=shown), code=CouponRefusalCode.NOT_YET)
    if coupon.valid_until and now > coupon.valid_until:
        raise CouponRefused(ERROR_COUPON_EXPIRED.format(code=shown), code=CouponRefusalCode.EXPIRED)
    if coupon.max_uses is not None and coupon.times_used >= coupon.max_uses:
        raise CouponRefused(ERROR_COUPON_USED_UP.format(code=shown), code=CouponRefusalCode.USED_UP)
    if coupon.max_uses_per_shopper is not None and user is not None:
        used = coupon.redemptions.filter(order__user=user).count()
        if used >= coupon.max_uses_per_shopper:
            message = ERROR_COUPON_USED_BY_YOU.format(code=shown)
            raise CouponRefused(message, code=CouponRefusalCode.USED_BY_YOU)
