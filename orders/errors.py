"""The error every order service raises for the shopper or staff to read."""

from enum import StrEnum

from shopcart.core.refusals import Refused


class OrderErrorCode(StrEnum):
    """Why an order service refused: ``OrderError.code``, a stable word for programs (a
    refused coupon keeps its ``catalog.coupons.CouponRefusalCode``)."""

    NOT_YOUR_CART = "not_your_cart"
    CART_CLOSED = "cart_closed"
    EMPTY = "empty"
    UNAVAILABLE = "unavailable"
    OUT_OF_STOCK = "out_of_stock"
    TOO_LARGE = "too_large"
    GATEWAY = "gateway"
    NOT_PENDING = "not_pending"
    EXPIRED = "expired"
    PAID = "paid"
    NOT_PAID = "not_paid"
    REFUND_AMOUNT = "refund_amount"
    REFUND_TOO_MUCH = "refund_too_much"
    REFUND_REFUSED = "refund_refused"


class OrderError(Refused):
    """Refused: ``str(error)`` is a message for people, ``code`` a stable word for programs."""


class OrderPaidMeanwhile(OrderError):
    """The order was paid at the gateway while the shopper asked for something else."""

    code = OrderErrorCode.PAID
